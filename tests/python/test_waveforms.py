"""tpcml._core.WaveformSimulator (digitised PMT pulses, ZLE, summed waveforms, peaks) through its binding."""

from __future__ import annotations

import numpy as np
import pytest

from tpcml import _core


def _photons(rng: np.random.Generator, n: int, n_channels: int, t0: float, tau: float):
    channel = (np.arange(n) % n_channels).astype(np.int32)
    time = (t0 + rng.exponential(tau, n)).astype(np.float32)
    return channel, time


def test_simulate_returns_numpy_waveforms_whose_areas_add_up():
    sim = _core.WaveformSimulator(3, 3)
    rng = np.random.default_rng(1)
    channel, time = _photons(rng, 500, 6, 0.0, 24.0)
    w = sim.simulate(channel, time, seed=5, dense=True)
    assert w["channel_area"].dtype == np.float32 and w["channel_area"].shape == (6,)
    assert w["channels"].shape == (6, w["sum"].size)
    # the dense per-channel waveforms, the pulses and the sums hold the same charge
    np.testing.assert_allclose(w["channels"].sum(axis=1), w["channel_area"], rtol=1e-4)
    assert w["pulse_data"].sum() == pytest.approx(w["sum"].sum(), rel=1e-4)
    assert w["sum_top"].sum() == pytest.approx(w["channels"][:3].sum(), rel=1e-4)
    # 500 photons -> ~600 PE with 20% double-PE emission
    assert w["channel_pe"].sum() == pytest.approx(600, abs=4 * np.sqrt(500 * 0.16))
    assert w["channel_area"].sum() == pytest.approx(w["channel_pe"].sum(), rel=0.08)
    peaks = w["peaks"]
    assert len(peaks["area"]) == 1 and peaks["type"][0] == 1  # one S1
    assert w["largest_s1"] == 0 and w["largest_s2"] == -1


def test_batch_is_the_same_for_one_and_two_threads_and_matches_single_calls():
    params = _core.WaveformParams()
    params.gap_threshold = 200.0
    sim = _core.WaveformSimulator(4, 4, params)
    rng = np.random.default_rng(2)
    parts = [_photons(rng, 20 + 5 * i, 8, 0.0, 24.0) for i in range(10)]
    channel = np.concatenate([p[0] for p in parts])
    time = np.concatenate([p[1] for p in parts])
    offsets = np.concatenate([[0], np.cumsum([p[0].size for p in parts])]).astype(np.int64)
    one = sim.simulate_batch(channel, time, offsets, seed=3, threads=1)
    two = sim.simulate_batch(channel, time, offsets, seed=3, threads=2)
    for i, (a, b) in enumerate(zip(one, two, strict=True)):
        np.testing.assert_array_equal(a["pulse_data"], b["pulse_data"])
        alone = sim.simulate(*parts[i], seed=3, index=i)
        np.testing.assert_array_equal(alone["sum"], a["sum"])


def test_bad_input_names_the_problem():
    sim = _core.WaveformSimulator(2, 2)
    with pytest.raises(_core.UsageError, match="channel 7"):
        sim.simulate(np.array([7], np.int32), np.array([0.0], np.float32), seed=1)
    with pytest.raises(_core.UsageError, match="'time' has 2 entries"):
        sim.simulate(np.array([0], np.int32), np.array([0.0, 1.0], np.float32), seed=1)
    params = _core.WaveformParams()
    params.p_dpe = 2.0
    with pytest.raises(_core.UsageError, match="p_dpe"):
        _core.WaveformSimulator(2, 2, params)


def test_registry_detector_and_pulse_shape_hook():
    sim = _core.WaveformSimulator(_core.DetectorConfig.load("xenon1t"))
    assert sim.n_channels == 248 and sim.params.sampling_period == 10.0
    timing = _core.ScintillationTiming()
    assert timing.singlet_fraction(True, 10.0) > timing.singlet_fraction(False, 10.0, exciton=False)
    t = timing.emission_times(True, 10.0, 100.0, n_excitons=20000, n_recombined=0, seed=1)
    f = timing.singlet_fraction(True, 10.0)
    assert t.mean() == pytest.approx(f * timing.tau_singlet + (1 - f) * timing.tau_triplet, rel=0.05)
    with pytest.raises(_core.UsageError, match="recoil energy > 0 keV"):
        timing.singlet_fraction(True, -1.0)


def test_summed_mode_is_the_fast_path_with_the_same_peaks():
    sim = _core.WaveformSimulator(6, 6)
    rng = np.random.default_rng(4)
    channel = (np.arange(3000) % 12).astype(np.int32)
    time = rng.uniform(0.0, 1000.0, 3000).astype(np.float32)
    full = sim.simulate(channel, time, seed=1)
    fast = sim.simulate(channel, time, seed=1, mode="summed")
    assert fast["pulse_data"].size == 0
    np.testing.assert_array_equal(fast["channel_pe"], full["channel_pe"])
    assert fast["peaks"]["area"][0] == pytest.approx(full["peaks"]["area"][0], rel=0.02)
    assert fast["peaks"]["type"][0] == full["peaks"]["type"][0] == 2
    with pytest.raises(_core.UsageError, match="waveform mode 'fast' is unknown"):
        sim.simulate(channel, time, seed=1, mode="fast")
