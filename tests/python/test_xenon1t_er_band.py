"""The XENON1T SR0 ER band in (cS1, log10 cS2_bottom) against the 63 published SR0 search events (issue 16).

The SR0 ER background (``tpcml.sim.sources.make(..., "er-background")``: the laidbax flat beta model) is simulated
through ``Simulator("xenon1t:sr0")``; the band is summarised per cS1 bin of the 3-70 PE window by its median and
robust width (:mod:`tpcml.sim.bands`: half the 15.87-84.13 % interval); each data event's pull is
(log10 cS2_b - median) / width, interpolated between bin centres. The data's pulls must have a mean within +-0.25
and a standard deviation within 1.00 +- 0.12.

Non-ER events. The 63 events are the SR0 search data, not an ER calibration: the SR0 background model expects
~0.9 non-ER events among them (laidbax, as tabulated by X1T-CNN Table I: wall leakage 0.52, accidental
coincidences 0.22, anomalous 0.09, radiogenic neutrons 0.06, CEvNS 0.001). One event (cS1 = 68.0 PE,
cS2_b = 960 PE) sits 0.49 dex below the ER median, a pull of -5.7; of the 12,770 simulated ER events in the window
2 have |pull| > 4 and none goes below -4.2, so 63 ER events would put 0.01 events beyond 4: a wall/accidental-like
event. A
standard deviation over 63 events is dominated by it (it alone adds ~0.5 to the variance), so the test applies an
a-priori outlier rule, fixed before looking at which events it removes: events with |pull| > 4 are counted as
non-ER, at most 2 of them are allowed (Poisson(0.9) gives >= 3 with probability 6 %), and the mean/std are taken
over the rest. The numbers with every event are reported too.

Measured (20,000 generated ER events, seed 3; tpcml at this commit; plain NEST = no
``er_recombination_fluctuation`` key for xenon1t):

=====================================  ==============  ==============  =================
band                                   pulls, all 63   |pull| <= 4     events > 4
=====================================  ==============  ==============  =================
plain NEST (xenon1t registry)          -0.02 +- 1.18   0.07 +- 0.93    1 (cS1 68 PE, -5.7)
+ Delta_r = 0.02                       -0.03 +- 1.11   0.05 +- 0.90    1
+ Delta_r = 0.04 (PandaX-II's value)   -0.06 +- 1.00   0.01 +- 0.82    1
=====================================  ==============  ==============  =================

(mean +- standard deviation of the pulls.) So the issue's "plain NEST gives ~1.2" is that one event: the 62
ER-like events are already consistent with tpcml's plain-NEST band (std 0.93 +- 0.09 statistical), and a smearing
term large enough to bring the all-events std to 1.0 (Delta_r ~ 0.04) makes the ER-like events' std 0.82, i.e. a
band wider than the data. The detector-level term (``er_recombination_fluctuation``, tpcml.sim.quanta) therefore
stays off for xenon1t: it does not earn its place on XENON1T SR0 data; it is used for PandaX-II, calibrated on
PandaX-II's published ER leakage (tests/python/test_pandax2_er_leakage.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tpcml.core import detectors
from tpcml.sim import bands, sources
from tpcml.sim.lxe import Simulator

REFERENCE = Path(
    os.environ.get("TPCML_REFERENCE_DATA", Path(__file__).resolve().parents[3] / "shared" / "reference-data")
)
SR0_DATA = REFERENCE / "xenon1t" / "sr0_search_data_cs1_cs2b.csv"
#: a-priori outlier rule (see the module docstring): |pull| above this is not ER-like
OUTLIER_PULL = 4.0
#: generated ER events: ~1,400 per cS1 bin, statistical error of each bin's width ~2 %
N_EVENTS = 20_000


def sr0_band_columns(sim: Simulator, source, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(cS1, cS2_bottom) in PE of the events among ``n`` generated that trigger and have an S1 and an S2: the full
    LXe event simulation (``Simulator.detector_events``: digitised S1/S2 peaks, position reconstruction and the
    corrections of the events tree)."""
    ev = sim.detector_events(source, n, seed, quiet=True).events
    return ev["cS1"], ev["cS2_bottom"]


def _read_sr0() -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(SR0_DATA, delimiter=",", skiprows=1)  # columns cs1_pe, cs2_bottom_pe (reference README)
    return data[:, 0], data[:, 1]


@pytest.mark.skipif(not SR0_DATA.is_file(), reason=f"reference data absent: {SR0_DATA}")
def test_sr0_er_band_pulls_of_the_search_data():
    cs1_data, cs2b_data = _read_sr0()
    assert len(cs1_data) == 63
    det = detectors.load("xenon1t:sr0")
    assert det.get("drift_field", "V/cm") == 120.0
    sim = Simulator(det, threads=2)
    cs1, cs2b = sr0_band_columns(sim, sources.make(det, "er-background"), N_EVENTS, seed=3)
    st = bands.band_stats(cs1, np.log10(cs2b), bands.linear_edges(*bands.XENON1T_CS1_WINDOW, n_bins=14))
    assert np.all(st.counts >= 500), st.counts  # every bin well filled

    p = bands.pulls(st, cs1_data, np.log10(cs2b_data))
    inside = np.isfinite(p)  # the 3-70 PE window
    assert inside.sum() == 63
    p = p[inside]
    outlier = np.abs(p) > OUTLIER_PULL
    kept = p[~outlier]
    print(
        f"SR0 pulls: all {len(p)}: mean {p.mean():.3f} std {p.std(ddof=1):.3f}; |pull| <= {OUTLIER_PULL}: "
        f"{len(kept)}: mean {kept.mean():.3f} std {kept.std(ddof=1):.3f}; outliers {np.round(p[outlier], 2)}"
    )
    assert outlier.sum() <= 2
    assert abs(kept.mean()) < 0.25
    assert abs(kept.std(ddof=1) - 1.0) < 0.12
    # the simulated band itself has (almost) no event beyond the outlier cut: the rule removes non-ER events only
    own = bands.pulls(st, cs1, np.log10(cs2b))
    assert np.mean(np.abs(own[np.isfinite(own)]) > OUTLIER_PULL) < 1e-3


def test_sr0_source_and_run_configuration():
    """The band test's inputs without the reference data: the SR0 run and ER model it simulates."""
    det = detectors.load("xenon1t:sr0")
    src = sources.make(det, "er-background")
    draw = src.draw(np.random.default_rng(1), 2000)
    assert np.all(draw.recoil == 0) and draw.energy.min() >= 1.0 and draw.energy.max() <= 15.0
    sim = Simulator(det, threads=1)
    assert sim.er_recombination_fluctuation == 0.0  # xenon1t: plain NEST (see the module docstring)
    cs1, cs2b = sr0_band_columns(sim, src, 500, seed=2)
    assert len(cs1) > 400 and np.all(cs2b > 0)
    # the ER band at SR0: log10 cS2_b ~ 3.0 at 3-8 PE rising to ~3.45 at 60-70 PE (the data's own medians)
    st = bands.band_stats(cs1, np.log10(cs2b), [3.0, 10.0, 60.0, 70.0])
    assert 2.9 < st.median[0] < 3.2 and 3.35 < st.median[2] < 3.6
