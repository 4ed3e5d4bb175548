#include "tpcml/lxe/Waveform.h"

#include "core/Parallel.h"
#include "core/Random.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <utility>

namespace tpcml {

using detail::Rng;

namespace {
constexpr double kFwhmToSigma = 1. / 2.354820045; // 2 sqrt(2 ln 2)
/// Stream purposes (LXeResponse uses 1-5).
constexpr std::uint64_t kWaveformPurpose = 16;
constexpr std::uint64_t kEmissionPurpose = 17;
constexpr std::uint64_t kElectroluminescencePurpose = 18;

/// XENON1T WFSim config fax_config_1t.json, key pe_pulse_ys (XENONnT/strax_auxiliary_files,
/// sim_files/fax_config_1t.json), 6 significant digits; bins of 1 ns from -12 ns (key pe_pulse_ts).
constexpr double kR11410Template[] = {
    1.18008e-13, 2.0151e-11,  1.79966e-09, 8.48007e-08, 2.1437e-06,  3.0103e-05,  0.000252465, 0.00142373,  0.00594659,
    0.0181028,   0.0378551,   0.0548947,   0.0607148,   0.0584407,   0.0538666,   0.0492851,   0.0450636,   0.0412024,
    0.037672,    0.0344442,   0.0314929,   0.0287945,   0.0263273,   0.0240715,   0.0220089,   0.0201231,   0.0183989,
    0.0168224,   0.015381,    0.0137867,   0.0123374,   0.00632022,  0.00594109,  0.00556196,  0.00518283,  0.00480369,
    0.00442456,  0.00404543,  0.0036663,   0.00330304,  0.00295565,  0.00289396,  0.00283228,  0.0027706,   0.00270891,
    0.00264723,  0.00258555,  0.00252386,  0.00246218,  0.00240162,  0.00234217,  0.00230291,  0.00226365,  0.00222439,
    0.00218512,  0.00214586,  0.0021066,   0.00206734,  0.00202807,  0.00198975,  0.00195235,  0.00193178,  0.00191121,
    0.00189064,  0.00187006,  0.00184949,  0.00182892,  0.00180834,  0.00178777,  0.00176728,  0.00174686,  0.00172786,
    0.00170885,  0.00168984,  0.00167084,  0.00165183,  0.00163283,  0.00161382,  0.00159481,  0.00157618,  0.00155793,
    0.00154645,  0.00153496,  0.00152348,  0.001512,    0.00150051,  0.00148903,  0.00147755,  0.00146606,  0.00145457,
    0.00144307,  0.00143142,  0.00141978,  0.00140813,  0.00139649,  0.00138484,  0.0013732,   0.00136155,  0.0013499,
    0.00133936,  0.00132993,  0.00134038,  0.00135084,  0.00136129,  0.00137175,  0.00138221,  0.00139266,  0.00140312,
    0.00141357,  0.00142454,  0.00143603,  0.00145681,  0.0014776,   0.00149838,  0.00151916,  0.00153994,  0.00156072,
    0.00158151,  0.00160229,  0.00162151,  0.00163918,  0.00162885,  0.00161852,  0.00160819,  0.00159786,  0.00158753,
    0.00157719,  0.00156686,  0.00155653,  0.00154541,  0.00153349,  0.00150735,  0.0014812,   0.00145505,  0.0014289,
    0.00140275,  0.00137661,  0.00135046,  0.00132431,  0.00129885,  0.00127406,  0.00126155,  0.00124903,  0.00123652,
    0.00122401,  0.00121149,  0.00119898,  0.00118647,  0.00117395,  0.00116216,  0.00115108,  0.00115291,  0.00115474,
    0.00115656,  0.00115839,  0.00116022,  0.00116205,  0.00116388,  0.00116571,  0.00116707,  0.00116797,  0.00116055,
    0.00115312,  0.00114569,  0.00113826,  0.00113083,  0.0011234,   0.00111597,  0.00110855,  0.00109849,  0.00108581,
    0.00102587,  0.000965934, 0.000905995, 0.000846056, 0.000786116, 0.000726177, 0.000666238, 0.000606298, 0.000548218,
    0.000491997, 0.000469243, 0.000446489, 0.000423735, 0.000400981, 0.000378227, 0.000355473, 0.000332719, 0.000309965,
    0.000287844, 0.000266358, 0.000256281, 0.000246205, 0.000236128, 0.000226051, 0.000215974, 0.000205898, 0.000195821,
    0.000185744, 0.000176133, 0.000166987, 0.000166216, 0.000165446, 0.000164676, 0.000163906, 0.000163135, 0.000162365,
    0.000161595, 0.000160824};

[[noreturn]] void badParam(const std::string &name, double value, const std::string &expected)
{
   throw UsageError("waveform parameter '" + name + "' is " + std::to_string(value) + "; expected " + expected);
}

/// Gaussian(1, r) truncated to > 0 (redrawn).
double speArea(Rng &rng, double r)
{
   if (r <= 0.)
      return 1.;
   for (;;) {
      const double a = 1. + r * rng.normal();
      if (a > 0.)
         return a;
   }
}

/// Time (in samples from `begin`) at which the cumulative of w[begin, end) reaches q; linear within a sample.
double quantileTime(const std::vector<float> &w, std::int64_t begin, std::int64_t end, double q)
{
   double c = 0.;
   for (std::int64_t k = begin; k < end; ++k) {
      const double v = std::max(0.f, w[static_cast<std::size_t>(k)]);
      if (c + v >= q && v > 0.)
         return static_cast<double>(k - begin) + (q - c) / v;
      c += v;
   }
   return static_cast<double>(end - begin);
}

/// Standard-normal quantiles at (k + 0.5) / 4096: baseline noise draws five 12-bit indices from each 64-bit
/// random number (the tails beyond 3.7 sigma are cut; the noise is rounded to integer ADC counts anyway).
constexpr int kNoiseBits = 12;
const float *noiseTable()
{
   static const std::vector<float> table = [] {
      std::vector<float> t(std::size_t{1} << kNoiseBits);
      for (std::size_t k = 0; k < t.size(); ++k) {
         const double p = (static_cast<double>(k) + 0.5) / static_cast<double>(t.size());
         double x = 0.;
         for (int it = 0; it < 50; ++it) { // Newton on Phi(x) = p
            const double cdf = 0.5 * std::erfc(-x / std::sqrt(2.));
            const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2. * 3.14159265358979323846);
            const double step = (cdf - p) / pdf;
            x -= step;
            if (std::abs(step) < 1e-12)
               break;
         }
         t[k] = static_cast<float>(x);
      }
      return t;
   }();
   return table.data();
}

struct Hit {
   int channel;
   std::int64_t start, end, maxSample;
};

/// Stable counting sort of hits by start sample (starts in [0, nSamples)).
void sortByStart(std::vector<Hit> &hits, std::size_t nSamples)
{
   std::vector<std::size_t> count(nSamples + 1, 0);
   for (const auto &h : hits)
      ++count[static_cast<std::size_t>(h.start) + 1];
   for (std::size_t k = 0; k < nSamples; ++k)
      count[k + 1] += count[k];
   std::vector<Hit> sorted(hits.size());
   for (const auto &h : hits)
      sorted[count[static_cast<std::size_t>(h.start)]++] = h;
   hits.swap(sorted);
}

void clusterPeaks(const WaveformParams &par, std::size_t nChannels, SignalWaveforms &w, std::vector<Hit> &hits);
} // namespace

SpeTemplate SpeTemplate::xenon1tR11410()
{
   SpeTemplate t;
   t.t0 = -12.;
   t.step = 1.;
   t.current.assign(std::begin(kR11410Template), std::end(kR11410Template));
   return t;
}

void WaveformParams::validate() const
{
   auto positive = [](const char *name, double v) {
      if (!(v > 0.) || !std::isfinite(v))
         badParam(name, v, "a finite number > 0");
   };
   auto nonNegative = [](const char *name, double v) {
      if (!(v >= 0.) || !std::isfinite(v))
         badParam(name, v, "a finite number >= 0");
   };
   if (!(pDpe >= 0. && pDpe < 1.))
      badParam("p_dpe", pDpe, "a probability in [0, 1)");
   nonNegative("spe_resolution", speResolution);
   nonNegative("transit_time_spread_fwhm", transitTimeSpreadFwhm);
   positive("gain", gain);
   positive("sampling_period", samplingPeriod);
   positive("adc_to_electrons", adcToElectrons);
   if (digitizerBits < 1 || digitizerBits > 16)
      badParam("digitizer_bits", digitizerBits, "an integer in [1, 16]");
   if (referenceBaseline < 1 || referenceBaseline >= (1 << digitizerBits))
      badParam("reference_baseline", referenceBaseline, "an integer in [1, 2^digitizer_bits)");
   nonNegative("baseline_noise", baselineNoise);
   nonNegative("zle_threshold", zleThreshold);
   if (zlePreSamples < 0)
      badParam("zle_pre_samples", zlePreSamples, "an integer >= 0");
   if (zlePostSamples < 0)
      badParam("zle_post_samples", zlePostSamples, "an integer >= 0");
   positive("time_rounding", timeRounding);
   if (timeRounding > samplingPeriod)
      badParam("time_rounding", timeRounding, "<= sampling_period (" + std::to_string(samplingPeriod) + " ns)");
   nonNegative("hit_threshold", hitThreshold);
   nonNegative("gap_threshold", gapThreshold);
   nonNegative("left_extension", leftExtension);
   nonNegative("right_extension", rightExtension);
   nonNegative("tight_coincidence_window", tightCoincidenceWindow);
   if (s1CoincidenceLevel < 1)
      badParam("s1_coincidence_level", s1CoincidenceLevel, "an integer >= 1");
   nonNegative("s1_max_rise_time", s1MaxRiseTime);
   nonNegative("s1_max_rise_time_large", s1MaxRiseTimeLarge);
   nonNegative("s1_large_area", s1LargeArea);
   if (s2MinChannels < 1)
      badParam("s2_min_channels", s2MinChannels, "an integer >= 1");
   positive("spe_template step", speTemplate.step);
   if (!std::isfinite(speTemplate.t0))
      badParam("spe_template t0", speTemplate.t0, "a finite time in ns");
   if (speTemplate.current.empty())
      throw UsageError("waveform parameter 'spe_template' is empty; expected the single-PE current in bins");
   double sum = 0.;
   for (std::size_t k = 0; k < speTemplate.current.size(); ++k) {
      const double v = speTemplate.current[k];
      if (!(v >= 0.) || !std::isfinite(v))
         throw UsageError("waveform parameter 'spe_template' bin " + std::to_string(k) + " is " + std::to_string(v) +
                          "; expected a finite number >= 0");
      sum += v;
   }
   if (!(sum > 0.))
      throw UsageError("waveform parameter 'spe_template' sums to 0; expected a positive single-PE current");
}

WaveformParams WaveformParams::fromDetector(const DetectorConfig &det)
{
   WaveformParams p;
   auto read = [&](const char *key, const char *unit, double &dst) {
      if (det.has(key))
         dst = *unit ? det.get(key, unit) : det.get(key);
   };
   read("sampling_period", "ns", p.samplingPeriod);
   read("pmt_transit_time_spread", "ns", p.transitTimeSpreadFwhm);
   read("pmt_spe_resolution", "", p.speResolution);
   read("pmt_double_pe_probability", "", p.pDpe);
   read("pmt_gain", "", p.gain);
   read("digitizer_zle_threshold", "", p.zleThreshold);
   read("digitizer_baseline_noise", "", p.baselineNoise);
   if (det.has("s1_coincidence_level"))
      p.s1CoincidenceLevel = static_cast<int>(det.getInt("s1_coincidence_level"));
   // ADC_TO_E is per 10 ns sample: the charge of one ADC count held for one sample scales with its length.
   p.adcToElectrons *= p.samplingPeriod / 10.;
   p.hitThreshold = p.zleThreshold;
   try {
      p.validate();
   } catch (const UsageError &e) {
      throw ConfigError("detector '" + det.name() + "' (" + det.file() + "): " + e.what());
   }
   return p;
}

WaveformSimulator::WaveformSimulator(std::size_t nTop, std::size_t nBottom, WaveformParams params)
    : m_p(std::move(params)), m_nTop(nTop), m_nBottom(nBottom)
{
   m_p.validate();
   if (nTop + nBottom == 0)
      throw UsageError("waveform simulator needs at least one channel; got n_top = 0 and n_bottom = 0");
   m_adcPerPe = m_p.gain / m_p.adcToElectrons;
   m_ttsSigma = m_p.transitTimeSpreadFwhm * kFwhmToSigma;
   const double dt = m_p.samplingPeriod;
   m_nPhase = std::max(1, static_cast<int>(std::lround(dt / m_p.timeRounding)));
   // Cumulative template C(x), x in ns from the PE time, normalised to 1.
   const auto &cur = m_p.speTemplate.current;
   const double total = std::accumulate(cur.begin(), cur.end(), 0.);
   std::vector<double> cum(cur.size() + 1, 0.);
   for (std::size_t k = 0; k < cur.size(); ++k)
      cum[k + 1] = cum[k] + cur[k] / total;
   const double t0 = m_p.speTemplate.t0, step = m_p.speTemplate.step;
   const double tEnd = t0 + step * static_cast<double>(cur.size());
   auto cdf = [&](double x) {
      const double u = (x - t0) / step;
      if (u <= 0.)
         return 0.;
      if (u >= static_cast<double>(cur.size()))
         return 1.;
      const std::size_t k = static_cast<std::size_t>(u);
      return cum[k] + (u - static_cast<double>(k)) * (cum[k + 1] - cum[k]);
   };
   // A PE at phase phi in its sample S puts C((m + 1) dt - phi) - C(m dt - phi) into sample S + m.
   m_templateFirst = static_cast<std::int64_t>(std::floor(t0 / dt));
   const std::int64_t last = static_cast<std::int64_t>(std::ceil(tEnd / dt));
   m_templateLength = static_cast<int>(last - m_templateFirst + 1);
   m_phaseTables.assign(static_cast<std::size_t>(m_nPhase) * m_templateLength, 0.);
   m_phasePeak.assign(static_cast<std::size_t>(m_nPhase), 0.f);
   m_phasePeakAt.assign(static_cast<std::size_t>(m_nPhase), 0);
   for (int j = 0; j < m_nPhase; ++j) {
      const double phi = dt * j / m_nPhase;
      for (int m = 0; m < m_templateLength; ++m) {
         const double a = static_cast<double>(m_templateFirst + m) * dt - phi;
         m_phaseTables[static_cast<std::size_t>(j) * m_templateLength + m] = static_cast<float>(cdf(a + dt) - cdf(a));
      }
      const float *tab = &m_phaseTables[static_cast<std::size_t>(j) * m_templateLength];
      const int at = static_cast<int>(std::max_element(tab, tab + m_templateLength) - tab);
      m_phasePeak[static_cast<std::size_t>(j)] = tab[at];
      m_phasePeakAt[static_cast<std::size_t>(j)] = at;
   }
   // The binned S2 template: E over phi ~ U[0, dt) and g ~ N(0, sigma_TTS) of C((m + 1) dt - phi - g) - C(m dt -
   // phi - g), by the midpoint rule (32 phases) and a 33-point grid over +-4 sigma weighted by the Gaussian density.
   const double reach = 4. * m_ttsSigma;
   m_s2TemplateFirst = static_cast<std::int64_t>(std::floor((t0 - reach) / dt)) - 1;
   const auto s2Last = static_cast<std::int64_t>(std::ceil((tEnd + reach) / dt)) + 1;
   m_s2Template.assign(static_cast<std::size_t>(s2Last - m_s2TemplateFirst + 1), 0.f);
   constexpr int kPhi = 32, kJitter = 33;
   std::vector<std::pair<double, double>> jitter; // (offset, weight)
   if (m_ttsSigma > 0.) {
      double wsum = 0.;
      for (int q = 0; q < kJitter; ++q) {
         const double g = reach * (2. * q / (kJitter - 1) - 1.),
                      wq = std::exp(-0.5 * g * g / (m_ttsSigma * m_ttsSigma));
         jitter.emplace_back(g, wq);
         wsum += wq;
      }
      for (auto &jw : jitter)
         jw.second /= wsum;
   } else {
      jitter.emplace_back(0., 1.);
   }
   for (std::size_t m = 0; m < m_s2Template.size(); ++m) {
      const double a = static_cast<double>(m_s2TemplateFirst + static_cast<std::int64_t>(m)) * dt;
      double v = 0.;
      for (int f = 0; f < kPhi; ++f) {
         const double phi = dt * (f + 0.5) / kPhi;
         for (const auto &[g, wq] : jitter)
            v += wq * (cdf(a + dt - phi - g) - cdf(a - phi - g));
      }
      m_s2Template[m] = static_cast<float>(v / kPhi);
   }
}

WaveformSimulator::WaveformSimulator(const DetectorConfig &det)
    : WaveformSimulator(static_cast<std::size_t>(det.getInt("n_pmt_top")),
                        static_cast<std::size_t>(det.getInt("n_pmt_bottom")), WaveformParams::fromDetector(det))
{
}

struct WaveformSimulator::Scratch {
   std::vector<int> peChannel;
   std::vector<double> peTime, peArea;
   std::vector<std::size_t> order, count;
   std::vector<float> buf;
   std::vector<std::pair<std::int64_t, std::int64_t>> intervals; ///< ZLE-kept stretches of a channel
   std::vector<int> activeTop, activeBottom;                     ///< kSummed: covering channels, differences
};

SignalWaveforms WaveformSimulator::simulate(const int *channel, const float *time, std::size_t n, std::uint64_t seed,
                                            std::uint64_t index, WaveformMode mode) const
{
   SignalWaveforms w;
   Scratch s;
   simulateInto(w, s, channel, time, n, seed, index, mode);
   return w;
}

std::vector<SignalWaveforms> WaveformSimulator::simulateBatch(const int *channel, const float *time,
                                                              const std::int64_t *offsets, std::size_t nSignals,
                                                              std::uint64_t seed, unsigned threads,
                                                              WaveformMode mode) const
{
   for (std::size_t i = 0; i < nSignals; ++i)
      if (offsets[i] < 0 || offsets[i + 1] < offsets[i])
         throw UsageError("waveform batch offsets[" + std::to_string(i) + "] = " + std::to_string(offsets[i]) +
                          ", offsets[" + std::to_string(i + 1) + "] = " + std::to_string(offsets[i + 1]) +
                          "; expected non-negative, non-decreasing offsets");
   std::vector<SignalWaveforms> out(nSignals);
   detail::parallelChunks(
       nSignals, threads,
       [&](std::size_t b, std::size_t e) {
          Scratch s;
          for (std::size_t i = b; i < e; ++i) {
             const auto o = static_cast<std::size_t>(offsets[i]);
             simulateInto(out[i], s, channel + o, time + o, static_cast<std::size_t>(offsets[i + 1]) - o, seed, i,
                          mode);
          }
       },
       4);
   return out;
}

void WaveformSimulator::simulateInto(SignalWaveforms &w, Scratch &s, const int *channel, const float *time,
                                     std::size_t n, std::uint64_t seed, std::uint64_t index, WaveformMode mode) const
{
   const std::size_t nCh = nChannels();
   for (std::size_t k = 0; k < n; ++k) {
      if (channel[k] < 0 || static_cast<std::size_t>(channel[k]) >= nCh)
         throw UsageError("photon " + std::to_string(k) + " has channel " + std::to_string(channel[k]) +
                          "; expected a channel in [0, " + std::to_string(nCh) + ")");
      if (!std::isfinite(time[k]))
         throw UsageError("photon " + std::to_string(k) + " has time " + std::to_string(time[k]) +
                          " ns; expected a finite time");
   }
   const double dt = m_p.samplingPeriod;
   w = SignalWaveforms{};
   w.dt = dt;
   w.channelArea.assign(nCh, 0.f);
   w.channelPe.assign(nCh, 0);
   Rng rng(detail::streamKey(seed, kWaveformPurpose), index);

   // Photoelectrons: TTS, DPE, area.
   s.peChannel.clear();
   s.peTime.clear();
   s.peArea.clear();
   for (std::size_t k = 0; k < n; ++k) {
      const double t = time[k] + (m_ttsSigma > 0. ? m_ttsSigma * rng.normal() : 0.);
      const int npe = 1 + (m_p.pDpe > 0. && rng.uniform() < m_p.pDpe ? 1 : 0);
      for (int j = 0; j < npe; ++j) {
         s.peChannel.push_back(channel[k]);
         s.peTime.push_back(t);
         s.peArea.push_back(speArea(rng, m_p.speResolution));
      }
   }
   const std::size_t nPe = s.peTime.size();
   if (nPe == 0) {
      w.origin = 0.;
      return;
   }
   // Window: every PE's template plus the ZLE margins.
   const auto [tMinIt, tMaxIt] = std::minmax_element(s.peTime.begin(), s.peTime.end());
   const std::int64_t first = static_cast<std::int64_t>(std::floor(*tMinIt / dt)) + m_templateFirst - m_p.zlePreSamples;
   const std::int64_t last = static_cast<std::int64_t>(std::floor(*tMaxIt / dt)) + m_templateFirst + m_templateLength +
                             m_p.zlePostSamples + 1; // exclusive; + 1: a PE time rounded up to the next sample
   const std::size_t nSamples = static_cast<std::size_t>(last - first);
   w.origin = static_cast<double>(first) * dt;
   w.sum.assign(nSamples, 0.f);
   w.sumTop.assign(nSamples, 0.f);
   w.sumBottom.assign(nSamples, 0.f);

   // PEs grouped by channel (counting sort, stable: input order within a channel).
   s.count.assign(nCh + 1, 0);
   for (std::size_t k = 0; k < nPe; ++k)
      ++s.count[static_cast<std::size_t>(s.peChannel[k]) + 1];
   for (std::size_t c = 0; c < nCh; ++c)
      s.count[c + 1] += s.count[c];
   s.order.resize(nPe);
   {
      std::vector<std::size_t> &pos = s.count; // running positions; restored below
      std::vector<std::size_t> start(pos.begin(), pos.end() - 1);
      for (std::size_t k = 0; k < nPe; ++k)
         s.order[start[static_cast<std::size_t>(s.peChannel[k])]++] = k;
   }
   if (mode == WaveformMode::kSummed) {
      simulateSummed(w, s, first, rng);
      return;
   }
   const double maxAdc = static_cast<double>(m_p.referenceBaseline);
   const double minAdc = -static_cast<double>((1 << m_p.digitizerBits) - m_p.referenceBaseline);
   const double toPe = 1. / m_adcPerPe;
   for (std::size_t c = 0; c < nCh; ++c) {
      const std::size_t b = s.count[c], e = s.count[c + 1];
      if (b == e)
         continue;
      w.channelPe[c] = static_cast<int>(e - b);
      double cMin = std::numeric_limits<double>::infinity(), cMax = -cMin;
      for (std::size_t q = b; q < e; ++q) {
         cMin = std::min(cMin, s.peTime[s.order[q]]);
         cMax = std::max(cMax, s.peTime[s.order[q]]);
      }
      const std::int64_t c0 = static_cast<std::int64_t>(std::floor(cMin / dt)) + m_templateFirst - m_p.zlePreSamples;
      const std::int64_t c1 = static_cast<std::int64_t>(std::floor(cMax / dt)) + m_templateFirst + m_templateLength +
                              m_p.zlePostSamples + 1;
      const std::size_t len = static_cast<std::size_t>(c1 - c0);
      s.buf.assign(len, 0.f);
      for (std::size_t q = b; q < e; ++q) {
         const std::size_t k = s.order[q];
         const auto [S, phase] = samplePhase(s.peTime[k]);
         const float amp = static_cast<float>(s.peArea[k] * m_adcPerPe);
         const float *tab = &m_phaseTables[static_cast<std::size_t>(phase) * m_templateLength];
         const std::size_t at = static_cast<std::size_t>(S + m_templateFirst - c0);
         float *dst = s.buf.data() + at;
         for (int m = 0; m < m_templateLength; ++m)
            dst[m] += amp * tab[m];
      }
      // Noise, quantisation (integer counts), digitiser range; then zero-length encoding: the stretches
      // [k - pre, k + post] around every sample k above threshold, merged when they touch.
      const float *table = noiseTable();
      constexpr std::uint64_t mask = (std::uint64_t{1} << kNoiseBits) - 1;
      const float noise = static_cast<float>(m_p.baselineNoise);
      const float lo = static_cast<float>(minAdc), hi = static_cast<float>(maxAdc), offset = -lo + 1.f;
      const float zle = static_cast<float>(m_p.zleThreshold);
      const auto pre = static_cast<std::int64_t>(m_p.zlePreSamples),
                 post = static_cast<std::int64_t>(m_p.zlePostSamples);
      const auto slen = static_cast<std::int64_t>(len);
      s.intervals.clear();
      std::uint64_t bits = 0;
      int left = 0;
      for (std::int64_t k = 0; k < slen; ++k) {
         float v = s.buf[static_cast<std::size_t>(k)];
         if (noise > 0.f) {
            if (left == 0) {
               bits = rng();
               left = 64 / kNoiseBits;
            }
            v += noise * table[bits & mask];
            bits >>= kNoiseBits;
            --left;
         }
         v = std::min(std::max(v, lo), hi);
         v = static_cast<float>(static_cast<std::int32_t>(v + offset + 0.5f)) - offset; // round half up, v + offset > 0
         s.buf[static_cast<std::size_t>(k)] = v;
         if (v > zle) {
            const std::int64_t from = std::max<std::int64_t>(0, k - pre), to = std::min(slen, k + post + 1);
            if (!s.intervals.empty() && from <= s.intervals.back().second)
               s.intervals.back().second = to;
            else
               s.intervals.emplace_back(from, to);
         }
      }
      const bool top = c < m_nTop;
      float *half = top ? w.sumTop.data() : w.sumBottom.data();
      double area = 0.;
      for (const auto &[from, to] : s.intervals) {
         ChannelPulse p;
         p.channel = static_cast<int>(c);
         p.start = c0 + from - first;
         p.length = static_cast<std::int32_t>(to - from);
         p.offset = w.pulseData.size();
         w.pulseData.resize(p.offset + static_cast<std::size_t>(p.length));
         float *dst = w.pulseData.data() + p.offset;
         const float *src = s.buf.data() + from;
         float *sum = w.sum.data() + p.start, *part = half + p.start;
         for (std::int32_t q = 0; q < p.length; ++q) {
            const float v = src[q] * static_cast<float>(toPe);
            dst[q] = v;
            area += v;
            sum[q] += v;
            part[q] += v;
         }
         w.pulses.push_back(p);
      }
      w.channelArea[c] = static_cast<float>(area);
   }
   findPeaks(w);
}

std::pair<std::int64_t, int> WaveformSimulator::samplePhase(double t) const
{
   const double u = t / m_p.samplingPeriod;
   double sample = std::floor(u);
   int phase = static_cast<int>((u - sample) * m_nPhase + 0.5); // u - sample in [0, 1): round to nearest
   if (phase == m_nPhase) {
      phase = 0;
      sample += 1.;
   }
   return {static_cast<std::int64_t>(sample), phase};
}

void WaveformSimulator::simulateSummed(SignalWaveforms &w, Scratch &s, std::int64_t first, detail::Rng &rng) const
{
   const std::size_t nCh = nChannels(), nSamples = w.sum.size();
   // channels whose ZLE window covers each sample, top and bottom: difference arrays
   s.activeTop.assign(nSamples + 1, 0);
   s.activeBottom.assign(nSamples + 1, 0);
   std::vector<Hit> hits;
   const double hitAdc = m_p.hitThreshold;
   for (std::size_t c = 0; c < nCh; ++c) {
      const std::size_t b = s.count[c], e = s.count[c + 1];
      if (b == e)
         continue;
      w.channelPe[c] = static_cast<int>(e - b);
      const bool top = c < m_nTop;
      float *half = top ? w.sumTop.data() : w.sumBottom.data();
      std::int64_t sMin = std::numeric_limits<std::int64_t>::max(), sMax = std::numeric_limits<std::int64_t>::min();
      double area = 0.;
      for (std::size_t q = b; q < e; ++q) {
         const std::size_t k = s.order[q];
         const auto [S, phase] = samplePhase(s.peTime[k]);
         const std::int64_t at = S + m_templateFirst - first;
         sMin = std::min(sMin, at);
         sMax = std::max(sMax, at);
         const float a = static_cast<float>(s.peArea[k]);
         area += a;
         const float *tab = &m_phaseTables[static_cast<std::size_t>(phase) * m_templateLength];
         float *part = half + at;
         for (int m = 0; m < m_templateLength; ++m)
            part[m] += a * tab[m];
         if (a * m_phasePeak[static_cast<std::size_t>(phase)] * m_adcPerPe > hitAdc) {
            const std::int64_t peakAt = at + m_phasePeakAt[static_cast<std::size_t>(phase)];
            hits.push_back({static_cast<int>(c), peakAt,
                            std::min<std::int64_t>(peakAt + 2, static_cast<std::int64_t>(nSamples)), peakAt});
         }
      }
      w.channelArea[c] = static_cast<float>(area);
      auto &active = top ? s.activeTop : s.activeBottom;
      const std::int64_t from = std::max<std::int64_t>(0, sMin - m_p.zlePreSamples);
      const std::int64_t to =
          std::min<std::int64_t>(static_cast<std::int64_t>(nSamples), sMax + m_templateLength + m_p.zlePostSamples);
      ++active[static_cast<std::size_t>(from)];
      --active[static_cast<std::size_t>(to)];
   }
   addSummedNoise(w, s.activeTop, s.activeBottom, rng);
   clusterPeaks(m_p, nCh, w, hits);
}

void WaveformSimulator::addSummedNoise(SignalWaveforms &w, const std::vector<int> &activeTop,
                                       const std::vector<int> &activeBottom, detail::Rng &rng) const
{
   const std::size_t nSamples = w.sum.size();
   // noise of the covering channels (noise + rounding variance each), in PE
   const double sigmaPe = std::sqrt(m_p.baselineNoise * m_p.baselineNoise + 1. / 12.) / m_adcPerPe;
   const float *table = noiseTable();
   constexpr std::uint64_t mask = (std::uint64_t{1} << kNoiseBits) - 1;
   int nTop = 0, nBottom = 0;
   for (std::size_t k = 0; k < nSamples; ++k) {
      nTop += activeTop[k];
      nBottom += activeBottom[k];
      const std::uint64_t bits = rng();
      const float top = nTop > 0 ? static_cast<float>(sigmaPe * std::sqrt(nTop)) * table[bits & mask] : 0.f;
      const float bottom =
          nBottom > 0 ? static_cast<float>(sigmaPe * std::sqrt(nBottom)) * table[(bits >> kNoiseBits) & mask] : 0.f;
      w.sumTop[k] += top;
      w.sumBottom[k] += bottom;
      w.sum[k] = w.sumTop[k] + w.sumBottom[k];
   }
}

using detail::binomial;

namespace {
/// Poisson(m): inversion by multiplication below a mean of 30, Gaussian approximation (rounded, >= 0) above.
long long poisson(Rng &rng, double m)
{
   if (!(m > 0.))
      return 0;
   if (m < 30.) {
      const double limit = std::exp(-m);
      double p = rng.uniform();
      long long k = 0;
      while (p > limit) {
         p *= rng.uniform();
         ++k;
      }
      return k;
   }
   return std::max(0LL, std::llround(m + std::sqrt(m) * rng.normal()));
}

/// Mean and standard deviation of Gaussian(1, r) truncated to > 0.
std::pair<double, double> truncatedSpe(double r)
{
   if (r <= 0.)
      return {1., 0.};
   const double a = -1. / r;
   const double phi = std::exp(-0.5 * a * a) / std::sqrt(2. * 3.14159265358979323846);
   const double lambda = phi / (0.5 * std::erfc(a / std::sqrt(2.)));
   return {1. + r * lambda, r * std::sqrt(std::max(0., 1. + a * lambda - lambda * lambda))};
}

} // namespace

SignalWaveforms WaveformSimulator::simulateElectroluminescence(const double *electronTime, std::size_t n,
                                                               double photonsPerElectron, double elTime,
                                                               const double *channelProb, std::uint64_t seed,
                                                               std::uint64_t index, S2Path path) const
{
   const std::size_t nCh = nChannels();
   for (std::size_t k = 0; k < n; ++k)
      if (!std::isfinite(electronTime[k]))
         throw UsageError("electron " + std::to_string(k) + " has time " + std::to_string(electronTime[k]) +
                          " ns; expected a finite time");
   if (!(photonsPerElectron >= 0.) || !std::isfinite(photonsPerElectron))
      throw UsageError("photons per electron is " + std::to_string(photonsPerElectron) +
                       "; expected a finite number >= 0");
   if (!(elTime >= 0.) || !std::isfinite(elTime))
      throw UsageError("electroluminescence time is " + std::to_string(elTime) + " ns; expected a finite time >= 0");
   double total = 0.;
   for (std::size_t k = 0; k < nCh; ++k) {
      if (!(channelProb[k] >= 0.) || !std::isfinite(channelProb[k]))
         throw UsageError("S2 channel probability " + std::to_string(k) + " is " + std::to_string(channelProb[k]) +
                          "; expected a finite number >= 0");
      total += channelProb[k];
   }
   if (!(total > 0.))
      throw UsageError("S2 channel probabilities sum to 0; expected a light pattern with some light");
   Rng rng(detail::streamKey(seed, kElectroluminescencePurpose), index);
   SignalWaveforms w;
   if (path == S2Path::kBinned) {
      simulateBinned(w, electronTime, n, photonsPerElectron, elTime, channelProb, rng);
      return w;
   }
   std::vector<double> cdf(nCh);
   double c = 0.;
   for (std::size_t k = 0; k < nCh; ++k)
      cdf[k] = (c += channelProb[k]);
   std::vector<int> channel;
   std::vector<float> time;
   for (std::size_t e = 0; e < n; ++e) {
      const long long np = poisson(rng, photonsPerElectron);
      for (long long j = 0; j < np; ++j) {
         const auto it = std::upper_bound(cdf.begin(), cdf.end(), rng.uniform() * total);
         channel.push_back(
             static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(it - cdf.begin()), nCh - 1)));
         time.push_back(static_cast<float>(electronTime[e] + rng.uniform() * elTime));
      }
   }
   Scratch s;
   simulateInto(w, s, channel.data(), time.data(), channel.size(), seed, index,
                path == S2Path::kPhotons ? WaveformMode::kSummed : WaveformMode::kChannels);
   return w;
}

void WaveformSimulator::simulateBinned(SignalWaveforms &w, const double *te, std::size_t n, double mu, double elTime,
                                       const double *prob, detail::Rng &rng) const
{
   // Photons are binned per digitiser sample: an S2 lasts hundreds of ns to microseconds, so the sub-sample phase
   // of each photon and its transit-time jitter only matter on average, and m_s2Template carries that average.
   const std::size_t nCh = nChannels();
   const double dt = m_p.samplingPeriod;
   w = SignalWaveforms{};
   w.dt = dt;
   w.channelArea.assign(nCh, 0.f);
   w.channelPe.assign(nCh, 0);
   if (n == 0 || !(mu > 0.))
      return;
   const auto [tMinIt, tMaxIt] = std::minmax_element(te, te + n);
   const auto b0 = static_cast<std::int64_t>(std::floor(*tMinIt / dt)) - 1;
   const auto b1 = static_cast<std::int64_t>(std::ceil((*tMaxIt + elTime) / dt)) + 2;
   const auto nb = static_cast<std::size_t>(b1 - b0);
   // 1. expected photons per sample: each electron emits mu photons uniformly over [te, te + elTime]; the
   // interior samples through a difference array, the two partly covered ones directly
   std::vector<double> rate(nb + 1, 0.), edge(nb, 0.);
   for (std::size_t e = 0; e < n; ++e) {
      const double a = te[e] - static_cast<double>(b0) * dt, b = a + elTime;
      const auto ia = static_cast<std::size_t>(a / dt), ib = static_cast<std::size_t>(b / dt);
      if (ia == ib || !(elTime > 0.)) {
         edge[ia] += mu;
         continue;
      }
      const double density = mu / elTime;
      edge[ia] += density * (static_cast<double>(ia + 1) * dt - a);
      edge[ib] += density * (b - static_cast<double>(ib) * dt);
      rate[ia + 1] += density * dt;
      rate[ib] -= density * dt;
   }
   rate.pop_back();
   for (std::size_t j = 1; j < nb; ++j)
      rate[j] += rate[j - 1];
   for (std::size_t j = 0; j < nb; ++j)
      rate[j] += edge[j];
   // 2. photons per sample ~ Poisson(rate), each on the top array with probability fTop
   double pTop = 0., pAll = 0.;
   for (std::size_t k = 0; k < nCh; ++k) {
      pAll += prob[k];
      if (k < m_nTop)
         pTop += prob[k];
   }
   const double fTop = pTop / pAll;
   std::vector<float> cntTop(nb), cntBottom(nb);
   std::vector<double> cdf(nb);
   long long nTopPh = 0, nBottomPh = 0;
   double c = 0.;
   for (std::size_t j = 0; j < nb; ++j) {
      const double r = std::max(0., rate[j]);
      const long long all = poisson(rng, r);
      long long a = 0;
      if (all < 16)
         for (long long q = 0; q < all; ++q)
            a += rng.uniform() < fTop;
      else
         a = binomial(rng, all, fTop);
      const long long b = all - a;
      cntTop[j] = static_cast<float>(a);
      cntBottom[j] = static_cast<float>(b);
      nTopPh += a;
      nBottomPh += b;
      cdf[j] = (c += r);
   }
   // 3. channels: multinomial split of each array's photons, DPE, summed SPE areas
   const auto [speMean, speSigma] = truncatedSpe(m_p.speResolution);
   double areaTop = 0., areaBottom = 0.;
   int hitTop = 0, hitBottom = 0;
   std::vector<int> photons(nCh, 0);
   for (int half = 0; half < 2; ++half) {
      const std::size_t k0 = half == 0 ? 0 : m_nTop, k1 = half == 0 ? m_nTop : nCh;
      long long remaining = half == 0 ? nTopPh : nBottomPh;
      double pRemaining = half == 0 ? pTop : pAll - pTop;
      for (std::size_t k = k0; k < k1 && remaining > 0; ++k) {
         const long long ck =
             k + 1 == k1 ? remaining : binomial(rng, remaining, std::clamp(prob[k] / pRemaining, 0., 1.));
         remaining -= ck;
         pRemaining -= prob[k];
         if (ck == 0)
            continue;
         const long long m = ck + binomial(rng, ck, m_p.pDpe);
         double a = 0.;
         if (m < 8)
            for (long long q = 0; q < m; ++q)
               a += speArea(rng, m_p.speResolution);
         else
            a = std::max(0., static_cast<double>(m) * speMean +
                                 std::sqrt(static_cast<double>(m)) * speSigma * rng.normal());
         photons[k] = static_cast<int>(ck);
         w.channelPe[k] = static_cast<int>(m);
         w.channelArea[k] = static_cast<float>(a);
         (half == 0 ? areaTop : areaBottom) += a;
         ++(half == 0 ? hitTop : hitBottom);
      }
   }
   // 4. summed waveforms: each sample's photons through the phase- and jitter-averaged template
   const std::int64_t first = b0 + m_s2TemplateFirst - m_p.zlePreSamples;
   const std::int64_t last =
       b1 + m_s2TemplateFirst + static_cast<std::int64_t>(m_s2Template.size()) + m_p.zlePostSamples + 1;
   const auto nSamples = static_cast<std::size_t>(last - first);
   w.origin = static_cast<double>(first) * dt;
   w.sum.assign(nSamples, 0.f);
   w.sumTop.assign(nSamples, 0.f);
   w.sumBottom.assign(nSamples, 0.f);
   const float perTop = nTopPh > 0 ? static_cast<float>(areaTop / static_cast<double>(nTopPh)) : 0.f;
   const float perBottom = nBottomPh > 0 ? static_cast<float>(areaBottom / static_cast<double>(nBottomPh)) : 0.f;
   const float *tab = m_s2Template.data();
   const auto len = m_s2Template.size();
   for (std::size_t j = 0; j < nb; ++j) {
      if (cntTop[j] == 0.f && cntBottom[j] == 0.f)
         continue;
      const auto at = static_cast<std::size_t>(b0 + static_cast<std::int64_t>(j) + m_s2TemplateFirst - first);
      const float aT = cntTop[j] * perTop, aB = cntBottom[j] * perBottom;
      float *top = w.sumTop.data() + at, *bottom = w.sumBottom.data() + at;
      for (std::size_t m = 0; m < len; ++m) {
         top[m] += aT * tab[m];
         bottom[m] += aB * tab[m];
      }
   }
   // 5. noise: every hit channel's ZLE window taken as the whole signal
   std::vector<int> activeTop(nSamples + 1, 0), activeBottom(nSamples + 1, 0);
   activeTop[0] = hitTop;
   activeBottom[0] = hitBottom;
   addSummedNoise(w, activeTop, activeBottom, rng);
   // 6. hits: up to 4 per channel in samples drawn from the rate (inverse CDF with a guide table), each at a
   // uniform sub-sample phase
   std::vector<Hit> hits;
   const double hitAdc = m_p.hitThreshold;
   std::vector<std::size_t> guide(nb + 1, 0);
   for (std::size_t q = 0, j = 0; q <= nb; ++q) {
      const double level = c * static_cast<double>(q) / static_cast<double>(nb);
      while (j + 1 < nb && cdf[j] < level)
         ++j;
      guide[q] = j;
   }
   if (c > 0.)
      for (std::size_t k = 0; k < nCh; ++k)
         for (int q = 0; q < std::min(photons[k], 4); ++q) {
            const double u = rng.uniform();
            std::size_t jj = guide[std::min(nb, static_cast<std::size_t>(u * static_cast<double>(nb)))];
            if (jj > 0 && cdf[jj - 1] >= u * c) // guide points at the first bin reaching the grid level
               jj = static_cast<std::size_t>(
                   std::upper_bound(cdf.begin(), cdf.begin() + static_cast<std::ptrdiff_t>(jj), u * c) - cdf.begin());
            while (jj + 1 < nb && cdf[jj] <= u * c)
               ++jj;
            const auto phase = std::min(m_nPhase - 1, static_cast<int>(rng.uniform() * m_nPhase));
            if (speMean * m_phasePeak[static_cast<std::size_t>(phase)] * m_adcPerPe <= hitAdc)
               continue;
            const std::int64_t peakAt = b0 + static_cast<std::int64_t>(jj) + m_templateFirst - first +
                                        m_phasePeakAt[static_cast<std::size_t>(phase)];
            hits.push_back({static_cast<int>(k), peakAt,
                            std::min<std::int64_t>(peakAt + 2, static_cast<std::int64_t>(nSamples)), peakAt});
         }
   clusterPeaks(m_p, nCh, w, hits);
}

void WaveformSimulator::peakChannelAreas(const SignalWaveforms &w, const Peak &pk, double *out) const
{
   std::fill(out, out + nChannels(), 0.);
   for (const auto &p : w.pulses) {
      const std::int64_t from = std::max(p.start, pk.start), to = std::min(p.start + p.length, pk.end);
      const float *d = w.pulseData.data() + p.offset;
      for (std::int64_t k = from; k < to; ++k)
         out[p.channel] += d[k - p.start];
   }
}

void WaveformSimulator::findPeaks(SignalWaveforms &w) const
{
   const double hitThresholdPe = m_p.hitThreshold / m_adcPerPe;
   std::vector<Hit> hits;
   for (const auto &p : w.pulses) {
      const float *d = w.pulseData.data() + p.offset;
      for (std::int32_t k = 0; k < p.length;) {
         if (!(d[k] > hitThresholdPe)) {
            ++k;
            continue;
         }
         std::int32_t j = k, m = k;
         while (j < p.length && d[j] > hitThresholdPe) {
            if (d[j] > d[m])
               m = j;
            ++j;
         }
         hits.push_back({p.channel, p.start + k, p.start + j, p.start + m});
         k = j;
      }
   }
   clusterPeaks(m_p, nChannels(), w, hits);
}

namespace {
void clusterPeaks(const WaveformParams &par, std::size_t nChannels, SignalWaveforms &w, std::vector<Hit> &hits)
{
   w.peaks.clear();
   w.largestS1 = w.largestS2 = -1;
   if (hits.empty())
      return;
   const double dt = w.dt > 0. ? w.dt : par.samplingPeriod;
   sortByStart(hits, w.sum.size());
   const auto nSamples = static_cast<std::int64_t>(w.sum.size());
   const double gapSamples = par.gapThreshold / dt;
   const auto leftExt = static_cast<std::int64_t>(std::ceil(par.leftExtension / dt));
   const auto rightExt = static_cast<std::int64_t>(std::ceil(par.rightExtension / dt));
   const auto tightSamples = par.tightCoincidenceWindow / dt;
   std::vector<std::uint8_t> seen(nChannels), tight(nChannels);
   std::int64_t previousEnd = 0;
   for (std::size_t b = 0; b < hits.size();) {
      std::size_t e = b + 1;
      std::int64_t end = hits[b].end;
      while (e < hits.size() && static_cast<double>(hits[e].start - end) <= gapSamples) {
         end = std::max(end, hits[e].end);
         ++e;
      }
      Peak pk;
      pk.start = std::max(previousEnd, hits[b].start - leftExt);
      pk.end = std::min(nSamples, end + rightExt);
      previousEnd = pk.end;
      std::int64_t mx = pk.start;
      double area = 0., top = 0.;
      for (std::int64_t k = pk.start; k < pk.end; ++k) {
         const auto u = static_cast<std::size_t>(k);
         area += w.sum[u];
         top += w.sumTop[u];
         if (w.sum[u] > w.sum[static_cast<std::size_t>(mx)])
            mx = k;
      }
      pk.area = static_cast<float>(area);
      pk.areaTop = static_cast<float>(top);
      pk.timeMax = static_cast<float>((static_cast<double>(mx) + 0.5) * dt);
      std::fill(seen.begin(), seen.end(), 0);
      std::fill(tight.begin(), tight.end(), 0);
      for (std::size_t h = b; h < e; ++h) {
         const auto c = static_cast<std::size_t>(hits[h].channel);
         pk.nChannels += !seen[c];
         seen[c] = 1;
         if (std::abs(static_cast<double>(hits[h].maxSample - mx)) <= tightSamples) {
            pk.tightCoincidence += !tight[c];
            tight[c] = 1;
         }
      }
      if (area > 0.) {
         const double q10 = quantileTime(w.sum, pk.start, pk.end, 0.10 * area);
         const double q25 = quantileTime(w.sum, pk.start, pk.end, 0.25 * area);
         const double q50 = quantileTime(w.sum, pk.start, pk.end, 0.50 * area);
         const double q75 = quantileTime(w.sum, pk.start, pk.end, 0.75 * area);
         pk.width50 = static_cast<float>((q75 - q25) * dt);
         pk.riseTime = static_cast<float>((q50 - q10) * dt);
         // leading edge from 10% to 90% of the maximum (sample centres, linear interpolation)
         const double hMax = w.sum[static_cast<std::size_t>(mx)];
         auto crossing = [&](double level) {
            std::int64_t k = mx;
            while (k > pk.start && w.sum[static_cast<std::size_t>(k - 1)] > level)
               --k;
            if (k == pk.start)
               return static_cast<double>(k);
            const double lo = w.sum[static_cast<std::size_t>(k - 1)], hi = w.sum[static_cast<std::size_t>(k)];
            return static_cast<double>(k - 1) + (hi > lo ? (level - lo) / (hi - lo) : 0.);
         };
         pk.riseTime1090 = static_cast<float>((crossing(0.9 * hMax) - crossing(0.1 * hMax)) * dt);
      }
      const double maxRise = area > par.s1LargeArea ? par.s1MaxRiseTimeLarge : par.s1MaxRiseTime;
      if (pk.tightCoincidence >= par.s1CoincidenceLevel && pk.riseTime <= maxRise)
         pk.type = PeakType::kS1;
      else if (pk.nChannels >= par.s2MinChannels)
         pk.type = PeakType::kS2;
      w.peaks.push_back(pk);
      const int idx = static_cast<int>(w.peaks.size()) - 1;
      int &largest = pk.type == PeakType::kS1 ? w.largestS1 : w.largestS2;
      if (pk.type != PeakType::kUnknown && (largest < 0 || pk.area > w.peaks[static_cast<std::size_t>(largest)].area))
         largest = idx;
      b = e;
   }
}
} // namespace

void ScintillationTiming::validate() const
{
   for (const auto &[name, v] : {std::pair{"tau_singlet", tauSinglet},
                                 {"tau_triplet", tauTriplet},
                                 {"max_recombination_time", maxRecombinationTime}})
      if (!(v > 0.) || !std::isfinite(v))
         badParam(name, v, "a finite time > 0 ns");
   for (const auto &[name, v] : {std::pair{"nr_ratio_scale", nrRatioScale},
                                 {"er_exciton_ratio_scale", erExcitonRatioScale},
                                 {"er_recombination_ratio_scale", erRecombinationRatioScale},
                                 {"recombination_time_scale", recombinationTimeScale}})
      if (!(v >= 0.) || !std::isfinite(v))
         badParam(name, v, "a finite number >= 0");
   for (const auto &[name, v] : {std::pair{"nr_ratio_power", nrRatioPower},
                                 {"er_ratio_power", erRatioPower},
                                 {"recombination_field_coefficient", recombinationFieldCoefficient},
                                 {"recombination_time_offset", recombinationTimeOffset},
                                 {"recombination_time_slope", recombinationTimeSlope}})
      if (!std::isfinite(v))
         badParam(name, v, "a finite number");
}

namespace {
void requireEnergy(double energyKeV)
{
   if (!(energyKeV > 0.) || !std::isfinite(energyKeV))
      throw UsageError("scintillation timing needs a recoil energy > 0 keV; got " + std::to_string(energyKeV));
}
} // namespace

double ScintillationTiming::singletFraction(bool isNR, double energyKeV, bool exciton) const
{
   requireEnergy(energyKeV);
   const double scale = isNR ? nrRatioScale : (exciton ? erExcitonRatioScale : erRecombinationRatioScale);
   const double r = scale * std::pow(energyKeV, isNR ? nrRatioPower : erRatioPower);
   return r / (1. + r);
}

double ScintillationTiming::recombinationTime(double energyKeV, double fieldVcm) const
{
   requireEnergy(energyKeV);
   if (!(fieldVcm >= 0.) || !std::isfinite(fieldVcm))
      throw UsageError("scintillation timing needs a drift field >= 0 V/cm; got " + std::to_string(fieldVcm));
   return std::max(0., recombinationTimeScale * std::exp(-recombinationFieldCoefficient * fieldVcm) *
                           (recombinationTimeOffset + recombinationTimeSlope * std::log10(energyKeV)));
}

void ScintillationTiming::emissionTimes(bool isNR, double energyKeV, double fieldVcm, std::size_t nExcitons,
                                        std::size_t nRecombined, std::uint64_t seed, std::uint64_t index,
                                        float *out) const
{
   validate();
   const double fExciton = singletFraction(isNR, energyKeV, true);
   const double fRecombination = singletFraction(isNR, energyKeV, false);
   const double tauR = isNR ? 0. : recombinationTime(energyKeV, fieldVcm);
   Rng rng(detail::streamKey(seed, kEmissionPurpose), index);
   for (std::size_t k = 0; k < nExcitons + nRecombined; ++k) {
      const bool exciton = k < nExcitons;
      double t = 0.;
      if (!exciton && tauR > 0.) // non-exponential recombination delay, P(T > t) = 1 / (1 + t / tau_R)
         do
            t = tauR * (1. / rng.uniformPositive() - 1.);
         while (t > maxRecombinationTime);
      const double f = exciton ? fExciton : fRecombination;
      t += rng.uniform() < f ? rng.exponential(tauSinglet) : rng.exponential(tauTriplet);
      out[k] = static_cast<float>(t);
   }
}

} // namespace tpcml
