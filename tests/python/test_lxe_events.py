"""Full LXe events (issue 16 items 3-4): ``tpcml::LXeEventSimulator`` through ``Simulator.detector_events`` and
its binding, on small event sets made here (xenon1t: the C++ kernel is built once per module, ~1 s)."""

from __future__ import annotations

import numpy as np
import pytest

from tpcml import _core
from tpcml.sim import lxe, sources

N_PMT = 248  # xenon1t: 127 top + 121 bottom


@pytest.fixture(scope="module")
def sim():
    return lxe.Simulator("xenon1t", threads=2)


@pytest.fixture(scope="module")
def events(sim):
    return sim.detector_events(sources.make("xenon1t", "er"), 300, seed=4, pmt_waveforms=4)


def _synthetic(sim, n, z_frac=None, seed=0, photons=300, electrons=200):
    """n vertices at r < 300 mm (or on the axis at depth z_frac of the drift length), fixed quanta."""
    rng = np.random.default_rng(seed)
    if z_frac is None:
        r, phi = np.sqrt(rng.uniform(0, 300.0**2, n)), rng.uniform(0, 2 * np.pi, n)
        t = rng.uniform(50.0, 600.0, n)
    else:
        r, phi = np.zeros(n), np.zeros(n)
        t = np.full(n, z_frac * sim.t_max)
    f32 = lambda v: np.asarray(v, np.float32)  # noqa: E731
    return dict(
        x=f32(r * np.cos(phi)),
        y=f32(r * np.sin(phi)),
        z=f32(-sim.v_drift * t),
        drift_time=f32(t),
        n_photons=np.full(n, photons, np.int32),
        n_electrons=np.full(n, electrons, np.int32),
        recoil=(np.arange(n) % 2).astype(np.int32),
        energy=np.full(n, 10.0, np.float32),
    )


def test_columns_follow_the_agreed_interface(events):
    ev = events.events
    assert set(ev) == set(lxe.LXE_EVENT_DTYPES)
    n = events.n
    assert 200 < n <= events.n_generated == 300  # 1-100 keV ER in the FV: nearly all trigger
    for k, dtype in lxe.LXE_EVENT_DTYPES.items():
        assert ev[k].dtype == dtype, k
        assert ev[k].flags.c_contiguous, k
    assert ev["s1_pmt_area"].shape == ev["s2_pmt_area"].shape == (n, N_PMT)
    assert ev["s2_waveform_bottom"].shape == (n, 200)
    assert np.all(np.diff(ev["event"].astype(np.int64)) > 0)
    assert np.all(ev["recoil_type"] == 0) and np.all(ev["component"] == 0)
    # measured against true: drift time within 0.5 us, (x, y) within 15 mm for most events
    assert np.median(np.abs(ev["drift_time"] - ev["drift_time_true"])) < 0.5
    assert np.median(np.hypot(ev["x"] - ev["x_true"], ev["y"] - ev["y_true"])) < 15.0
    assert np.all(ev["s2_waveform_t0"] > 0.5 * ev["drift_time_true"] * 1e3)
    assert np.all(ev["s1_waveform_dt"] >= 10.0) and np.all(ev["s1_waveform_dt"] % 10.0 == 0)


def test_pmt_areas_and_waveforms_sum_to_the_peak_areas(events):
    ev = events.events
    np.testing.assert_allclose(ev["s1_pmt_area"].sum(1), ev["s1_area"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(ev["s2_pmt_area"].sum(1), ev["s2_area"], rtol=1e-5)
    np.testing.assert_allclose(ev["s1_pmt_area"][:, :127].sum(1), ev["s1_area_top"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(ev["s2_pmt_area"][:, :127].sum(1), ev["s2_area_top"], rtol=1e-5)
    # the S1 waveform is the sum of the channels' kept samples in the peak; the S2 one adds baseline noise
    np.testing.assert_allclose(ev["s1_waveform"].sum(1), ev["s1_area"], rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(ev["s2_waveform"].sum(1), ev["s2_area"], rtol=0.01)
    np.testing.assert_allclose(ev["s1_waveform_top"] + ev["s1_waveform_bottom"], ev["s1_waveform"], atol=1e-4)
    # corrected areas: cS2_bottom / cS2 is the bottom fraction of the S2
    frac = 1.0 - ev["s2_area_top"] / ev["s2_area"]
    np.testing.assert_allclose(ev["cS2_bottom"] / ev["cS2"], frac, rtol=1e-4)


def test_pmt_waveforms_of_the_first_events(events):
    w, ev = events.pmt_waveforms, events.events
    assert set(w) == set(lxe.PMT_WAVEFORM_DTYPES)
    assert len(w["event"]) > 0 and set(np.unique(w["event"])) <= set(ev["event"][ev["event"] < 4])
    assert w["samples"].shape == (len(w["event"]), 200)
    for e in np.unique(w["event"]):
        row = np.flatnonzero(ev["event"] == e)[0]
        # S1 rows: the event's own pulses inside its S1 peak
        m = (w["event"] == e) & (w["signal"] == 1)
        per_channel = np.zeros(N_PMT)
        np.add.at(per_channel, w["channel"][m], w["samples"][m].sum(1))
        np.testing.assert_allclose(per_channel, ev["s1_pmt_area"][row], atol=1e-3)
        # S2 rows: the same electrons digitised again per channel: the same S2 in distribution
        m = (w["event"] == e) & (w["signal"] == 2)
        s2 = ev["s2_area"][row]
        assert abs(w["samples"][m].sum() - s2) < 0.05 * s2 + 5 * np.sqrt(s2), (e, s2)


def test_keeping_waveforms_does_not_change_the_events(sim):
    inp = _synthetic(sim, 20, seed=2)
    es = sim.event_simulator
    plain = es.simulate(**inp, seed=4, threads=1)
    kept = es.simulate(**inp, seed=4, threads=1, pmt_waveform_events=20)
    assert len(kept["pmt_waveforms"]["event"]) > 0
    for k, v in plain.items():
        if k != "pmt_waveforms":
            np.testing.assert_array_equal(v, kept[k], err_msg=k)


def test_same_events_on_one_and_two_threads_and_in_batches(sim):
    inp = _synthetic(sim, 120, seed=1)
    es = sim.event_simulator
    one = es.simulate(**inp, seed=9, threads=1, pmt_waveform_events=2)
    two = es.simulate(**inp, seed=9, threads=2, pmt_waveform_events=2)
    tail = es.simulate(**{k: v[60:] for k, v in inp.items()}, seed=9, threads=2, first_index=60)
    other = es.simulate(**inp, seed=10, threads=1)
    for k, v in one.items():
        if k == "pmt_waveforms":
            for kk in v:
                np.testing.assert_array_equal(v[kk], two[k][kk])
            continue
        np.testing.assert_array_equal(v, two[k], err_msg=k)
        np.testing.assert_array_equal(v[60:], tail[k], err_msg=k)
    assert not np.array_equal(one["s2_area"], other["s2_area"])


def test_s1_top_fraction_follows_the_light_map_with_depth(sim):
    es, optics = sim.event_simulator, sim.response.optics
    fractions = {}
    for depth in (0.05, 0.95):
        inp = _synthetic(sim, 150, z_frac=depth, photons=600, electrons=50)
        out = es.simulate(**inp, seed=3, threads=2)
        m = out["has_s1"]
        measured = out["s1_area_top"][m].sum() / out["s1_area"][m].sum()
        p = np.asarray(optics.s1_collection(0.0, 0.0, float(inp["z"][0])))
        expected = p[:127].sum() / p.sum()
        assert measured == pytest.approx(expected, abs=0.02), depth
        fractions[depth] = measured
    assert fractions[0.05] - fractions[0.95] > 0.2  # XENON1T: ~0.4-0.5 near the gate, ~0.1 at the cathode


def test_bad_inputs_give_clear_errors(sim):
    es = sim.event_simulator
    inp = _synthetic(sim, 3)
    for key, value, message in (
        ("x", np.float32(np.nan), r"event 1: x \(mm\) is nan; expected a finite number"),
        ("drift_time", np.float32(np.inf), r"event 1: drift_time \(us\) is inf"),
        ("n_photons", -2, "event 1: n_photons is -2.* expected a count >= 0"),
        ("n_electrons", -1, "event 1: n_electrons is -1"),
        ("recoil", 3, r"event 1: recoil is 3.* expected 0 \(ER\) or 1 \(NR\)"),
        ("energy", 0.0, "event 1: energy .* expected a finite energy > 0 keV"),
    ):
        bad = {k: v.copy() for k, v in inp.items()}
        bad[key][1] = value
        with pytest.raises(_core.UsageError, match=message):
            es.simulate(**bad, seed=1)
    with pytest.raises(_core.UsageError, match="'energy' has 2 entries"):
        es.simulate(**{**inp, "energy": inp["energy"][:2]}, seed=1)
    with pytest.raises(_core.UsageError, match="S2 path 'fast' is unknown"):
        es.simulate(**inp, seed=1, s2_path="fast")
    with pytest.raises(ValueError, match="number of events must be >= 0"):
        sim.detector_events(sources.make("xenon1t", "er"), -1, seed=1)


def test_benchmark_quick_run():
    """bench/bench_lxe_events.py completes a tiny XENON1T run and prints its table (timings never asserted)."""
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[2] / "bench" / "bench_lxe_events.py"
    res = subprocess.run(
        [sys.executable, str(bench), "--quick", "--xenon1t-only", "--events", "60"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    rows = [line for line in res.stdout.splitlines() if "|" in line]
    for kind in ("er-background", "er", "wimp"):
        assert any(r.startswith(f"xenon1t {kind} (") and "C++ kernel, 1 thread" in r for r in rows), kind
    assert all("/s" in r for r in rows[1:])
