"""The statistics of nT-CVAE Sec. VII on tpcml's TS (:func:`tpcml.studies.xenonnt.models.ts_from_terms`).

Binning (the paper gives none): ``N_BINS`` bins of equal ER population, edges at the quantiles of the ER test TS,
the last edge at the largest TS of ER and NR together (so every bin holds background and the NR tail lands in the
last bins); :func:`edges`. Histograms are expected counts at an exposure: the ER (NR) test TS fractions per bin
times B (S) = events expected after the detector response.

* :func:`asimov_chi2`: the paper's procedure (Sec. VII C: "we are effectively assuming we have used the Asimov
  data"): reference a = B f_b, pseudo-data b = B f_b + S f_s, the Pearson chi2 of Eq. 12
  (``tpcml.stats.likelihood.pearson_chi2``) and its Wilks p-value with one degree of freedom (Eq. 13,
  ``wilks_pvalue``). Wilks with 1 dof over many bins is the paper's own assumption (docs/statistics.md).
* :func:`calibrated_p`: the same statistic over Poisson pseudo-experiments (``tpcml.stats.pseudo.chi2_experiments``
  with a sampled reference) and its median p-value calibrated on the H0 ensemble (``median_sensitivity``): the
  number to report beside the Wilks one.
* :func:`five_sigma_cross_section`: the cross-section at which the Asimov Wilks p reaches 5 sigma (one-sided
  Gaussian, ``tpcml.stats.likelihood.sigma_to_p``) for an exposure (Fig. 9); :func:`poisson_five_sigma` the
  classical line from the binned (cS1, log10 cS2) Poisson likelihood (Cowan et al. Eq. 97 summed over bins,
  ``asimov_significance``).
"""

from __future__ import annotations

import numpy as np

from tpcml.stats import likelihood as lk

#: equal-ER-population TS bins (tpcml's choice; the paper shows ~50 bins in Fig. 6 but gives no binning)
N_BINS = 20
FIVE_SIGMA_P = lk.sigma_to_p(5.0)


def edges(ts_er, ts_nr, n_bins: int = N_BINS) -> np.ndarray:
    """Bin edges of the TS (module docstring): quantiles of ``ts_er``, first edge its minimum, last edge the largest
    of ``ts_er`` and ``ts_nr``; ties merged (strictly increasing)."""
    er = np.asarray(ts_er, dtype=np.float64)
    nr = np.asarray(ts_nr, dtype=np.float64)
    if er.size < 2:
        raise ValueError(f"ts_er needs at least 2 events for the binning, got {er.size}")
    n = max(1, min(int(n_bins), er.size // 5))
    e = np.quantile(er, np.linspace(0.0, 1.0, n + 1))
    e[0] = min(er.min(), nr.min()) if nr.size else er.min()
    e[-1] = max(er.max(), nr.max()) if nr.size else er.max()
    e = np.unique(e)
    if len(e) < 2:
        e = np.array([e[0], e[0] + 1.0])
    return e


def fractions(ts, e) -> np.ndarray:
    """Fraction of ``ts`` per bin of ``e`` (``numpy.histogram``; values outside the edges count in no bin)."""
    ts = np.asarray(ts, dtype=np.float64)
    h, _ = np.histogram(ts, bins=e)
    return h / max(len(ts), 1)


def asimov_chi2(ts_er, ts_nr, B: float, S: float, n_bins: int = N_BINS) -> tuple[float, float]:
    """(chi2_p of Eq. 12, its Wilks p-value of Eq. 13) of the Asimov pseudo-data B f_b + S f_s against B f_b."""
    e = edges(ts_er, ts_nr, n_bins)
    a = B * fractions(ts_er, e)
    b = a + S * fractions(ts_nr, e)
    chi = lk.pearson_chi2(a, b)
    return float(chi), float(lk.wilks_pvalue(chi, 1))


def asimov_chi2_unit(ts_er, ts_nr, B: float, S: float, n_bins: int = N_BINS):
    """(f_b, f_s) per bin with B and S folded in: chi2(x) for exposure factor x is x * sum (S f_s)^2 /
    (2 B f_b + S f_s) -- linear in the exposure at fixed cross-section; returns the bin arrays (B f_b, S f_s)."""
    e = edges(ts_er, ts_nr, n_bins)
    return B * fractions(ts_er, e), S * fractions(ts_nr, e)


def chi2_of(b_bins, s_bins, x: float = 1.0, y: float = 1.0) -> float:
    """chi2_p of the Asimov data with the background scaled by ``x`` and the signal by ``y``."""
    a = x * b_bins
    return float(lk.pearson_chi2(a, a + y * s_bins))


def calibrated_p(ts_er, ts_nr, B: float, S: float, n_experiments: int, seed: int = 0, n_bins: int = N_BINS) -> dict:
    """Median chi2 of Poisson pseudo-experiments with S signal events (sampled ER reference), its p-value on the
    H0 ensemble (``median_sensitivity``), and the Wilks p of that median chi2."""
    from tpcml.stats import pseudo

    e = edges(ts_er, ts_nr, n_bins)
    ens = pseudo.Ensemble(
        B=B, background=np.asarray(ts_er), n_experiments=n_experiments, seed=seed, signal=np.asarray(ts_nr)
    )
    null = pseudo.chi2_experiments(e, ens)["chi2"]
    alt = pseudo.chi2_experiments(e, ens.with_signal(S, seed + 1))["chi2"]
    sens = pseudo.median_sensitivity(null, alt)
    return {
        "chi2_median": float(np.median(alt)),
        "chi2_null_mean": float(np.mean(null)),
        **{f"{k}_calibrated": v for k, v in _pvalue_fields(sens.pvalue).items()},
        "p_wilks_median": float(lk.wilks_pvalue(np.median(alt), 1)),
        "n_bins": len(e) - 1,
    }


def _five_sigma_log(excess, sigma_ref: float) -> float:
    """sigma_ref x 10^y at the root of ``excess(y)`` (rising in y) in [-8, 6] by Brent's method; inf if none below
    10^6 sigma_ref, 10^-8 sigma_ref if already above there."""
    from scipy.optimize import brentq

    if excess(6.0) < 0:
        return float("inf")
    if excess(-8.0) > 0:
        return sigma_ref * 1e-8
    return sigma_ref * 10.0 ** brentq(excess, -8.0, 6.0, xtol=1e-4)


def five_sigma_cross_section(b_bins, s_bins_ref, exposure_factor: float, sigma_ref: float = 1e-45) -> float:
    """The cross-section where the Asimov chi2 Wilks p reaches 5 sigma at ``exposure_factor`` times the exposure of
    the bins (the signal scales with sigma / ``sigma_ref``); inf if not reached by 1e6 sigma_ref."""
    from scipy.stats import chi2

    target = float(chi2.isf(FIVE_SIGMA_P, 1))
    return _five_sigma_log(
        lambda y: chi2_of(b_bins, s_bins_ref, exposure_factor, exposure_factor * 10.0**y) - target, sigma_ref
    )


def poisson_five_sigma(b_bins, s_bins_ref, exposure_factor: float, sigma_ref: float = 1e-45) -> float:
    """The cross-section where the binned Poisson Asimov significance (Cowan Eq. 97 over bins) reaches 5 at
    ``exposure_factor`` times the exposure of the (cS1, cS2) templates ``b_bins``, ``s_bins_ref``."""
    return _five_sigma_log(
        lambda y: lk.asimov_significance(exposure_factor * 10.0**y * s_bins_ref, exposure_factor * b_bins) - 5.0,
        sigma_ref,
    )


def cs_templates(er, nr, B: float, S: float, n_s1: int = 12, n_s2: int = 8):
    """(b, s) expected counts on a (cS1, log10 cS2) grid spanning the ER and NR events (``n_s1`` x ``n_s2`` bins);
    bins where the ER sample has no event but the NR has some get b = 1e-3 x (the smallest filled b) -- a floor, an
    assumption said so in the report (docs/statistics.md: a small floor biases Z little)."""
    from tpcml.stats import pseudo

    pts_er = np.column_stack([er.cs1, np.log10(np.maximum(er.cs2, 1e-3))])
    pts_nr = np.column_stack([nr.cs1, np.log10(np.maximum(nr.cs2, 1e-3))])
    both = np.vstack([pts_er, pts_nr])
    e = [
        np.linspace(both[:, 0].min(), both[:, 0].max(), n_s1 + 1),
        np.linspace(both[:, 1].min(), both[:, 1].max(), n_s2 + 1),
    ]
    b = pseudo.binned_templates(pts_er, e, B)
    s = pseudo.binned_templates(pts_nr, e, S)
    floor = 1e-3 * b[b > 0].min()
    return np.maximum(b, floor), s


def extended_poisson_p(ts_er, ts_nr, B: float, S: float, n_experiments: int, seed: int = 0) -> dict:
    """The DARWIN study's unbinned test on the same pseudo-data (issue 20 item 5): q = -2 ln L(TS | H0) with the
    extended Poisson likelihood and a KDE of the ER TS as f0 (``tpcml.stats.kde``, ``pseudo.extended_poisson_
    experiments``, background drawn from the sample); the p of the median q with S signal events on the H0
    ensemble (``median_sensitivity``)."""
    from tpcml.stats import kde, pseudo

    pdf = kde.fit_background_pdf(np.asarray(ts_er), bounds=(0.0, None), grid=2048)
    ens = pseudo.Ensemble(
        B=B, background=np.asarray(ts_er), n_experiments=n_experiments, seed=seed, signal=np.asarray(ts_nr)
    )
    null = pseudo.extended_poisson_experiments(pdf, ens)
    alt = pseudo.extended_poisson_experiments(pdf, ens.with_signal(S, seed + 1))
    sens = pseudo.median_sensitivity(null, alt)
    return _pvalue_fields(sens.pvalue)


def _pvalue_fields(pv) -> dict:
    """p, sigma, how p was found (empirical or a Gaussian fit of the null's tail: flagged) and the 95 % CL bound
    on p when no null experiment reached the median."""
    return {
        "p": float(pv.p),
        "sigma": float(pv.sigma),
        "method": pv.method,
        "p_bound": float(pv.p_bound),
        "log10_p": float(pv.log10_p),
    }
