"""Likelihoods and test statistics of the anomaly searches (issue 19) and of the binned model-dependent comparison.

* :func:`extended_poisson_log_likelihood`, :func:`q_extended_poisson`, :func:`q_from_sums` -- DARWIN-VAE
  (``papers/darwin-vae-anomaly.md``) Sec. 3, Eq. (3): L(TS | H0) = e^-B / N! prod_i B f0(TS_i) (the "extended
  Poisson" likelihood of its ref. [54]) and q = -2 ln L, so

      q = 2 B + 2 ln N! - 2 N ln B - 2 sum_i ln f0(TS_i),

  with ln N! = ``scipy.special.gammaln(N + 1)``. q carries the units of TS through f0 (ln f0 shifts by -ln c when
  TS is scaled by c, so q by +2 N ln c): only q's of the same TS definition compare.
* :func:`p_to_sigma`, :func:`sigma_to_p` -- the one-sided Gaussian conversion Z = Phi^-1(1 - p)
  (``scipy.stats.norm.isf``; G. Cowan et al., *Asymptotic formulae for likelihood-based tests of new physics*,
  EPJC 71 (2011) 1554, Eq. (2)): p = 2.87e-7 is 5 sigma, p = 1.35e-3 is 3 sigma.
* :func:`pearson_chi2`, :func:`wilks_pvalue` -- the XENONnT semi-supervised study
  (``papers/xenonnt-cvae-semisupervised.md``), Eq. (12): chi2_p = sum_bins (a - b)^2 / (a + b) between the
  histogram a of the background-only TS and b of the pseudo-data TS, and Eq. (13): p = 1 - CDF_chi2(chi2_p) with
  one degree of freedom by Wilks' theorem (the paper's assumption, Sec. VII D; ``dof=`` changes it).
* :func:`binned_discovery_q0`, :func:`asimov_significance` -- the model-dependent binned Poisson likelihood
  ratio for the comparison of issue 19 item 6: L(mu) = prod_bins Pois(n_i; mu s_i + b_i), the discovery statistic
  q0 = -2 ln [L(0) / L(mu_hat)] for mu_hat >= 0, else 0 (Cowan et al. Eq. 12), i.e.
  q0 = 2 sum_i [n_i ln(1 + mu_hat s_i / b_i) - mu_hat s_i], with Z = sqrt(q0) asymptotically (Cowan Eq. 53); the
  median discovery significance from the Asimov data set n_i = s_i + b_i (Cowan Eq. 97 in one bin, summed over
  bins: Z_A = sqrt(2 sum_i [(s_i + b_i) ln(1 + s_i / b_i) - s_i])).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "asimov_significance",
    "binned_discovery_q0",
    "expected_events",
    "extended_poisson_log_likelihood",
    "p_to_sigma",
    "pearson_chi2",
    "q_extended_poisson",
    "q_from_sums",
    "sigma_to_p",
    "wilks_pvalue",
]


def expected_events(value, what: str) -> float:
    """A checked expected event count (B or S): finite and >= 0."""
    v = float(value)
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"{what} must be a finite expected number of events >= 0, got {value!r}")
    return v


def _positive_b(B) -> float:
    b = expected_events(B, "B")
    if b == 0:
        raise ValueError("B must be a positive expected number of background events, got 0")
    return b


def q_from_sums(sum_log_f0, n, B) -> np.ndarray | float:
    """q = -2 ln L of many experiments from their sums of ln f0(TS_i) and event counts ``n`` (arrays broadcast)."""
    from scipy.special import gammaln

    b = _positive_b(B)
    s = np.asarray(sum_log_f0, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if np.any(n < 0):
        raise ValueError("n must be event counts >= 0")
    q = 2.0 * b + 2.0 * gammaln(n + 1.0) - 2.0 * n * np.log(b) - 2.0 * s
    return float(q) if q.ndim == 0 else q


def extended_poisson_log_likelihood(log_f0, B) -> float:
    """ln L = -B - ln N! + N ln B + sum_i ln f0(TS_i) of one experiment, from its values ``log_f0`` = ln f0(TS_i)
    (N = len(log_f0), which may be 0)."""
    lf = np.asarray(log_f0, dtype=np.float64)
    if lf.ndim != 1:
        raise ValueError(f"log_f0 must be a 1-D array (one value per event), got shape {lf.shape}")
    if np.any(np.isnan(lf)):
        raise ValueError(f"log_f0 has NaN at index {int(np.flatnonzero(np.isnan(lf))[0])}")
    return -0.5 * q_from_sums(lf.sum(), len(lf), B)


def q_extended_poisson(ts, pdf, B) -> float:
    """q = -2 ln L(TS | H0) of one experiment: its TS values ``ts``, f0 a :class:`~tpcml.stats.kde.BackgroundPdf`
    (or any object with ``log_pdf(x, what)``), B the expected background."""
    from .kde import finite_1d

    x = finite_1d(ts, "ts", allow_empty=True)
    return -2.0 * extended_poisson_log_likelihood(pdf.log_pdf(x, "ts"), B)


def p_to_sigma(p) -> np.ndarray | float:
    """One-sided Gaussian significance Z = Phi^-1(1 - p) (``scipy.stats.norm.isf``); p must lie in (0, 1]."""
    from scipy.stats import norm

    arr = np.asarray(p, dtype=np.float64)
    if np.any(~np.isfinite(arr)) or np.any(arr <= 0) or np.any(arr > 1):
        raise ValueError(f"p must be a p-value in (0, 1], got {p!r} (a p of 0 has no finite significance)")
    z = norm.isf(arr)
    return float(z) if z.ndim == 0 else z


def sigma_to_p(z) -> np.ndarray | float:
    """One-sided p-value of a Gaussian significance: p = 1 - Phi(Z) (``scipy.stats.norm.sf``)."""
    from scipy.stats import norm

    p = norm.sf(np.asarray(z, dtype=np.float64))
    return float(p) if p.ndim == 0 else p


def pearson_chi2(reference, observed) -> np.ndarray | float:
    """chi2_p = sum over the last axis of (a - b)^2 / (a + b), bins with a + b = 0 skipped (XENONnT-CVAE Eq. 12).

    ``reference`` a: the background-only histogram (counts, or expected counts at the exposure); ``observed`` b:
    the pseudo-data histogram(s) [..., bins]; they broadcast.
    """
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(observed, dtype=np.float64)
    for name, v in (("reference", a), ("observed", b)):
        if v.ndim == 0 or not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError(f"{name} must be a histogram of finite counts >= 0, got {v!r}")
    tot = a + b
    chi = np.divide((a - b) ** 2, tot, out=np.zeros(tot.shape), where=tot > 0).sum(axis=-1)
    return float(chi) if chi.ndim == 0 else chi


def wilks_pvalue(chi2, dof: int = 1) -> np.ndarray | float:
    """p = 1 - CDF_chi2(chi2; dof) (XENONnT-CVAE Eq. 13; ``scipy.stats.chi2.sf``, accurate in the far tail)."""
    from scipy.stats import chi2 as chi2_dist

    if int(dof) != dof or dof < 1:
        raise ValueError(f"dof must be a positive integer, got {dof!r}")
    c = np.asarray(chi2, dtype=np.float64)
    if np.any(~np.isfinite(c)) or np.any(c < 0):
        raise ValueError(f"chi2 must be finite and >= 0, got {chi2!r}")
    p = chi2_dist.sf(c, dof)
    return float(p) if p.ndim == 0 else p


def _templates(s, b) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(s, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if s.shape != b.shape or s.ndim == 0:
        raise ValueError(f"s and b must be histograms of the same shape, got {s.shape} and {b.shape}")
    for name, v in (("s", s), ("b", b)):
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError(f"{name} must hold finite expected counts >= 0")
    empty_b = (b == 0) & (s > 0)
    if np.any(empty_b):
        raise ValueError(
            f"b is 0 in {int(empty_b.sum())} bin(s) where s > 0 (first at flat index "
            f"{int(np.flatnonzero(empty_b.ravel())[0])}): coarser bins or a larger background sample are needed"
        )
    return s, b


def binned_discovery_q0(n, s, b, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """(q0, mu_hat) of the binned Poisson discovery test for observed counts ``n`` [..., *bins] given the
    expected signal ``s`` and background ``b`` [*bins] (module docstring; q0 = 0 where mu_hat <= 0).

    mu_hat solves sum_i s_i (n_i / (mu s_i + b_i) - 1) = 0. The left side is convex and decreasing in mu, so
    Newton's method from mu = 0 rises monotonically to the root without overshoot; it is run on all experiments
    at once until every step is below 1e-10 (1 + mu). Bins with s = b = 0 carry nothing and are skipped.
    """
    s, b = _templates(s, b)
    n = np.asarray(n, dtype=np.float64)
    if n.shape[n.ndim - s.ndim :] != s.shape:
        raise ValueError(f"n must have shape [..., {', '.join(map(str, s.shape))}], got {n.shape}")
    if np.any(n < 0) or not np.all(np.isfinite(n)):
        raise ValueError("n must hold observed counts >= 0")
    lead = n.shape[: n.ndim - s.ndim]
    keep = (s + b).ravel() > 0
    s, b = s.ravel()[keep], b.ravel()[keep]
    n = n.reshape(*lead, -1)[..., keep]
    stot = s.sum()
    mu = np.zeros(n.shape[:-1])
    active = (n * s / b).sum(axis=-1) > stot  # g(0) > 0: mu_hat > 0
    for _ in range(max_iter):
        den = mu[..., None] * s + b
        g = (s * n / den).sum(axis=-1) - stot
        dg = -(s * s * n / (den * den)).sum(axis=-1)
        step = np.where(active, -g / np.where(dg < 0, dg, -1.0), 0.0)
        mu = mu + step
        if np.all(np.abs(step) <= 1e-10 * (1.0 + np.abs(mu))):
            break
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n > 0, n * np.log1p(mu[..., None] * s / b), 0.0) - mu[..., None] * s
    q0 = np.where(active, 2.0 * terms.sum(axis=-1), 0.0)
    return np.maximum(q0, 0.0), mu


def asimov_significance(s, b) -> float:
    """Median discovery significance Z_A = sqrt(2 sum_i [(s_i + b_i) ln(1 + s_i / b_i) - s_i]) (Cowan et al. 2011,
    Eq. 97, summed over bins); scalars or histograms of expected counts."""
    s, b = _templates(np.atleast_1d(s), np.atleast_1d(b))
    keep = s > 0
    q = 2.0 * np.sum((s[keep] + b[keep]) * np.log1p(s[keep] / b[keep]) - s[keep])
    return float(np.sqrt(max(q, 0.0)))
