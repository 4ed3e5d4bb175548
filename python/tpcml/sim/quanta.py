"""Dual-phase LXe TPC events at the level of S1/S2 areas, from NEST quanta.

This is the fast, position-averaged detection chain (no per-PMT light map): it
produces the raw S1/S2 charges and drift times a dual-phase TPC records, so that
the electron-lifetime correction and the ER/NR band separation can be studied
end to end. Every detector number comes from the registry
(``data/detectors/<name>.toml``, each value with its source).

Chain per event (standard dual-phase signal model, e.g. Szydagis et al., NEST,
JINST 6 (2011) P10002; Aprile & Doke, Rev. Mod. Phys. 82 (2010) 2053):

1. vertex uniform in the fiducial volume: r^2 uniform up to ``fiducial_radius``,
   drift time uniform in [``fiducial_drift_time_min``, ``fiducial_drift_time_max``];
2. quanta (photons n_ph, electrons n_e) from NEST (nestpy) for the recoil type,
   energy, ``drift_field`` and ``liquid_density``, with NEST's fluctuations;
3. S1: each photon detected with probability ``g1`` (binomial), raw qS1 in PE;
4. S2: each electron survives the drift with exp(-t/``electron_lifetime``)
   (binomial), is extracted with ``extraction_efficiency`` (binomial), and
   yields a single-electron S2 of mean ``single_electron_gain`` and Gaussian
   width ``single_electron_gain_width`` (sum of n iid Gaussians).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tpcml.core.detectors import DetectorConfig

#: recoil_type codes of the event model (docs/event-model.md)
ER, NR = 0, 1


@dataclass(frozen=True)
class Spectrum:
    """Recoil-energy spectrum to sample from (keV)."""

    kind: str  # "flat" or "exponential"
    e_min: float
    e_max: float
    slope: float = 0.0  # keV, for "exponential": dN/dE ~ exp(-E/slope)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.kind == "flat":
            return rng.uniform(self.e_min, self.e_max, n)
        if self.kind == "exponential":
            # inverse CDF of a truncated exponential on [e_min, e_max]
            u = rng.uniform(0.0, 1.0, n)
            a, b = np.exp(-self.e_min / self.slope), np.exp(-self.e_max / self.slope)
            return -self.slope * np.log(a - u * (a - b))
        raise ValueError(f"unknown spectrum kind {self.kind!r}; expected 'flat' or 'exponential'")


#: ER calibration: flat low-energy beta-like spectrum (tritium-like range, 0-18.6 keV
#: endpoint: PandaX-II ER calibration used CH3T, Cui et al., PRL 119 (2017) 181302).
ER_CALIBRATION = Spectrum("flat", 1.0, 18.6)
#: NR calibration: falling neutron-recoil spectrum of an AmBe/DD-like source; an
#: exponential with a ~15 keV slope approximates the 0-60 keVnr region used for the
#: NR band (PandaX-II AmBe calibration, Tan et al., PRL 117 (2016) 121303, Fig. 2).
NR_CALIBRATION = Spectrum("exponential", 1.0, 60.0, slope=15.0)


def nest_quanta(
    recoil: int, energy: np.ndarray, field_v_cm: float, density_g_cm3: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Photons and electrons per event from NEST (nestpy), with NEST's own fluctuations.

    ``recoil``: ER (NEST beta model, for electron recoils from beta decays and Compton
    scatters) or NR. Negative NEST outputs (possible for tiny energies) are set to 0.
    """
    import nestpy

    if recoil not in (ER, NR):
        raise ValueError(f"recoil must be {ER} (ER) or {NR} (NR), got {recoil!r}")
    nestpy.RandomGen.rndm().set_seed(int(seed) % 2**64)  # derived seeds may exceed uint64 (guards.u64)
    calc = nestpy.NESTcalc(nestpy.detectors.VDetector())
    interaction = nestpy.interactions.beta if recoil == ER else nestpy.interactions.NR
    n = len(energy)
    n_ph = np.empty(n, dtype=np.int32)
    n_e = np.empty(n, dtype=np.int32)
    get_yields, get_quanta = calc.GetYields, calc.GetQuanta
    for i, e in enumerate(np.asarray(energy, dtype=np.float64)):
        q = get_quanta(get_yields(interaction, float(e), density_g_cm3, field_v_cm), density_g_cm3)
        n_ph[i], n_e[i] = max(q.photons, 0), max(q.electrons, 0)
    return n_ph, n_e


def simulate(
    detector: DetectorConfig,
    recoil: int,
    n: int,
    seed: int,
    spectrum: Spectrum | None = None,
    run: int = 0,
) -> dict[str, np.ndarray]:
    """Simulate ``n`` events; returns columns of the ``events`` tree (docs/event-model.md)."""
    if recoil not in (ER, NR):
        raise ValueError(f"recoil must be {ER} (ER) or {NR} (NR), got {recoil!r}")
    if n < 0:
        raise ValueError(f"number of events must be >= 0, got {n}")
    spectrum = spectrum or (ER_CALIBRATION if recoil == ER else NR_CALIBRATION)
    rng = np.random.default_rng(seed)

    field = detector.get("drift_field", "V/cm")
    density = detector.get("liquid_density", "g/cm3")
    g1 = detector.get("g1")
    eee = detector.get("extraction_efficiency")
    seg = detector.get("single_electron_gain")
    seg_sigma = detector.get("single_electron_gain_width")
    tau = detector.get("electron_lifetime", "us")
    v_drift = detector.get("drift_velocity", "mm/us")
    r_max = detector.get("fiducial_radius", "mm")
    t_min = detector.get("fiducial_drift_time_min", "us")
    t_max = detector.get("fiducial_drift_time_max", "us")

    energy = spectrum.sample(rng, n)
    r = r_max * np.sqrt(rng.uniform(0.0, 1.0, n))
    phi = rng.uniform(0.0, 2 * np.pi, n)
    drift_time = rng.uniform(t_min, t_max, n)

    n_ph, n_e = nest_quanta(recoil, energy, field, density, seed=int(rng.integers(0, 2**31 - 1)))

    s1 = rng.binomial(n_ph, g1).astype(np.float64)
    survived = rng.binomial(n_e, np.exp(-drift_time / tau))
    extracted = rng.binomial(survived, eee)
    s2 = rng.normal(extracted * seg, np.sqrt(extracted) * seg_sigma)
    s2 = np.clip(s2, 0.0, None)

    return {
        "run": np.full(n, run, dtype=np.uint32),
        "event": np.arange(n, dtype=np.uint64),
        "recoil_type": np.full(n, recoil, dtype=np.int32),
        "energy_true": energy.astype(np.float32),
        "x": (r * np.cos(phi)).astype(np.float32),
        "y": (r * np.sin(phi)).astype(np.float32),
        "z": (-v_drift * drift_time).astype(np.float32),
        "drift_time": drift_time.astype(np.float32),
        "n_photons": n_ph.astype(np.int32),
        "n_electrons": n_e.astype(np.int32),
        "qS1": s1.astype(np.float32),
        "qS2": s2.astype(np.float32),
    }
