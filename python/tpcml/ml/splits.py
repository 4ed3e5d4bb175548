"""Random train / validation / test splits: the one ``split_indices`` of every study.

The studies round the part sizes differently, and each keeps its paper's split exactly: PandaX-II
(80/10/10, *Suppression of accidental backgrounds with deep neural networks in the PandaX-II experiment*,
Sec. 3) takes ``floor(f * n)`` events for the training and validation parts; PandaX-III (70/20/10,
*Optimization of convolutional neural networks for background suppression in the PandaX-III experiment*,
Sec. 3.2) rounds them to the nearest integer. The test part takes the rest in both.

The events are drawn by scikit-learn's ``train_test_split`` (twice: training against the rest, then validation
against test), given the part sizes as integers so that each study's rounding holds exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["split_indices"]


def split_indices(
    n: int, seed: int = 0, fractions: Sequence[float] = (0.8, 0.1, 0.1), rounding: str = "floor"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random train / validation / test index arrays of ``n`` events, each sorted.

    The first two parts hold ``floor(f * n)`` (``rounding="floor"``) or ``round(f * n)`` (``"nearest"``)
    events, the test part the rest; ``seed`` is the ``random_state`` of both ``train_test_split`` draws."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if rounding not in ("floor", "nearest"):
        raise ValueError(f"rounding must be 'floor' or 'nearest', got {rounding!r}")
    f = np.asarray(fractions, dtype=np.float64)
    if f.shape != (3,) or np.any(f < 0) or not math.isclose(float(f.sum()), 1.0, rel_tol=1e-9):
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {tuple(fractions)}")
    n = int(n)
    size = (lambda x: int(x)) if rounding == "floor" else (lambda x: round(x))
    n_train, n_val = size(float(f[0]) * n), size(float(f[1]) * n)
    train, rest = _draw(np.arange(n), n_train, seed)
    val, test = _draw(rest, n_val, seed)
    return np.sort(train), np.sort(val), np.sort(test)


def _draw(idx: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` random entries of ``idx`` and the others (``sklearn.model_selection.train_test_split``, which refuses
    an empty part: those are returned directly)."""
    from sklearn.model_selection import train_test_split

    if k == 0 or k == len(idx):
        return (idx[:0], idx) if k == 0 else (idx, idx[:0])
    first, second = train_test_split(idx, train_size=k, test_size=len(idx) - k, random_state=seed, shuffle=True)
    return first, second
