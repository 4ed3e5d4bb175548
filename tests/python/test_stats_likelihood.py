"""tpcml.stats.likelihood: the extended-Poisson q, p <-> sigma, Pearson chi2 with Wilks, binned q0 and Asimov."""

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from tpcml.stats.likelihood import (
    asimov_significance,
    binned_discovery_q0,
    extended_poisson_log_likelihood,
    p_to_sigma,
    pearson_chi2,
    q_extended_poisson,
    q_from_sums,
    sigma_to_p,
    wilks_pvalue,
)


class Uniform02:
    """f0 = 1/2 on [0, 2]: every ln f0 is -ln 2, so L can be computed by hand."""

    def log_pdf(self, x, what="x"):
        return np.full(np.shape(x), -math.log(2.0))


def test_extended_poisson_by_hand():
    # B = 2, N = 2: ln L = -2 - ln 2! + 2 ln 2 + 2 ln(1/2) = -2 - ln 2, q = 4 + 2 ln 2
    assert extended_poisson_log_likelihood([-math.log(2)] * 2, 2.0) == pytest.approx(-2.0 - math.log(2.0))
    assert q_extended_poisson([0.3, 1.7], Uniform02(), 2.0) == pytest.approx(4.0 + 2.0 * math.log(2.0))
    # N = 0: L = e^-B, q = 2B
    assert q_extended_poisson([], Uniform02(), 3.5) == pytest.approx(7.0)


@pytest.mark.parametrize("n", [0, 1, 7, 170, 6500])
def test_extended_poisson_is_poisson_times_the_shape(n):
    # L = Pois(N; B) prod f0(TS_i): ln N! by gammaln stays finite where N! overflows a float
    rng = np.random.default_rng(n)
    log_f0 = np.log(rng.uniform(0.01, 2.0, n))
    B = 6480.3
    want = stats.poisson.logpmf(n, B) + log_f0.sum()
    assert extended_poisson_log_likelihood(log_f0, B) == pytest.approx(want, rel=1e-12, abs=1e-9)


def test_q_from_sums_is_vectorised():
    sums, n = np.array([-3.0, 0.0, -10.0]), np.array([2, 0, 5])
    one = [q_from_sums(s, k, 4.0) for s, k in zip(sums, n, strict=True)]
    np.testing.assert_allclose(q_from_sums(sums, n, 4.0), one)
    assert q_from_sums(-3.0, 2, 4.0) == pytest.approx(8.0 + 2 * math.log(2) - 4 * math.log(4) + 6.0)


def test_sigma_conversion_against_scipy():
    p = np.array([0.5, 0.158655, 1.349898e-3, 2.866516e-7, 1e-300])
    np.testing.assert_allclose(p_to_sigma(p), stats.norm.isf(p))
    assert p_to_sigma(2.866516e-7) == pytest.approx(5.0, abs=1e-6)  # 5 sigma, one-sided
    assert p_to_sigma(1.349898e-3) == pytest.approx(3.0, abs=1e-6)
    np.testing.assert_allclose(sigma_to_p(p_to_sigma(p)), p, rtol=1e-10)
    assert sigma_to_p(0.0) == 0.5


def test_pearson_chi2_and_wilks_by_hand():
    a, b = np.array([10.0, 20.0, 0.0]), np.array([14.0, 16.0, 0.0])
    chi = 16 / 24 + 16 / 36  # the empty bin is skipped
    assert pearson_chi2(a, b) == pytest.approx(chi)
    np.testing.assert_allclose(pearson_chi2(a, np.stack([b, a])), [chi, 0.0])
    assert wilks_pvalue(chi) == pytest.approx(stats.chi2.sf(chi, 1))
    assert wilks_pvalue(chi) == pytest.approx(special.erfc(math.sqrt(chi / 2)))  # chi2(1 dof) tail, closed form
    assert wilks_pvalue(chi, dof=2) == pytest.approx(math.exp(-chi / 2))  # chi2(2 dof) tail, closed form


def test_binned_q0_single_bin_closed_form():
    # one bin: mu_hat = (n - b) / s, q0 = 2 (n ln(n / b) - (n - b)) for n > b, else 0
    s, b = np.array([5.0]), np.array([20.0])
    n = np.array([[35.0], [20.0], [12.0]])
    q0, mu = binned_discovery_q0(n, s, b)
    assert mu[0] == pytest.approx(3.0)
    assert q0[0] == pytest.approx(2 * (35 * math.log(35 / 20) - 15))
    assert q0[1] == pytest.approx(0.0, abs=1e-12) and q0[2] == 0.0


def test_binned_q0_matches_a_direct_fit():
    rng = np.random.default_rng(3)
    s, b = rng.uniform(0, 3, (4, 5)), rng.uniform(1, 10, (4, 5))
    n = rng.poisson(1.5 * s + b).astype(float)

    def nll(mu):
        return -stats.poisson.logpmf(n, mu * s + b).sum()

    fit = optimize.minimize_scalar(nll, bounds=(0.0, 50.0), method="bounded", options={"xatol": 1e-10})
    q0, mu = binned_discovery_q0(n, s, b)
    assert mu == pytest.approx(fit.x, abs=1e-6)
    assert q0 == pytest.approx(2 * (nll(0.0) - fit.fun), rel=1e-8)


def test_asimov_significance():
    # Cowan et al. EPJC 71 (2011) 1554, Eq. 97, one bin
    assert asimov_significance(10.0, 100.0) == pytest.approx(math.sqrt(2 * (110 * math.log(1.1) - 10)))
    assert asimov_significance(1.0, 1e6) == pytest.approx(1e-3, rel=1e-3)  # s << b: s / sqrt(b)
    s, b = np.array([3.0, 1.0, 0.0]), np.array([2.0, 5.0, 7.0])
    q0, _ = binned_discovery_q0(s + b, s, b)  # the Asimov data set gives the Asimov significance
    assert asimov_significance(s, b) == pytest.approx(math.sqrt(q0))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: q_from_sums(0.0, 1, -5.0), r"B must be a finite expected number of events >= 0, got -5.0"),
        (lambda: q_from_sums(0.0, 1, 0.0), r"B must be a positive expected number"),
        (lambda: q_extended_poisson([1.0, np.nan], Uniform02(), 2.0), r"ts has a non-finite value at index 1"),
        (lambda: p_to_sigma(0.0), r"p must be a p-value in \(0, 1\]"),
        (lambda: pearson_chi2([1.0, -1.0], [1.0, 1.0]), r"reference must be a histogram"),
        (lambda: wilks_pvalue(1.0, dof=0), r"dof must be a positive integer"),
        (lambda: binned_discovery_q0([[1.0, 2.0]], [1.0, 1.0], [0.0, 1.0]), r"b is 0 in 1 bin\(s\) where s > 0"),
        (lambda: binned_discovery_q0([[1.0]], [1.0, 1.0], [1.0, 1.0]), r"n must have shape \[\.\.\., 2\]"),
    ],
)
def test_bad_inputs_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
