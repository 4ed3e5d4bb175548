"""Rates of the origins of PandaX-II's isolated S1 and S2 signals, derived from the detector's own numbers (issue 17).

P2-DNN Sec. 2 (after its ref. [15], PandaX-II, CPC 46 (2022) 103001) lists the origins: isolated S1s are physical
scatters whose S2 is not produced (below the cathode, charge-insensitive regions), single electrons taken for S1s,
and coincident PMT dark counts; isolated S2s are S2s whose S1 was not recorded or merged with them (interactions
just below the liquid surface, S1s below the coincidence threshold) and stagnant (delayed) electrons. Ref. [15] gives
the total rates r1, r2 (measured with random-trigger data and two data-driven methods on the S1 window 3-100 PE); it
does not (as far as the public excerpts available to tpcml show) split them by origin. The split here is derived:

* dark-noise S1s: the rate of k-fold coincidences of n PMTs with dark rate r each in a window tau, k =
  s1_coincidence_level: R_k = n r C(n - 1, k - 1) (r tau)^(k - 1) (a first dark count opens the window; k - 1 of the
  other n - 1 PMTs fire within tau; valid for n r tau << 1);
* single electrons taken for S1s: rate of single electrons x the probability that one passes the S1 classification
  of the processing (tight coincidence and a rise time t50 - t10 of the area below s1_max_rise_time, straxen
  PeakletClassification, as tpcml::WaveformSimulator classifies), computed by Monte Carlo of the single-electron
  pulse of the registry (Poisson(single_electron_gain) photoelectrons emitted uniformly over the
  electroluminescence time, transit-time spread, single-PE resolution);
* physical scatters without S2 (below the cathode; in the charge-insensitive annulus at the wall): the rest of r1,
  split in the ratio of the two liquid volumes (same ER rate density in both: an assumption, see below);
* S2s whose S1 merged with them (drift time below twice the electroluminescence time, including the liquid above the
  gate) and S2s whose S1 failed the coincidence: ER rate density x liquid mass x the energy range that makes them
  (x the fraction of events without an S1, measured on a pilot simulation);
* delayed electrons: the rest of r2. Their sizes are those of single-electron trains: after an interaction, delayed
  electrons are emitted one by one at a rate that falls as a power law of the time since it, close to 1 / t
  (Kopec et al., JINST 16 (2021) P07014, arXiv:2103.05077; XENON1T, PRD 106 (2022) 022001; LUX, PRD 102 (2020)
  092004), and the processing merges the electrons that arrive within its S2 clustering window into one S2. At a
  rate lambda(t) = A / t the expected count in a window, mu = lambda Delta, spends a time |dt/dmu| ~ mu^-2 at each
  value, so the number n of merged electrons is Poisson(mu) mixed over p(mu) ~ mu^-2, which gives
  P(n) ~ Gamma(n - 1) / n! = 1 / (n (n - 1)) for n >= 2, independent of A and Delta: P(N >= n) = 1 / (n - 1)
  (:func:`delayed_electron_counts`; n = 1, a lone single electron, is no S2 candidate). The index 1 is the
  approximate measured one (an assumption at that precision). Within the window the emission rate is constant
  (it varies on ms time scales), so the n arrivals are uniform over it (LXeResponse::electronTrainS2); the window
  is the registry's delayed_electron_train_span (derived there from the diffusion at the maximum drift time).

Assumption flagged for the handoff: the ER rate density of the physical origins is the fiducial registry rate
(er_background_rate); outside the fiducial volume (below the cathode, at the wall, below the surface) the real rate
is higher (less self-shielding), so these rates are lower bounds. With it the physical S2 origins are ~1 % of r2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from math import comb

import numpy as np

from ..core import detectors

__all__ = [
    "S1_MAX_RISE_TIME_NS",
    "OriginRates",
    "dark_noise_coincidence_rate",
    "delayed_electron_counts",
    "s1_origin_rates",
    "s2_origin_rates",
    "single_electron_misid_probability",
]

#: S1 classification (straxen PeakletClassification, XENON1T context: s1_max_rise_time = 60 ns below 100 PE; the
#: value tpcml::WaveformSimulator uses): a peak is an S1 only if t(50 % area) - t(10 % area) <= this.
S1_MAX_RISE_TIME_NS = 60.0
#: energies (keVee) of the origins' ER deposits (tpcml.sim.lxe.ISOLATED_ER and SUB_THRESHOLD_ER)
ISOLATED_ER_RANGE = (1.0, 50.0)
SUB_THRESHOLD_ER_RANGE = (0.1, 3.0)


def dark_noise_coincidence_rate(n_pmt: int, dark_rate_hz: float, window_s: float, level: int) -> float:
    """Rate (Hz) of ``level``-fold coincidences of independent PMT dark counts within ``window_s``:
    n r C(n - 1, k - 1) (r tau)^(k - 1)."""
    if n_pmt < level or level < 1:
        raise ValueError(f"need 1 <= coincidence level <= number of PMTs, got level {level} with {n_pmt} PMTs")
    if not (dark_rate_hz >= 0 and window_s > 0):
        raise ValueError(f"dark rate must be >= 0 and window > 0, got {dark_rate_hz} Hz, {window_s} s")
    return n_pmt * dark_rate_hz * comb(n_pmt - 1, level - 1) * (dark_rate_hz * window_s) ** (level - 1)


@lru_cache(maxsize=32)  # a pure function of its numbers; ~1 s of Monte Carlo
def single_electron_misid_probability(
    gain: float,
    el_time_ns: float,
    tts_fwhm_ns: float,
    spe_resolution: float,
    threshold_pe: float,
    max_rise_ns: float = S1_MAX_RISE_TIME_NS,
    n_samples: int = 4000,
    seed: int = 0,
) -> float:
    """Probability that one single-electron pulse passes the S1 classification: Poisson(``gain``) photoelectrons at
    uniform times over ``el_time_ns`` plus a Gaussian transit-time spread, areas Gaussian(1, ``spe_resolution``);
    misidentified when its area is >= ``threshold_pe`` and its rise time t50 - t10 of the area is <= ``max_rise_ns``
    (the tight coincidence is assumed met: an upper bound). Monte Carlo with ``n_samples`` pulses per photoelectron
    count, weighted by the Poisson probabilities."""
    from scipy.stats import poisson

    rng = np.random.default_rng([seed, 11])
    sigma = tts_fwhm_ns / 2.355
    n_max = int(gain + 8 * np.sqrt(gain) + 10)
    p = 0.0
    for n in range(max(1, int(np.floor(threshold_pe / 2))), n_max + 1):
        w = poisson.pmf(n, gain)
        if w < 1e-15:
            continue
        t = rng.uniform(0.0, el_time_ns, (n_samples, n)) + sigma * rng.normal(size=(n_samples, n))
        a = np.maximum(0.0, 1.0 + spe_resolution * rng.normal(size=(n_samples, n)))
        order = np.argsort(t, axis=1)
        t, a = np.take_along_axis(t, order, 1), np.take_along_axis(a, order, 1)
        total = a.sum(axis=1)
        frac = np.cumsum(a, axis=1) / np.where(total > 0, total, 1.0)[:, None]
        i10 = np.argmax(frac >= 0.1, axis=1)
        i50 = np.argmax(frac >= 0.5, axis=1)
        rows = np.arange(n_samples)
        rise = t[rows, i50] - t[rows, i10]
        p += w * float(np.mean((total >= threshold_pe) & (rise <= max_rise_ns)))
    return p


def delayed_electron_counts(rng: np.random.Generator, n: int, n_max: int) -> np.ndarray:
    """Electrons in ``n`` delayed-electron S2s (single-electron trains merged by the S2 clustering, module
    docstring): P(N >= k) = 1 / (k - 1) for k >= 2, drawn as 1 + floor(1 / U), U uniform in (0, 1]. Sizes above
    ``n_max`` are set to ``n_max``: pass a value whose S2 lies well above the analysis window (the caller: ten times
    the largest S2 the selection keeps), so the cap changes no selected signal and bounds the work per signal."""
    if n_max < 2:
        raise ValueError(f"n_max must be >= 2, got {n_max}")
    u = 1.0 - rng.random(n)  # (0, 1]
    return np.minimum(1.0 + np.floor(1.0 / u), n_max).astype(np.int32)


@dataclass
class OriginRates:
    """Rates (Hz) of the origins of one isolated-signal population, in origin-code order, with their derivations."""

    names: tuple[str, ...]
    rates_hz: np.ndarray
    derivations: dict[str, str] = field(default_factory=dict)

    @property
    def total_hz(self) -> float:
        return float(self.rates_hz.sum())

    @property
    def fractions(self) -> np.ndarray:
        return self.rates_hz / self.rates_hz.sum()


def _volume_mm3_to_kg(volume_mm3: float, density_g_cm3: float) -> float:
    return volume_mm3 * 1e-3 * density_g_cm3 * 1e-3


def s1_origin_rates(det: detectors.DetectorConfig | str) -> OriginRates:
    """The isolated-S1 origins (below cathode, charge-insensitive, dark noise, single electron) as rates summing to
    the registry's isolated_s1_rate (see the module docstring)."""
    d = detectors.resolve(det)
    r1 = d.get("isolated_s1_rate", "Hz")
    n_pmt = d.get_int("n_pmt_top") + d.get_int("n_pmt_bottom")
    level = d.get_int("s1_coincidence_level")
    window = d.get("s1_coincidence_window", "s")
    r_dark = dark_noise_coincidence_rate(n_pmt, d.get("pmt_dark_rate", "Hz"), window, level)
    p_se = single_electron_misid_probability(
        d.get("single_electron_gain"),
        d.get("s2_electroluminescence_time", "ns"),
        d.get("pmt_transit_time_spread", "ns"),
        d.get("pmt_spe_resolution"),
        d.get("s1_threshold_pe"),
    )
    r_se = d.get("single_electron_rate", "Hz") * p_se
    rest = r1 - r_dark - r_se
    if rest < 0:
        raise ValueError(
            f"{d.name}: dark-noise ({r_dark:.3g} Hz) and single-electron ({r_se:.3g} Hz) S1 rates exceed "
            f"isolated_s1_rate = {r1} Hz"
        )
    radius, w = d.get("tpc_radius", "mm"), d.get("charge_insensitive_width", "mm")
    v_below = np.pi * radius**2 * d.get("bottom_array_distance", "mm")
    v_wall = np.pi * (radius**2 - (radius - w) ** 2) * d.get("drift_length", "mm")
    f_below = v_below / (v_below + v_wall)
    return OriginRates(
        names=("below_cathode", "charge_insensitive", "dark_noise", "single_electron"),
        rates_hz=np.array([rest * f_below, rest * (1 - f_below), r_dark, r_se]),
        derivations={
            "dark_noise": f"{n_pmt} PMTs x {d.get('pmt_dark_rate', 'Hz'):g} Hz x C({n_pmt - 1}, {level - 1}) x "
            f"({d.get('pmt_dark_rate', 'Hz'):g} Hz x {window * 1e9:g} ns)^{level - 1} = {r_dark:.3g} Hz",
            "single_electron": f"single-electron rate {d.get('single_electron_rate', 'Hz'):g} Hz x S1 "
            f"misidentification probability {p_se:.3g} (rise time <= {S1_MAX_RISE_TIME_NS:g} ns) = {r_se:.3g} Hz",
            "physical": f"the rest of r1 = {r1:g} Hz, {rest:.4g} Hz, split by the liquid volumes below the cathode "
            f"({v_below / 1e6:.3g} L) and in the {w:g} mm wall annulus ({v_wall / 1e6:.3g} L): {f_below:.3f} / "
            f"{1 - f_below:.3f}",
        },
    )


def s2_origin_rates(det: detectors.DetectorConfig | str, no_s1_fraction: float) -> OriginRates:
    """The isolated-S2 origins (near the surface / S1 merged, delayed electrons, S1 below threshold) as rates summing
    to the registry's isolated_s2_rate. ``no_s1_fraction``: the fraction of SUB_THRESHOLD_ER_RANGE events uniform in
    the active volume that have no S1 (measured by the caller's pilot simulation)."""
    d = detectors.resolve(det)
    r2 = d.get("isolated_s2_rate", "Hz")
    if not 0.0 <= no_s1_fraction <= 1.0:
        raise ValueError(f"no_s1_fraction must be in [0, 1], got {no_s1_fraction}")
    rate_density = d.get("er_background_rate", "/(kg d keV)") / 86400.0  # per second
    radius, rho = d.get("tpc_radius", "mm"), d.get("liquid_density", "g/cm3")
    merged_mm = d.get("liquid_level_above_gate", "mm") + 2.0 * d.get("s2_electroluminescence_time", "us") * d.get(
        "drift_velocity", "mm/us"
    )
    m_surface = _volume_mm3_to_kg(np.pi * radius**2 * merged_mm, rho)
    r_surface = rate_density * m_surface * (ISOLATED_ER_RANGE[1] - ISOLATED_ER_RANGE[0])
    m_active = d.get("active_mass", "kg")
    e_sub = SUB_THRESHOLD_ER_RANGE[1] - SUB_THRESHOLD_ER_RANGE[0]
    r_sub = rate_density * m_active * e_sub * no_s1_fraction
    r_delayed = r2 - r_surface - r_sub
    if r_delayed < 0:
        raise ValueError(
            f"{d.name}: physical isolated-S2 rates ({r_surface + r_sub:.3g} Hz) exceed isolated_s2_rate = {r2} Hz"
        )
    return OriginRates(
        names=("near_surface", "delayed_electrons", "s1_below_threshold"),
        rates_hz=np.array([r_surface, r_delayed, r_sub]),
        derivations={
            "near_surface": f"ER rate {rate_density * 86400 * 1e3:.3g} mDRU x {m_surface:.3g} kg (liquid within "
            f"{merged_mm:.2f} mm of the surface: drift below twice the electroluminescence time) x "
            f"{ISOLATED_ER_RANGE[1] - ISOLATED_ER_RANGE[0]:g} keV = {r_surface:.3g} Hz",
            "s1_below_threshold": f"ER rate x {m_active:g} kg x {e_sub:g}"
            f" keV x {no_s1_fraction:.3f} without an S1 = {r_sub:.3g} Hz",
            "delayed_electrons": f"the rest of r2 = {r2:g} Hz: {r_delayed:.4g} Hz",
        },
    )
