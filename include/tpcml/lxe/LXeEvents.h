// tpcml -- full-event simulation of a dual-phase LXe TPC (XENON1T, XENONnT, DARWIN, PandaX-II):
// from an interaction's vertex and quanta to the observables of the LXe events tree
// (docs/event-model.md; per-PMT S1/S2 areas, the largest S1/S2 peak waveforms, corrected areas,
// reconstructed position). One kernel composed of the engine's parts, no second copy of their logic:
//
// S1. LXeOptics::s1Collection gives the per-PMT probabilities at (x, y, z); each of the n_photons
//     photons is detected with probability g1 * LCE_rel(x, y, z) / (1 + p_dpe): the registry's g1
//     (XENON's PE per photon) counts photoelectrons INCLUDING the double-photoelectron emission
//     that WaveformSimulator adds (p_dpe = pmt_double_pe_probability), so the photon detection
//     probability is g1 / (1 + p_dpe) and the mean S1 area stays g1 x n_photons.
//     Emission times: ScintillationTiming (LUX-calibrated singlet/triplet, ER recombination delay;
//     NR prompt); the detected photons are split into exciton and recombination photons by the
//     caller's n_excitons (binomially, fraction n_excitons / n_photons).
//     Digitisation: WaveformSimulator per channel (kChannels: DPE, SPE areas, TTS, noise, ZLE),
//     peak finding and S1/S2 classification.
// S2. Electrons survive the drift with exp(-t_d / tau) and are extracted with extraction_efficiency
//     (binomials), arrive at t_d + Gaussian(sqrt(2 D_L t_d) / v_d) (longitudinal diffusion), each
//     yields Poisson(single_electron_gain * U_S2(x, y) / (1 + p_dpe)) detected photons (the SE gain
//     is in PE, DPE included) spread over the PMTs by LXeOptics::s2Collection and uniformly over
//     s2_electroluminescence_time: WaveformSimulator::simulateElectroluminescence, S2Path::kBinned
//     above s2_fast_threshold expected photons (the fast path, see Waveform.h), kPhotons below.
//     Events whose per-PMT waveforms are kept: the S1 rows are the event's own pulses; the S2 rows
//     come from digitising the same electrons again channel by channel (kPhotonsChannels, own
//     stream): equal to the event's S2 in distribution, not sample by sample, so that keeping
//     waveforms never changes an event's columns.
// Event. The largest S1 peak of the S1 window and the largest S2 peak of the S2 window (S1 and S2
//     are digitised in separate windows on one time axis, t = 0 at the interaction).
//     s1_pmt_area: each channel's ZLE-kept area inside the largest S1 peak; s1_area is their sum.
//     s2_pmt_area: with per-channel pulses (s2Path kPhotonsChannels forced) each channel's area inside the
//     largest S2 peak; on the summed paths (kPhotons, kBinned: no per-channel timing) each channel's area of
//     the whole S2 signal (noise-free) times the peak's share of the summed waveform's area (the S2
//     pattern does not change during the signal; a diffusion tail split off by the 350 ns gap rule
//     is a satellite peak). s2_area is their sum.
//     Trigger: at least s1_coincidence_level channels whose first hit (a sample above the hit
//     threshold) inside the S1 peak lies within s1_coincidence_window ns of each other (XENON1T:
//     3-fold; DARWIN's N4T200: 4-fold in 200 ns). Kept = triggered, an S1 peak and an S2 peak.
//     drift_time = S2 peak's mean time - t_EL / 2 - S1 peak's mean time; z = -v_d drift_time;
//     x, y = LXeResponse::reconstructXY on the S2 top-array per-PMT areas;
//     cS1 = s1_area / LCE_rel(x, y, z); cS2 = s2_area exp(t / tau) / U_S2(x, y); cS2_bottom the
//     same on the bottom-array S2 area (PositionCorrections, measured position).
//     Peak waveforms: the summed / top / bottom waveform of the peak, summed over f = ceil(L / 200)
//     samples (strax-like integer downsampling; PE per stored sample), dt = f x sampling_period,
//     t0 = start of the peak with t = 0 at the start of the largest S1 peak.
// Every event i draws from its own random streams (seed, purpose, i): the batch is the same on
// any number of threads.
#ifndef TPCML_LXE_EVENTS_H
#define TPCML_LXE_EVENTS_H

#include "tpcml/lxe/LXeResponse.h"
#include "tpcml/lxe/Waveform.h"

#include <cstdint>
#include <vector>

namespace tpcml {

class DetectorConfig;

/// Per-event inputs, n entries each (structure of arrays).
struct LXeEventInput {
   const float *x = nullptr, *y = nullptr, *z = nullptr; ///< vertex, mm (z < 0 below the gate)
   const float *driftTime = nullptr;                     ///< true drift time, us
   const int *nPhotons = nullptr, *nElectrons = nullptr; ///< quanta (NEST)
   const int *nExcitons = nullptr; ///< ER: exciton photons among n_photons (nullptr: all excitons)
   const int *recoil = nullptr;    ///< 0 ER, 1 NR
   const float *energy = nullptr;  ///< keV (pulse shape)
};

struct LXeEventOptions {
   int waveformSamples = 200;         ///< stored samples per peak waveform (strax peaks: 200)
   std::size_t pmtWaveformEvents = 0; ///< the first events whose per-PMT waveforms are kept
   double s2FastThreshold = 1000.;    ///< expected S2 photons above which S2Path::kBinned is used
   std::uint64_t firstIndex = 0;      ///< event i of the batch draws from streams (seed, purpose, firstIndex + i)
   bool forceS2Path = false;          ///< use s2Path for every event (tests)
   S2Path s2Path = S2Path::kBinned;
};

/// One row of the pmt_waveforms tree.
struct PmtWaveformRow {
   std::uint64_t event = 0; ///< firstIndex + index in the batch
   int signal = 0;          ///< 1 S1, 2 S2
   int channel = 0;
   float t0 = 0.f, dt = 0.f;
   std::vector<float> samples; ///< waveformSamples values
};

/// Outputs of a batch, one entry per generated event (kept says which pass).
struct LXeEventBatch {
   std::size_t nPmt = 0, nSamples = 0;
   std::vector<std::uint8_t> kept, triggered, hasS1, hasS2;
   std::vector<float> s1Area, s1AreaTop, s2Area, s2AreaTop, s1Width50, s1RiseTime, s2Width50, s2RiseTime;
   std::vector<int> s1NChannels, nPeaks;
   std::vector<float> x, y, driftTime, z, cS1, cS2, cS2Bottom;
   std::vector<float> s1PmtArea, s2PmtArea; ///< n x nPmt
   std::vector<float> s1Waveform, s1WaveformTop, s1WaveformBottom, s2Waveform, s2WaveformTop,
       s2WaveformBottom; ///< n x nSamples
   std::vector<float> s1WaveformDt, s2WaveformDt, s1WaveformT0, s2WaveformT0;
   std::vector<PmtWaveformRow> pmtWaveforms; ///< ordered by event, signal, channel
   void resize(std::size_t n, std::size_t nPmt, std::size_t nSamples);
   std::size_t size() const { return kept.size(); }
};

class LXeEventSimulator {
public:
   explicit LXeEventSimulator(const DetectorConfig &detector);

   const LXeResponse &response() const { return m_response; }
   const WaveformSimulator &waveforms() const { return m_wf; }
   const ScintillationTiming &timing() const { return m_timing; }
   std::size_t nPmt() const { return m_response.nPmt(); }

   /// n events; throws UsageError naming the event and the input on non-finite vertices, negative
   /// quanta, recoil not in {0, 1}, or an energy <= 0.
   LXeEventBatch simulate(const LXeEventInput &in, std::size_t n, std::uint64_t seed, unsigned threads = 1,
                          const LXeEventOptions &options = {}) const;

private:
   struct Scratch;
   void event(const LXeEventInput &in, std::size_t i, std::uint64_t seed, const LXeEventOptions &opt, Scratch &s,
              LXeEventBatch &out, std::vector<PmtWaveformRow> *rows) const;

   LXeResponse m_response;
   WaveformSimulator m_wf;
   ScintillationTiming m_timing;
   double m_eee = 0., m_diffL = 0., m_vd = 0., m_elTime = 0., m_field = 0.;
   double m_coincWindow = 0.;
   int m_coincLevel = 1;
};

} // namespace tpcml

#endif // TPCML_LXE_EVENTS_H
