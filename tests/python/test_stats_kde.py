"""tpcml.stats.kde: the background pdf f0 (a tabulated, optionally reflected Gaussian KDE)."""

import numpy as np
import pytest
from scipy import integrate, stats

from tpcml.stats.kde import fit_background_pdf


@pytest.fixture(scope="module")
def bimodal():
    rng = np.random.default_rng(11)
    return np.r_[rng.normal(0.0, 1.0, 3000), rng.normal(5.0, 0.5, 3000)]


@pytest.fixture(scope="module")
def f0(bimodal):
    return fit_background_pdf(bimodal, grid=4096)


def test_integrates_to_one(f0):
    assert f0.integral == pytest.approx(1.0, abs=1e-6)
    lo, hi = f0.grid[0], f0.grid[-1]
    exact, _ = integrate.quad(lambda x: float(np.exp(f0.exact_log_pdf(np.array([x]))[0])), lo, hi, limit=200)
    assert exact == pytest.approx(1.0, abs=1e-6)  # the grid holds all the KDE's mass
    fine = np.linspace(lo, hi, 200_001)  # the interpolated pdf, on a grid independent of the table's
    assert np.trapezoid(f0.pdf(fine), fine) == pytest.approx(1.0, abs=1e-5)


def test_matches_scipy_kde_within_the_stated_interpolation_error(f0, bimodal):
    ref = stats.gaussian_kde(bimodal)  # Scott's rule, as the default
    x = np.random.default_rng(2).uniform(-4, 7, 2000)
    err = np.abs(f0.log_pdf(x) - ref.logpdf(x))
    assert err.max() <= 2 * f0.max_log_error + 1e-9
    assert 0 < f0.max_log_error < 1e-4
    far = np.array([-30.0, 40.0])  # off the grid: the exact KDE
    np.testing.assert_allclose(f0.log_pdf(far), ref.logpdf(far), rtol=1e-10)


def test_bandwidth_rules(bimodal):
    n, sd = len(bimodal), np.std(bimodal, ddof=1)
    assert fit_background_pdf(bimodal, grid=1024).bandwidth == pytest.approx(sd * n ** (-1 / 5))
    silverman = fit_background_pdf(bimodal, bandwidth="silverman", grid=1024)
    assert silverman.bandwidth == pytest.approx(sd * (3 * n / 4) ** (-1 / 5))
    assert fit_background_pdf(bimodal, bandwidth=0.1, grid=2048).bandwidth == pytest.approx(0.1 * sd)
    w = np.r_[np.ones(3000), 3 * np.ones(3000)]  # weights: n_eff = (sum w)^2 / sum w^2
    weighted = fit_background_pdf(bimodal, weights=w, grid=1024)
    assert weighted.kde.neff == pytest.approx(w.sum() ** 2 / (w**2).sum())
    assert weighted.pdf(np.array([5.0]))[0] > 2.5 * weighted.pdf(np.array([0.0]))[0]


def test_reflection_keeps_the_mass_at_a_bound():
    x = np.random.default_rng(4).exponential(1.0, 4000)
    f = fit_background_pdf(x, bounds=(0.0, None), grid=2048)
    assert f.integral == pytest.approx(1.0, abs=1e-6)
    assert f.pdf(np.array([-0.5]))[0] == 0.0
    plain = stats.gaussian_kde(x)
    assert f.pdf(np.array([0.0]))[0] > 1.6 * plain(0.0)[0]  # a plain KDE loses ~half its mass at the edge
    assert f.pdf(np.array([0.0]))[0] == pytest.approx(1.0, abs=0.2)  # the true density there is 1
    draws = f.sample(np.random.default_rng(5), 20000)
    assert draws.min() >= 0.0


def test_sample_draws_from_f0(f0):
    draws = f0.sample(np.random.default_rng(6), 20000)
    cdf = np.concatenate([[0.0], integrate.cumulative_trapezoid(f0.pdf(f0.grid), f0.grid)])
    assert stats.kstest(draws, lambda v: np.interp(v, f0.grid, cdf)).pvalue > 1e-3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sample": []}, r"sample is empty"),
        ({"sample": [1.0, np.nan, 2.0]}, r"sample has a non-finite value at index 1"),
        ({"sample": [[1.0, 2.0]]}, r"sample must be a 1-D array"),
        ({"sample": [1.0, 1.0, 1.0]}, r"single distinct value"),
        ({"sample": [1.0, 2.0], "bandwidth": "isj"}, r"bandwidth must be one of .*scott.*silverman"),
        ({"sample": [1.0, 2.0], "bandwidth": -1.0}, r"bandwidth factor must be positive"),
        ({"sample": [1.0, 2.0], "grid": 10}, r"grid must have at least 256"),
        ({"sample": [-1.0, 2.0], "bounds": (0.0, None)}, r"sample\[0\] = -1.0 lies outside the lower bound 0.0"),
        ({"sample": [1.0, 2.0], "weights": [1.0, -1.0]}, r"weights must be finite and non-negative; index 1"),
    ],
)
def test_bad_inputs_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_background_pdf(**kwargs)


def test_nan_ts_is_named(f0):
    with pytest.raises(ValueError, match=r"ts has a non-finite value at flat index 2"):
        f0.log_pdf(np.array([0.0, 1.0, np.nan]), "ts")
