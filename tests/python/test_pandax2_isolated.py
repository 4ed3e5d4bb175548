"""The isolated S1 / S2 populations of PandaX-II (issue 17): origin rates derived from the registry (dark-noise
coincidences, single electrons taken for S1s, volumes and masses x the ER rate), the populations' origin mix against
those rates, identical populations on 1 and 2 threads, and the single-electron trains of the delayed-electron S2s
(sizes, arrivals uniform over the registry span, never taken for an S1)."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from tpcml.core import detectors
from tpcml.sim import isolated as iso
from tpcml.sim.lxe import S1_DARK_NOISE, S2_DELAYED, Simulator


@pytest.fixture(scope="module")
def det():
    return detectors.load("pandax2")


def test_dark_noise_rate_formula_and_registry_value(det):
    # 110 PMTs at 30 Hz, 3-fold in 100 ns: 110 x 30 x C(109, 2) x (3e-6)^2 = 1.75e-4 Hz (issue 17's 1.7e-4 Hz)
    r = iso.dark_noise_coincidence_rate(110, 30.0, 100e-9, 3)
    assert r == pytest.approx(110 * 30 * comb(109, 2) * (30 * 100e-9) ** 2)
    assert r == pytest.approx(1.75e-4, rel=0.01)
    assert iso.dark_noise_coincidence_rate(110, 60.0, 100e-9, 3) == pytest.approx(8 * r)  # ~ r^k
    assert iso.s1_origin_rates(det).rates_hz[S1_DARK_NOISE - 1] == pytest.approx(r)
    with pytest.raises(ValueError, match="coincidence level"):
        iso.dark_noise_coincidence_rate(2, 30.0, 1e-7, 3)


def test_dark_noise_rate_against_a_poisson_simulation():
    """Independent Poisson dark counts on 8 PMTs: windows opened by a count with >= 2 other PMTs within tau."""
    n, r, tau, duration = 8, 2.0e4, 1e-6, 1.0
    rng = np.random.default_rng(5)
    k = rng.poisson(r * duration, n)
    t = np.concatenate([rng.uniform(0, duration, m) for m in k])
    ch = np.repeat(np.arange(n), k)
    order = np.argsort(t)
    t, ch = t[order], ch[order]
    end = np.searchsorted(t, t + tau, side="right")
    found = 0
    for i in np.flatnonzero(end - np.arange(len(t)) - 1 >= 2):
        others = set(ch[i + 1 : end[i]].tolist()) - {ch[i]}
        found += len(others) >= 2
    expected = iso.dark_noise_coincidence_rate(n, r, tau, 3) * duration  # 1344
    assert found == pytest.approx(expected, rel=0.1)


def test_single_electron_misidentification():
    # the registry's single electron (24 PE over 1 us) is almost never an S1; a 10 ns flash of 24 PE always is
    p = iso.single_electron_misid_probability(24.0, 1000.0, 9.0, 0.4, 3.0, n_samples=1000)
    assert p < 1e-3
    assert iso.single_electron_misid_probability(24.0, 10.0, 9.0, 0.4, 3.0, n_samples=1000) > 0.99
    narrower = iso.single_electron_misid_probability(24.0, 300.0, 9.0, 0.4, 3.0, n_samples=1000)
    assert p < narrower


def test_s2_origin_rates_from_masses(det):
    rate = 1.14e-3 / 86400  # er_background_rate, per kg s keV
    surface_kg = np.pi * 323.0**2 * (2.5 + 2 * 1.0 * 1.65) * 2.86e-6  # liquid within 2 EL times of the surface
    r = iso.s2_origin_rates(det, 0.5)
    assert r.rates_hz[0] == pytest.approx(rate * surface_kg * 49.0, rel=1e-3)
    assert r.rates_hz[2] == pytest.approx(rate * 580.0 * 2.9 * 0.5, rel=1e-3)
    assert r.total_hz == pytest.approx(det.get("isolated_s2_rate", "Hz"))
    with pytest.raises(ValueError, match="no_s1_fraction"):
        iso.s2_origin_rates(det, 1.5)


def test_populations_follow_the_derived_rates(det):
    sim = Simulator(det, threads=2)
    n = 2000
    s1 = sim.isolated_s1(n, 7)
    f = iso.s1_origin_rates(det).fractions
    counts = np.bincount(s1["origin"], minlength=5)[1:]
    assert counts.sum() == n
    for k in range(4):  # multinomial: within 4 binomial standard deviations (+1 for the tiny origins)
        assert abs(counts[k] - n * f[k]) <= 4 * np.sqrt(n * f[k] * (1 - f[k])) + 1
    s2 = sim.isolated_s2(n, 8)
    f2 = iso.s2_origin_rates(det, sim.no_s1_fraction()).fractions
    c2 = np.bincount(s2["origin"], minlength=4)[1:]
    for k in range(3):
        assert abs(c2[k] - n * f2[k]) <= 4 * np.sqrt(n * f2[k] * (1 - f2[k])) + 1


def test_populations_identical_on_1_and_2_threads(det):
    a, b = Simulator(det, threads=1), Simulator(det, threads=2)
    for make in ("isolated_s1", "isolated_s2"):
        x, y = getattr(a, make)(600, 11), getattr(b, make)(600, 11)
        assert x.keys() == y.keys()
        for key in x:
            np.testing.assert_array_equal(x[key], y[key], err_msg=f"{make}: {key}")


def test_delayed_electron_sizes_follow_the_train_model():
    """P(N >= k) = 1 / (k - 1) (single electrons at a rate ~ 1/t merged by the S2 clustering)."""
    n = iso.delayed_electron_counts(np.random.default_rng(3), 200_000, n_max=4000)
    assert n.min() == 2 and n.max() <= 4000
    for k in (2, 3, 5, 10, 50):
        assert np.mean(n >= k) == pytest.approx(1 / (k - 1), abs=4 * np.sqrt(1 / (k - 1) / len(n)) + 1e-3)
    # the same law as the Poisson mixture over mu ~ mu^-2 it is derived from: P(n) = 1 / (n (n - 1)) for n >= 2
    assert np.mean(n == 4) == pytest.approx(1 / 12, abs=0.003)
    with pytest.raises(ValueError, match="n_max"):
        iso.delayed_electron_counts(np.random.default_rng(0), 5, n_max=1)


def test_train_span_is_its_derivation(det):
    """+-3 sigma of the longitudinal diffusion at the maximum drift time plus the electroluminescence time."""
    d_l = det.get("diffusion_longitudinal", "cm2/s") * 1e2 / 1e6  # mm2/us
    t_max, v = det.get("max_drift_time", "us"), det.get("drift_velocity", "mm/us")
    expected = 6 * np.sqrt(2 * d_l * t_max) / v + det.get("s2_electroluminescence_time", "us")
    assert det.get("delayed_electron_train_span", "us") == pytest.approx(expected, abs=0.01)


def test_train_arrivals_uniform_over_the_span(det):
    """One-electron trains: the S2 time (mean PE time less half the electroluminescence) is the electron's arrival,
    uniform over the span (Kolmogorov-Smirnov); n-electron trains: the mean of n uniform arrivals, variance
    span^2 / (12 n); a zero span puts every electron at 0."""
    from scipy import stats

    sim = Simulator(det, threads=2)
    n, span = 4000, 50.0
    xy = np.zeros(n, np.float32)
    one = sim.response.electron_train_s2(xy, xy, np.ones(n, np.int32), span, seed=5, threads=2)
    t = one["drift_time"][one["qS2"] > 0]
    assert len(t) > 0.99 * n
    assert stats.kstest(t / span, "uniform").pvalue > 1e-3
    eight = sim.response.electron_train_s2(xy, xy, np.full(n, 8, np.int32), span, seed=6, threads=2)
    assert eight["n_extracted"].min() == 8
    assert eight["drift_time"].mean() == pytest.approx(span / 2, abs=4 * span / np.sqrt(12 * 8 * n))
    assert eight["drift_time"].std() == pytest.approx(span / np.sqrt(12 * 8), rel=0.05)
    zero = sim.response.electron_train_s2(xy, xy, np.full(n, 8, np.int32), 0.0, seed=7, threads=2)
    assert np.abs(zero["drift_time"]).max() < 0.2  # only the photon-time noise of 8 x 24 PE over 1 us
    with pytest.raises(Exception, match="span"):
        sim.response.electron_train_s2(xy[:2], xy[:2], np.ones(2, np.int32), -1.0, seed=1)
    # the population's delayed-electron S2s use the registry span: no pulse is wider than the span plus one
    # electron's electroluminescence (+ 0.5 us of smoothing), while the largest trains fill it
    s2 = sim.isolated_s2(3000, 9)
    delayed = s2["origin"] == S2_DELAYED
    limit_ns = (det.get("delayed_electron_train_span", "us") + det.get("s2_electroluminescence_time", "us")) * 1e3
    assert delayed.sum() > 1000
    assert s2["wtenS2"][delayed].max() < limit_ns + 500
    assert s2["wtenS2"][delayed & (s2["qS2"] > 2000)].mean() > 0.8 * limit_ns


def test_single_electron_trains_not_identified_as_s1(det):
    """The trains' light through the engine's S1 digitisation and classification (straxen-like rise-time and
    tight-coincidence requirements): one to five electrons over the registry span, or a lone electron, are
    (almost) never an S1, while prompt ER scatters of similar size are (test_pandax2_width_cut)."""
    sim = Simulator(det, threads=2)
    n = 2000
    xy = np.zeros(n, np.float32)
    span = det.get("delayed_electron_train_span", "us")
    for k, sp in ((1, 0.0), (1, span), (2, span), (5, span)):
        s1 = sim.response.electron_train_s1(xy, xy, np.full(n, k, np.int32), sp, seed=10 + k, threads=2)
        assert s1["qS1"].mean() > 10 * k  # the trains' light is there ...
        assert s1["found"].mean() < 0.01, (k, sp)  # ... but not taken for an S1
