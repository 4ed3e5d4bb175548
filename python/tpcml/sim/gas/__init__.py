"""Gas-TPC track simulation (PandaX-III): 0νββ two-electron tracks and ²¹⁴Bi / ²⁰⁸Tl γ backgrounds in 10 bar Xe.

A fast, vectorised NumPy substitute for the restG4 + REST chain of PX3 (S. Xia et al.,
"Optimization of convolutional neural networks for background suppression in the PandaX-III
experiment", 2023) Sec. 3.1-3.2. Every detector number comes from
``data/detectors/pandax3.toml`` (with its source); material constants of xenon are embedded
below, each with its table of origin.

Physics chain
-------------
* **0νββ signal** (label 1, source 0): two electrons from one vertex, uniform in the active
  volume, sharing Q = 2457.8 keV. Energy sharing: the mass-mechanism two-electron spectrum in the
  Primakoff-Rosen approximation, dN/dT1 ∝ (T1 + m)² (T2 + m)², T2 = Q − T1 (H. Primakoff and
  S. P. Rosen, Rep. Prog. Phys. 22 (1959) 121: the Fermi function F(Z, E) ≈ const × E/p makes
  p E F ∝ E²). Angular correlation: dN/dcos θ ∝ 1 − β1 β2 cos θ (M. Doi, T. Kotani,
  E. Takasugi, Prog. Theor. Phys. Suppl. 83 (1985) 1; R. Arnold et al. (SuperNEMO), Eur. Phys.
  J. C 70 (2010) 927, Eq. 2), the first electron isotropic.
* **γ backgrounds** (label 0; source 1 = ²¹⁴Bi 2447.7 keV, 2 = ²⁰⁸Tl 2614.5 keV): PX3 Sec. 3.1
  samples them "within the container". Simplification: the γ starts on the boundary of the active
  volume (barrel and end caps weighted by area) with an inward cosine-law direction, i.e. a
  uniform isotropic flux from outside; the field cage, cathode and readout materials are not
  simulated. The γ and all secondary photons interact by photoabsorption, Compton scattering
  (Klein-Nishina, free electrons at rest: no binding or Doppler broadening) and pair production
  with the NIST XCOM partial cross sections of xenon (``XCOM_XE`` below) at the registry gas
  density; coherent (Rayleigh) scattering is neglected (< 1 % of the attenuation at MeV, no
  energy deposit). Photoelectrons follow the Sauter distribution (sampled as in Geant4's
  G4SauterGavrilaAngularDistribution). After a K-shell photoabsorption (probability from the
  XCOM K-edge jump) a K X-ray of 29.8 keV is emitted with the fluorescence yield ω_K = 0.889 and
  transported like any photon (attenuation length ≈ 2 cm in 10 bar Xe: a separate small deposit
  a few cm away, or an escape); the rest of the binding energy is deposited on the spot (Auger
  and L-shell cascade). Kβ lines (about a fifth of the K X-rays, 33.6-34.4 keV; X-ray Data
  Booklet, LBNL, Table 1-2) are treated as Kα. Pair production (13-15 % of the first interactions
  at 2.45-2.61 MeV, XCOM): the kinetic energy E − 2 m is shared uniformly between electron and positron (a
  simplification of the Bethe-Heitler spectrum, a broad symmetric bump this close to threshold:
  J. W. Motz, H. A. Olsen, H. W. Koch, Rev. Mod. Phys. 41 (1969) 581), both emitted along the
  photon; the positron is tracked as an electron and annihilates at rest at the pair vertex into
  two back-to-back 511 keV photons (the positron's range is ignored for the annihilation point).
  Photons below 10 keV are absorbed on the spot (mean free path < 2 mm).
* **Electron transport**: continuous slowing down with the collision stopping power of xenon
  (``ESTAR_XE_COLLISION``: the NIST ESTAR / ICRU Report 37 collision stopping power, scaled by the
  gas density; CSDA range 16.4 cm at 1.23 MeV and 34.8 cm at 2.46 MeV in 58 kg/m3 Xe) in steps of
  ``RANGE_FRACTION`` of the residual CSDA range (≈ 12 % of the energy), at most ``MAX_STEP_MM``
  long, so the steps shrink near the end of the range and the energy density rises: the Bragg
  blob. Step energies are exact CSDA range differences. Multiple scattering: a deflection per step
  with the Highland width θ0 (PDG Review of Particle Physics 2022, "Passage of particles through
  matter", Eq. 34.15; X0 = 8.48 g/cm2), the space angle Rayleigh-distributed with that width.
  Not simulated: energy-loss straggling, delta rays (their energy stays on the track),
  bremsstrahlung (radiation yield ≈ 7 % at 2.5 MeV in Xe by the Koch-Motz estimate
  Y ≈ 6e-4 Z T / (1 + 6e-4 Z T), T in MeV; its energy stays on the track), and electrons leaving
  the active volume are not stopped but their deposits outside it are dropped (dead material).
  Tracking stops below ``TRACKING_CUT_KEV``; the rest is deposited on the spot.
* **Ionisation and drift**: N = ΔE / W electrons per step (registry ``w_value``) with Fano
  fluctuations (Gaussian of variance F N, registry ``fano_factor``), spread along the step as
  macro-electrons (stratified uniform positions; at most ``MACRO_ENERGY_KEV`` and
  ``MACRO_SPACING_MM`` apart, ≈ 500 per event): each carries an integer share of the step's
  electrons and diffuses as a unit, so the mean charge pattern is exact but the granularity
  noise per cell is larger than for single electrons (the price of ≥ 2,000 events/s). Drift to
  the readout plane (z = 0) at the registry drift velocity; transverse and longitudinal
  diffusion σ = D √L (registry; L = drift length in cm). No attachment (PX3 neither).
* **Readout** (PX3 Sec. 2, 3.1): X strips and Y strips at 3 mm pitch (``n_strips_x`` strips
  centred on the axis); each macro-electron's charge is split half-half between the X plane
  (strip of its x) and the Y plane (strip of its y), as on an XY-interleaved Micromegas that shares
  every cloud between the two strip sets. Time: 200 ns samples, 512 per event; the window is
  aligned so that the earliest arrival falls in sample ``n_baseline_bins`` = 100 (PX3: the first
  100 of the 512 samples are baseline), so 412 samples (15.4 cm of drift) follow it; charge later
  than sample 511 or outside the strip planes is lost and counted in ``charge_lost``. No noise,
  shaping, gain or zero suppression (PX3's electronics simulation is not reproduced). A hit is
  one (plane, strip, sample) cell with its summed charge in electrons.
* **Energy** (PX3 Sec. 3.1): the deposited energy in the active gas is smeared with a Gaussian of
  σ_E = (0.03 / 2.3548) √(Q E), i.e. 3 % FWHM at Q with a √E (counting-statistics) scaling; events
  with 2395 ≤ E_smeared ≤ 2520 keV (PX3 Sec. 3.2) are kept.

Output (``simulate_dataset``): ``tracks.root`` with the TTree ``events``, one entry per ROI event,
and ``dataset.json`` (counts, generated primaries, ROI efficiency per source, timings). Branches:

=================  ==========  =====  ==========================================================
branch             type        unit   meaning
=================  ==========  =====  ==========================================================
run, event         uint32/64   —      key; events numbered from 0 in file order
label              int32       —      1 = 0νββ, 0 = γ background
source             int32       —      0 = 0νββ, 1 = ²¹⁴Bi, 2 = ²⁰⁸Tl
energy_true        float32     keV    energy deposited in the active gas
energy             float32     keV    energy_true smeared (3 % FWHM at Q)
vertex_x/y/z       float32     mm     0νββ vertex; γ entry point on the active-volume boundary
                                      (z = 0 at the readout plane, −drift_length at the cathode)
window_start       float32     µs     drift time of the start of sample 0 (truth: absolute z of a
                                      hit = −v_d (window_start + hit_time))
track_length_mm    float32     mm     summed path length of all electrons (contained steps)
track_extent_mm    float32     mm     diagonal of the 3-D bounding box of the deposits
blob1_fraction     float32     —      energy within ``BLOB_RADIUS_MM`` of the track end with more
                                      energy / energy_true (0νββ: the two electron ends; γ: the
                                      start and end of the most energetic electron)
blob2_fraction     float32     —      the same for the other end
n_interactions     int32       —      photon interactions in the gas (0 for 0νββ)
n_xrays            int32       —      Xe K X-rays emitted
n_electrons        float32     e⁻     ionisation electrons produced (after Fano fluctuations)
charge_lost        float32     e⁻     of which outside the time window or the strip planes
n_hits             int32       —      number of hits (= nhit, docs/event-model.md's name)
nhit               int32       —      number of hits (counter of the hit_* branches)
hit_plane          int32[]     —      0 = X strips (coordinate x), 1 = Y strips (coordinate y)
hit_strip          float32[]   mm     strip centre coordinate
hit_time           float32[]   µs     centre of the sample, from the start of the window
hit_charge         float32[]   e⁻     electrons in the cell
=================  ==========  =====  ==========================================================

Hits are sorted by (plane, strip, time) within an event; Σ hit_charge + charge_lost =
n_electrons. Events are written source by source in chunks (0νββ, ²¹⁴Bi, ²⁰⁸Tl, 0νββ, …): shuffle
before splitting into training sets. The file is LZ4-compressed (≈ 2.4 kB per event).

Speed (``bench/bench_pandax3.py``): 2,000-2,700 ROI events per CPU second in the default 1:1 mix,
file included, on one core of the shared 2-vCPU 2.6 GHz Xeon development machine (the spread is
the load of the other vCPU). ²⁰⁸Tl is the slowest source (≈ 400 γ per ROI event, and full-energy
events near the walls must be tracked to find those whose electrons leave the gas with
95-220 keV, ≈ 6 % of the ²⁰⁸Tl ROI events; the transport drops them as soon as that is
impossible). ``threads`` runs chunks in a thread pool (NumPy releases the GIL in its loops).

Modules: :mod:`.materials` (xenon tables), :mod:`.sources` (source codes, 0νββ kinematics),
:mod:`.transport` (primaries, photon interactions, electron transport), :mod:`.readout`
(ionisation, drift, strips and samples), :mod:`.simulator` (``TrackSimulator``: one chunk, the
chunk plan), :mod:`.writer` (``simulate_dataset``: ``tracks.root`` and ``dataset.json``).
"""

from __future__ import annotations

from .materials import csda_range_mm
from .simulator import Chunk, TrackSimulator
from .sources import SOURCE_BI214, SOURCE_TL208, SOURCE_ZERO_NU_BB, SOURCES, source_code
from .writer import simulate_dataset

__all__ = [
    "SOURCES",
    "SOURCE_BI214",
    "SOURCE_TL208",
    "SOURCE_ZERO_NU_BB",
    "Chunk",
    "TrackSimulator",
    "csda_range_mm",
    "simulate_dataset",
    "source_code",
]
