// WaveformSimulator (digitised PMT pulses, ZLE, summed waveforms, peak finding) and the
// ScintillationTiming pulse-shape hook, on small photon lists made here.
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/lxe/Waveform.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace tpcml;

namespace {

constexpr double kPi = 3.14159265358979323846;

/// Photons of one signal: channel and time (ns).
struct Photons {
   std::vector<int> channel;
   std::vector<float> time;
   void add(int c, double t)
   {
      channel.push_back(c);
      time.push_back(static_cast<float>(t));
   }
   std::size_t size() const { return channel.size(); }
};

/// n photons spread over channels [0, nCh), times t0 + Exp(tau) (tau = 0: all at t0).
Photons s1Like(std::size_t n, int nCh, double t0, double tau, std::uint32_t seed)
{
   std::mt19937 gen(seed);
   std::exponential_distribution<double> ex(tau > 0. ? 1. / tau : 1.);
   Photons p;
   for (std::size_t k = 0; k < n; ++k)
      p.add(static_cast<int>(k % static_cast<std::size_t>(nCh)), t0 + (tau > 0. ? ex(gen) : 0.));
   return p;
}

/// n photons uniform in [t0, t0 + width) over channels [0, nCh).
Photons s2Like(std::size_t n, int nCh, double t0, double width, std::uint32_t seed)
{
   std::mt19937 gen(seed);
   std::uniform_real_distribution<double> u(0., width);
   Photons p;
   for (std::size_t k = 0; k < n; ++k)
      p.add(static_cast<int>(k % static_cast<std::size_t>(nCh)), t0 + u(gen));
   return p;
}

double total(const std::vector<float> &v)
{
   return std::accumulate(v.begin(), v.end(), 0.);
}

/// Mean of Gaussian(1, r) truncated to > 0.
double truncatedMean(double r)
{
   const double a = 1. / r; // standardised truncation point -(0 - 1)/r
   const double phi = std::exp(-0.5 * a * a) / std::sqrt(2. * kPi);
   const double cdf = 0.5 * std::erfc(-a / std::sqrt(2.));
   return 1. + r * phi / cdf;
}

SignalWaveforms run(const WaveformSimulator &sim, const Photons &p, std::uint64_t seed = 1, std::uint64_t index = 0)
{
   return sim.simulate(p.channel.data(), p.time.data(), p.size(), seed, index);
}

} // namespace

TEST(Waveform, ChannelAreasSumToPhotoelectronsTimesDpe)
{
   WaveformParams par; // XENON1T-like defaults: p_dpe 0.2, resolution 0.4, 2 ADC noise, ZLE 15 ADC
   const WaveformSimulator sim(4, 4, par);
   double area = 0., pe = 0.;
   std::size_t photons = 0;
   for (std::uint64_t i = 0; i < 20; ++i) {
      const Photons p = s1Like(400, 8, 100. * static_cast<double>(i), 24., static_cast<std::uint32_t>(i));
      const SignalWaveforms w = run(sim, p, 7, i);
      area += total(w.channelArea);
      pe += std::accumulate(w.channelPe.begin(), w.channelPe.end(), 0.);
      photons += p.size();
      // the summed waveforms hold the same charge as the channels
      EXPECT_NEAR(total(w.sum), total(w.channelArea), 1e-3 * total(w.sum));
      EXPECT_NEAR(total(w.sumTop) + total(w.sumBottom), total(w.sum), 1e-3 * total(w.sum));
   }
   const double n = static_cast<double>(photons), p = par.pDpe, r = par.speResolution, mu = truncatedMean(r);
   // PE count: binomial DPE
   EXPECT_NEAR(pe, n * (1. + p), 4. * std::sqrt(n * p * (1. - p)));
   // area: (1 + p) PE per photon of mean mu; variance per photon (1 + p) sigma^2 + mu^2 p (1 - p)
   const double sd = std::sqrt(n * ((1. + p) * r * r + mu * mu * p * (1. - p)));
   EXPECT_NEAR(area, n * (1. + p) * mu, 4. * sd + 0.005 * n);
}

TEST(Waveform, NoiselessSinglePeAreasAreExact)
{
   WaveformParams par;
   par.pDpe = 0.;
   par.speResolution = 0.;
   par.baselineNoise = 0.;
   par.transitTimeSpreadFwhm = 0.;
   const WaveformSimulator sim(2, 1, par);
   Photons p;
   for (int k = 0; k < 30; ++k)
      p.add(k % 3, 3.7 * k); // every sub-sample phase
   const SignalWaveforms w = run(sim, p);
   for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(w.channelPe[static_cast<std::size_t>(c)], 10);
      // only the rounding of the samples to integer ADC counts (< 0.5 count a sample) is lost
      EXPECT_NEAR(w.channelArea[static_cast<std::size_t>(c)], 10., 0.05) << "channel " << c;
   }
}

TEST(Waveform, ZleDropsSubThresholdChannels)
{
   WaveformParams par;
   par.pDpe = 0.;
   par.speResolution = 0.;
   par.baselineNoise = 0.;
   par.zleThreshold = 200.; // above the ~60-count peak of one PE, below that of 30 PE
   par.hitThreshold = 200.;
   const WaveformSimulator sim(2, 2, par);
   Photons p;
   p.add(0, 50.);
   for (int k = 0; k < 30; ++k)
      p.add(3, 50. + 0.1 * k);
   const SignalWaveforms w = run(sim, p);
   EXPECT_EQ(w.channelPe[0], 1);
   EXPECT_EQ(w.channelArea[0], 0.f);
   for (const auto &pulse : w.pulses)
      EXPECT_EQ(pulse.channel, 3);
   EXPECT_NEAR(w.channelArea[3], 30., 0.3);
   EXPECT_EQ(total(w.sumTop), 0.);
   EXPECT_NEAR(total(w.sumBottom), 30., 0.3);
   // a threshold of 0 keeps the lone PE
   par.zleThreshold = 0.;
   const WaveformSimulator keepAll(2, 2, par);
   EXPECT_NEAR(run(keepAll, p).channelArea[0], 1., 0.05);
}

TEST(Waveform, PeakFinderSeparatesDistantPulsesAndMergesCloseOnes)
{
   WaveformParams par; // gap threshold 350 ns
   const WaveformSimulator sim(6, 6, par);
   // S1-like at 0 and S2-like 5 us later
   Photons p = s1Like(60, 12, 0., 24., 1);
   const Photons s2 = s2Like(3000, 12, 5000., 1000., 2);
   p.channel.insert(p.channel.end(), s2.channel.begin(), s2.channel.end());
   p.time.insert(p.time.end(), s2.time.begin(), s2.time.end());
   const SignalWaveforms w = run(sim, p);
   ASSERT_EQ(w.peaks.size(), 2u);
   const Peak &a = w.peaks[0], &b = w.peaks[1];
   EXPECT_EQ(a.type, PeakType::kS1);
   EXPECT_EQ(b.type, PeakType::kS2);
   EXPECT_EQ(w.largestS1, 0);
   EXPECT_EQ(w.largestS2, 1);
   EXPECT_LT(a.end, b.start);
   EXPECT_NEAR(a.area, 60. * 1.2, 5. * std::sqrt(60. * 0.35));
   EXPECT_NEAR(b.area, 3000. * 1.2, 5. * std::sqrt(3000. * 0.35));
   EXPECT_GE(a.tightCoincidence, 3);
   EXPECT_EQ(b.nChannels, 12);
   EXPECT_LT(a.width50, 100.f);
   EXPECT_GT(b.width50, 300.f); // uniform over 1 us: 25-75% area ~ 500 ns
   EXPECT_LT(b.width50, 700.f);
   EXPECT_LT(a.riseTime, 60.f);
   EXPECT_GT(a.riseTime1090, 0.f);
   EXPECT_NEAR(a.timeMax + w.origin, 20., 40.);
   // two S1-like pulses 150 ns apart (< 350 ns gap): one peak; 3 us apart: two
   for (const auto &[sep, expected] : {std::pair{150., 1u}, {3000., 2u}}) {
      Photons q = s1Like(40, 12, 0., 24., 3);
      const Photons q2 = s1Like(40, 12, sep, 24., 4);
      q.channel.insert(q.channel.end(), q2.channel.begin(), q2.channel.end());
      q.time.insert(q.time.end(), q2.time.begin(), q2.time.end());
      const SignalWaveforms wq = run(sim, q);
      EXPECT_EQ(wq.peaks.size(), expected) << "separation " << sep << " ns";
      double peakArea = 0.;
      for (const auto &pk : wq.peaks)
         peakArea += pk.area;
      EXPECT_NEAR(peakArea, total(wq.sum), 0.02 * total(wq.sum)) << "separation " << sep << " ns";
   }
}

TEST(Waveform, DigitiserRangeClipsLargePulses)
{
   WaveformParams par;
   par.pDpe = 0.;
   par.speResolution = 0.;
   par.baselineNoise = 0.;
   par.transitTimeSpreadFwhm = 0.;
   const WaveformSimulator sim(1, 1, par);
   Photons p;
   for (int k = 0; k < 2000; ++k)
      p.add(0, 0.); // ~2000 x 0.5 x 117 counts in one sample: far above the 16000-count range
   const SignalWaveforms w = run(sim, p);
   const double maxPe = par.referenceBaseline / sim.adcPerPe();
   EXPECT_NEAR(*std::max_element(w.pulseData.begin(), w.pulseData.end()), maxPe, 1e-3 * maxPe);
   EXPECT_LT(w.channelArea[0], 0.5 * 2000.); // saturated: most of the charge is lost
   EXPECT_EQ(w.channelPe[0], 2000);
}

TEST(Waveform, LoneHitIsNotAnS1)
{
   WaveformParams par;
   const WaveformSimulator sim(2, 2, par);
   Photons p;
   p.add(1, 0.);
   const SignalWaveforms w = run(sim, p);
   ASSERT_EQ(w.peaks.size(), 1u);
   EXPECT_EQ(w.peaks[0].type, PeakType::kUnknown);
   EXPECT_EQ(w.largestS1, -1);
   EXPECT_EQ(w.largestS2, -1);
}

TEST(Waveform, SameWaveformsWhateverThreadsAndOrder)
{
   const WaveformSimulator sim(5, 5);
   std::vector<int> ch;
   std::vector<float> t;
   std::vector<std::int64_t> off{0};
   for (std::uint32_t i = 0; i < 24; ++i) {
      const Photons p = i % 2 ? s1Like(30 + i, 10, 0., 24., i) : s2Like(300 + 10 * i, 10, 0., 800., i);
      ch.insert(ch.end(), p.channel.begin(), p.channel.end());
      t.insert(t.end(), p.time.begin(), p.time.end());
      off.push_back(static_cast<std::int64_t>(ch.size()));
   }
   const auto one = sim.simulateBatch(ch.data(), t.data(), off.data(), 24, 99, 1);
   const auto four = sim.simulateBatch(ch.data(), t.data(), off.data(), 24, 99, 4);
   ASSERT_EQ(one.size(), 24u);
   for (std::size_t i = 0; i < 24; ++i) {
      EXPECT_EQ(one[i].pulseData, four[i].pulseData) << "signal " << i;
      EXPECT_EQ(one[i].channelArea, four[i].channelArea) << "signal " << i;
      EXPECT_EQ(one[i].sum, four[i].sum) << "signal " << i;
      EXPECT_EQ(one[i].peaks.size(), four[i].peaks.size()) << "signal " << i;
   }
   // one signal alone, in reverse order, equals its batch entry (per-signal streams)
   for (std::size_t i = 24; i-- > 0;) {
      const auto o = static_cast<std::size_t>(off[i]);
      const SignalWaveforms w =
          sim.simulate(ch.data() + o, t.data() + o, static_cast<std::size_t>(off[i + 1]) - o, 99, i);
      EXPECT_EQ(w.pulseData, one[i].pulseData) << "signal " << i;
      EXPECT_EQ(w.origin, one[i].origin) << "signal " << i;
   }
   // another seed changes the waveforms
   const auto other = sim.simulateBatch(ch.data(), t.data(), off.data(), 24, 100, 1);
   EXPECT_NE(other[0].pulseData, one[0].pulseData);
}

TEST(Waveform, BadParametersGiveClearErrors)
{
   auto expectMessage = [](const WaveformParams &p, const std::string &needle) {
      try {
         WaveformSimulator sim(2, 2, p);
         ADD_FAILURE() << "no error for " << needle;
      } catch (const UsageError &e) {
         EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      }
   };
   WaveformParams p;
   p.pDpe = 1.5;
   expectMessage(p, "p_dpe");
   p = {};
   p.samplingPeriod = 0.;
   expectMessage(p, "sampling_period");
   p = {};
   p.timeRounding = 20.;
   expectMessage(p, "time_rounding");
   p = {};
   p.baselineNoise = -1.;
   expectMessage(p, "baseline_noise");
   p = {};
   p.speTemplate.current.clear();
   expectMessage(p, "spe_template");
   p = {};
   p.s1CoincidenceLevel = 0;
   expectMessage(p, "s1_coincidence_level");
   EXPECT_THROW(WaveformSimulator(0, 0), UsageError);

   const WaveformSimulator sim(2, 2);
   Photons bad;
   bad.add(4, 0.);
   try {
      run(sim, bad);
      ADD_FAILURE() << "no error for channel 4 of 4";
   } catch (const UsageError &e) {
      EXPECT_NE(std::string(e.what()).find("channel 4"), std::string::npos) << e.what();
   }
   Photons nan;
   nan.add(0, std::nan(""));
   EXPECT_THROW(run(sim, nan), UsageError);
   const std::vector<int> ch{0, 1};
   const std::vector<float> t{0.f, 1.f};
   const std::vector<std::int64_t> off{0, 2, 1};
   EXPECT_THROW(sim.simulateBatch(ch.data(), t.data(), off.data(), 2, 1), UsageError);
}

TEST(Waveform, ParametersFromTheRegistryDetector)
{
   const DetectorConfig det = DetectorConfig::load("xenon1t");
   const WaveformSimulator sim(det);
   EXPECT_EQ(sim.nChannels(), 248u);
   EXPECT_EQ(sim.nTop(), 127u);
   EXPECT_DOUBLE_EQ(sim.params().samplingPeriod, 10.);
   EXPECT_DOUBLE_EQ(sim.params().transitTimeSpreadFwhm, 13.6);
   // one PE: gain / ADC_TO_E ADC counts x samples
   EXPECT_NEAR(sim.adcPerPe(), 2.0e6 / 17142.81741, 1e-9);
}

TEST(Waveform, SpeTemplateIsTheR11410Pulse)
{
   const SpeTemplate t = SpeTemplate::xenon1tR11410();
   ASSERT_EQ(t.current.size(), 209u); // -12 .. 196 ns in 1 ns bins
   const auto peak = std::max_element(t.current.begin(), t.current.end()) - t.current.begin();
   EXPECT_DOUBLE_EQ(t.t0 + static_cast<double>(peak) * t.step, 0.); // maximum at the PE time
   EXPECT_NEAR(std::accumulate(t.current.begin(), t.current.end(), 0.), 1., 0.01);
}

TEST(ScintillationTiming, SingletFractionsAndEmissionTimes)
{
   const ScintillationTiming st;
   // NEST v2 / LUX: NR ratio 0.15 E^0.15, ER 0.015 E^-0.12 (excitons), 0.069 E^-0.12 (recombination)
   const double rNR = 0.15 * std::pow(10., 0.15), rEx = 0.015 * std::pow(10., -0.12);
   EXPECT_NEAR(st.singletFraction(true, 10.), rNR / (1. + rNR), 1e-12);
   EXPECT_NEAR(st.singletFraction(false, 10., true), rEx / (1. + rEx), 1e-12);
   EXPECT_GT(st.singletFraction(false, 10., false), st.singletFraction(false, 10., true));
   EXPECT_GT(st.singletFraction(true, 10.), st.singletFraction(false, 10., false)); // NR the more prompt
   EXPECT_THROW(st.singletFraction(true, 0.), UsageError);
   EXPECT_NEAR(st.recombinationTime(10., 0.), 0.5 * (7.3138 + 3.8431), 1e-9);
   EXPECT_LT(st.recombinationTime(10., 200.), st.recombinationTime(10., 100.)); // field shortens it
   EXPECT_THROW(st.recombinationTime(10., -1.), UsageError);
   const std::size_t n = 40000;
   std::vector<float> t(n);
   // NR: mixture mean f tau_s + (1 - f) tau_t
   st.emissionTimes(true, 10., 100., n, 0, 5, 0, t.data());
   const double f = st.singletFraction(true, 10.);
   EXPECT_NEAR(total(t) / static_cast<double>(n), f * 3.27 + (1. - f) * 23.97, 4. * 24. / std::sqrt(double(n)));
   // ER excitons alone: nearly all triplet
   st.emissionTimes(false, 10., 100., n, 0, 5, 1, t.data());
   const double fe = st.singletFraction(false, 10., true);
   EXPECT_NEAR(total(t) / static_cast<double>(n), fe * 3.27 + (1. - fe) * 23.97, 4. * 24. / std::sqrt(double(n)));
   // recombination photons come later, but never beyond max_recombination_time + the decay
   st.emissionTimes(false, 10., 100., 0, n, 5, 2, t.data());
   EXPECT_GT(total(t) / static_cast<double>(n), fe * 3.27 + (1. - fe) * 23.97);
   EXPECT_LT(*std::max_element(t.begin(), t.end()), 1000. + 24. * 30.);
   ScintillationTiming bad;
   bad.tauTriplet = -1.;
   EXPECT_THROW(bad.validate(), UsageError);
}

TEST(ScintillationTiming, NrS1sArePrompterThanErS1sOnTheSummedWaveform)
{
   // The weak ER/NR difference survives TTS and 10 ns sampling on average: NR S1s are narrower.
   const ScintillationTiming st;
   const WaveformSimulator sim(6, 6);
   double widthNR = 0., widthER = 0.;
   const int nS1 = 300;
   for (int i = 0; i < nS1; ++i) {
      for (const bool nr : {true, false}) {
         std::vector<float> t(50);
         // 10 keV: NR all prompt; ER 30 exciton + 20 recombination photons at 100 V/cm
         st.emissionTimes(nr, 10., 100., nr ? 50 : 30, nr ? 0 : 20, 11, static_cast<std::uint64_t>(2 * i + nr),
                          t.data());
         Photons p;
         for (std::size_t k = 0; k < t.size(); ++k)
            p.add(static_cast<int>(k % 12), t[k]);
         const SignalWaveforms w = run(sim, p, 3, static_cast<std::uint64_t>(2 * i + nr));
         ASSERT_FALSE(w.peaks.empty());
         (nr ? widthNR : widthER) += w.peaks[0].width50;
      }
   }
   EXPECT_LT(widthNR / nS1, widthER / nS1);
}

TEST(Waveform, SummedModeAgreesWithTheChannelModeOnLargeSignals)
{
   // an S1 and an S2 5 us apart on 24 channels: the fast path gives the same peaks within statistics
   const WaveformSimulator sim(12, 12);
   Photons p = s1Like(80, 24, 0., 24., 5);
   const Photons s2 = s2Like(4000, 24, 5000., 1000., 6);
   p.channel.insert(p.channel.end(), s2.channel.begin(), s2.channel.end());
   p.time.insert(p.time.end(), s2.time.begin(), s2.time.end());
   const SignalWaveforms full = sim.simulate(p.channel.data(), p.time.data(), p.size(), 8, 0, WaveformMode::kChannels);
   const SignalWaveforms fast = sim.simulate(p.channel.data(), p.time.data(), p.size(), 8, 0, WaveformMode::kSummed);
   EXPECT_TRUE(fast.pulses.empty());
   // same random draws of the photoelectrons: same PE counts per channel
   EXPECT_EQ(fast.channelPe, full.channelPe);
   EXPECT_NEAR(total(fast.channelArea), total(full.channelArea), 0.01 * total(full.channelArea));
   ASSERT_EQ(fast.peaks.size(), 2u);
   ASSERT_EQ(full.peaks.size(), 2u);
   EXPECT_EQ(fast.largestS1, 0);
   EXPECT_EQ(fast.largestS2, 1);
   for (std::size_t k = 0; k < 2; ++k) {
      const Peak &a = fast.peaks[k], &b = full.peaks[k];
      EXPECT_NEAR(a.area, b.area, 0.02 * b.area + 1.) << "peak " << k;
      EXPECT_NEAR(a.areaTop, b.areaTop, 0.02 * b.areaTop + 1.) << "peak " << k;
      EXPECT_NEAR(a.width50, b.width50, 0.05 * b.width50 + 5.) << "peak " << k;
      EXPECT_EQ(a.nChannels, b.nChannels) << "peak " << k;
      EXPECT_EQ(a.type, b.type) << "peak " << k;
   }
   // deterministic per (seed, index) and independent of the thread count
   std::vector<std::int64_t> off{0, static_cast<std::int64_t>(p.size())};
   const auto batch = sim.simulateBatch(p.channel.data(), p.time.data(), off.data(), 1, 8, 2, WaveformMode::kSummed);
   EXPECT_EQ(batch[0].sum, fast.sum);
}

namespace {
/// Mean area, top area, width50 and channel count of the largest S2 of `reps` electroluminescence S2s
/// (nE electrons with times Gaussian(t0, sigma) ns, mu photons each, top channels 3x brighter).
struct S2Summary {
   double area = 0., top = 0., width = 0., channels = 0., widthSd = 0.;
   int s2 = 0, s1 = 0;
};
S2Summary electroluminescence(const WaveformSimulator &ws, S2Path path, int nE, double mu, double sigma, double elTime,
                              int reps)
{
   std::vector<double> prob(ws.nChannels());
   for (std::size_t k = 0; k < prob.size(); ++k)
      prob[k] = k < ws.nTop() ? 3. : 1.;
   std::mt19937 gen(7);
   std::normal_distribution<double> g(0., sigma);
   S2Summary s;
   std::vector<double> widths;
   for (int r = 0; r < reps; ++r) {
      std::vector<double> te(static_cast<std::size_t>(nE));
      for (auto &t : te)
         t = 100000. + g(gen);
      const auto w = ws.simulateElectroluminescence(te.data(), te.size(), mu, elTime, prob.data(), 11,
                                                    static_cast<std::uint64_t>(r), path);
      s.s1 += w.largestS1 >= 0;
      if (w.largestS2 < 0)
         continue;
      const Peak &pk = w.peaks[static_cast<std::size_t>(w.largestS2)];
      ++s.s2;
      s.area += pk.area;
      s.top += pk.areaTop;
      s.width += pk.width50;
      s.channels += pk.nChannels;
      widths.push_back(pk.width50);
   }
   if (s.s2 > 0) {
      for (double *v : {&s.area, &s.top, &s.width, &s.channels})
         *v /= s.s2;
      for (double v : widths)
         s.widthSd += (v - s.width) * (v - s.width);
      s.widthSd = std::sqrt(s.widthSd / s.s2);
   }
   return s;
}
} // namespace

TEST(Waveform, BinnedS2AgreesWithThePhotonByPhotonPath)
{
   // 250 electrons x 20 photons (~6000 PE with DPE), diffusion sigma 300 ns, 600 ns electroluminescence:
   // the binned fast path against the PE-by-PE path (kPhotons) on 40 S2s each. Tolerances: mean area and top
   // fraction within 1.5% (statistical error of the mean ~0.3%), mean width50 within 3% (~1.5% statistical),
   // the same channel count within 2% and every S2 found, none an S1.
   const WaveformSimulator ws(127, 121);
   const auto fast = electroluminescence(ws, S2Path::kBinned, 250, 20., 300., 600., 40);
   const auto ref = electroluminescence(ws, S2Path::kPhotons, 250, 20., 300., 600., 40);
   ASSERT_EQ(fast.s2, 40);
   ASSERT_EQ(ref.s2, 40);
   EXPECT_EQ(fast.s1 + ref.s1, 0);
   const double expected = 250 * 20. * (1. + ws.params().pDpe);
   EXPECT_NEAR(ref.area / expected, 1., 0.03);
   EXPECT_NEAR(fast.area / ref.area, 1., 0.015);
   EXPECT_NEAR((fast.top / fast.area) / (ref.top / ref.area), 1., 0.015);
   EXPECT_NEAR(fast.width / ref.width, 1., 0.03);
   EXPECT_NEAR(fast.widthSd / ref.widthSd, 1., 0.35);
   EXPECT_NEAR(fast.channels / ref.channels, 1., 0.02);
}

TEST(Waveform, SingleElectronLikeS2TrainIsNotAnS1)
{
   // one electron, ~25 PE (with DPE) spread over 1 us of electroluminescence: an S2-like train, never an S1
   // (its rise time is hundreds of ns), on every path.
   const WaveformSimulator ws(127, 121);
   for (S2Path path : {S2Path::kPhotonsChannels, S2Path::kPhotons, S2Path::kBinned}) {
      const auto s = electroluminescence(ws, path, 1, 25. / (1. + ws.params().pDpe), 1., 1000., 30);
      EXPECT_EQ(s.s1, 0) << "path " << static_cast<int>(path);
      EXPECT_GE(s.s2, 27) << "path " << static_cast<int>(path);
   }
}

TEST(Waveform, ElectroluminescenceBadInputsGiveClearErrors)
{
   const WaveformSimulator ws(2, 2);
   const std::vector<double> prob{1., 1., 1., 1.}, zero(4, 0.);
   const double bad = std::nan(""), good = 1000.;
   EXPECT_THROW(ws.simulateElectroluminescence(&bad, 1, 5., 600., prob.data(), 1, 0), UsageError);
   EXPECT_THROW(ws.simulateElectroluminescence(&good, 1, -1., 600., prob.data(), 1, 0), UsageError);
   EXPECT_THROW(ws.simulateElectroluminescence(&good, 1, 5., 600., zero.data(), 1, 0), UsageError);
   try {
      ws.simulateElectroluminescence(&good, 1, 5., -3., prob.data(), 1, 0);
      FAIL() << "no error";
   } catch (const UsageError &e) {
      EXPECT_NE(std::string(e.what()).find("electroluminescence time"), std::string::npos);
   }
}
