"""NEST quanta and recoil-energy spectra: the first step of every LXe sample.

``nest_quanta`` turns recoil energies into photons and electrons with NEST (nestpy; Szydagis
et al., "NEST: a comprehensive model for scintillation yield in liquid xenon", JINST 6 (2011)
P10002) at the registry's drift field and density, with NEST's fluctuations; ``Spectrum`` samples
recoil energies. The detector response to those quanta (light collection, electron drift and
survival, extraction, S2 gain; the dual-phase signal model of Aprile & Doke, "Liquid xenon
detectors for particle physics and astrophysics", Rev. Mod. Phys. 82 (2010) 2053) is the C++
``tpcml::LXeResponse``, driven by
:class:`tpcml.sim.lxe.Simulator`: one LXe chain for every study and for quickstart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


#: registry key of the detector-level ER recombination-fluctuation term (docs/detector-format.md, "ER band width")
RECOMBINATION_FLUCTUATION_KEY = "er_recombination_fluctuation"


def er_recombination_fluctuation(detector) -> float:
    """The detector's extra ER recombination fluctuation Delta_r (registry key
    :data:`RECOMBINATION_FLUCTUATION_KEY`, dimensionless); 0 (plain NEST) where the detector has no such key."""
    return float(detector.get(RECOMBINATION_FLUCTUATION_KEY)) if detector.has(RECOMBINATION_FLUCTUATION_KEY) else 0.0


def nest_quanta(
    recoil: int,
    energy: np.ndarray,
    field_v_cm: float,
    density_g_cm3: float,
    seed: int,
    recombination_fluctuation: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Photons and electrons per event from NEST (nestpy), with NEST's own fluctuations.

    ``recoil``: ER (NEST beta model, for electron recoils from beta decays and Compton
    scatters) or NR. Negative NEST outputs (possible for tiny energies) are set to 0.

    ``recombination_fluctuation`` (Delta_r >= 0, ER only; 0 = plain NEST): an extra Gaussian fluctuation of the
    recombination fraction on top of NEST's, the form of the XENON1T ER model (the recombination fraction of
    each event drawn from a Gaussian around its mean, Aprile et al. (XENON), PRD 99 (2019) 112009, Sec. II A):
    each event's NEST ions N_i get an electron-photon exchange k ~ round(Normal(0, Delta_r N_i)), electrons
    n_e + k clipped to [0, N_i] and photons n_ph - k, so n_ph + n_e (the energy scale) is unchanged and the band
    widens in log(S2/S1) only. Drawn from its own numpy stream of ``seed``: with Delta_r = 0 the quanta are
    exactly NEST's. The value per detector is the registry key :data:`RECOMBINATION_FLUCTUATION_KEY`.
    """
    import nestpy

    if recoil not in (ER, NR):
        raise ValueError(f"recoil must be {ER} (ER) or {NR} (NR), got {recoil!r}")
    if not (recombination_fluctuation >= 0.0):
        raise ValueError(f"recombination_fluctuation must be >= 0, got {recombination_fluctuation!r}")
    nestpy.RandomGen.rndm().set_seed(int(seed) % 2**64)  # derived seeds may exceed uint64 (guards.u64)
    calc = nestpy.NESTcalc(nestpy.detectors.VDetector())
    interaction = nestpy.interactions.beta if recoil == ER else nestpy.interactions.NR
    n = len(energy)
    n_ph = np.empty(n, dtype=np.int32)
    n_e = np.empty(n, dtype=np.int32)
    ions = np.empty(n, dtype=np.int32)
    get_yields, get_quanta = calc.GetYields, calc.GetQuanta
    for i, e in enumerate(np.asarray(energy, dtype=np.float64)):
        q = get_quanta(get_yields(interaction, float(e), density_g_cm3, field_v_cm), density_g_cm3)
        n_ph[i], n_e[i], ions[i] = max(q.photons, 0), max(q.electrons, 0), max(q.ions, 0)
    if recoil == ER and recombination_fluctuation > 0.0 and n:
        rng = np.random.default_rng([int(seed) % 2**64, 0x5EC0])  # own stream: NEST's draws stay as they are
        k = np.rint(rng.normal(0.0, 1.0, n) * recombination_fluctuation * ions)
        new_e = np.clip(n_e + k, 0, np.maximum(ions, n_e))
        n_ph = np.maximum(n_ph - (new_e - n_e), 0).astype(np.int32)
        n_e = new_e.astype(np.int32)
    return n_ph, n_e
