"""Event sources of the LXe studies: what recoils, with which energies, and how many per exposure.

A source draws recoil energies and recoil types per event (:meth:`Source.draw`, a seeded
``numpy.random.Generator``: the same generator state gives the same events) and, where it describes a
physical rate, reports the expected events per exposure in its energy window (:meth:`Source.expected_events`,
per component: exposure in t*y = fiducial mass in t times live time in y). The LXe driver takes the drawn
energies and recoil types (:meth:`tpcml.sim.lxe.Simulator.from_source`).

Sources (:func:`make` builds them by name for a detector):

* ``er`` / ``nr``: the paper-style training sets, recoil energies uniform in 1-100 keV (DARWIN-VAE Sec. 3,
  "Neural networks training and validation": "true recoil energies uniformly distributed in E_R in [1, 100]
  keV"); no physical rate.
* ``er-background``: the published ER background: XENON1T SR0 (XENON1T/laidbax ``er_bg.csv``, flat beta
  spectrum; also used for XENONnT, whose CVAE study generated its ER background with laidbax, nT-CVAE Sec. IV),
  DARWIN's time-averaged total (XENONnT/darwin_proj_run), PandaX-II's flat rate of its registry.
* ``kr85``, ``pb214``, ``materials`` (DARWIN ER components), ``neutrons`` (DARWIN radiogenic NR after the veto),
  ``cevns`` (8B + hep + atmospheric + DSNB CEvNS on xenon: a rate per kg of xenon, so for every detector).
* ``wimp``: spin-independent WIMP NR, standard halo, via ``wimprates.rate_wimp_std`` (mass and cross-section
  given; ``wimprates`` is in the ``tpcml[ml]`` extra).
* ``background``: the mixture of the detector's ER background, CEvNS and (DARWIN) radiogenic neutrons, drawn in
  proportion to their expected counts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..core import detectors
from ..core.errors import ArgumentError
from ..core.extras import require
from . import spectra
from .quanta import ER, NR

#: DARWIN-VAE Sec. 3, "Neural networks training and validation": training energies uniform in [1, 100] keV
TRAINING_E_MIN, TRAINING_E_MAX = 1.0, 100.0
#: default energy window of the physical sources (keV): the training range; every study's S1 window ends below
DEFAULT_WINDOW = (TRAINING_E_MIN, TRAINING_E_MAX)
#: energy grid of the WIMP spectrum (keVnr): wimprates is evaluated here and interpolated linearly
WIMP_GRID_POINTS = 2000
#: CEvNS spectra summed for the ``cevns`` source (data/spectra/spectra.toml)
CEVNS_SPECTRA = ("cevns_8b", "cevns_hep", "cevns_atm", "cevns_dsn")
#: PandaX-II: flat DM-search ER background range (tpcml.sim.lxe.DM_ER_BACKGROUND: 0-25 keVee)
PANDAX2_ER_RANGE = (0.0, 25.0)


@dataclass(frozen=True)
class Draw:
    """Drawn events: recoil energy (keV), recoil type (ER = 0, NR = 1) and the index of the component that made
    each event (into :attr:`Source.components`)."""

    energy: np.ndarray
    recoil: np.ndarray
    component: np.ndarray

    def __len__(self) -> int:
        return len(self.energy)


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ArgumentError(f"number of events must be an integer >= 0, got {n!r}")
    return int(n)


class Source(ABC):
    """Draws recoil energies and types; reports expected counts per exposure where it has a rate."""

    name: str

    @property
    def components(self) -> list[str]:
        return [self.name]

    @abstractmethod
    def draw(self, rng: np.random.Generator, n: int) -> Draw: ...

    def expected_events(self, exposure_t_y: float) -> dict[str, float]:
        """Expected events per component for ``exposure_t_y`` (t*y) in the source's energy window."""
        raise ArgumentError(f"source {self.name!r} is a training set: it has no physical rate")

    def draw_exposure(self, rng: np.random.Generator, exposure_t_y: float) -> Draw:
        """The events of one experiment of ``exposure_t_y`` (t*y): a Poisson number of events with the expected
        total as mean, then their energies and types."""
        mu = sum(self.expected_events(exposure_t_y).values())
        return self.draw(rng, int(rng.poisson(mu)))


class UniformSource(Source):
    """Recoil energies uniform in [e_min, e_max] keV, one recoil type; with ``rate`` (events/(t y keV)) a flat
    physical spectrum, without it a training set."""

    def __init__(self, name: str, recoil: int, e_min: float, e_max: float, rate: float | None = None):
        if recoil not in (ER, NR):
            raise ArgumentError(f"source {name!r}: recoil must be {ER} (ER) or {NR} (NR), got {recoil!r}")
        if not 0.0 <= e_min < e_max:
            raise ArgumentError(f"source {name!r}: energy window needs 0 <= e_min < e_max, got [{e_min}, {e_max}]")
        if rate is not None and not rate >= 0:
            raise ArgumentError(f"source {name!r}: rate must be >= 0 events/(t y keV), got {rate!r}")
        self.name, self.recoil, self.e_min, self.e_max, self.rate = name, recoil, float(e_min), float(e_max), rate

    def draw(self, rng: np.random.Generator, n: int) -> Draw:
        n = _check_n(n)
        return Draw(rng.uniform(self.e_min, self.e_max, n), np.full(n, self.recoil, np.int32), np.zeros(n, np.int32))

    def expected_events(self, exposure_t_y: float) -> dict[str, float]:
        if self.rate is None:
            return super().expected_events(exposure_t_y)
        if not exposure_t_y >= 0:
            raise ArgumentError(f"exposure must be >= 0 t*y, got {exposure_t_y!r}")
        return {self.name: exposure_t_y * self.rate * (self.e_max - self.e_min)}


class SpectrumSource(Source):
    """Energies from a tabulated spectrum (:class:`tpcml.sim.spectra.TabulatedSpectrum`) in [e_min, e_max]."""

    def __init__(self, spectrum: spectra.TabulatedSpectrum, e_min=None, e_max=None, name: str | None = None):
        self.spectrum = spectrum
        self.name = name or spectrum.name
        self.e_min = spectrum.e_min if e_min is None else max(float(e_min), spectrum.e_min)
        self.e_max = spectrum.e_max if e_max is None else min(float(e_max), spectrum.e_max)
        if not self.e_min < self.e_max or spectrum.integral(self.e_min, self.e_max) <= 0:
            raise ArgumentError(
                f"source {self.name!r}: no rate in [{e_min}, {e_max}] keV (spectrum spans "
                f"{spectrum.e_min:g}-{spectrum.e_max:g} keV)"
            )

    @property
    def recoil(self) -> int:
        return self.spectrum.recoil

    def draw(self, rng: np.random.Generator, n: int) -> Draw:
        n = _check_n(n)
        energy = self.spectrum.sample(rng, n, self.e_min, self.e_max)
        return Draw(energy, np.full(n, self.recoil, np.int32), np.zeros(n, np.int32))

    def expected_events(self, exposure_t_y: float) -> dict[str, float]:
        return {self.name: self.spectrum.expected_events(exposure_t_y, self.e_min, self.e_max)}


def wimp_spectrum(mass_gev: float, cross_section_cm2: float, e_min: float, e_max: float) -> spectra.TabulatedSpectrum:
    """Spin-independent WIMP NR spectrum, standard halo (``wimprates.rate_wimp_std``, events/(t y keV)),
    tabulated on ``WIMP_GRID_POINTS`` energies in [e_min, e_max] keVnr."""
    if not mass_gev > 0:
        raise ArgumentError(f"WIMP mass must be > 0 GeV, got {mass_gev!r}")
    if not cross_section_cm2 > 0:
        raise ArgumentError(f"WIMP-nucleon cross-section must be > 0 cm2, got {cross_section_cm2!r}")
    if not 0.0 < e_min < e_max:
        raise ArgumentError(f"WIMP energy window needs 0 < e_min < e_max keV, got [{e_min}, {e_max}]")
    wimprates = require("ml", "wimprates")
    e = np.linspace(e_min, e_max, WIMP_GRID_POINTS)
    rate = wimprates.rate_wimp_std(e, mw=float(mass_gev), sigma_nucleon=float(cross_section_cm2))  # /(t y keV)
    return spectra.TabulatedSpectrum(
        name=f"wimp_{mass_gev:g}GeV_{cross_section_cm2:g}cm2",
        energy=e,
        rate=np.clip(np.nan_to_num(np.asarray(rate, np.float64)), 0.0, None),
        recoil=NR,
        source=f"wimprates.rate_wimp_std (standard halo, SI), wimprates {getattr(wimprates, '__version__', '?')}",
    )


class WimpSource(SpectrumSource):
    """Spin-independent WIMP NR (standard halo, wimprates) in [e_min, e_max] keVnr."""

    def __init__(self, mass_gev: float, cross_section_cm2: float = 1e-45, e_min=1.0, e_max=100.0):
        self.mass_gev, self.cross_section_cm2 = float(mass_gev), float(cross_section_cm2)
        super().__init__(wimp_spectrum(mass_gev, cross_section_cm2, e_min, e_max), name="wimp")


def summed_spectrum(name: str, parts: list[spectra.TabulatedSpectrum]) -> spectra.TabulatedSpectrum:
    """The sum of same-recoil spectra on the union of their energy grids (each linear, zero outside its table)."""
    if len({p.recoil for p in parts}) != 1:
        raise ArgumentError(f"{name}: cannot sum ER and NR spectra")
    grid = np.unique(np.concatenate([p.energy for p in parts]))
    return spectra.TabulatedSpectrum(
        name=name,
        energy=grid,
        rate=sum(p.rate_at(grid) for p in parts),
        recoil=parts[0].recoil,
        source="; ".join(f"{p.name}: {p.source}" for p in parts),
    )


class Mixture(Source):
    """Several rated sources drawn in proportion to their expected counts (each event keeps its component)."""

    def __init__(self, name: str, parts: list[Source]):
        if not parts:
            raise ArgumentError(f"mixture {name!r} needs at least one source")
        self.name, self.parts = name, parts
        self._weights = np.array([sum(p.expected_events(1.0).values()) for p in parts])
        if not self._weights.sum() > 0:
            raise ArgumentError(f"mixture {name!r}: its sources have no rate")

    @property
    def components(self) -> list[str]:
        return [c for p in self.parts for c in p.components]

    def draw(self, rng: np.random.Generator, n: int) -> Draw:
        n = _check_n(n)
        counts = rng.multinomial(n, self._weights / self._weights.sum())
        draws, offset, comps = [], 0, []
        for part, k in zip(self.parts, counts, strict=True):
            d = part.draw(rng, int(k))
            draws.append(d)
            comps.append(d.component + offset)
            offset += len(part.components)
        order = rng.permutation(n)
        return Draw(
            np.concatenate([d.energy for d in draws])[order],
            np.concatenate([d.recoil for d in draws]).astype(np.int32)[order],
            np.concatenate(comps).astype(np.int32)[order],
        )

    def expected_events(self, exposure_t_y: float) -> dict[str, float]:
        out: dict[str, float] = {}
        for p in self.parts:
            out.update(p.expected_events(exposure_t_y))
        return out


# ---------------------------------------------------------------------------------------------------- registry
#: the published ER background of each detector (a key of data/spectra/spectra.toml)
ER_BACKGROUND = {"xenon1t": "xenon1t_sr0_er", "xenonnt": "xenon1t_sr0_er", "darwin": "darwin_er_total"}
#: further named spectra per detector
DETECTOR_SPECTRA = {
    "darwin": {
        "kr85": "darwin_kr85",
        "pb214": "darwin_pb214",
        "materials": "darwin_materials",
        "neutrons": "darwin_radiogenic_neutrons",
    }
}
COMMON_KINDS = ("er", "nr", "wimp", "cevns", "er-background", "background")


def kinds(detector: str) -> list[str]:
    """The source names :func:`make` knows for ``detector`` (a registry name, with or without its run)."""
    return sorted({*COMMON_KINDS, *DETECTOR_SPECTRA.get(_detector_name(detector), {})})


def _detector_name(detector) -> str:
    """The registry name of ``detector``: a config's name, or a name with its run configuration dropped
    (``"xenon1t:sr0"`` -> ``"xenon1t"``: the sources of a detector do not depend on its run)."""
    return detector.split(":", 1)[0] if isinstance(detector, str) else detectors.resolve(detector).name


def make(
    detector,
    kind: str,
    *,
    e_min: float | None = None,
    e_max: float | None = None,
    wimp_mass_gev: float | None = None,
    wimp_cross_section_cm2: float = 1e-45,
) -> Source:
    """The source ``kind`` (see the module docstring) for ``detector`` (a registry name or config), in the
    energy window [e_min, e_max] keV (default 1-100 keV; PandaX-II's flat ER: 0-25 keVee)."""
    name = _detector_name(detector)
    if kind not in kinds(name):
        raise ArgumentError(f"unknown source {kind!r} for detector {name!r}: expected one of {', '.join(kinds(name))}")
    lo = DEFAULT_WINDOW[0] if e_min is None else float(e_min)
    hi = DEFAULT_WINDOW[1] if e_max is None else float(e_max)
    if kind == "er":
        return UniformSource("er", ER, lo, hi)
    if kind == "nr":
        return UniformSource("nr", NR, lo, hi)
    if kind == "wimp":
        if wimp_mass_gev is None:
            raise ArgumentError("source 'wimp' needs a WIMP mass (wimp_mass_gev / --wimp-mass)")
        return WimpSource(wimp_mass_gev, wimp_cross_section_cm2, lo, hi)
    if kind == "cevns":
        return SpectrumSource(summed_spectrum("cevns", [spectra.load(s) for s in CEVNS_SPECTRA]), lo, hi)
    if kind in DETECTOR_SPECTRA.get(name, {}):
        return SpectrumSource(spectra.load(DETECTOR_SPECTRA[name][kind]), lo, hi, name=kind)
    if kind == "er-background":
        return _er_background(detector, name, e_min, e_max)
    # background: the detector's ER background, CEvNS and, where shipped, radiogenic neutrons
    parts = [_er_background(detector, name, e_min, e_max), make(name, "cevns", e_min=lo, e_max=hi)]
    if "neutrons" in DETECTOR_SPECTRA.get(name, {}):
        parts.append(make(name, "neutrons", e_min=lo, e_max=hi))
    return Mixture("background", parts)


def _er_background(detector, name: str, e_min, e_max) -> Source:
    if name in ER_BACKGROUND:
        lo = DEFAULT_WINDOW[0] if e_min is None else e_min
        hi = DEFAULT_WINDOW[1] if e_max is None else e_max
        return SpectrumSource(spectra.load(ER_BACKGROUND[name]), lo, hi, name="er-background")
    # a registry flat rate (PandaX-II: er_background_rate), over the DM-search ER range of tpcml.sim.lxe
    det = detectors.resolve(detector)
    rate = det.get("er_background_rate", "/(kg d keV)") * 1000.0 * spectra.DAYS_PER_YEAR
    lo = PANDAX2_ER_RANGE[0] if e_min is None else e_min
    hi = PANDAX2_ER_RANGE[1] if e_max is None else e_max
    return UniformSource("er-background", ER, lo, hi, rate=rate)


def expected_counts(detector, exposure_t_y: float, **options) -> dict[str, float]:
    """Expected events for ``exposure_t_y`` (t*y) of every source of ``detector`` with a physical rate (the ER
    background and its components, CEvNS, radiogenic neutrons where shipped, and the WIMP when ``wimp_mass_gev``
    is given), by source name. ``options``: those of :func:`make` (energy window, WIMP mass and cross-section)."""
    name = _detector_name(detector)
    out: dict[str, float] = {}
    for kind in kinds(name):
        if kind in ("er", "nr", "background") or (kind == "wimp" and options.get("wimp_mass_gev") is None):
            continue
        out[kind] = sum(make(detector, kind, **options).expected_events(exposure_t_y).values())
    return out


def exposure_t_y(fiducial_mass_t: float, live_time_d: float) -> float:
    """Exposure in t*y of a fiducial mass (t) over a live time (days; 1 y = 365.25 d)."""
    if not (fiducial_mass_t >= 0 and live_time_d >= 0):
        raise ArgumentError(f"fiducial mass and live time must be >= 0, got {fiducial_mass_t!r} t, {live_time_d!r} d")
    return fiducial_mass_t * live_time_d / spectra.DAYS_PER_YEAR
