"""The XENONnT event sets of the nT-CVAE study: ER background and WIMP NR events from tpcml's LXe engine
(``Simulator.detector_events``, the ``xenonnt`` detector with its real PMT layout) drawn as HitPeak images
(``tpcml._core.HitPeakImager``, 75 x 75 x 3 in [0, 1]; nT-CVAE Sec. IV A: "scaled down ... to 75 x 75").

* ER: the source ``er-background`` (tpcml.sim.sources: the published XENON1T SR0 ER spectrum that tpcml ships for
  XENONnT; nT-CVAE Sec. IV takes the wimprates ER polynomial of Aalbers' thesis [45] -- an approximation, said so in
  the report);
* NR: the source ``wimp`` (wimprates standard halo, SI) at each mass of ``masses`` (nT-CVAE Sec. IV: 10-1000 GeV,
  sigma = 1e-45 cm2), the same number of events per mass.

Each set keeps its acceptance (events kept / interactions generated in the fiducial volume) so that the expected
counts at an exposure are ``source.expected_events(exposure) x acceptance``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

DETECTOR = "xenonnt"
#: nT-CVAE Sec. IV: "We use a spin-independent interaction cross-section of sigma = 1e-45 cm2"
REFERENCE_CROSS_SECTION = 1e-45


@dataclass
class EventSet:
    """The images [N, 75, 75, 3] of one source, its (cS1, cS2) and its rate: ``expected`` events per t*y (before
    the detector response) times ``acceptance`` (kept / generated)."""

    name: str
    images: np.ndarray
    cs1: np.ndarray
    cs2: np.ndarray
    expected_per_t_y: float
    acceptance: float

    def expected(self, exposure_t_y: float, scale: float = 1.0) -> float:
        """Events expected after the detector response in ``exposure_t_y`` (times ``scale``: sigma / 1e-45)."""
        return scale * self.expected_per_t_y * exposure_t_y * self.acceptance


def images_of(events: dict, detector, threads: int = 1) -> np.ndarray:
    """HitPeak images (N, 75, 75, 3) of an events dict (the columns ``tpcml._core.HITPEAK_COLUMNS``)."""
    from tpcml import _core

    imager = _core.HitPeakImager(detector, "hitpeak")
    # negative per-PMT areas (baseline noise) are legal and draw nothing (HitPeak.h)
    cols = [np.ascontiguousarray(events[c], dtype=np.float32) for c in _core.HITPEAK_COLUMNS]
    return imager.batch(*cols, threads=threads)


def simulator(threads: int = 1):
    """The LXe engine of the xenonnt detector (one per run: its construction is not free)."""
    from tpcml.core import detectors
    from tpcml.sim import lxe

    return lxe.Simulator(detectors.load(DETECTOR), threads=threads)


def simulate_set(name: str, source, n: int, seed: int, threads: int = 1, quiet: bool = True, sim=None) -> EventSet:
    """``n`` interactions of ``source`` in the xenonnt fiducial volume, the triggered ones as images."""
    sim = sim or simulator(threads)
    det = sim.det
    out = sim.detector_events(source, int(n), int(seed), fiducial_only=True, quiet=quiet)
    ev = dict(out.events)
    kept = len(ev["cS1"])
    if kept == 0:
        raise ValueError(f"{name}: none of the {n} simulated interactions triggered with an S1 and an S2")
    return EventSet(
        name=name,
        images=images_of(ev, det, threads),
        cs1=np.asarray(ev["cS1"], dtype=np.float64),
        cs2=np.asarray(ev["cS2"], dtype=np.float64),
        expected_per_t_y=float(sum(source.expected_events(1.0).values())),
        acceptance=kept / int(n),
    )


def er_source():
    from tpcml.sim import sources

    return sources.make(DETECTOR, "er-background")


def wimp_source(mass_gev: float, cross_section_cm2: float = REFERENCE_CROSS_SECTION):
    from tpcml.sim import sources

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Default WIMP parameters", category=UserWarning)
        return sources.make(DETECTOR, "wimp", wimp_mass_gev=mass_gev, wimp_cross_section_cm2=cross_section_cm2)


def simulate_all(n_er: int, n_nr: int, masses, seed: int, threads: int = 1) -> tuple[EventSet, dict[float, EventSet]]:
    """The ER set (``n_er`` interactions) and one WIMP set per mass (``n_nr`` interactions split evenly)."""
    er = simulate_set("er-background", er_source(), n_er, seed, threads)
    per = max(1, int(n_nr) // len(masses))
    nr = {
        float(m): simulate_set(f"wimp {m:g} GeV", wimp_source(m), per, seed + 1 + i, threads)
        for i, m in enumerate(masses)
    }
    return er, nr
