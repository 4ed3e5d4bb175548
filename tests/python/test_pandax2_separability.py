"""The separability table of the PandaX-II study (issue 17): single-feature AUCs, the BDT's accidental fraction kept
at 90.7 % NR efficiency, the paper's reference numbers, on small synthetic populations whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from tpcml.studies.pandax2 import separability as sep

NAMES = ("qS1", "qS2", "qS1c", "qS2c", "wS1")


def populations(n_s: int, n_b: int, shift: float, seed: int = 0):
    """NR-like and accidental-like Gaussians: only wS1 differs (by ``shift`` sigma), the charges are identical."""
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n_s, len(NAMES)))
    b = rng.normal(size=(n_b, len(NAMES)))
    b[:, NAMES.index("wS1")] += shift
    return {k: s[:, j] for j, k in enumerate(NAMES)}, {k: b[:, j] for j, k in enumerate(NAMES)}


def test_paper_reference_numbers():
    assert pytest.approx(0.263, abs=5e-4) == sep.PAPER_KEPT_FRACTION  # 0.77 / 2.93 (P2-DNN Sec. 2)
    assert sep.paper_s_over_sqrt_ns() == pytest.approx(0.84, abs=5e-3)  # 0.907 / sqrt(0.907 + 0.263)


def test_kept_at_efficiency_on_known_scores():
    sig = np.arange(1000) / 1000.0  # uniform signal scores: the 9.3 % lowest fail a 90.7 % cut
    thr, kept = sep.kept_at_efficiency(sig, np.array([0.0, 0.05, 0.5, 0.95]), 0.907)
    assert thr == pytest.approx(0.093)
    assert kept == 0.5
    with pytest.raises(ValueError, match="efficiency"):
        sep.kept_at_efficiency(sig, sig, 1.5)


def test_single_feature_auc_matches_the_gaussian_value():
    shift = 1.0
    s, b = populations(4000, 4000, shift, seed=1)
    aucs = sep.single_feature_aucs(sep._matrix(s, NAMES), sep._matrix(b, NAMES), NAMES)
    # two unit Gaussians a distance d apart: AUC = Phi(d / sqrt(2))
    assert aucs["wS1"] == pytest.approx(norm.cdf(shift / np.sqrt(2)), abs=0.015)
    for k in ("qS1", "qS2", "qS1c", "qS2c"):  # identical distributions: 0.5 up to its statistical error
        assert 0.5 <= aucs[k] < 0.53


def test_table_bdt_and_charges_only():
    pytest.importorskip("xgboost")
    shift = 2.0
    s, b = populations(1500, 3000, shift, seed=2)
    t = sep.separability(s, b, NAMES, seed=3, n_trees=60)
    assert (t.n_nr_below_median, t.n_accidentals) == (1500, 3000)
    assert t.bdt.n_signal_test == 750 and t.bdt.n_background_test == 1500  # 50/50 split of each population
    assert t.bdt.nr_efficiency == pytest.approx(0.907, abs=0.005)
    # the best cut on wS1 alone at 90.7 % efficiency keeps Phi(z_0.907 - shift) of the background
    best = norm.cdf(norm.ppf(0.907) - shift)
    assert best - 0.03 < t.bdt.kept_fraction < best + 0.06
    assert t.bdt.s_over_sqrt_ns == pytest.approx(
        t.bdt.nr_efficiency / np.sqrt(t.bdt.nr_efficiency + t.bdt.kept_fraction)
    )
    # the charges are the same for both: a BDT on them alone keeps about as much background as signal
    assert t.bdt_charges.features == ("qS1", "qS2", "qS1c", "qS2c")
    assert t.bdt_charges.kept_fraction > 0.75
    assert t.bdt_charges.auc < 0.6 < t.bdt.auc
    # wS1 is an S1 feature: the S1-only BDT separates as the full one, the S2-only one (qS2, qS2c) not at all
    assert t.bdt_s1.features == ("qS1", "qS1c", "wS1") and t.bdt_s2.features == ("qS2", "qS2c")
    assert t.bdt_s1.kept_fraction < best + 0.06 and t.bdt_s2.kept_fraction > 0.75
    lines = "\n".join(sep.markdown(t.as_dict()))
    assert "| wS1 |" in lines and "26.3 %" in lines and "0.84" in lines and "S1 features only" in lines


def test_missing_feature_is_named():
    s, b = populations(50, 50, 1.0)
    del b["wS1"]
    with pytest.raises(ValueError, match="wS1"):
        sep.separability(s, b, NAMES)
