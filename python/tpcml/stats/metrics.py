"""Figures of merit of a signal/background classifier: the significances S and Xi, the cut scans that maximise
them, ROC AUC, efficiencies in bins with Clopper-Pearson intervals. No TensorFlow is needed here.

* :func:`significance` -- *Suppression of accidental backgrounds with deep neural networks in the PandaX-II
  experiment* (P2-DNN), Eq. (4.1): S = eps_s n_s / sqrt(eps_s n_s + eps_b n_b), with n_s = n_b by default
  (Sec. 4: "the values of n_s and n_b are approximated to be equal", following the BDT study, ref. [15] of the
  paper).
* :func:`scan_cut` -- the cut on the classifier score that maximises S (P2-DNN Sec. 4 and Fig. 2: "The cut is
  obtained by maximizing the significance S"); :func:`best_cuts` does it for the scores of many replicas [R, N].
* :func:`xi` -- Xi = max over thresholds of eps_s / sqrt(eps_b) (*Optimization of convolutional neural networks
  for background suppression in the PandaX-III experiment*, P3-CNN, Sec. 4.1), with the threshold, eps_s and
  eps_b of the maximum. A finite test set resolves eps_b only down to 1 / N_b: the scan keeps thresholds that
  pass at least ``min_background`` background events (default 1), so Xi stays finite; its statistical error
  grows as the number of passing background events shrinks (reported as ``n_background_pass``).
* :func:`efficiency_vs` -- efficiency of a cut in bins of a variable (qS1 for P2-DNN Figs. 4-5) with binomial
  Clopper-Pearson intervals, vectorised over replicas so that the spread of the ER-efficiency curves of 100
  trainings (P2-DNN Fig. 4) is one call.

Conventions: an event *passes* (is kept as a signal-like event) when ``score >= threshold``; signal = label 1,
background = label 0. Efficiencies may be weighted (e.g. accidental pairs weighted by n_acc / N).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ONE_SIGMA_CL",
    "CutScan",
    "Efficiency",
    "XiResult",
    "best_cuts",
    "clopper_pearson",
    "efficiency_vs",
    "roc_auc",
    "scan_cut",
    "significance",
    "xi",
]

#: Central 68.27 % (one Gaussian sigma) confidence level of the efficiency error bars (our choice; the paper's
#: Figs. 4-5 show no error bars).
ONE_SIGMA_CL = 0.6826894921370859


def _scores_1d(values, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array of scores, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{what} is empty; expected at least one score")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{what} has a non-finite score at index {bad} ({arr[bad]}); expected finite scores")
    return arr


def _weights(weights, n: int, what: str) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},) like its scores, got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"{what} must be finite and non-negative")
    if w.sum() <= 0:
        raise ValueError(f"{what} sum to zero; expected a positive total weight")
    return w


def significance(eps_s, eps_b, n_s, n_b=None):
    """S = eps_s n_s / sqrt(eps_s n_s + eps_b n_b) (P2-DNN Eq. 4.1); ``n_b`` defaults to n_s.

    Works elementwise on arrays; S = 0 where eps_s n_s + eps_b n_b = 0 (nothing passes).
    """
    eps_s = np.asarray(eps_s, dtype=np.float64)
    eps_b = np.asarray(eps_b, dtype=np.float64)
    n_s = np.asarray(n_s, dtype=np.float64)
    n_b = n_s if n_b is None else np.asarray(n_b, dtype=np.float64)
    for name, val in (("eps_s", eps_s), ("eps_b", eps_b)):
        if np.any((val < 0) | (val > 1)) or not np.all(np.isfinite(val)):
            raise ValueError(f"{name} must be an efficiency in [0, 1], got {val}")
    for name, val in (("n_s", n_s), ("n_b", n_b)):
        if np.any(val <= 0) or not np.all(np.isfinite(val)):
            raise ValueError(f"{name} must be a positive event count, got {val}")
    num = eps_s * n_s
    den = np.sqrt(num + eps_b * n_b)
    out = np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)
    return out[()] if out.ndim == 0 else out


@dataclass
class CutScan:
    """Result of :func:`scan_cut`: the optimal threshold and the scanned curve (the Fig. 2 analogue)."""

    threshold: float
    significance: float
    eps_s: float
    eps_b: float
    n_s: float
    n_b: float
    thresholds: np.ndarray  # scanned thresholds, increasing
    significance_curve: np.ndarray
    eps_s_curve: np.ndarray
    eps_b_curve: np.ndarray


def _cut(k: int, thresholds: np.ndarray, eps_s: np.ndarray, eps_b: np.ndarray) -> dict:
    """What every threshold scan reports (:class:`CutScan`, :class:`XiResult`): the threshold and the signal and
    background efficiencies of the chosen cut ``k``, and the scanned curves."""
    return {
        "threshold": float(thresholds[k]),
        "eps_s": float(eps_s[k]),
        "eps_b": float(eps_b[k]),
        "thresholds": thresholds,
        "eps_s_curve": eps_s,
        "eps_b_curve": eps_b,
    }


def _pass_fraction(sorted_scores: np.ndarray, rev_cumw: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Weighted fraction of scores >= each threshold (scores sorted increasing, rev_cumw[i] = sum w[i:])."""
    i = np.searchsorted(sorted_scores, thresholds, side="left")
    return rev_cumw[i] / rev_cumw[0]


def scan_cut(
    signal_scores,
    background_scores,
    n_s: float | None = None,
    n_b: float | None = None,
    thresholds=None,
    signal_weights=None,
    background_weights=None,
) -> CutScan:
    """Maximise S (Eq. 4.1) over the threshold of ``score >= threshold`` cuts.

    ``n_s`` defaults to the (weighted) number of signal events given, ``n_b`` to ``n_s`` (paper Sec. 4: n_s = n_b).
    With ``thresholds=None`` the scan is exact: the candidates are the distinct signal scores (moving the cut up to
    the next signal score removes background only, so the optimum is always at one of them). Pass a grid (e.g.
    ``np.linspace(0, 1, 1001)``) for an evenly sampled Fig. 2 curve; the optimum is then the best grid point.
    Ties between thresholds with equal S go to the lowest threshold (highest signal efficiency).
    """
    s = _scores_1d(signal_scores, "signal_scores")
    b = _scores_1d(background_scores, "background_scores")
    ws = _weights(signal_weights, len(s), "signal_weights")
    wb = _weights(background_weights, len(b), "background_weights")
    n_s = float(ws.sum()) if n_s is None else float(n_s)
    n_b = n_s if n_b is None else float(n_b)
    t = np.unique(s) if thresholds is None else np.unique(_scores_1d(thresholds, "thresholds"))
    os_, ob = np.argsort(s, kind="stable"), np.argsort(b, kind="stable")
    s_sorted, b_sorted = s[os_], b[ob]
    rev_s = np.concatenate([np.cumsum(ws[os_][::-1])[::-1], [0.0]])
    rev_b = np.concatenate([np.cumsum(wb[ob][::-1])[::-1], [0.0]])
    eps_s = _pass_fraction(s_sorted, rev_s, t)
    eps_b = _pass_fraction(b_sorted, rev_b, t)
    curve = significance(eps_s, eps_b, n_s, n_b)
    k = int(np.argmax(curve))  # first maximum = lowest threshold
    return CutScan(significance=float(curve[k]), n_s=n_s, n_b=n_b, significance_curve=curve, **_cut(k, t, eps_s, eps_b))


def _labels(labels, n: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) like the scores' last axis, got {y.shape}")
    if not np.all(np.isin(np.unique(y), (0, 1))):
        raise ValueError(f"labels must be 0 (background) / 1 (signal), got values {np.unique(y)[:10].tolist()}")
    y = y.astype(bool)
    if y.all() or not y.any():
        raise ValueError("labels must contain both signal (1) and background (0) events")
    return y


def best_cuts(scores, labels, n_s: float | None = None, n_b: float | None = None, weights=None) -> dict:
    """:func:`scan_cut` for every row of ``scores`` [R, N] (or [N]) with 0/1 ``labels`` [N].

    Returns a dict of arrays [R]: ``threshold``, ``significance``, ``eps_s``, ``eps_b`` (the exact optimum of each
    replica, the Table 2 "Average Significance" is the mean of ``significance``).
    """
    sc = np.asarray(scores, dtype=np.float64)
    if sc.ndim == 1:
        sc = sc[None, :]
    if sc.ndim != 2:
        raise ValueError(f"scores must have shape [R, N] or [N], got {np.shape(scores)}")
    y = _labels(labels, sc.shape[1])
    w = None if weights is None else _weights(weights, sc.shape[1], "weights")
    out = {k: np.empty(len(sc)) for k in ("threshold", "significance", "eps_s", "eps_b")}
    for r, row in enumerate(sc):
        res = scan_cut(
            row[y],
            row[~y],
            n_s=n_s,
            n_b=n_b,
            signal_weights=None if w is None else w[y],
            background_weights=None if w is None else w[~y],
        )
        for k in out:
            out[k][r] = getattr(res, k)
    return out


def roc_auc(scores, labels) -> np.ndarray | float:
    """Area under the ROC curve of [N] or [R, N] scores (``sklearn.metrics.roc_auc_score`` per row: ties count
    one half, as the Mann-Whitney U with mid-ranks)."""
    from sklearn.metrics import roc_auc_score

    sc = np.asarray(scores, dtype=np.float64)
    one = sc.ndim == 1
    sc = sc[None, :] if one else sc
    if sc.ndim != 2:
        raise ValueError(f"scores must have shape [R, N] or [N], got {np.shape(scores)}")
    y = _labels(labels, sc.shape[1])
    auc = np.array([roc_auc_score(y, row) for row in sc])
    return float(auc[0]) if one else auc


# ----------------------------------------------------------------------------------------------------------------
# Efficiencies in bins
# ----------------------------------------------------------------------------------------------------------------


def clopper_pearson(k, n, cl: float = ONE_SIGMA_CL) -> tuple[np.ndarray, np.ndarray]:
    """Central Clopper-Pearson interval (lower, upper) for k successes in n trials (arrays broadcast):
    ``hist.intervals.clopper_pearson_interval`` (the exact binomial interval from the beta quantiles, lower 0 for
    k = 0, upper 1 for k = n) with the checks and the n = 0 case of this module.

    Chosen over Wilson because it never undercovers and stays inside [0, 1] at eff = 0 or 1, which is where the
    ER / NR efficiencies of this study sit. NaN where n = 0.
    """
    from hist.intervals import clopper_pearson_interval

    if not 0 < cl < 1:
        raise ValueError(f"cl must be a confidence level in (0, 1), got {cl}")
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    k, n = np.broadcast_arrays(k, n)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("clopper_pearson needs 0 <= k <= n")
    valid = n > 0
    with np.errstate(invalid="ignore"):
        lo, hi = clopper_pearson_interval(k, np.where(valid, n, 1.0), coverage=cl)
    return np.where(valid, lo, np.nan), np.where(valid, hi, np.nan)


@dataclass
class Efficiency:
    """Binned efficiencies of :func:`efficiency_vs`: arrays [R, bins] (R = 1 for one classifier) and [bins]."""

    edges: np.ndarray
    n_total: np.ndarray  # [bins] events (or summed weights) per bin
    n_pass: np.ndarray  # [R, bins]
    efficiency: np.ndarray  # [R, bins], NaN in empty bins
    lower: np.ndarray  # [R, bins] Clopper-Pearson lower bound
    upper: np.ndarray  # [R, bins] Clopper-Pearson upper bound
    cl: float

    @property
    def centers(self) -> np.ndarray:
        """Bin centres."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    def band(self, quantiles: Sequence[float] = (0.16, 0.5, 0.84)) -> np.ndarray:
        """Quantiles of the efficiency over the replicas in each bin, shape [len(quantiles), bins] (Fig. 4 spread)."""
        with np.errstate(all="ignore"):
            empty = np.all(np.isnan(self.efficiency), axis=0)
            filled = np.where(empty[None, :], 0.0, self.efficiency)
            out = np.nanquantile(filled, quantiles, axis=0)
        out[:, empty] = np.nan
        return out


def efficiency_vs(
    variable,
    passed,
    bins,
    weights=None,
    cl: float = ONE_SIGMA_CL,
) -> Efficiency:
    """Efficiency of a cut in bins of ``variable`` (e.g. qS1, Figs. 4-5) with Clopper-Pearson intervals.

    ``passed`` is a boolean array [N] or [R, N] (R replicas, e.g. ``scores >= thresholds[:, None]``); ``bins`` an
    int (equal bins between the min and max of ``variable``) or the bin edges. Events outside the edges are not
    counted; the counts are ``hist`` histograms (Weight storage: sum w and sum w^2 per bin). The binomial
    interval is the central Clopper-Pearson one at ``cl`` (default 68.27 %, see :func:`clopper_pearson`). With
    ``weights`` the efficiency is weighted and the interval uses the effective counts (sum w)^2 / sum w^2 (an
    approximation; exact for equal weights).
    """
    x = np.asarray(variable, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"variable must be 1-D, got shape {x.shape}")
    p = np.asarray(passed)
    if p.ndim == 1:
        p = p[None, :]
    if p.ndim != 2 or p.shape[1] != len(x):
        raise ValueError(f"passed must have shape [N] or [R, N] with N = {len(x)}, got {np.shape(passed)}")
    if p.dtype != np.bool_:
        if not np.all(np.isin(np.unique(p), (0, 1))):
            raise ValueError("passed must be boolean (or 0/1)")
        p = p.astype(bool)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"variable has non-finite values at indices {np.flatnonzero(~np.isfinite(x))[:5].tolist()}")
    if np.ndim(bins) == 0:
        nb = int(bins)
        if nb < 1:
            raise ValueError(f"bins must be a positive number of bins or an array of edges, got {bins!r}")
        edges = np.linspace(x.min(), x.max(), nb + 1)
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError(f"bin edges must be a strictly increasing 1-D array of >= 2 values, got {bins!r}")
    import hist

    # hist's bins are [a, b); the last one is closed on the right here, like numpy.histogram
    x = np.where(x == edges[-1], np.nextafter(edges[-1], -np.inf), x)
    axis = hist.axis.Variable(edges, underflow=False, overflow=False)
    w = np.ones(len(x)) if weights is None else _weights(weights, len(x), "weights")
    total = hist.Hist(axis, storage=hist.storage.Weight()).fill(x, weight=w)
    n_tot = total.values()  # [bins]: sum of weights
    n_pass = np.stack([hist.Hist(axis).fill(x, weight=w * row).values() for row in p])  # [R, bins]
    with np.errstate(invalid="ignore", divide="ignore"):
        eff = np.where(n_tot > 0, n_pass / np.where(n_tot > 0, n_tot, 1.0), np.nan)
    if weights is None:
        k_eff, n_eff = n_pass, np.broadcast_to(n_tot, n_pass.shape)
    else:
        w2 = total.variances()  # [bins]: sum of squared weights
        n_eff_1d = np.where(w2 > 0, n_tot**2 / np.where(w2 > 0, w2, 1.0), 0.0)
        n_eff = np.broadcast_to(n_eff_1d, n_pass.shape)
        k_eff = np.where(n_tot > 0, np.nan_to_num(eff) * n_eff, 0.0)
    lo, hi = clopper_pearson(np.minimum(k_eff, n_eff), n_eff, cl)
    return Efficiency(edges=edges, n_total=n_tot, n_pass=n_pass, efficiency=eff, lower=lo, upper=hi, cl=cl)


@dataclass
class XiResult:
    xi: float
    threshold: float
    eps_s: float
    eps_b: float
    n_background_pass: int
    thresholds: np.ndarray = field(repr=False)
    eps_s_curve: np.ndarray = field(repr=False)
    eps_b_curve: np.ndarray = field(repr=False)
    n_signal: int = 0  # signal events scanned (eps_s = passing / n_signal)
    n_background: int = 0  # background events scanned

    def interval(self, cl: float = ONE_SIGMA_CL) -> tuple[float, float]:
        """(lower, upper) of Xi at the chosen cut: the Clopper-Pearson intervals of eps_s and eps_b
        (:func:`clopper_pearson`) propagated to Xi = eps_s / sqrt(eps_b) to first order, each side in quadrature
        (Xi falls with a lower eps_s and a higher eps_b). The statistical error of the cut's efficiencies only: the
        choice of the cut on the same events (the maximum over thresholds) biases Xi upwards and is not included."""
        s_lo, s_hi = clopper_pearson(round(self.eps_s * self.n_signal), self.n_signal, cl)
        b_lo, b_hi = clopper_pearson(self.n_background_pass, self.n_background, cl)
        down = np.hypot((self.eps_s - s_lo) / self.eps_s, (b_hi - self.eps_b) / (2 * self.eps_b))
        up = np.hypot((s_hi - self.eps_s) / self.eps_s, (self.eps_b - b_lo) / (2 * self.eps_b))
        return float(self.xi * (1 - down)), float(self.xi * (1 + up))


def xi(signal_scores, background_scores, min_background: int = 1) -> XiResult:
    """Xi = max eps_s / sqrt(eps_b) over cuts ``score >= t`` (P3-CNN Sec. 4.1), among cuts passing at least
    ``min_background`` background events. The candidate thresholds are all distinct scores; eps_s and eps_b at
    each are the ROC curve of ``sklearn.metrics.roc_curve`` (every threshold kept), in increasing threshold order
    (a tie in Xi goes to the lowest threshold)."""
    from sklearn.metrics import roc_curve

    s = np.asarray(signal_scores, dtype=np.float64).ravel()
    b = np.asarray(background_scores, dtype=np.float64).ravel()
    if len(s) == 0 or len(b) == 0:
        raise ValueError(f"xi needs signal and background scores, got {len(s)} and {len(b)}")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(b))):
        raise ValueError("xi: scores must be finite")
    if min_background < 1 or min_background > len(b):
        raise ValueError(f"min_background must be in [1, {len(b)}], got {min_background}")
    y = np.r_[np.ones(len(s), dtype=bool), np.zeros(len(b), dtype=bool)]
    fpr, tpr, thr = roc_curve(y, np.concatenate([s, b]), drop_intermediate=False)
    # roc_curve: thresholds decreasing, the first one (+inf) passing nothing; here increasing, without it
    t, eps_s, eps_b = thr[:0:-1], tpr[:0:-1], fpr[:0:-1]
    n_b = np.rint(eps_b * len(b)).astype(np.int64)
    ok = n_b >= min_background
    ratio = np.where(ok, eps_s / np.sqrt(np.where(ok, eps_b, 1.0)), -np.inf)
    k = int(np.argmax(ratio))
    return XiResult(
        xi=float(ratio[k]),
        n_background_pass=int(n_b[k]),
        n_signal=len(s),
        n_background=len(b),
        **_cut(k, t, eps_s, eps_b),
    )
