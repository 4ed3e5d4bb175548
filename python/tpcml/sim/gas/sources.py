"""Sources of the gas-TPC track simulation: codes, names and 0νββ kinematics (:mod:`tpcml.sim.gas`)."""

from __future__ import annotations

import numpy as np

from .materials import ELECTRON_MASS_KEV

SOURCE_ZERO_NU_BB, SOURCE_BI214, SOURCE_TL208 = 0, 1, 2
#: source code -> name used in dataset.json and progress lines
SOURCES = {SOURCE_ZERO_NU_BB: "0nubb", SOURCE_BI214: "Bi214", SOURCE_TL208: "Tl208"}
_SOURCE_ALIASES = {
    "0nubb": 0,
    "bb0n": 0,
    "0vbb": 0,
    "signal": 0,
    "bi214": 1,
    "214bi": 1,
    "tl208": 2,
    "208tl": 2,
}


def source_code(source: int | str) -> int:
    """Source code (0 = 0νββ, 1 = ²¹⁴Bi, 2 = ²⁰⁸Tl) of a code or name ("0nubb", "Bi214", "Tl208")."""
    if isinstance(source, str):
        key = source.strip().lower().replace("-", "").replace("_", "")
        if key in _SOURCE_ALIASES:
            return _SOURCE_ALIASES[key]
    elif isinstance(source, (int, np.integer)) and not isinstance(source, bool) and int(source) in SOURCES:
        return int(source)
    raise ValueError(f"unknown PandaX-III source {source!r}: expected 0/'0nubb', 1/'Bi214' or 2/'Tl208'")


def _bb_energy_sharing_table(q_kev: float, n: int = 4001):
    """Inverse CDF grid of T1 for dN/dT1 ∝ (T1 + m)² (Q − T1 + m)² (Primakoff-Rosen)."""
    t = np.linspace(0.0, q_kev, n)
    pdf = (t + ELECTRON_MASS_KEV) ** 2 * (q_kev - t + ELECTRON_MASS_KEV) ** 2
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(t))])
    return cdf / cdf[-1], t


def _beta(t_kev):
    g = 1.0 + t_kev / ELECTRON_MASS_KEV
    return np.sqrt(1.0 - 1.0 / g**2)


def _sample_cos_correlation(rng, k):
    """cos θ from dN/dcos θ ∝ 1 − k cos θ on [−1, 1] (inverse CDF), 0 <= k < 1."""
    u = rng.random(k.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (1.0 - np.sqrt(np.maximum(0.0, 1.0 - k * (4.0 * u - 2.0 - k)))) / k
    return np.clip(np.where(k > 1e-9, c, 2.0 * u - 1.0), -1.0, 1.0)
