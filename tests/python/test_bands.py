"""tpcml.sim.bands: band medians, robust widths and pulls on synthetic bands with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from tpcml.sim import bands


def _band(rng, n, sigma=0.1):
    cs1 = rng.uniform(3.0, 70.0, n)
    mean = 2.9 + 0.4 * np.log10(cs1)  # a curved median, as a real band's
    return cs1, mean + rng.normal(0.0, sigma, n), mean


def test_band_stats_recover_a_gaussian_band():
    rng = np.random.default_rng(1)
    cs1, y, _ = _band(rng, 200_000, sigma=0.1)
    st = bands.band_stats(cs1, y, bands.linear_edges())
    assert st.counts.sum() == 200_000
    true_median = 2.9 + 0.4 * np.log10(st.centers)
    # the bin median is the median of the mean over the bin (curvature: ~1e-3 in the first bin)
    assert np.allclose(st.median, true_median, atol=0.01)
    # the band's slope across a bin adds the spread of the mean inside the bin in quadrature
    idx = np.digitize(cs1, st.edges) - 1
    spread = np.array([np.var(2.9 + 0.4 * np.log10(cs1[idx == i])) for i in range(len(st.centers))])
    assert np.allclose(st.width, np.sqrt(0.1**2 + spread), rtol=0.03)
    assert st.width[0] > 1.05 * st.width[-1]  # the steep first bin is visibly wider
    assert np.allclose(st.upper - st.lower, 2 * st.width)


def test_pulls_of_the_band_itself_are_standard_normal():
    rng = np.random.default_rng(2)
    cs1, y, _ = _band(rng, 100_000, sigma=0.08)
    st = bands.band_stats(cs1, y, bands.linear_edges())
    cs1_t, y_t, _ = _band(rng, 20_000, sigma=0.08)
    p = bands.pulls(st, cs1_t, y_t)
    assert abs(np.mean(p)) < 0.03
    assert abs(np.std(p) - 1.0) < 0.03
    # a band twice as wide gives pulls twice as wide
    cs1_w, y_w, _ = _band(rng, 20_000, sigma=0.16)
    assert abs(np.std(bands.pulls(st, cs1_w, y_w)) - 2.0) < 0.06


def test_robust_width_ignores_a_few_outliers():
    rng = np.random.default_rng(3)
    cs1, y, _ = _band(rng, 50_000, sigma=0.1)
    y_out = y.copy()
    y_out[:500] -= 2.0  # 1 % of the events far below the band
    w0 = bands.band_stats(cs1, y, bands.linear_edges()).width
    w1 = bands.band_stats(cs1, y_out, bands.linear_edges()).width
    assert np.all(np.abs(w1 / w0 - 1.0) < 0.05)


def test_interpolation_edges_sparse_bins_and_fraction_below():
    rng = np.random.default_rng(4)
    cs1, y, _ = _band(rng, 50_000)
    st = bands.band_stats(cs1, y, [*bands.linear_edges(), 100.0])  # no event above 70: last bin empty
    assert st.counts[-1] == 0 and np.isnan(st.median[-1]) and np.isnan(st.width[-1])
    assert np.all(np.isfinite(st.median[:-1]))
    # outside the edges -> NaN; in the empty bin -> held at the last filled centre's value
    p = bands.pulls(st, np.array([1.0, 120.0, 80.0]), np.array([3.0, 3.0, 3.0]))
    assert np.isnan(p[0]) and np.isnan(p[1]) and np.isfinite(p[2])
    assert st.median_at(np.array([80.0]))[0] == pytest.approx(st.median[-2])
    frac, err = bands.fraction_below(st, cs1, y - 0.1)  # shifted down by one width: ~84 % below the median
    assert frac == pytest.approx(0.841, abs=0.015) and 0 < err < 0.01


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="increasing"):
        bands.band_stats(np.ones(3), np.ones(3), [10.0, 3.0])
    with pytest.raises(ValueError, match="one length"):
        bands.band_stats(np.ones(3), np.ones(4), [3.0, 10.0])
    with pytest.raises(ValueError, match="hi > lo"):
        bands.linear_edges(70.0, 3.0)
    st = bands.band_stats(np.full(5, 5.0), np.ones(5), [3.0, 10.0])  # 5 events: below MIN_BIN_COUNT
    with pytest.raises(ValueError, match="enough events"):
        bands.pulls(st, np.array([5.0]), np.array([1.0]))
