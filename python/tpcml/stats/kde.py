"""The background pdf f0 of a 1-D test statistic by kernel density estimation, tabulated for fast evaluation.

*A model-independent, likelihood-free deep learning pipeline for anomaly detection in direct dark matter
experiments* (DARWIN-VAE, ``papers/darwin-vae-anomaly.md``), Sec. 3 and Fig. 3: the total background pdf f0 of the
anomaly score TS is a kernel density estimate of simulated background events weighted to their expected rates.

* Estimator: ``scipy.stats.gaussian_kde`` (Gaussian kernel, optional event weights, e.g. ER and NR re-weighted to
  their rates). The paper does not state its kernel or bandwidth.
* Bandwidth: Scott's rule by default, h = sigma n_eff^(-1/5) (D. W. Scott, *Multivariate Density Estimation*,
  Wiley 1992, Eq. 6.44 in one dimension; with weights n_eff = (sum w)^2 / sum w^2, as scipy computes it); Silverman's
  rule, h = sigma (3 n_eff / 4)^(-1/5) (B. W. Silverman, *Density Estimation for Statistics and Data Analysis*,
  Chapman & Hall 1986, Eq. 3.31 without its robust min(sigma, IQR/1.34)) and a fixed factor are the alternatives
  (``bandwidth=``; see ``scipy.stats.gaussian_kde``). Both rules are optimal for a Gaussian density; for a bimodal
  TS (ER and NR bumps, DARWIN-VAE Fig. 2) they oversmooth a little, which the tests of f0 against a histogram show.
* Boundaries: an unbounded TS needs none. A TS bounded on one or both sides (``bounds=(lo, hi)``, ``None`` for an
  open side) is estimated by reflection, f(x) = k(x) + k(2 lo - x) + k(2 hi - x) on [lo, hi] and 0 outside
  (Silverman 1986, Sec. 2.10): the kernel mass that would leak past a boundary is folded back, so f0 stays
  normalised there (a plain KDE loses about half its mass within h of a hard edge).
* Evaluation: the KDE is evaluated once on a uniform grid of ``grid`` points covering the sample +- 8 h (or the
  bounds); ``log_pdf(x)`` interpolates ln f0 linearly between grid points (vectorised index arithmetic, no search).
  Points off the grid (far tails) are evaluated exactly with ``gaussian_kde.logpdf``. The interpolation error
  ``max_log_error`` is measured at fit time: max |ln f0 interpolated - ln f0 exact| at the midpoints (the worst
  place for linear interpolation) of every 8th cell, over cells where f0 > 1e-6 of its maximum. It scales as
  (dx / h)^2 / 8: 7.5e-6 at the default 8,192 points for a bimodal TS spanning ~40 bandwidths (measured, see
  docs/statistics.md), i.e. below 0.1 in q for 6,500 events, against a spread of q under H0 of ~300.
* Normalisation: ``integral`` is the trapezoid integral of the tabulated pdf over the grid, checked at fit time
  (|integral - 1| < 1e-3, else ValueError): it catches a grid too coarse for the bandwidth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["BackgroundPdf", "fit_background_pdf"]

_MARGIN_H = 8.0  # grid margin beyond the sample in bandwidths: the Gaussian kernel's mass beyond 8 h is ~6e-16
_NORM_TOL = 1e-3  # accepted |integral - 1| of the tabulated pdf
_BANDWIDTHS = ("scott", "silverman")
_CHECK_STRIDE = 8  # the interpolation error is measured at every 8th cell midpoint (it varies smoothly)


def finite_1d(values, what: str, allow_empty: bool = False) -> np.ndarray:
    """``values`` as a finite 1-D float64 array; a ValueError naming ``what`` otherwise."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array of test-statistic values, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{what} is empty; expected at least one value")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{what} has a non-finite value at index {bad} ({arr[bad]}); expected finite values")
    return arr


def event_weights(weights, n: int, what: str) -> np.ndarray | None:
    """Checked non-negative weights of ``n`` events (None stays None)."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},) like its sample, got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        bad = int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])
        raise ValueError(f"{what} must be finite and non-negative; index {bad} is {w[bad]}")
    if w.sum() <= 0:
        raise ValueError(f"{what} sum to zero; expected a positive total weight")
    return w


@dataclass
class BackgroundPdf:
    """f0 of a 1-D test statistic: a (weighted, optionally reflected) Gaussian KDE tabulated on a uniform grid.

    Build with :func:`fit_background_pdf`. ``pdf(x)``, ``log_pdf(x)`` are vectorised; ``sample(rng, n)`` draws from
    f0 itself (a smoothed bootstrap: a sample point plus a kernel step, folded at the bounds).
    """

    kde: object = field(repr=False)  # scipy.stats.gaussian_kde
    bandwidth: float  # kernel standard deviation h
    bandwidth_rule: str
    bounds: tuple[float | None, float | None]
    x0: float  # first grid point
    dx: float  # grid spacing
    log_table: np.ndarray = field(repr=False)  # ln f0 on the grid
    integral: float = float("nan")
    max_log_error: float = float("nan")

    @property
    def grid(self) -> np.ndarray:
        """The tabulation points."""
        return self.x0 + self.dx * np.arange(len(self.log_table))

    def exact_log_pdf(self, x) -> np.ndarray:
        """ln f0 at ``x`` from the KDE itself (slow: every sample point for every x), reflection included."""
        x = np.asarray(x, dtype=np.float64)
        lo, hi = self.bounds
        terms = [self.kde.logpdf(x)]
        if lo is not None:
            terms.append(self.kde.logpdf(2 * lo - x))
        if hi is not None:
            terms.append(self.kde.logpdf(2 * hi - x))
        out = np.logaddexp.reduce(np.stack(terms), axis=0)
        outside = ((x < lo) if lo is not None else False) | ((x > hi) if hi is not None else False)
        return np.where(outside, -np.inf, out)

    def log_pdf(self, x, what: str = "x") -> np.ndarray:
        """ln f0 at ``x`` (any shape): linear interpolation of the tabulated ln f0, exact KDE off the grid; -inf
        outside ``bounds``. Non-finite ``x`` raises a ValueError naming ``what``."""
        x = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            bad = np.flatnonzero(~np.isfinite(x.ravel()))[0]
            raise ValueError(f"{what} has a non-finite value at flat index {bad}; expected finite values")
        out = np.interp(x, self.grid, self.log_table)
        off = (x < self.x0) | (x > self.x0 + self.dx * (len(self.log_table) - 1))
        if np.any(off):
            out[off] = self.exact_log_pdf(x[off])
        return out

    def pdf(self, x, what: str = "x") -> np.ndarray:
        """f0 at ``x``."""
        return np.exp(self.log_pdf(x, what))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws from f0: a (weighted) sample point plus h * N(0, 1), reflected back into ``bounds``."""
        data = self.kde.dataset[0]
        idx = rng.choice(len(data), size=n, p=self.kde.weights) if self.kde.neff < len(data) else None
        idx = rng.integers(0, len(data), size=n) if idx is None else idx
        x = data[idx] + self.bandwidth * rng.standard_normal(n)
        lo, hi = self.bounds
        for _ in range(64):  # one fold suffices unless h is comparable to hi - lo
            below = (x < lo) if lo is not None else np.zeros(n, bool)
            above = (x > hi) if hi is not None else np.zeros(n, bool)
            if not (below.any() or above.any()):
                break
            x = np.where(below, 2 * lo - x, x) if lo is not None else x
            x = np.where(above, 2 * hi - x, x) if hi is not None else x
        return x


def fit_background_pdf(
    sample,
    weights=None,
    bandwidth: str | float = "scott",
    bounds: tuple[float | None, float | None] = (None, None),
    grid: int = 8192,
) -> BackgroundPdf:
    """f0 of the 1-D ``sample`` (e.g. the TS of simulated background events), see the module docstring.

    ``weights``: per-event weights (e.g. expected events per simulated event of each background component);
    ``bandwidth``: "scott" (default), "silverman" or a positive factor multiplying the sample's standard
    deviation (``scipy.stats.gaussian_kde``'s ``bw_method``); ``bounds``: (lo, hi) of a bounded TS, None for an
    open side (reflection at each given bound); ``grid``: tabulation points (>= 256).
    """
    from scipy.stats import gaussian_kde

    x = finite_1d(sample, "sample")
    if len(x) < 2:
        raise ValueError(f"sample has {len(x)} value; a KDE needs at least 2")
    w = event_weights(weights, len(x), "weights")
    if isinstance(bandwidth, str):
        if bandwidth not in _BANDWIDTHS:
            raise ValueError(f"bandwidth must be one of {_BANDWIDTHS} or a positive factor, got {bandwidth!r}")
    elif not (np.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth factor must be positive and finite, got {bandwidth!r}")
    if int(grid) < 256:
        raise ValueError(f"grid must have at least 256 points, got {grid}")
    lo, hi = bounds
    if lo is not None and hi is not None and not lo < hi:
        raise ValueError(f"bounds must be (lo, hi) with lo < hi, got {bounds}")
    for name, b, bad in (("lower", lo, x < (lo if lo is not None else -np.inf)),
                         ("upper", hi, x > (hi if hi is not None else np.inf))):  # fmt: skip
        if np.any(bad):
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"sample[{k}] = {x[k]} lies outside the {name} bound {b}")
    if np.ptp(x) == 0:
        raise ValueError(f"sample has a single distinct value ({x[0]}); a KDE needs a spread")
    kde = gaussian_kde(x, bw_method=bandwidth, weights=w)
    h = float(np.sqrt(kde.covariance[0, 0]))
    a = lo if lo is not None else x.min() - _MARGIN_H * h
    b = hi if hi is not None else x.max() + _MARGIN_H * h
    nodes = np.linspace(a, b, int(grid))
    pdf = BackgroundPdf(
        kde=kde,
        bandwidth=h,
        bandwidth_rule=bandwidth if isinstance(bandwidth, str) else f"factor {bandwidth}",
        bounds=(lo, hi),
        x0=float(a),
        dx=float(nodes[1] - nodes[0]),
        log_table=np.empty(0),
    )
    pdf.log_table = pdf.exact_log_pdf(nodes)
    pdf.integral = float(np.trapezoid(np.exp(pdf.log_table), nodes))
    if abs(pdf.integral - 1.0) > _NORM_TOL:
        raise ValueError(
            f"f0 tabulated on {grid} points integrates to {pdf.integral:.6f}, not 1 within {_NORM_TOL}: "
            f"raise grid (bandwidth {h:.4g}, spacing {pdf.dx:.4g})"
        )
    mid = nodes[:-1:_CHECK_STRIDE] + 0.5 * pdf.dx
    exact = pdf.exact_log_pdf(mid)
    keep = exact > pdf.log_table.max() + np.log(1e-6)
    pdf.max_log_error = float(np.max(np.abs(pdf.log_pdf(mid[keep]) - exact[keep])))
    return pdf
