"""Summary statistics of per-replica arrays, keyed the way the study tables and JSON results name them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_REDUCERS = {"mean": np.mean, "std": np.std, "min": np.min, "max": np.max}


def moments(key: str, values: Sequence[float] | np.ndarray, *stats: str) -> dict[str, float]:
    """``{key.format(stat): float(reducer(values))}`` for each of ``stats`` (mean, std, min, max), in their order.

    >>> moments("S_{}", [1.0, 3.0], "mean", "max")
    {'S_mean': 2.0, 'S_max': 3.0}
    """
    unknown = [s for s in stats if s not in _REDUCERS]
    if unknown:
        raise ValueError(f"moments: unknown statistic(s) {unknown}; expected some of {sorted(_REDUCERS)}")
    arr = np.asarray(values, dtype=np.float64)
    return {key.format(s): float(_REDUCERS[s](arr)) for s in stats}
