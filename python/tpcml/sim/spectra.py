"""Tabulated recoil-energy spectra with their rates: the published background models tpcml ships.

The spectra live in ``data/spectra/`` (installed beside the detector registry), listed in
``data/spectra/spectra.toml`` with their file format, rate unit, recoil type and public source (the XENON1T
SR0 ER model of XENON1T/laidbax; DARWIN's ER, CEvNS and radiogenic-neutron spectra of
XENONnT/darwin_proj_run). :func:`load` returns a :class:`TabulatedSpectrum` whose rate is always in
events/(t y keV): per tonne of target, per year (365.25 d), per keV of recoil energy (keVee for ER, keVnr
for NR). Between the tabulated energies the rate is linear, outside it is zero: the convention of
darwin_proj_run's ``get_spectrum`` (``interp1d(..., bounds_error=False, fill_value=0.)``).
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tomllib

from ..core.errors import ArgumentError, ConfigError
from .quanta import ER, NR

#: days per year used for every rate conversion (Julian year; darwin_proj_run uses 365 d, laidbax 365.25 d)
DAYS_PER_YEAR = 365.25
#: rate units tpcml reads, and the factor to events/(t y keV)
UNIT_TO_T_Y_KEV = {
    "/(kg d keV)": 1000.0 * DAYS_PER_YEAR,
    "/(t y keV)": 1.0,
}
RECOILS = {"er": ER, "nr": NR}


def spectra_dir() -> Path:
    """Directory of the shipped spectra: ``$TPCML_DATA_DIR/spectra``, else the installed data directory, else
    the source tree's ``data/spectra`` (a checkout not installed since the spectra were added)."""
    env = os.environ.get("TPCML_DATA_DIR")
    if env:
        return Path(env) / "spectra"
    source = Path(__file__).resolve().parents[3] / "data" / "spectra"
    try:
        from ..core.paths import data_dir

        installed = data_dir() / "spectra"
    except ImportError:  # no compiled core: the source tree is all there is
        return source
    return installed if (installed / "spectra.toml").is_file() else source


def _manifest(directory: Path | None = None) -> tuple[Path, dict]:
    directory = spectra_dir() if directory is None else Path(directory)
    path = directory / "spectra.toml"
    try:
        with open(path, "rb") as f:
            return directory, tomllib.load(f)
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: spectra manifest not found (expected data/spectra/spectra.toml)") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err


def available(directory: Path | None = None) -> list[str]:
    """Names of the shipped spectra."""
    return sorted(_manifest(directory)[1])


@dataclass(frozen=True)
class TabulatedSpectrum:
    """A recoil-energy spectrum: rate (events/(t y keV)) at increasing energies (keV), linear in between,
    zero outside."""

    name: str
    energy: np.ndarray
    rate: np.ndarray
    recoil: int
    source: str = ""
    description: str = ""
    _cdf: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        e = np.asarray(self.energy, np.float64)
        r = np.asarray(self.rate, np.float64)
        where = f"spectrum {self.name!r}"
        if e.ndim != 1 or e.shape != r.shape or len(e) < 2:
            raise ConfigError(
                f"{where}: energy and rate must be 1-d arrays of equal length >= 2, got {e.shape}, {r.shape}"
            )
        if not (np.all(np.isfinite(e)) and np.all(np.isfinite(r))):
            raise ConfigError(f"{where}: energies and rates must be finite")
        if np.any(np.diff(e) <= 0):
            raise ConfigError(f"{where}: energies must increase strictly")
        if np.any(r < 0):
            raise ConfigError(f"{where}: rates must be >= 0 (first negative at {e[np.argmax(r < 0)]:g} keV)")
        if self.recoil not in (ER, NR):
            raise ConfigError(f"{where}: recoil must be {ER} (ER) or {NR} (NR), got {self.recoil!r}")
        object.__setattr__(self, "energy", e)
        object.__setattr__(self, "rate", r)
        object.__setattr__(self, "_cdf", np.concatenate([[0.0], np.cumsum(0.5 * (r[1:] + r[:-1]) * np.diff(e))]))

    @property
    def e_min(self) -> float:
        return float(self.energy[0])

    @property
    def e_max(self) -> float:
        return float(self.energy[-1])

    def rate_at(self, energy) -> np.ndarray:
        """events/(t y keV) at ``energy`` (keV): linear between the tabulated points, 0 outside."""
        return np.interp(energy, self.energy, self.rate, left=0.0, right=0.0)

    def _window(self, e_min: float | None, e_max: float | None) -> tuple[float, float]:
        lo = self.e_min if e_min is None else max(float(e_min), self.e_min)
        hi = self.e_max if e_max is None else min(float(e_max), self.e_max)
        if e_min is not None and e_max is not None and not float(e_min) < float(e_max):
            raise ArgumentError(f"spectrum {self.name!r}: energy window needs e_min < e_max, got [{e_min}, {e_max}]")
        return lo, hi

    def _cum(self, e: np.ndarray) -> np.ndarray:
        """Integral of the rate from the first tabulated energy to ``e`` (exact for the piecewise-linear rate)."""
        e = np.clip(np.asarray(e, np.float64), self.e_min, self.e_max)
        i = np.clip(np.searchsorted(self.energy, e, side="right") - 1, 0, len(self.energy) - 2)
        x = e - self.energy[i]
        slope = (self.rate[i + 1] - self.rate[i]) / (self.energy[i + 1] - self.energy[i])
        return self._cdf[i] + self.rate[i] * x + 0.5 * slope * x * x

    def integral(self, e_min: float | None = None, e_max: float | None = None) -> float:
        """events/(t y) with recoil energy in [e_min, e_max] keV (default: the whole table)."""
        lo, hi = self._window(e_min, e_max)
        return float(self._cum(hi) - self._cum(lo)) if hi > lo else 0.0

    def expected_events(self, exposure_t_y: float, e_min: float | None = None, e_max: float | None = None) -> float:
        """Expected events for an exposure (fiducial mass in t times live time in y) in [e_min, e_max] keV."""
        if not exposure_t_y >= 0:
            raise ArgumentError(f"exposure must be >= 0 t*y, got {exposure_t_y!r}")
        return exposure_t_y * self.integral(e_min, e_max)

    def sample(
        self, rng: np.random.Generator, n: int, e_min: float | None = None, e_max: float | None = None
    ) -> np.ndarray:
        """``n`` energies (keV) drawn from the spectrum restricted to [e_min, e_max]: exact inverse of the
        piecewise-quadratic cumulative rate."""
        lo, hi = self._window(e_min, e_max)
        c_lo, c_hi = self._cum(lo), self._cum(hi)
        if not hi > lo or not c_hi > c_lo:
            raise ArgumentError(f"spectrum {self.name!r} has no rate in [{lo:g}, {hi:g}] keV: nothing to sample")
        target = c_lo + rng.uniform(0.0, 1.0, int(n)) * (c_hi - c_lo)
        i = np.clip(np.searchsorted(self._cdf, target, side="right") - 1, 0, len(self.energy) - 2)
        h = self.energy[i + 1] - self.energy[i]
        f0 = self.rate[i]
        slope = (self.rate[i + 1] - f0) / h
        a = target - self._cdf[i]
        # f0 x + slope x^2 / 2 = a, in the cancellation-free form (also right for slope = 0)
        x = 2.0 * a / (f0 + np.sqrt(np.maximum(f0 * f0 + 2.0 * slope * a, 0.0)))
        return np.clip(self.energy[i] + np.nan_to_num(x, nan=0.0, posinf=0.0), lo, hi)


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or len(rows[0]) < 3:
        raise ConfigError(f"{path}: expected a CSV with a header and columns (index, kev, rate)")
    try:
        data = np.array([[float(v) for v in row[1:3]] for row in rows[1:] if row], np.float64)
    except ValueError as err:
        raise ConfigError(f"{path}: non-numeric value in the (kev, rate) columns: {err}") from err
    return data[:, 0], data[:, 1]


def _read_bbf_json(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path) as f:
            content = json.load(f)
        start, stop, n = content["coordinate_system"][0][1]
        rate = np.asarray(content["map"], np.float64)
    except (json.JSONDecodeError, KeyError, IndexError, TypeError, ValueError) as err:
        raise ConfigError(
            f"{path}: expected JSON with 'coordinate_system': [['E', [start, stop, n]]] and 'map': [n rates] ({err})"
        ) from err
    if len(rate) != int(n):
        raise ConfigError(f"{path}: 'map' has {len(rate)} rates but coordinate_system says {n}")
    return np.linspace(float(start), float(stop), int(n)), rate


READERS = {"csv-kev-rate": _read_csv, "bbf-json": _read_bbf_json}


def load(name: str, directory: Path | None = None) -> TabulatedSpectrum:
    """The shipped spectrum ``name`` (a key of ``data/spectra/spectra.toml``), rate in events/(t y keV)."""
    directory, manifest = _manifest(directory)
    if name not in manifest:
        raise ArgumentError(f"unknown spectrum {name!r}: expected one of {', '.join(sorted(manifest))}")
    entry = manifest[name]
    where = f"{directory / 'spectra.toml'} [{name}]"
    for key in ("file", "format", "unit", "recoil", "source"):
        if key not in entry:
            raise ConfigError(f"{where}: missing key {key!r}")
    if entry["format"] not in READERS:
        raise ConfigError(f"{where}: format {entry['format']!r} unknown; expected one of {', '.join(READERS)}")
    if entry["unit"] not in UNIT_TO_T_Y_KEV:
        raise ConfigError(f"{where}: unit {entry['unit']!r} unknown; expected one of {', '.join(UNIT_TO_T_Y_KEV)}")
    if entry["recoil"] not in RECOILS:
        raise ConfigError(f"{where}: recoil {entry['recoil']!r} unknown; expected 'er' or 'nr'")
    path = directory / entry["file"]
    if not path.is_file():
        raise ConfigError(f"{where}: file {path} not found")
    energy, rate = READERS[entry["format"]](path)
    return TabulatedSpectrum(
        name=name,
        energy=energy,
        rate=rate * UNIT_TO_T_Y_KEV[entry["unit"]],
        recoil=RECOILS[entry["recoil"]],
        source=entry["source"],
        description=entry.get("description", ""),
    )
