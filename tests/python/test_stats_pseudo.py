"""tpcml.stats.pseudo: vectorised pseudo-experiments, empirical p-values with their tail, chi2 and binned q0."""

import itertools
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from tpcml.stats import pseudo
from tpcml.stats.kde import fit_background_pdf
from tpcml.stats.likelihood import q_extended_poisson


@pytest.fixture(scope="module")
def background():
    return np.random.default_rng(21).normal(0.0, 1.0, 4000)


@pytest.fixture(scope="module")
def f0(background):
    return fit_background_pdf(background, grid=2048)


def test_event_counts_are_poisson_with_the_right_mean():
    B, E = 12.5, 20000
    comp = pseudo.Component("background", B, lambda rng, n: np.zeros(n))
    _, n = pseudo.simulate([comp], pseudo.segment_sums, E, seed=3, chunk=1500)
    assert len(n) == E
    assert abs(n.mean() - B) < 4 * np.sqrt(B / E)
    k = np.arange(4, 23)  # chi2 goodness of fit over the bulk, tails pooled
    obs = np.r_[np.sum(n < 4), [np.sum(n == i) for i in k], np.sum(n > 22)]
    p = np.r_[stats.poisson.cdf(3, B), stats.poisson.pmf(k, B), stats.poisson.sf(22, B)]
    assert stats.chisquare(obs, E * p).pvalue > 1e-3


def test_segment_reductions_match_a_loop():
    rng = np.random.default_rng(1)
    counts = np.array([3, 0, 5, 0, 0, 2])
    vals = rng.normal(size=counts.sum())
    bins = rng.integers(0, 5, counts.sum())  # 4 is the overflow of 4 bins: not counted
    starts = np.r_[0, np.cumsum(counts)]
    loop = [vals[a:b].sum() for a, b in itertools.pairwise(starts)]
    np.testing.assert_allclose(pseudo.segment_sums(vals, counts), loop)
    hists = pseudo.segment_histograms(bins, counts, 4)
    want = [np.bincount(bins[a:b], minlength=5)[:4] for a, b in itertools.pairwise(starts)]
    np.testing.assert_array_equal(hists, want)
    np.testing.assert_array_equal(pseudo.segment_sums(np.empty(0), np.zeros(3, int)), np.zeros(3))


def test_weighted_resampling_follows_the_weights():
    draw = pseudo.resample(np.arange(4), weights=[1.0, 0.0, 3.0, 4.0])
    got = np.bincount(draw(np.random.default_rng(2), 80000), minlength=4) / 80000
    np.testing.assert_allclose(got, [0.125, 0.0, 0.375, 0.5], atol=0.01)


def test_q_of_each_experiment_is_the_extended_poisson_q(f0, background):
    # the same draws as simulate (chunk = all experiments): counts then indices, background then signal
    B, S, E, seed = 9.0, 4.0, 50, 5
    signal = np.random.default_rng(8).normal(3.0, 0.3, 300)
    ens = pseudo.Ensemble(B, background, E, signal=signal, S=S, seed=seed, chunk=E)
    q = pseudo.extended_poisson_experiments(f0, ens)
    rng = np.random.default_rng(seed)
    nb = rng.poisson(B, E)
    ib = rng.integers(0, len(background), nb.sum())
    ns = rng.poisson(S, E)
    js = rng.integers(0, len(signal), ns.sum())
    cb, cs = np.r_[0, np.cumsum(nb)], np.r_[0, np.cumsum(ns)]
    for e in range(E):
        ts = np.r_[background[ib[cb[e] : cb[e + 1]]], signal[js[cs[e] : cs[e + 1]]]]
        assert q[e] == pytest.approx(q_extended_poisson(ts, f0, B), rel=1e-12)


def test_empirical_pvalue_and_its_tail():
    null = np.arange(100.0)
    p = pseudo.empirical_pvalue(null, 95.0)
    assert (p.p, p.method, p.n_beyond) == (0.05, "empirical", 5)
    assert p.sigma == pytest.approx(stats.norm.isf(0.05))
    assert p.interval[0] < 0.05 < p.interval[1]
    far = pseudo.empirical_pvalue(null, 1000.0)  # beyond every null draw: never a silent 0
    assert far.method == "gaussian-fit" and far.n_beyond == 0
    z = (1000.0 - null.mean()) / null.std(ddof=1)
    assert far.sigma == pytest.approx(z) and far.p == pytest.approx(stats.norm.sf(z))
    assert far.p_bound == pytest.approx(1 - 0.05 ** (1 / 100))


def test_no_signal_gives_uniform_p(f0, background):
    q_null = pseudo.extended_poisson_experiments(f0, pseudo.Ensemble(30.0, background, 4000, seed=1))
    q_obs = pseudo.extended_poisson_experiments(f0, pseudo.Ensemble(30.0, background, 400, seed=2))
    p = np.array([pseudo.empirical_pvalue(q_null, q).p for q in q_obs])
    assert stats.kstest(p, "uniform").pvalue > 1e-3


def test_strong_signal_gives_a_large_significance(f0, background):
    signal = np.random.default_rng(4).normal(6.0, 0.3, 500)  # far in f0's tail
    h0 = pseudo.Ensemble(200.0, background, 2000, signal=signal, seed=1)
    q0 = pseudo.extended_poisson_experiments(f0, h0)
    q1 = pseudo.extended_poisson_experiments(f0, h0.with_signal(60.0, seed=2))
    sens = pseudo.median_sensitivity(q0, q1)
    assert sens.pvalue.method == "gaussian-fit" and sens.pvalue.n_beyond == 0
    assert sens.sigma > 5 and sens.pvalue.log10_p < np.log10(stats.norm.sf(5))
    assert sens.pvalue.p_bound == pytest.approx(1 - 0.05 ** (1 / 2000))
    weak = pseudo.median_sensitivity(q0, pseudo.extended_poisson_experiments(f0, h0.with_signal(0.0, seed=3)))
    assert weak.sigma < 1.5


def test_source_pdf_draws_from_f0(f0, background):
    # H0 drawn from f0 itself and from the sample agree here (f0 fits a Gaussian sample well)
    q_pdf = pseudo.extended_poisson_experiments(f0, pseudo.Ensemble(50.0, background, 3000, seed=1), "pdf")
    q_smp = pseudo.extended_poisson_experiments(f0, pseudo.Ensemble(50.0, background, 3000, seed=2))
    assert stats.ks_2samp(q_pdf, q_smp).pvalue > 1e-3


def test_chi2_experiments(background):
    edges = np.linspace(-3.0, 3.0, 13)
    signal = np.random.default_rng(6).normal(1.0, 0.2, 300)
    h1 = pseudo.Ensemble(400.0, background, 300, signal=signal, S=80.0, seed=7, chunk=300)
    out = pseudo.chi2_experiments(edges, h1, reference="expected")
    ref = 400.0 * np.histogram(background, edges)[0] / len(background)
    np.testing.assert_allclose(out["reference"], ref)
    want = ((ref - out["histograms"]) ** 2 / (ref + out["histograms"])).sum(axis=1)
    np.testing.assert_allclose(out["chi2"], want)
    np.testing.assert_allclose(out["p_wilks"], stats.chi2.sf(want, 1))
    assert np.median(out["p_wilks"]) < 1e-6
    sampled = pseudo.chi2_experiments(edges, h1)
    assert sampled["reference"].shape == (300, 12) and np.median(sampled["p_wilks"]) < 1e-3
    # under H0, Eq. 12 of two independent histograms is ~ chi2(bins), of a histogram and its expectation ~ half
    h0 = pseudo.Ensemble(400.0, background, 2000, seed=8)
    null = pseudo.chi2_experiments(edges, h0)
    assert np.mean(null["chi2"]) == pytest.approx(12, rel=0.1)
    null_exp = pseudo.chi2_experiments(edges, h0, reference="expected")
    assert np.mean(null_exp["chi2"]) == pytest.approx(6, rel=0.1)


def test_binned_lr_median_matches_asimov_and_null_is_half_chi2():
    rng = np.random.default_rng(9)
    bkg = np.c_[rng.normal(0, 1, 20000), rng.normal(0, 1, 20000)]
    sig = np.c_[rng.normal(1.5, 0.4, 5000), rng.normal(-1.0, 0.4, 5000)]
    edges = (np.linspace(-4, 4, 9), np.linspace(-4, 4, 9))
    ens = pseudo.Ensemble(2000.0, bkg, 2000, signal=sig, S=60.0, seed=1)
    h1 = pseudo.binned_lr_experiments(edges, ens)
    assert np.median(h1["z"]) == pytest.approx(h1["z_asimov"], rel=0.1)
    assert h1["z_asimov"] > 3
    h0 = pseudo.binned_lr_experiments(edges, replace(ens, S=0.0, n_experiments=4000, seed=2), S_model=60.0)
    # Cowan Eq. 49: q0 under H0 is half a delta at 0, half chi2(1)
    assert np.mean(h0["q0"] == 0) == pytest.approx(0.5, abs=0.04)
    assert np.mean(h0["q0"] > 1.0) == pytest.approx(0.5 * stats.chi2.sf(1.0, 1), abs=0.03)


def test_bin_index_matches_histogram2d():
    rng = np.random.default_rng(10)
    xy = rng.uniform(-1, 5, (3000, 2))
    edges = (np.linspace(0, 4, 5), np.array([0.0, 1.0, 3.0, 4.0]))
    flat = pseudo.bin_index(xy, edges)
    want = np.histogram2d(xy[:, 0], xy[:, 1], bins=edges)[0].ravel()
    np.testing.assert_array_equal(np.bincount(flat, minlength=13)[:12], want)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda f, bg: pseudo.Ensemble(-1.0, bg), r"B must be a finite expected number of events >= 0, got -1.0"),
        (lambda f, bg: pseudo.Ensemble(0.0, bg), r"B must be a positive expected number"),
        (lambda f, bg: pseudo.Ensemble(5.0, []), r"background is empty"),
        (lambda f, bg: pseudo.Ensemble(5.0, [0.0, np.nan]), r"background has a non-finite value at index 1"),
        (lambda f, bg: pseudo.Ensemble(5.0, bg, S=2.0), r"signal is None but S > 0"),
        (lambda f, bg: pseudo.Ensemble(5.0, bg, signal=[], S=2.0), r"signal is empty"),
        (lambda f, bg: pseudo.Ensemble(5.0, bg, 0), r"n_experiments must be >= 1"),
        (lambda f, bg: pseudo.Ensemble(5.0, bg, S=-3.0), r"S must be a finite expected number"),
        (lambda f, bg: pseudo.extended_poisson_experiments(f, pseudo.Ensemble(5.0, bg), "kde"), r"source must be"),
        (lambda f, bg: pseudo.median_sensitivity(bg, []), r"q_signal is empty"),
        (lambda f, bg: pseudo.empirical_pvalue([], 1.0), r"null is empty"),
        (lambda f, bg: pseudo.chi2_experiments([0, 1], pseudo.Ensemble(5.0, bg), "ref"), r"reference must be 'sam"),
        (lambda f, bg: pseudo.binned_lr_experiments((bg,), pseudo.Ensemble(5.0, bg)), r"has no signal sample"),
    ],
)
def test_bad_inputs_are_named(f0, background, call, match):
    with pytest.raises(ValueError, match=match):
        call(f0, background)
