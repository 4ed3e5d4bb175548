"""ER/NR band statistics in (cS1, log10 cS2_bottom) and pulls of events relative to a band.

A band is summarised per cS1 bin by the median of y = log10(cS2_bottom) and a robust width: half the central
68.27 % interval, (q84.13 - q15.87) / 2, which equals the standard deviation for a Gaussian and is insensitive
to the few events far from the band (accidentals, wall events) that would inflate a standard deviation. Between
bin centres the median and width are interpolated linearly; beyond the first/last centre (but inside the edges)
they are held at the end value.

The pull of an event is (y - median(cS1)) / width(cS1): for events drawn from the band itself the pulls have a
median of 0 and a central 68 % interval of [-1, 1] by construction. The XENON1T SR0 ER-band test compares the
pulls of the published search events with these expectations (tests/python/test_xenon1t_er_band.py).

Used by the SR0 band test and by the band plot (``tpcml plot``). ``y`` may be any per-event quantity (e.g.
log10(qS2c / qS1c) for PandaX-II's band); nothing here assumes the bottom-array S2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "QUANTILES",
    "XENON1T_CS1_WINDOW",
    "BandStats",
    "band_stats",
    "fraction_below",
    "linear_edges",
    "pulls",
]

#: quantiles of the band (lower, median, upper): the central 68.27 % interval of a Gaussian (+-1 sigma)
QUANTILES = (0.158655, 0.5, 0.841345)
#: the XENON1T SR0/SR1 cS1 analysis window in PE (Aprile et al., PRL 119 (2017) 181301 and PRL 121 (2018) 111302)
XENON1T_CS1_WINDOW = (3.0, 70.0)
#: fewest events per bin for a band statistic (the width's statistical error is then ~ 1/sqrt(2 n) < 16 %)
MIN_BIN_COUNT = 20


@dataclass(frozen=True)
class BandStats:
    """Per-bin band statistics: ``edges`` (n+1 cS1 bin edges), ``centers``, ``median`` and ``width`` of y per bin
    (NaN where a bin has fewer than :data:`MIN_BIN_COUNT` events), ``lower``/``upper`` (the 15.87 % and 84.13 %
    quantiles) and ``counts`` (events per bin)."""

    edges: np.ndarray
    centers: np.ndarray
    median: np.ndarray
    width: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    counts: np.ndarray

    def _interp(self, values: np.ndarray, cs1) -> np.ndarray:
        ok = np.isfinite(values)
        if not ok.any():
            raise ValueError("band has no bin with enough events to interpolate")
        cs1 = np.asarray(cs1, dtype=np.float64)
        out = np.interp(cs1, self.centers[ok], values[ok])
        return np.where((cs1 >= self.edges[0]) & (cs1 <= self.edges[-1]), out, np.nan)

    def median_at(self, cs1) -> np.ndarray:
        """The band median interpolated at ``cs1`` (NaN outside the edges)."""
        return self._interp(self.median, cs1)

    def width_at(self, cs1) -> np.ndarray:
        """The band width interpolated at ``cs1`` (NaN outside the edges)."""
        return self._interp(self.width, cs1)


def linear_edges(lo: float = XENON1T_CS1_WINDOW[0], hi: float = XENON1T_CS1_WINDOW[1], n_bins: int = 14):
    """``n_bins`` equal cS1 bins from ``lo`` to ``hi`` PE (default: the XENON1T 3-70 PE window)."""
    if not (hi > lo) or n_bins < 1:
        raise ValueError(f"need hi > lo and n_bins >= 1, got lo={lo}, hi={hi}, n_bins={n_bins}")
    return np.linspace(lo, hi, int(n_bins) + 1)


def _check_pair(cs1, y) -> tuple[np.ndarray, np.ndarray]:
    cs1 = np.asarray(cs1, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if cs1.shape != y.shape or cs1.ndim != 1:
        raise ValueError(f"cs1 and y must be 1-D arrays of one length, got shapes {cs1.shape} and {y.shape}")
    return cs1, y


def band_stats(cs1, y, edges) -> BandStats:
    """Median and robust width (half the 15.87-84.13 % interval) of ``y`` in the cS1 bins ``edges``.

    ``cs1``, ``y``: per event (e.g. cS1 in PE and log10 of cS2_bottom in PE); non-finite y are ignored.
    ``edges``: increasing bin edges (e.g. :func:`linear_edges`). A bin with fewer than :data:`MIN_BIN_COUNT`
    events gets NaN statistics (and is skipped by the interpolation).
    """
    cs1, y = _check_pair(cs1, y)
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must be at least two increasing values, got {edges!r}")
    ok = np.isfinite(cs1) & np.isfinite(y)
    cs1, y = cs1[ok], y[ok]
    idx = np.digitize(cs1, edges) - 1  # bin i holds edges[i] <= cs1 < edges[i+1]
    idx[cs1 == edges[-1]] = len(edges) - 2
    n = len(edges) - 1
    q = np.full((n, 3), np.nan)
    counts = np.bincount(idx[(idx >= 0) & (idx < n)], minlength=n)
    for i in range(n):
        if counts[i] >= MIN_BIN_COUNT:
            q[i] = np.quantile(y[idx == i], QUANTILES)
    return BandStats(
        edges=edges,
        centers=0.5 * (edges[1:] + edges[:-1]),
        median=q[:, 1],
        width=0.5 * (q[:, 2] - q[:, 0]),
        lower=q[:, 0],
        upper=q[:, 2],
        counts=counts,
    )


def pulls(stats: BandStats, cs1, y) -> np.ndarray:
    """(y - median(cS1)) / width(cS1) per event, the band interpolated between bin centres; NaN for events
    outside the band's cS1 edges."""
    cs1, y = _check_pair(cs1, y)
    return (y - stats.median_at(cs1)) / stats.width_at(cs1)


def fraction_below(stats: BandStats, cs1, y) -> tuple[float, float]:
    """Fraction of the events inside the band's cS1 edges whose ``y`` lies below the band median (e.g. the ER
    leakage below the NR median: ``stats`` of the NR band, ``cs1``/``y`` of ER events), with its binomial
    standard error."""
    cs1, y = _check_pair(cs1, y)
    med = stats.median_at(cs1)
    inside = np.isfinite(med) & np.isfinite(y)
    n = int(inside.sum())
    if n == 0:
        raise ValueError("no event inside the band's cS1 edges")
    p = float(np.mean(y[inside] < med[inside]))
    return p, float(np.sqrt(max(p * (1 - p), 1.0 / n) / n))
