"""tpcml.stats.summary.moments: the per-replica summaries of the ensemble and of the PandaX-II Table 2 rows."""

import numpy as np
import pytest

from tpcml.stats.summary import moments


def test_moments_keys_in_order_and_values():
    v = np.array([1.0, 2.0, 6.0])
    out = moments("S_{}", v, "mean", "std", "min", "max")
    assert list(out) == ["S_mean", "S_std", "S_min", "S_max"]
    assert out["S_mean"] == pytest.approx(3.0)
    assert out["S_std"] == pytest.approx(np.std(v))
    assert (out["S_min"], out["S_max"]) == (1.0, 6.0)
    assert all(type(x) is float for x in out.values())


def test_moments_prefix_placement():
    assert moments("{}_best_epoch", [3, 5], "mean") == {"mean_best_epoch": 4.0}


def test_moments_unknown_statistic_named():
    with pytest.raises(ValueError, match=r"median.*expected some of"):
        moments("x_{}", [1.0], "median")
