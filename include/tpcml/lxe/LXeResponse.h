// tpcml -- detector response of a dual-phase LXe TPC: from quanta to the signal features of
// PandaX-II's Table 1 (and, later, the per-PMT patterns of the XENON and DARWIN studies).
//
// One engine, configured by a registry detector (every number from its TOML file):
//
// S1. Each of the n_ph photons of an interaction at P is detected with probability
//     g1(P) / (1 + p_dpe), g1(P) = g1 * LCE_rel(P) (binomial; g1 counts PE including the double-PE
//     emission that the digitisation adds, p_dpe = pmt_double_pe_probability); each detected photon
//     lands on PMT i with probability LCE_i(P) / LCE(P) (LXeOptics); its time is the scintillation
//     delay (singlet/triplet exponentials, per-event singlet fraction). The photons are digitised by
//     WaveformSimulator (per channel: TTS, DPE, SPE area, template, noise, ZLE; peaks, S1/S2
//     classification: tpcml/lxe/Waveform.h). The S1 is the largest peak of its window: found when
//     that peak is classified S1 (tight coincidence >= s1_coincidence_level, S1 rise time); its
//     features come from the peak (channel areas inside it, its summed waveform).
// S2. Electrons survive the drift with exp(-t_d / electron_lifetime) and are extracted with
//     extraction_efficiency (binomials); they reach the surface at t_d + Gaussian(sigma_t),
//     sigma_t = sqrt(2 D_L t_d) / v_d (longitudinal diffusion). Each extracted electron yields
//     Poisson(single_electron_gain * U_S2(x, y)) PE, emitted uniformly during its transit of
//     the gas gap (s2_electroluminescence_time), split over the PMTs by the S2 pattern.
// S2 waveforms are the PE areas summed over all PMTs in samples of sampling_period, each PE
// shared linearly between its two nearest samples.
// Features (docs/event-model.md §3):
//   qS1, qS2     sums of PE areas
//   S1TBA, S2TBA (q_T - q_B) / (q_T + q_B)
//   S1LargestBCQ largest bottom-PMT area / qS1
//   wS1          FWHM of the largest peak's summed waveform (linear interpolation of the crossings)
//   S1NPeaks     peaks found in the S1's window (WaveformSimulator hit clustering)
//   S2SY1        area before the highest sample / qS2, raw S2 waveform
//   S2SY2        same on the waveform smeared by a Gaussian of s2_smoothing_sigma
//                (three box filters, Wells 1986)
//   wS2, wtenS2  full widths at 1/2 and 1/10 of the maximum of the smeared S2 waveform
//   x, y         Poisson maximum-likelihood fit of the S2 top-array pattern to the optics
//                model (pattern search from the centroid around the brightest PMT)
//   drift_time   S2 mean PE time - half the electroluminescence time (S1 at t = 0)
// Every event i of a batch draws from its own random stream (seed, i): results do not depend
// on the number of threads.
#ifndef TPCML_LXE_RESPONSE_H
#define TPCML_LXE_RESPONSE_H

#include "tpcml/lxe/LXeOptics.h"
#include "tpcml/lxe/PositionCorrections.h"
#include "tpcml/lxe/Waveform.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tpcml {

class DetectorConfig;
namespace detail {
class Rng;
}

/// S1 features of a batch of signals (one entry per signal).
struct S1Batch {
   std::vector<float> qS1, wS1, S1TBA, S1LargestBCQ;
   std::vector<int> S1NPeaks, nPmtHit;
   std::vector<std::uint8_t> found; ///< coincidence requirement met
   std::vector<float> pmtArea;      ///< optional: n * nPmt (top first), filled when requested
   void resize(std::size_t n, std::size_t nPmtStored);
   std::size_t size() const { return qS1.size(); }
};

/// S2 features of a batch of signals.
struct S2Batch {
   std::vector<float> qS2, wS2, wtenS2, S2TBA, S2SY1, S2SY2, x, y, driftTime;
   std::vector<int> nElectrons; ///< extracted electrons
   std::vector<float> pmtArea;  ///< optional: n * nPmt (top first)
   void resize(std::size_t n, std::size_t nPmtStored);
   std::size_t size() const { return qS2.size(); }
};

class LXeResponse {
public:
   explicit LXeResponse(const DetectorConfig &detector);

   const LXeOptics &optics() const { return m_optics; }
   const PositionCorrections &corrections() const { return m_corr; }
   const WaveformSimulator &waveforms() const { return m_wf; }
   std::size_t nPmt() const { return m_optics.nPmt(); }

   /// Scintillation S1s of interactions at (x, y, z) with nPhotons photons each and the given
   /// singlet fraction (ER/NR differ).
   S1Batch scintillationS1(const float *x, const float *y, const float *z, const int *nPhotons,
                           const float *singletFraction, std::size_t n, std::uint64_t seed, unsigned threads = 1,
                           bool storePmtAreas = false) const;
   /// Coincident dark counts: nPmts[i] distinct PMTs, one PE each, uniform in the coincidence window.
   S1Batch darkNoiseS1(const int *nPmts, std::size_t n, std::uint64_t seed, unsigned threads = 1,
                       bool storePmtAreas = false) const;
   /// Single extracted electrons taken for S1s: electroluminescence light of one electron at (x, y).
   S1Batch singleElectronS1(const float *x, const float *y, std::size_t n, std::uint64_t seed, unsigned threads = 1,
                            bool storePmtAreas = false) const;
   /// S2s of nElectrons ionisation electrons produced at (x, y) with true drift time driftTime (us).
   S2Batch driftedS2(const float *x, const float *y, const float *driftTime, const int *nElectrons, std::size_t n,
                     std::uint64_t seed, unsigned threads = 1, bool storePmtAreas = false) const;
   /// S2s of single-electron trains: nElectrons electrons at (x, y) already at the surface, arriving uniformly over
   /// [0, spanUs] (emission at a rate constant over the train; sources in LXeResponse.cxx, trainTimes).
   S2Batch electronTrainS2(const float *x, const float *y, const int *nElectrons, double spanUs, std::size_t n,
                           std::uint64_t seed, unsigned threads = 1, bool storePmtAreas = false) const;
   /// The same trains' light through the S1 digitisation and classification (is a train ever taken for an S1?).
   S1Batch electronTrainS1(const float *x, const float *y, const int *nElectrons, double spanUs, std::size_t n,
                           std::uint64_t seed, unsigned threads = 1, bool storePmtAreas = false) const;

   /// Probability that an S1 photon at (x, y, z) gives a detected photon: g1 x relative light collection /
   /// (1 + p_dpe), because g1 counts PE including the double-PE emission the digitiser adds.
   double s1DetectionProbability(double x, double y, double z, double pDpe) const
   {
      const double p = m_g1 * m_corr.s1Relative(x, y, z) / (1. + pDpe);
      return p < 1. ? p : 1.;
   }
   /// Mean detected electroluminescence photons of one extracted electron at (x, y) (same DPE convention).
   double s2PhotonsPerElectron(double x, double y, double pDpe) const
   {
      return m_seg * m_corr.s2Relative(x, y) / (1. + pDpe);
   }

   /// Reconstructed (x, y) from the top-array PMT areas (nTop values, top array order):
   /// Poisson maximum likelihood against the optics model. `buf` is scratch (nPmt values).
   void reconstructXY(const double *topArea, double topSum, std::vector<double> &buf, double &x, double &y) const;

private:
   struct Scratch;
   void finishS1(Scratch &s, S1Batch &out, std::size_t i, bool store, std::uint64_t waveSeed) const;
   void finishS2(Scratch &s, S2Batch &out, std::size_t i, bool store, detail::Rng &rng) const;

   LXeOptics m_optics;
   PositionCorrections m_corr;
   WaveformSimulator m_wf; ///< S1 digitisation, peaks and classification
   double m_g1 = 0., m_seg = 0., m_speRes = 0., m_ttsSigma = 0., m_dt = 0.;
   double m_tauSinglet = 0., m_tauTriplet = 0., m_coincWindow = 0.;
   int m_coincLevel = 1;
   double m_elTime = 0., m_smoothSigma = 0.;
   double m_eee = 0., m_diffL = 0.; ///< electron lifetime and drift velocity: m_corr
   double m_neighbourRadius = 0.;   ///< start of the xy fit: brightest PMT and neighbours
   int m_patternN = 0;              ///< tabulated normalised top S2 pattern: N x N grid
   double m_patternStep = 0.;
   std::vector<float> m_pattern; ///< [ix][iy][pmt]
};

} // namespace tpcml

#endif // TPCML_LXE_RESPONSE_H
