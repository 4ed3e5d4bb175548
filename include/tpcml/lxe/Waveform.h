// tpcml -- PMT pulses as a digitiser sees them: per-channel digitised waveforms of one S1 or S2,
// their sums (all, top, bottom), peak finding and S1/S2 identification.
//
// Input: the detected photons of one signal, (channel, time in ns at the photocathode).
// For each photon (in input order, from the signal's own random stream):
//   * transit-time spread: t += Gaussian(0, sigma_TTS) (FWHM given);
//   * double-photoelectron emission: a second PE with probability p_dpe (same time);
//   * each PE's area (PE units) ~ Gaussian(1, spe_resolution) truncated to > 0 (redrawn);
//   * the PE charge (area x gain electrons) is spread over the digitiser samples by the single-PE
//     current template, integrated exactly over each sample (PE times rounded to time_rounding,
//     one precomputed template per sub-sample phase);
// then per channel (ascending channel number): ADC counts = charge / adc_to_electrons per sample
// (baseline subtracted, pulses positive), + Gaussian baseline noise (drawn from a table of 4096
// standard-normal quantiles: tails beyond 3.7 sigma cut), rounded to integer counts,
// clipped to the digitiser range [-(2^bits - baseline), baseline]; zero-length encoding keeps the
// samples within [-zle_pre, +zle_post] samples of any sample above zle_threshold and drops the rest
// (a channel that never crosses it is dropped). Noise is generated only in each hit channel's
// window (its PEs' extent plus the ZLE margins): noise-only ZLE triggers are not simulated.
// Kept samples are converted back to PE (x adc_to_electrons / gain), as a processor's to_pe does.
//
// Peak finding (after strax/straxen, XENONnT/straxen plugins peaklets.py, and PaX's hit
// clustering): hits are runs of kept samples above hit_threshold (ADC) in a channel; hits sorted
// by start are clustered while the gap to the running cluster end is <= gap_threshold; a peak spans
// its hits extended by left/right_extension (never overlapping the previous peak). On the summed
// waveform: area, top area, time of the maximum, area quantiles (linear inside a sample):
//   width50       t(75% area) - t(25% area)         (strax range_50p_area)
//   riseTime      t(50% area) - t(10% area)         (strax rise_time)
//   riseTime1090  leading-edge time from 10% to 90% of the maximum sample (interpolated)
//   nChannels     channels with a hit in the peak; tightCoincidence: those whose hit maximum lies
//                 within +- tight_coincidence_window of the peak maximum.
// Classification (straxen PeakletClassification): S1 when tightCoincidence >= s1_coincidence_level
// and riseTime <= s1_max_rise_time (s1_max_rise_time_large above s1_large_area PE); otherwise S2
// when nChannels >= s2_min_channels; otherwise unknown.
//
// Randomness: signal i of a batch draws from its own stream (seed, i) (src/core/Random.h), so a
// batch gives the same waveforms whatever the thread count and call order.
#ifndef TPCML_LXE_WAVEFORM_H
#define TPCML_LXE_WAVEFORM_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tpcml {

class DetectorConfig;
namespace detail {
class Rng;
}

/// Single-PE current template: current[k] is the fraction of the PE charge in [t0 + k step,
/// t0 + (k+1) step) ns; normalised to 1 by the simulator.
struct SpeTemplate {
   double t0 = 0.;   ///< ns, start of the first bin relative to the PE time
   double step = 1.; ///< ns
   std::vector<double> current;
   /// Hamamatsu R11410-21 (XENON1T): XENON1T WFSim config fax_config_1t.json, keys pe_pulse_ts
   /// (-12 .. 196 ns in 1 ns steps) and pe_pulse_ys (XENONnT/strax_auxiliary_files,
   /// sim_files/fax_config_1t.json): a ~3 ns rise, ~11 ns decay and a ~20% tail to ~200 ns.
   static SpeTemplate xenon1tR11410();
};

/// Parameters of the pulse simulation and the peak finder, every default with its source.
struct WaveformParams {
   // --- PMT
   /// Double-photoelectron emission probability of an R11410 at 175 nm: 18-24% (Faham et al., JINST 10
   /// (2015) P09010, abstract); 0.20 is the middle of that range (the XENON1T WFSim config key
   /// p_double_pe_emision uses 0.15).
   double pDpe = 0.20;
   /// Single-PE area resolution sigma/mean: 0.4 (NEST detector file XENONnT_SR0.hh, sPEres, noted there as
   /// a XENON1T value; also xenon1t.toml single_electron_gain_width).
   double speResolution = 0.4;
   /// Transit-time spread, FWHM, ns: XENON1T WFSim config fax_config_1t.json, key pmt_transit_time_spread.
   double transitTimeSpreadFwhm = 13.6;
   /// PMT gain, electrons per PE. Approx. (assumption): R11410-21 operated at a few 10^6 in XENON1T; the
   /// per-channel gains are not shipped here. Only the ADC scale (ZLE and hit thresholds in PE) depends on it.
   double gain = 2.0e6;
   SpeTemplate speTemplate = SpeTemplate::xenon1tR11410();
   // --- digitiser (CAEN V1724 of XENON1T)
   /// Sample length, ns: XENON1T WFSim config fax_config_1t.json, key sample_duration (10 ns).
   double samplingPeriod = 10.;
   /// Electrons per ADC count x sample: straxen ADC_TO_E = 17142.81741 (XENONnT/straxen, common.py;
   /// 2.25 V / 2^14 over 50 Ohm x 10 amplification x 10 ns / e). Scale it with samplingPeriod if changed.
   double adcToElectrons = 17142.81741;
   /// Digitiser bits and baseline: WFSim 1T keys digitizer_bits (14), digitizer_reference_baseline (16000).
   int digitizerBits = 14;
   int referenceBaseline = 16000;
   /// Baseline noise RMS, ADC counts. Approx. (assumption): a few counts, well below the ZLE threshold (the
   /// WFSim 1T config disables its noise, enable_noise = false, and samples real noise instead).
   double baselineNoise = 2.0;
   /// ZLE threshold, ADC counts above baseline: WFSim 1T key zle_threshold (15).
   double zleThreshold = 15.;
   /// Samples kept before / after a sample above threshold: WFSim 1T keys samples_to_store_before/after (50).
   int zlePreSamples = 50;
   int zlePostSamples = 50;
   /// PE times rounded to this (ns) before the template is applied: WFSim 1T key pmt_pulse_time_rounding (1 ns).
   double timeRounding = 1.;
   // --- peak finder and classification
   /// Hit threshold, ADC counts (straxen's XENON1T hit_min_amplitude is per channel; the ZLE threshold here).
   double hitThreshold = 15.;
   /// ns without hits that ends a peak: straxen XENON1T context, peaklet_gap_threshold = 350.
   double gapThreshold = 350.;
   /// Extensions of a peak beyond its hits, ns: straxen Peaklets plugin defaults peak_left_extension = 30,
   /// peak_right_extension = 200 (the XENON1T context used 30 ns on the right after a digital filter
   /// that is not simulated here; 200 ns keeps the ~25% of the R11410 pulse area in its long tail).
   double leftExtension = 30.;
   double rightExtension = 200.;
   /// Tight-coincidence half window, ns: straxen tight_coincidence_window_left/right (50 ns).
   double tightCoincidenceWindow = 50.;
   /// Minimum tight coincidence of an S1: straxen XENON1T context, s1_min_coincidence = 3.
   int s1CoincidenceLevel = 3;
   /// Maximum S1 rise time (t50 - t10), ns: straxen XENON1T context s1_max_rise_time = 60 (< 100 PE) and
   /// s1_max_rise_time_post100 = 150 (> 100 PE).
   double s1MaxRiseTime = 60.;
   double s1MaxRiseTimeLarge = 150.;
   double s1LargeArea = 100.;
   /// Minimum channels of an S2: straxen PeakletClassification s2_min_pmts = 4.
   int s2MinChannels = 4;

   /// Throws UsageError naming the first bad parameter and the value it has.
   void validate() const;
   /// Defaults overridden by a registry detector's keys where present (documented in the handoff /
   /// docs): sampling_period, pmt_transit_time_spread, pmt_spe_resolution, s1_coincidence_level,
   /// pmt_double_pe_probability, pmt_gain, digitizer_zle_threshold (ADC), digitizer_baseline_noise (ADC).
   static WaveformParams fromDetector(const DetectorConfig &detector);
};

/// A ZLE-kept stretch of one channel: samples [start, start + length) of the signal window.
struct ChannelPulse {
   int channel = 0;
   std::int64_t start = 0;
   std::int32_t length = 0;
   std::size_t offset = 0; ///< first sample in SignalWaveforms::pulseData
};

enum class PeakType : int { kUnknown = 0, kS1 = 1, kS2 = 2 };

struct Peak {
   std::int64_t start = 0, end = 0; ///< samples of the signal window, end exclusive
   float area = 0.f, areaTop = 0.f; ///< PE
   float timeMax = 0.f;             ///< ns from the window origin (centre of the maximum sample)
   float width50 = 0.f, riseTime = 0.f, riseTime1090 = 0.f; ///< ns
   int nChannels = 0, tightCoincidence = 0;
   PeakType type = PeakType::kUnknown;
};

/// The digitised waveforms of one signal.
struct SignalWaveforms {
   double origin = 0.;                        ///< ns: start of sample 0 (same time axis as the input photon times)
   double dt = 0.;                            ///< ns per sample
   std::vector<ChannelPulse> pulses;          ///< ordered by channel, then start
   std::vector<float> pulseData;              ///< PE per sample of all pulses
   std::vector<float> channelArea;            ///< PE per channel after ZLE (nChannels entries)
   std::vector<int> channelPe;                ///< photoelectrons per channel, DPE included
   std::vector<float> sum, sumTop, sumBottom; ///< PE per sample over the window
   std::vector<Peak> peaks;                   ///< in time order
   int largestS1 = -1, largestS2 = -1;        ///< index in peaks, -1 when none
};

/// kChannels: every channel is digitised (noise, ADC counts, ZLE) and the kept samples are summed.
/// kSummed: the fast path for large signals (S2s, whose channels all cross the ZLE threshold): the
/// PEs' templates go straight into the summed waveforms, with no per-channel rounding or ZLE (every
/// channel counts as kept, no pulses are stored); baseline noise is added to the top and bottom sums
/// with the variance of the channels whose ZLE windows would cover each sample (sigma^2 + 1/12
/// counts^2 each: noise and rounding); the peak finder's hits are the PEs whose pulse maximum crosses
/// hit_threshold (one hit of two samples each); channelArea is the PEs' area.
enum class WaveformMode : int { kChannels = 0, kSummed = 1 };

/// How simulateElectroluminescence makes an S2 from its electrons.
/// kPhotons: photon by photon (each electron yields Poisson(mu) photons, uniform during its
/// electroluminescence, channel drawn from the pattern), then simulate(..., kSummed).
/// kPhotonsChannels: the same photons, simulate(..., kChannels) (per-channel pulses, for displays).
/// kBinned: the fast path for large S2s, cost O(window in samples + channels) instead of O(photons):
///   1. expected photon count per digitiser sample: each electron adds mu / t_EL per ns over
///      [t_e, t_e + t_EL), the two partly covered samples by their overlap;
///   2. the sub-sample phase of each photon and the transit-time spread are not drawn: the bins go
///      through the single-PE template averaged over a uniform phase and convolved with the TTS
///      Gaussian (precomputed; a Poisson process whose points are displaced independently stays a
///      Poisson process, and an S2 rises over hundreds of ns, so within a 10 ns sample the photon
///      times are uniform to a good approximation);
///   3. photons per bin ~ Poisson(rate x top fraction) on the top array and Poisson(rate x
///      bottom fraction) on the bottom array (Gaussian approximation above a mean of 30);
///   4. each array's photon total is split over its channels multinomially (sequential
///      binomials), each channel's photons gain DPE (Binomial(c, p_dpe)) and a summed SPE area
///      (exact below 8 PEs, Gaussian with the truncated-Gaussian mean and variance above):
///      channelArea / channelPe;
///   5. each bin carries (its photons) x (array area / array photons) PE: the summed
///      waveforms' shape comes from the binned photons, their areas are exactly the channels';
///      the bins go through the phase- and TTS-averaged single-PE template of step 2;
///   6. baseline noise as kSummed, with every hit channel's ZLE window taken as the whole
///      signal (slightly more noise at the edges than kSummed);
///   7. peak-finder hits: up to 4 per channel (min(photons, 4)), in samples drawn from the binned
///      rate at a uniform sub-sample phase: nChannels is exact, the tight coincidence approximate (fine for S2s: they
///      fail the S1 rise-time cut by a wide margin). Checked against kPhotons in tests/cpp/test_waveform.cpp.
enum class S2Path : int { kPhotons = 0, kPhotonsChannels = 1, kBinned = 2 };

class WaveformSimulator {
public:
   /// Channels [0, nTop) are the top array, [nTop, nTop + nBottom) the bottom array.
   WaveformSimulator(std::size_t nTop, std::size_t nBottom, WaveformParams params = {});
   /// Channel counts from n_pmt_top / n_pmt_bottom, parameters from WaveformParams::fromDetector.
   explicit WaveformSimulator(const DetectorConfig &detector);

   const WaveformParams &params() const { return m_p; }
   std::size_t nChannels() const { return m_nTop + m_nBottom; }
   std::size_t nTop() const { return m_nTop; }
   /// Area of one PE in ADC counts x samples (gain / adc_to_electrons).
   double adcPerPe() const { return m_adcPerPe; }

   /// One signal: n detected photons (channel, time ns); random stream (seed, index).
   SignalWaveforms simulate(const int *channel, const float *time, std::size_t n, std::uint64_t seed,
                            std::uint64_t index, WaveformMode mode = WaveformMode::kChannels) const;
   /// Signal i has the photons [offsets[i], offsets[i + 1]) and stream (seed, i).
   std::vector<SignalWaveforms> simulateBatch(const int *channel, const float *time, const std::int64_t *offsets,
                                              std::size_t nSignals, std::uint64_t seed, unsigned threads = 1,
                                              WaveformMode mode = WaveformMode::kChannels) const;
   /// Peak finding and classification on w's pulses and sums (simulate calls it).
   void findPeaks(SignalWaveforms &w) const;
   /// Each channel's ZLE-kept area (PE) inside peak pk of w, from w's pulses, into out (nChannels() values).
   void peakChannelAreas(const SignalWaveforms &w, const Peak &pk, double *out) const;
   /// Electroluminescence S2 of n electrons reaching the liquid surface at electronTime (ns): each
   /// yields Poisson(photonsPerElectron) detected photons (before DPE: g2-like gains that count DPE
   /// must be divided by 1 + p_dpe by the caller), emitted uniformly over elTime ns, landing on
   /// channel k with probability channelProb[k] / sum (nChannels() values). Random stream (seed,
   /// index); see S2Path.
   SignalWaveforms simulateElectroluminescence(const double *electronTime, std::size_t n, double photonsPerElectron,
                                               double elTime, const double *channelProb, std::uint64_t seed,
                                               std::uint64_t index, S2Path path = S2Path::kBinned) const;

private:
   struct Scratch;
   /// Sample of a PE at time t (ns) and its sub-sample phase (time_rounding steps; rounded to nearest).
   std::pair<std::int64_t, int> samplePhase(double t) const;
   void simulateSummed(SignalWaveforms &w, Scratch &s, std::int64_t first, detail::Rng &rng) const;
   void addSummedNoise(SignalWaveforms &w, const std::vector<int> &activeTop, const std::vector<int> &activeBottom,
                       detail::Rng &rng) const;
   void simulateBinned(SignalWaveforms &w, const double *electronTime, std::size_t n, double mu, double elTime,
                       const double *channelProb, detail::Rng &rng) const;
   void simulateInto(SignalWaveforms &w, Scratch &s, const int *channel, const float *time, std::size_t n,
                     std::uint64_t seed, std::uint64_t index, WaveformMode mode) const;

   WaveformParams m_p;
   std::size_t m_nTop = 0, m_nBottom = 0;
   double m_adcPerPe = 0., m_ttsSigma = 0.;
   int m_nPhase = 1;
   std::int64_t m_templateFirst = 0; ///< sample offset (from the PE's sample) of each phase table's first entry
   int m_templateLength = 0;         ///< entries per phase table
   std::vector<float> m_phaseTables; ///< [phase][m], fraction of the PE charge in sample first + m
   std::vector<float> m_phasePeak;   ///< [phase] largest entry of the phase table
   std::vector<int> m_phasePeakAt;   ///< [phase] its m
   /// Binned S2 path: the PE template averaged over a uniform sub-sample phase and the transit-time spread
   /// (Gaussian, sigma_TTS), so photons binned per sample need neither a phase nor a jitter of their own.
   std::int64_t m_s2TemplateFirst = 0;
   std::vector<float> m_s2Template; ///< [m] expected fraction of a PE's charge in sample first + m
};

/// ER/NR pulse-shape hook: LXe scintillation emission times, singlet/triplet exponentials with a
/// recoil- and energy-dependent singlet/triplet ratio, after the LUX measurement (Akerib et al.,
/// PRD 97 (2018) 112002, arXiv:1802.06162) as NEST v2 parametrises it (NESTCollaboration/nest,
/// src/NEST.cpp, NESTcalc::PhotonTime):
///   tau_singlet = 3.27 ns, tau_triplet = 23.97 ns (LUX);
///   NR: singlet/triplet ratio 0.15 E^0.15 (E in keV; LUX, first NR measurement below 74 keV);
///   ER: ratio 0.015 E^-0.12 for photons of direct excitons and 0.069 E^-0.12 for recombination
///   photons ("mixing arXiv:1802.06162 with Kubota 1979" in NEST), the recombination photons delayed by
///   tau_R (1/u - 1), u uniform, tau_R = 0.5 exp(-0.009 F[V/cm]) (7.3138 + 3.8431 log10 E) ns
///   (Mock et al., JINST 9 (2014) T04002, arXiv:1310.1117, as NEST v2 uses it), redrawn above
///   maximum_recombination_time = 1000 ns (XENON1T WFSim config fax_config_1t.json, same key).
/// The difference is weak: singlet fractions of ~0.15-0.2 (NR) against ~0.01-0.05 (ER) at 1-100 keV,
/// and LUX found that pulse shape adds at most a factor ~2 in NR signal-to-noise to charge-to-light
/// discrimination (PRD 97 (2018) 112002, abstract); Hogenbirk et al. (JINST 13 (2018) P10031,
/// arXiv:1803.07935) found the gain marginal even at 2 ns resolution. (The older ratios 7.8 for NR and
/// 0.17 for ER of NEST v1 / the WFSim 1T "simple" S1 model overstate it.)
struct ScintillationTiming {
   double tauSinglet = 3.27;   ///< ns
   double tauTriplet = 23.97;  ///< ns
   double nrRatioScale = 0.15; ///< NR singlet/triplet = scale E^power
   double nrRatioPower = 0.15;
   double erExcitonRatioScale = 0.015;       ///< ER excitons: scale E^erRatioPower
   double erRecombinationRatioScale = 0.069; ///< ER recombination photons: scale E^erRatioPower
   double erRatioPower = -0.12;
   double recombinationTimeScale = 0.5;          ///< ns
   double recombinationFieldCoefficient = 0.009; ///< per V/cm
   double recombinationTimeOffset = 7.3138;
   double recombinationTimeSlope = 3.8431; ///< per decade of keV
   double maxRecombinationTime = 1000.;    ///< ns

   /// Singlet fraction r / (1 + r) of a photon: NR, or ER from an exciton (exciton) or from recombination.
   double singletFraction(bool isNR, double energyKeV, bool exciton = true) const;
   /// ER recombination time tau_R (ns) at energy E (keV) and drift field F (V/cm).
   double recombinationTime(double energyKeV, double fieldVcm) const;
   /// Emission times (ns after the interaction) of nExcitons exciton photons then nRecombined recombination
   /// photons (NR: all prompt, no recombination delay) into out (nExcitons + nRecombined values);
   /// random stream (seed, index).
   void emissionTimes(bool isNR, double energyKeV, double fieldVcm, std::size_t nExcitons, std::size_t nRecombined,
                      std::uint64_t seed, std::uint64_t index, float *out) const;
   /// Throws UsageError naming the first bad parameter.
   void validate() const;
};

} // namespace tpcml

#endif // TPCML_LXE_WAVEFORM_H
