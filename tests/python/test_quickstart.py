"""The quickstart chain and the NEST-based simulation behind it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tpcml import _core
from tpcml.core import detectors
from tpcml.sim import quanta
from tpcml.sim.lxe import Simulator
from tpcml.studies.quickstart import study as quickstart


def test_simulation_is_reproducible_and_physical():
    det = detectors.load("pandax2")
    sim = Simulator(det, threads=2)
    a = sim.raw_events(quanta.ER, 2000, seed=5)
    b = Simulator(det, threads=1).raw_events(quanta.ER, 2000, seed=5)  # reproducible whatever the threads
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    c = sim.raw_events(quanta.ER, 2000, seed=6)
    assert not np.array_equal(a["qS1"], c["qS1"])
    # binomial photon detection: <qS1> = g1 <n_ph> (the light map averages to g1 over the FV)
    g1 = det.get("g1")
    assert a["qS1"].mean() == pytest.approx(g1 * a["n_photons"].mean(), rel=0.03)
    # vertices inside the fiducial volume; z = -v_d t
    r = np.hypot(a["x"], a["y"])
    assert r.max() <= det.get("fiducial_radius") + 1e-3
    np.testing.assert_allclose(a["z"], -det.get("drift_velocity") * a["drift_time"], rtol=1e-5)
    assert a["drift_time"].min() >= det.get("fiducial_drift_time_min")
    # NR: lower charge-to-light ratio than ER at equal S1 (the basis of ER/NR discrimination)
    nr = sim.raw_events(quanta.NR, 2000, seed=7)
    sel_er, sel_nr = (a["qS1"] > 5) & (a["qS1"] < 30), (nr["qS1"] > 5) & (nr["qS1"] < 30)
    assert (
        np.median(np.log10(a["qS2"][sel_er] / a["qS1"][sel_er]))
        > np.median(np.log10(nr["qS2"][sel_nr] / nr["qS1"][sel_nr])) + 0.15
    )


def test_spectrum_sampling():
    rng = np.random.default_rng(0)
    e = quanta.Spectrum("exponential", 1.0, 60.0, slope=15.0).sample(rng, 100000)
    assert e.min() >= 1.0 and e.max() <= 60.0
    # truncated exponential mean
    a, b, s = 1.0, 60.0, 15.0
    mean = s + (a * math.exp(-a / s) - b * math.exp(-b / s)) / (math.exp(-a / s) - math.exp(-b / s))
    assert e.mean() == pytest.approx(mean, rel=0.01)
    with pytest.raises(ValueError, match="unknown spectrum kind"):
        quanta.Spectrum("gauss", 0, 1).sample(rng, 3)


def test_quickstart_median_is_the_cxx_nr_median_curve():
    """quickstart's medians are the C++ NRMedianCurve (no NR-median code of its own): a known band
    log10(qS2c/qS1) = 2.5 - 0.4 ln(qS1) + Gaussian noise gives back its median line."""
    rng = np.random.default_rng(3)
    qs1 = rng.uniform(3.0, 45.0, 20000)
    truth = 2.5 - 0.4 * np.log(qs1)
    qs2c = qs1 * 10 ** (truth + rng.normal(0.0, 0.1, qs1.size))
    curve = quickstart.median_curve(qs1, qs2c, 3.0, 45.0)
    assert isinstance(curve, _core.NRMedianCurve)
    grid = np.linspace(6.0, 40.0, 9)
    np.testing.assert_allclose(curve(grid), 2.5 - 0.4 * np.log(grid), atol=0.01)
    assert curve.below(qs1.astype(np.float32), qs2c.astype(np.float32)).mean() == pytest.approx(0.5, abs=0.01)
    with pytest.raises(_core.UsageError, match="NR median fit"):
        quickstart.median_curve(qs1[:50], qs2c[:50], 3.0, 45.0)


@pytest.mark.slow
def test_quickstart_end_to_end(tmp_path):
    s = quickstart.run(tmp_path / "qs", n_er=3000, n_nr=1500, seed=3, quiet=True)
    out = tmp_path / "qs"
    for name in ("events.root", "bands.png", "lifetime_correction.png", "report.md", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    assert json.loads((out / "summary.json").read_text())["n_er_selected"] == s["n_er_selected"]
    tau = detectors.load("pandax2").get("electron_lifetime", "us")
    # raw log10(S2/S1) falls with drift time as log10(exp(-t/tau)); the C++ correction removes it
    assert s["er_band_slope_vs_drift_time_raw_per_us"] == pytest.approx(-1 / (tau * math.log(10)), rel=0.35)
    assert abs(s["er_band_slope_vs_drift_time_corrected_per_us"]) < 0.25 / (tau * math.log(10))
    assert 0.0 <= s["er_leakage_below_nr_median"] < 0.05
    assert s["cutflow"][0][0] == "S1 window"
    assert "ER leakage below NR median" in (out / "report.md").read_text()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries left
