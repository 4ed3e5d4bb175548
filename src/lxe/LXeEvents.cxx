#include "tpcml/lxe/LXeEvents.h"

#include "core/Parallel.h"
#include "core/Random.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace tpcml {

using detail::Rng;

namespace {
// Stream purposes (LXeResponse 1-5, Waveform 16-18): the event's own draws, the S1 emission times,
// the S1 waveform, the S2 electroluminescence.
enum EventPurpose : std::uint64_t { kEvent = 24, kEmission = 25, kS1Wave = 26, kS2Wave = 27, kS2Rows = 28 };

int binomialInt(Rng &rng, int n, double p)
{
   return static_cast<int>(detail::binomial(rng, n, p));
}

[[noreturn]] void badInput(std::size_t i, const char *what, double v, const char *expected)
{
   throw UsageError("event " + std::to_string(i) + ": " + what + " is " + std::to_string(v) + "; expected " + expected);
}

/// Area-weighted mean time (ns) of the peak on w's summed waveform.
double meanTime(const SignalWaveforms &w, const Peak &pk)
{
   double s = 0., st = 0.;
   for (std::int64_t k = pk.start; k < pk.end; ++k) {
      const double v = std::max(0.f, w.sum[static_cast<std::size_t>(k)]);
      s += v;
      st += v * (static_cast<double>(k) + 0.5);
   }
   return w.origin + (s > 0. ? st / s : 0.5 * static_cast<double>(pk.start + pk.end)) * w.dt;
}

/// Per-channel areas `area` stored as float into pa (rounded back into area), their sum and top-array sum
/// (first nTop channels) into sum / top; returns (sum, top) of the stored values.
std::pair<double, double> storeAreas(std::vector<double> &area, std::size_t nTop, float *pa, float &sum, float &top)
{
   double q = 0., t = 0.;
   for (std::size_t k = 0; k < area.size(); ++k) {
      pa[k] = static_cast<float>(area[k]);
      area[k] = pa[k];
      q += pa[k];
      if (k < nTop)
         t += pa[k];
   }
   sum = static_cast<float>(q);
   top = static_cast<float>(t);
   return {q, t};
}

/// Downsampling factor of a peak of L samples into m stored samples (strax: the smallest integer factor).
std::int64_t downsampleFactor(std::int64_t length, int m)
{
   return std::max<std::int64_t>(1, (length + m - 1) / m);
}

/// src[start, end) summed in groups of f into dst (m values, zero-padded).
void downsample(const float *src, std::int64_t start, std::int64_t end, std::int64_t f, int m, float *dst)
{
   std::fill(dst, dst + m, 0.f);
   for (std::int64_t k = start; k < end; ++k) {
      const std::int64_t j = (k - start) / f;
      if (j < m)
         dst[j] += src[k];
   }
}
} // namespace

void LXeEventBatch::resize(std::size_t n, std::size_t np, std::size_t ns)
{
   nPmt = np;
   nSamples = ns;
   for (auto *v : {&kept, &triggered, &hasS1, &hasS2})
      v->assign(n, 0);
   for (auto *v : {&s1Area, &s1AreaTop, &s2Area, &s2AreaTop, &s1Width50, &s1RiseTime, &s2Width50, &s2RiseTime, &x, &y,
                   &driftTime, &z, &cS1, &cS2, &cS2Bottom, &s1WaveformDt, &s2WaveformDt, &s1WaveformT0, &s2WaveformT0})
      v->assign(n, 0.f);
   s1NChannels.assign(n, 0);
   nPeaks.assign(n, 0);
   s1PmtArea.assign(n * np, 0.f);
   s2PmtArea.assign(n * np, 0.f);
   for (auto *v : {&s1Waveform, &s1WaveformTop, &s1WaveformBottom, &s2Waveform, &s2WaveformTop, &s2WaveformBottom})
      v->assign(n * ns, 0.f);
   pmtWaveforms.clear();
}

struct LXeEventSimulator::Scratch {
   explicit Scratch(std::size_t nPmt) : prob(nPmt), cdf(nPmt), area(nPmt), firstHit(nPmt) {}
   std::vector<double> prob, cdf, area, firstHit, electronTime;
   std::vector<int> channel;
   std::vector<float> time;
   std::vector<double> hitTimes;
};

LXeEventSimulator::LXeEventSimulator(const DetectorConfig &det) : m_response(det), m_wf(det)
{
   m_eee = det.get("extraction_efficiency");
   m_diffL = det.get("diffusion_longitudinal", "mm2/us");
   m_vd = m_response.corrections().driftVelocity();
   m_elTime = det.get("s2_electroluminescence_time", "ns");
   m_field = det.get("drift_field", "V/cm");
   m_coincWindow = det.get("s1_coincidence_window", "ns");
   m_coincLevel = static_cast<int>(det.getInt("s1_coincidence_level"));
   m_timing.validate();
}

LXeEventBatch LXeEventSimulator::simulate(const LXeEventInput &in, std::size_t n, std::uint64_t seed, unsigned threads,
                                          const LXeEventOptions &opt) const
{
   if (n > 0 &&
       (!in.x || !in.y || !in.z || !in.driftTime || !in.nPhotons || !in.nElectrons || !in.recoil || !in.energy))
      throw UsageError("LXe event input: x, y, z, drift_time, n_photons, n_electrons, recoil and energy are all "
                       "required");
   if (opt.waveformSamples < 1)
      throw UsageError("waveform samples is " + std::to_string(opt.waveformSamples) + "; expected an integer >= 1");
   for (std::size_t i = 0; i < n; ++i) {
      for (const auto &[name, v] : {std::pair{"x (mm)", in.x[i]},
                                    {"y (mm)", in.y[i]},
                                    {"z (mm)", in.z[i]},
                                    {"drift_time (us)", in.driftTime[i]}})
         if (!std::isfinite(v))
            badInput(i, name, v, "a finite number");
      if (in.driftTime[i] < 0.f)
         badInput(i, "drift_time (us)", in.driftTime[i], "a time >= 0");
      if (in.nPhotons[i] < 0)
         badInput(i, "n_photons", in.nPhotons[i], "a count >= 0");
      if (in.nElectrons[i] < 0)
         badInput(i, "n_electrons", in.nElectrons[i], "a count >= 0");
      if (in.nExcitons && (in.nExcitons[i] < 0 || in.nExcitons[i] > in.nPhotons[i]))
         badInput(i, "n_excitons", in.nExcitons[i], "a count in [0, n_photons]");
      if (in.recoil[i] != 0 && in.recoil[i] != 1)
         badInput(i, "recoil", in.recoil[i], "0 (ER) or 1 (NR)");
      if (!(in.energy[i] > 0.f) || !std::isfinite(in.energy[i]))
         badInput(i, "energy (keV)", in.energy[i], "a finite energy > 0 keV");
   }
   LXeEventBatch out;
   out.resize(n, nPmt(), static_cast<std::size_t>(opt.waveformSamples));
   const std::size_t nKeep = std::min(n, opt.pmtWaveformEvents);
   std::vector<std::vector<PmtWaveformRow>> rows(nKeep);
   detail::parallelChunks(
       n, threads,
       [&](std::size_t b, std::size_t e) {
          Scratch s(nPmt());
          for (std::size_t i = b; i < e; ++i)
             event(in, i, seed, opt, s, out, i < nKeep ? &rows[i] : nullptr);
       },
       16);
   for (auto &r : rows)
      for (auto &row : r)
         out.pmtWaveforms.push_back(std::move(row));
   return out;
}

void LXeEventSimulator::event(const LXeEventInput &in, std::size_t i, std::uint64_t seed, const LXeEventOptions &opt,
                              Scratch &s, LXeEventBatch &out, std::vector<PmtWaveformRow> *rows) const
{
   const LXeOptics &optics = m_response.optics();
   const PositionCorrections &corr = m_response.corrections();
   const WaveformParams &wp = m_wf.params();
   const std::size_t np = nPmt(), nt = optics.nTop();
   const int m = opt.waveformSamples;
   const auto ms = static_cast<std::size_t>(m);
   const std::uint64_t index = opt.firstIndex + i; // the event's random streams
   Rng rng(detail::streamKey(seed, kEvent), index);
   const double x = in.x[i], y = in.y[i], z = in.z[i], td = in.driftTime[i], energy = in.energy[i];
   const bool isNR = in.recoil[i] == 1;

   // ---- S1: detected photons, emission times, channels, digitisation
   const double pDetect = m_response.s1DetectionProbability(x, y, z, wp.pDpe);
   const int nph = in.nPhotons[i];
   int nDet = binomialInt(rng, nph, pDetect);
   double c = 0.;
   if (nDet > 0) { // the per-PMT probabilities (O(n_pmt) solid angles) only for an S1 with light
      optics.s1Collection(x, y, z, s.prob.data());
      for (std::size_t k = 0; k < np; ++k)
         s.cdf[k] = (c += s.prob[k]);
      if (!(c > 0.))
         nDet = 0;
   }
   const int nExc = in.nExcitons && nph > 0 && !isNR
                        ? binomialInt(rng, nDet, static_cast<double>(in.nExcitons[i]) / static_cast<double>(nph))
                        : nDet;
   s.time.resize(static_cast<std::size_t>(nDet));
   s.channel.resize(static_cast<std::size_t>(nDet));
   if (nDet > 0)
      m_timing.emissionTimes(isNR, energy, m_field, static_cast<std::size_t>(nExc),
                             static_cast<std::size_t>(nDet - nExc), detail::streamKey(seed, kEmission), index,
                             s.time.data());
   for (auto &ch : s.channel) {
      const auto it = std::upper_bound(s.cdf.begin(), s.cdf.end(), rng.uniform() * c);
      ch = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(it - s.cdf.begin()), np - 1));
   }
   const SignalWaveforms w1 = m_wf.simulate(s.channel.data(), s.time.data(), s.channel.size(),
                                            detail::streamKey(seed, kS1Wave), index, WaveformMode::kChannels);
   double tS1Start = 0., tS1Mean = 0.;
   std::int64_t f1 = 1;
   if (w1.largestS1 >= 0) {
      const Peak &pk = w1.peaks[static_cast<std::size_t>(w1.largestS1)];
      out.hasS1[i] = 1;
      tS1Start = w1.origin + static_cast<double>(pk.start) * w1.dt;
      tS1Mean = meanTime(w1, pk);
      // per-channel areas inside the peak; first hit of each channel for the trigger
      const double hitPe = wp.hitThreshold / m_wf.adcPerPe();
      std::fill(s.area.begin(), s.area.end(), 0.);
      std::fill(s.firstHit.begin(), s.firstHit.end(), std::numeric_limits<double>::infinity());
      for (const auto &p : w1.pulses) {
         const std::int64_t from = std::max(p.start, pk.start), to = std::min(p.start + p.length, pk.end);
         const float *d = w1.pulseData.data() + p.offset - p.start;
         const auto ch = static_cast<std::size_t>(p.channel);
         for (std::int64_t k = from; k < to; ++k) {
            s.area[ch] += d[k];
            if (d[k] > hitPe && !(s.firstHit[ch] <= static_cast<double>(k)))
               s.firstHit[ch] = static_cast<double>(k);
         }
      }
      storeAreas(s.area, nt, &out.s1PmtArea[i * np], out.s1Area[i], out.s1AreaTop[i]);
      out.s1Width50[i] = pk.width50;
      out.s1RiseTime[i] = pk.riseTime;
      out.s1NChannels[i] = pk.tightCoincidence;
      s.hitTimes.clear();
      for (std::size_t k = 0; k < np; ++k)
         if (std::isfinite(s.firstHit[k]))
            s.hitTimes.push_back(s.firstHit[k] * w1.dt);
      std::sort(s.hitTimes.begin(), s.hitTimes.end());
      int best = 0;
      for (std::size_t a = 0, b = 0; b < s.hitTimes.size(); ++b) {
         while (s.hitTimes[b] - s.hitTimes[a] > m_coincWindow)
            ++a;
         best = std::max(best, static_cast<int>(b - a + 1));
      }
      out.triggered[i] = best >= m_coincLevel;
      f1 = downsampleFactor(pk.end - pk.start, m);
      out.s1WaveformDt[i] = static_cast<float>(static_cast<double>(f1) * w1.dt);
      out.s1WaveformT0[i] = 0.f;
      downsample(w1.sum.data(), pk.start, pk.end, f1, m, &out.s1Waveform[i * ms]);
      downsample(w1.sumTop.data(), pk.start, pk.end, f1, m, &out.s1WaveformTop[i * ms]);
      downsample(w1.sumBottom.data(), pk.start, pk.end, f1, m, &out.s1WaveformBottom[i * ms]);
   }

   // ---- S2: drift, extraction, diffusion, electroluminescence
   const int ne = in.nElectrons[i];
   const int survived = binomialInt(rng, ne, corr.lifetimeCorrection().survivalProbability(td));
   const int extracted = binomialInt(rng, survived, m_eee);
   const double sigmaT = std::sqrt(2. * m_diffL * td) / m_vd; // us
   s.electronTime.resize(static_cast<std::size_t>(extracted));
   for (auto &t : s.electronTime)
      t = (td + sigmaT * rng.normal()) * 1e3;
   optics.s2Collection(x, y, s.prob.data());
   const double mu = m_response.s2PhotonsPerElectron(x, y, wp.pDpe);
   const S2Path path = opt.forceS2Path                                              ? opt.s2Path
                       : static_cast<double>(extracted) * mu >= opt.s2FastThreshold ? S2Path::kBinned
                                                                                    : S2Path::kPhotons;
   SignalWaveforms w2;
   if (extracted > 0)
      w2 = m_wf.simulateElectroluminescence(s.electronTime.data(), s.electronTime.size(), mu, m_elTime, s.prob.data(),
                                            detail::streamKey(seed, kS2Wave), index, path);
   out.nPeaks[i] = static_cast<int>(w1.peaks.size() + w2.peaks.size());
   std::int64_t f2 = 1;
   if (w2.largestS2 >= 0) {
      const Peak &pk = w2.peaks[static_cast<std::size_t>(w2.largestS2)];
      out.hasS2[i] = 1;
      // per-channel areas inside the peak: from the pulses when digitised per channel; otherwise (kPhotons,
      // kBinned: no per-channel timing) the signal's channel areas x the peak's share of the summed waveform
      // (the S2 light pattern does not change during the signal)
      if (!w2.pulses.empty()) {
         m_wf.peakChannelAreas(w2, pk, s.area.data());
      } else {
         double all = 0.;
         for (float v : w2.sum)
            all += v;
         const double share = all > 0. ? std::clamp(static_cast<double>(pk.area) / all, 0., 1.) : 1.;
         for (std::size_t k = 0; k < np; ++k)
            s.area[k] = w2.channelArea[k] * share;
      }
      const auto [q, top] = storeAreas(s.area, nt, &out.s2PmtArea[i * np], out.s2Area[i], out.s2AreaTop[i]);
      out.s2Width50[i] = pk.width50;
      out.s2RiseTime[i] = pk.riseTime;
      double xr = 0., yr = 0.;
      if (top > 0.)
         m_response.reconstructXY(s.area.data(), top, s.cdf, xr, yr);
      const double drift = std::max(0., (meanTime(w2, pk) - 0.5 * m_elTime - tS1Mean) * 1e-3); // us
      const double zr = -m_vd * drift;
      out.x[i] = static_cast<float>(xr);
      out.y[i] = static_cast<float>(yr);
      out.driftTime[i] = static_cast<float>(drift);
      out.z[i] = static_cast<float>(zr);
      const double s1Rel = corr.s1Relative(xr, yr, zr), s2Rel = corr.s2Relative(xr, yr);
      const double lifetime = corr.lifetimeCorrection().correctionFactor(drift);
      out.cS1[i] = s1Rel > 0. ? static_cast<float>(out.s1Area[i] / s1Rel) : 0.f;
      out.cS2[i] = s2Rel > 0. ? static_cast<float>(q * lifetime / s2Rel) : 0.f;
      out.cS2Bottom[i] = s2Rel > 0. ? static_cast<float>((q - top) * lifetime / s2Rel) : 0.f;
      f2 = downsampleFactor(pk.end - pk.start, m);
      out.s2WaveformDt[i] = static_cast<float>(static_cast<double>(f2) * w2.dt);
      out.s2WaveformT0[i] = static_cast<float>(w2.origin + static_cast<double>(pk.start) * w2.dt - tS1Start);
      downsample(w2.sum.data(), pk.start, pk.end, f2, m, &out.s2Waveform[i * ms]);
      downsample(w2.sumTop.data(), pk.start, pk.end, f2, m, &out.s2WaveformTop[i * ms]);
      downsample(w2.sumBottom.data(), pk.start, pk.end, f2, m, &out.s2WaveformBottom[i * ms]);
   }
   out.kept[i] = out.triggered[i] && out.hasS1[i] && out.hasS2[i] && out.s2Area[i] > 0.f;

   // ---- per-PMT waveforms of the peaks (the first events only)
   if (!rows)
      return;
   auto channelRows = [&](const SignalWaveforms &w, int largest, int signal, std::int64_t f) {
      if (largest < 0)
         return;
      const Peak &pk = w.peaks[static_cast<std::size_t>(largest)];
      std::vector<float> dense(static_cast<std::size_t>(pk.end - pk.start));
      for (std::size_t a = 0; a < w.pulses.size();) {
         const int ch = w.pulses[a].channel;
         std::fill(dense.begin(), dense.end(), 0.f);
         bool any = false;
         for (; a < w.pulses.size() && w.pulses[a].channel == ch; ++a) {
            const auto &p = w.pulses[a];
            const std::int64_t from = std::max(p.start, pk.start), to = std::min(p.start + p.length, pk.end);
            for (std::int64_t k = from; k < to; ++k) {
               dense[static_cast<std::size_t>(k - pk.start)] =
                   w.pulseData[p.offset + static_cast<std::size_t>(k - p.start)];
               any = true;
            }
         }
         if (!any)
            continue;
         PmtWaveformRow r;
         r.event = index;
         r.signal = signal;
         r.channel = ch;
         r.dt = static_cast<float>(static_cast<double>(f) * w.dt);
         r.t0 = static_cast<float>(w.origin + static_cast<double>(pk.start) * w.dt - tS1Start);
         r.samples.resize(ms);
         downsample(dense.data(), 0, pk.end - pk.start, f, m, r.samples.data());
         rows->push_back(std::move(r));
      }
   };
   channelRows(w1, w1.largestS1, 1, f1);
   // S2 rows: the summed paths keep no per-channel pulses, so the same electrons are digitised again channel by
   // channel (own stream): the rows match the event's S2 in distribution, not sample by sample, and keeping
   // waveforms never changes the event's columns
   if (!w2.pulses.empty() || extracted == 0) {
      channelRows(w2, w2.largestS2, 2, f2);
      return;
   }
   const SignalWaveforms wc =
       m_wf.simulateElectroluminescence(s.electronTime.data(), s.electronTime.size(), mu, m_elTime, s.prob.data(),
                                        detail::streamKey(seed, kS2Rows), index, S2Path::kPhotonsChannels);
   if (wc.largestS2 >= 0)
      channelRows(wc, wc.largestS2, 2,
                  downsampleFactor(wc.peaks[static_cast<std::size_t>(wc.largestS2)].end -
                                       wc.peaks[static_cast<std::size_t>(wc.largestS2)].start,
                                   m));
}

} // namespace tpcml
