#include "tpcml/lxe/LXeResponse.h"

#include "core/Parallel.h"
#include "core/Random.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace tpcml {

using detail::Rng;

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kFwhmToSigma = 1. / 2.354820045; // 2 sqrt(2 ln 2)
// Stream purposes: the same seed drives unrelated streams for each kind of signal.
enum Purpose : std::uint64_t { kScint = 1, kDark = 2, kSingleE = 3, kDrifted = 4 };
/// The waveform streams of the S1 paths: purpose + kWavePurposeOffset (6, 7, 8).
constexpr std::uint64_t kWavePurposeOffset = 5;
/// Electron trains (S2s and their S1 classification): clear of the purposes above and their waveform streams
/// (their S1 waveform stream is kTrainS1 + kWavePurposeOffset = 26).
constexpr std::uint64_t kTrainS2 = 20, kTrainS1 = 21;

/// Arrival times (ns) of the electrons of one single-electron train: uniform over [0, span]. Single electrons are
/// emitted at a rate that varies on ms time scales (a power law of the time since the last large S2: XENON1T,
/// PRD 106 (2022) 022001; Sorensen & Kamdin, JINST 13 (2018) P02032; Kopec et al., JINST 16 (2021) P07014), constant
/// over a us-scale train, so the n arrivals of a Poisson process in a window are uniform order statistics.
void trainTimes(Rng &rng, int nElectrons, double spanUs, std::vector<double> &t)
{
   t.resize(static_cast<std::size_t>(std::max(0, nElectrons)));
   for (auto &v : t)
      v = rng.uniform() * spanUs * 1e3;
}

void requireSpan(double spanUs)
{
   if (!(spanUs >= 0.) || !std::isfinite(spanUs))
      throw UsageError("single-electron train span must be finite and >= 0 us, got " + std::to_string(spanUs));
}

/// Full width of `w` at `frac` of its maximum, in samples (linear interpolation of the crossings).
double fullWidth(const std::vector<double> &w, double frac)
{
   if (w.empty())
      return 0.;
   const std::size_t m = static_cast<std::size_t>(std::max_element(w.begin(), w.end()) - w.begin());
   const double h = w[m] * frac;
   if (!(w[m] > 0.))
      return 0.;
   std::size_t i = m, j = m;
   while (i > 0 && w[i - 1] > h)
      --i;
   while (j + 1 < w.size() && w[j + 1] > h)
      ++j;
   const double left = i > 0 ? static_cast<double>(i - 1) + (h - w[i - 1]) / (w[i] - w[i - 1]) : 0.;
   const double right =
       j + 1 < w.size() ? static_cast<double>(j) + (w[j] - h) / (w[j] - w[j + 1]) : static_cast<double>(j);
   return right - left;
}

/// In-place moving average of odd width `width` (zero outside), via prefix sums.
void boxFilter(std::vector<double> &w, std::vector<double> &prefix, int width)
{
   if (width <= 1)
      return;
   const std::size_t n = w.size();
   const std::size_t h = static_cast<std::size_t>(width / 2);
   prefix.assign(n + 1, 0.);
   for (std::size_t k = 0; k < n; ++k)
      prefix[k + 1] = prefix[k] + w[k];
   for (std::size_t k = 0; k < n; ++k) {
      const std::size_t hiIdx = std::min(n, k + h + 1), loIdx = k > h ? k - h : 0;
      w[k] = (prefix[hiIdx] - prefix[loIdx]) / width;
   }
}

/// body(begin, end) over the events in contiguous chunks (detail::parallelChunks), at least 64 events
/// a thread: each event costs 10-100 us, more threads for fewer events do not pay.
template <class Body> void forEventChunks(std::size_t n, unsigned threads, Body body)
{
   detail::parallelChunks(n, threads, body, 64);
}

/// The batch of n events: for each event i (in chunks, one Scratch a chunk) an Rng on stream (seed,
/// purpose) and index i, then body(s, out, rng, i).
template <class Batch, class Scratch, class Body>
Batch eventBatch(std::size_t n, std::size_t nPmt, bool store, std::uint64_t seed, std::uint64_t purpose,
                 unsigned threads, Body body)
{
   Batch out;
   out.resize(n, store ? nPmt : 0);
   forEventChunks(n, threads, [&](std::size_t b, std::size_t e) {
      Scratch s(nPmt);
      for (std::size_t i = b; i < e; ++i) {
         Rng rng(detail::streamKey(seed, purpose), i);
         body(s, out, rng, i);
      }
   });
   return out;
}

void requireFinite(const float *v, std::size_t n, const char *what)
{
   for (std::size_t i = 0; i < n; ++i)
      if (!std::isfinite(v[i]))
         throw UsageError(std::string(what) + "[" + std::to_string(i) + "] is " + std::to_string(v[i]) +
                          "; expected a finite number");
}
} // namespace

void S1Batch::resize(std::size_t n, std::size_t nPmtStored)
{
   for (auto *v : {&qS1, &wS1, &S1TBA, &S1LargestBCQ})
      v->assign(n, 0.f);
   S1NPeaks.assign(n, 0);
   nPmtHit.assign(n, 0);
   found.assign(n, 0);
   pmtArea.assign(n * nPmtStored, 0.f);
}

void S2Batch::resize(std::size_t n, std::size_t nPmtStored)
{
   for (auto *v : {&qS2, &wS2, &wtenS2, &S2TBA, &S2SY1, &S2SY2, &x, &y, &driftTime})
      v->assign(n, 0.f);
   nElectrons.assign(n, 0);
   pmtArea.assign(n * nPmtStored, 0.f);
}

struct LXeResponse::Scratch {
   explicit Scratch(std::size_t nPmt) : prob(nPmt), cdf(nPmt), area(nPmt), count(nPmt), perm(nPmt) {}
   std::vector<double> prob, cdf, area;
   std::vector<int> count;
   std::vector<int> perm;
   std::vector<double> peTime, peArea, electronTime;
   std::vector<int> photonPmt; ///< S1: detected photons, PMT and time (ns), for the digitisation
   std::vector<float> photonTime;
   void addPhoton(std::size_t p, double t)
   {
      photonPmt.push_back(static_cast<int>(p));
      photonTime.push_back(static_cast<float>(t));
   }
   void clearPhotons()
   {
      photonPmt.clear();
      photonTime.clear();
   }
   std::vector<double> wave, smooth, prefix, tmp;
   /// One photoelectron on PMT p: area a (PE) at time t (ns).
   void addPe(std::size_t p, double a, double t)
   {
      area[p] += a;
      ++count[p];
      peTime.push_back(t);
      peArea.push_back(a);
   }
   void clearPes()
   {
      std::fill(area.begin(), area.end(), 0.);
      std::fill(count.begin(), count.end(), 0);
      peTime.clear();
      peArea.clear();
   }
   /// cdf from prob; returns the total.
   double buildCdf()
   {
      double s = 0.;
      for (std::size_t i = 0; i < prob.size(); ++i)
         cdf[i] = (s += prob[i]);
      return s;
   }
   std::size_t pickPmt(Rng &rng)
   {
      const double u = rng.uniform() * cdf.back();
      const auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
      return std::min<std::size_t>(static_cast<std::size_t>(it - cdf.begin()), cdf.size() - 1);
   }
};

LXeResponse::LXeResponse(const DetectorConfig &det) : m_optics(det), m_corr(det, m_optics), m_wf(det)
{
   m_g1 = det.get("g1");
   m_seg = det.get("single_electron_gain");
   m_speRes = det.get("pmt_spe_resolution");
   m_ttsSigma = det.get("pmt_transit_time_spread", "ns") * kFwhmToSigma;
   m_dt = det.get("sampling_period", "ns");
   m_tauSinglet = det.get("s1_singlet_lifetime", "ns");
   m_tauTriplet = det.get("s1_triplet_lifetime", "ns");
   m_coincWindow = det.get("s1_coincidence_window", "ns");
   m_coincLevel = static_cast<int>(det.getInt("s1_coincidence_level"));
   m_elTime = det.get("s2_electroluminescence_time", "ns");
   m_smoothSigma = det.get("s2_smoothing_sigma", "ns");
   m_eee = det.get("extraction_efficiency");
   m_diffL = det.get("diffusion_longitudinal", "mm2/us");

   // Position reconstruction: the start point averages the brightest top PMT and its
   // neighbours (within 1.5 x the smallest PMT spacing).
   const auto &top = m_optics.top();
   double dmin = std::numeric_limits<double>::infinity();
   for (std::size_t i = 0; i < top.size(); ++i)
      for (std::size_t j = i + 1; j < top.size(); ++j)
         dmin = std::min(dmin, std::hypot(top.x[i] - top.x[j], top.y[i] - top.y[j]));
   m_neighbourRadius = std::isfinite(dmin) ? 1.5 * dmin : m_optics.tpcRadius();
   // Normalised top-array S2 pattern tabulated on a square grid over the TPC (~5 mm steps).
   m_patternN = 129;
   const double rMax = m_optics.tpcRadius();
   m_patternStep = 2. * rMax / (m_patternN - 1);
   m_pattern.resize(static_cast<std::size_t>(m_patternN) * m_patternN * top.size());
   std::vector<double> buf(nPmt());
   for (int ix = 0; ix < m_patternN; ++ix)
      for (int iy = 0; iy < m_patternN; ++iy) {
         m_optics.s2Collection(-rMax + ix * m_patternStep, -rMax + iy * m_patternStep, buf.data());
         double sum = 0.;
         for (std::size_t k = 0; k < top.size(); ++k)
            sum += buf[k];
         float *dst = &m_pattern[(static_cast<std::size_t>(ix) * m_patternN + iy) * top.size()];
         for (std::size_t k = 0; k < top.size(); ++k)
            dst[k] = static_cast<float>(buf[k] / sum);
      }
}

void LXeResponse::reconstructXY(const double *area, double topSum, std::vector<double> &buf, double &xr,
                                double &yr) const
{
   // Poisson maximum likelihood of the top-array pattern against the optics model
   // (mu_i = topSum * p_i(x, y) / sum_top p), by a pattern search started at the local centroid.
   (void)buf;
   const auto &top = m_optics.top();
   const std::size_t nt = top.size();
   std::size_t best = 0;
   for (std::size_t i = 1; i < nt; ++i)
      if (area[i] > area[best])
         best = i;
   double s = 0., sx = 0., sy = 0.;
   for (std::size_t i = 0; i < nt; ++i)
      if (std::hypot(top.x[i] - top.x[best], top.y[i] - top.y[best]) <= m_neighbourRadius) {
         s += area[i];
         sx += area[i] * top.x[i];
         sy += area[i] * top.y[i];
      }
   double x = s > 0. ? sx / s : 0., y = s > 0. ? sy / s : 0.;
   const double rMax = m_optics.tpcRadius();
   auto nll = [&](double px, double py) {
      if (std::hypot(px, py) > rMax)
         return std::numeric_limits<double>::infinity();
      // bilinear interpolation of the tabulated normalised pattern
      const double u = (px + rMax) / m_patternStep, w = (py + rMax) / m_patternStep;
      const int ix = std::clamp(static_cast<int>(u), 0, m_patternN - 2);
      const int iy = std::clamp(static_cast<int>(w), 0, m_patternN - 2);
      const double fx = u - ix, fy = w - iy;
      const std::size_t row = static_cast<std::size_t>(m_patternN) * nt;
      const float *p00 = &m_pattern[(static_cast<std::size_t>(ix) * m_patternN + iy) * nt];
      const float *p01 = p00 + nt, *p10 = p00 + row, *p11 = p10 + nt;
      const double w00 = (1 - fx) * (1 - fy), w01 = (1 - fx) * fy, w10 = fx * (1 - fy), w11 = fx * fy;
      double v = 0.;
      for (std::size_t i = 0; i < nt; ++i) {
         const double mu = topSum * (w00 * p00[i] + w01 * p01[i] + w10 * p10[i] + w11 * p11[i]);
         v += mu - (area[i] > 0. ? area[i] * std::log(mu) : 0.);
      }
      return v;
   };
   if (std::hypot(x, y) > rMax) {
      const double f = 0.999 * rMax / std::hypot(x, y);
      x *= f;
      y *= f;
   }
   double f0 = nll(x, y);
   for (double step = 16.; step > 0.25;) {
      bool moved = false;
      for (const auto &d : {std::pair{1., 0.}, {-1., 0.}, {0., 1.}, {0., -1.}}) {
         const double fx = nll(x + step * d.first, y + step * d.second);
         if (fx < f0) {
            f0 = fx;
            x += step * d.first;
            y += step * d.second;
            moved = true;
            break;
         }
      }
      if (!moved)
         step *= 0.5;
   }
   xr = x;
   yr = y;
}

void LXeResponse::finishS1(Scratch &s, S1Batch &out, std::size_t i, bool store, std::uint64_t waveSeed) const
{
   // s.photonPmt / s.photonTime: the detected photons. The S1 is the largest peak of their waveforms.
   const std::size_t nt = m_optics.nTop(), np = nPmt();
   const SignalWaveforms w =
       m_wf.simulate(s.photonPmt.data(), s.photonTime.data(), s.photonPmt.size(), waveSeed, i, WaveformMode::kChannels);
   out.S1NPeaks[i] = static_cast<int>(w.peaks.size());
   if (w.peaks.empty())
      return;
   const Peak &pk =
       *std::max_element(w.peaks.begin(), w.peaks.end(), [](const Peak &a, const Peak &b) { return a.area < b.area; });
   m_wf.peakChannelAreas(w, pk, s.area.data());
   double q = 0., top = 0., largestBottom = 0.;
   int hit = 0;
   for (std::size_t k = 0; k < np; ++k) {
      q += s.area[k];
      if (k < nt)
         top += s.area[k];
      else
         largestBottom = std::max(largestBottom, s.area[k]);
      hit += s.area[k] > 0.;
   }
   out.qS1[i] = static_cast<float>(q);
   out.S1TBA[i] = q > 0. ? static_cast<float>((2. * top - q) / q) : 0.f;
   out.S1LargestBCQ[i] = q > 0. ? static_cast<float>(largestBottom / q) : 0.f;
   out.nPmtHit[i] = hit;
   out.found[i] = pk.type == PeakType::kS1;
   if (store)
      for (std::size_t k = 0; k < np; ++k)
         out.pmtArea[i * np + k] = static_cast<float>(s.area[k]);
   s.wave.assign(w.sum.begin() + pk.start, w.sum.begin() + pk.end);
   out.wS1[i] = static_cast<float>(fullWidth(s.wave, 0.5) * w.dt);
}

S1Batch LXeResponse::scintillationS1(const float *x, const float *y, const float *z, const int *nPhotons,
                                     const float *singletFraction, std::size_t n, std::uint64_t seed, unsigned threads,
                                     bool store) const
{
   requireFinite(x, n, "x");
   requireFinite(y, n, "y");
   requireFinite(z, n, "z");
   requireFinite(singletFraction, n, "singlet_fraction");
   return eventBatch<S1Batch, Scratch>(
       n, nPmt(), store, seed, kScint, threads, [&](Scratch &s, S1Batch &out, Rng &rng, std::size_t i) {
          s.clearPhotons();
          m_optics.s1Collection(x[i], y[i], z[i], s.prob.data());
          s.buildCdf();
          const double pDetect = s1DetectionProbability(x[i], y[i], z[i], m_wf.params().pDpe);
          const int nph = std::max(0, nPhotons[i]);
          const int ndet = nph > 0 ? std::binomial_distribution<int>(nph, pDetect)(rng) : 0;
          for (int k = 0; k < ndet; ++k) {
             const std::size_t p = s.pickPmt(rng);
             s.addPhoton(p, rng.uniform() < singletFraction[i] ? rng.exponential(m_tauSinglet)
                                                               : rng.exponential(m_tauTriplet));
          }
          finishS1(s, out, i, store, detail::streamKey(seed, kScint + kWavePurposeOffset));
       });
}

S1Batch LXeResponse::darkNoiseS1(const int *nPmts, std::size_t n, std::uint64_t seed, unsigned threads,
                                 bool store) const
{
   return eventBatch<S1Batch, Scratch>(
       n, nPmt(), store, seed, kDark, threads, [&](Scratch &s, S1Batch &out, Rng &rng, std::size_t i) {
          s.clearPhotons();
          std::iota(s.perm.begin(), s.perm.end(), 0);
          const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(std::max(0, nPmts[i])), nPmt());
          for (std::size_t j = 0; j < k; ++j) { // partial Fisher-Yates: k distinct PMTs
             std::swap(s.perm[j], s.perm[j + rng.index(nPmt() - j)]);
             s.addPhoton(static_cast<std::size_t>(s.perm[j]), rng.uniform() * m_coincWindow);
          }
          // approx.: a dark count is a thermal electron, yet the digitisation gives it the VUV double-PE probability
          finishS1(s, out, i, store, detail::streamKey(seed, kDark + kWavePurposeOffset));
       });
}

S1Batch LXeResponse::singleElectronS1(const float *x, const float *y, std::size_t n, std::uint64_t seed,
                                      unsigned threads, bool store) const
{
   requireFinite(x, n, "x");
   requireFinite(y, n, "y");
   return eventBatch<S1Batch, Scratch>(
       n, nPmt(), store, seed, kSingleE, threads, [&](Scratch &s, S1Batch &out, Rng &rng, std::size_t i) {
          s.clearPhotons();
          m_optics.s2Collection(x[i], y[i], s.prob.data());
          s.buildCdf();
          // the SE gain is in PE (double-PE emission included): photons = gain / (1 + p_dpe)
          const int nph = std::poisson_distribution<int>(s2PhotonsPerElectron(x[i], y[i], m_wf.params().pDpe))(rng);
          for (int k = 0; k < nph; ++k)
             s.addPhoton(s.pickPmt(rng), rng.uniform() * m_elTime);
          finishS1(s, out, i, store, detail::streamKey(seed, kSingleE + kWavePurposeOffset));
       });
}

S1Batch LXeResponse::electronTrainS1(const float *x, const float *y, const int *nElectrons, double spanUs,
                                     std::size_t n, std::uint64_t seed, unsigned threads, bool store) const
{
   requireFinite(x, n, "x");
   requireFinite(y, n, "y");
   requireSpan(spanUs);
   return eventBatch<S1Batch, Scratch>(
       n, nPmt(), store, seed, kTrainS1, threads, [&](Scratch &s, S1Batch &out, Rng &rng, std::size_t i) {
          s.clearPhotons();
          m_optics.s2Collection(x[i], y[i], s.prob.data());
          s.buildCdf();
          trainTimes(rng, nElectrons[i], spanUs, s.electronTime);
          const double perElectron = s2PhotonsPerElectron(x[i], y[i], m_wf.params().pDpe);
          for (double te : s.electronTime) {
             const int nph = std::poisson_distribution<int>(perElectron)(rng);
             for (int k = 0; k < nph; ++k)
                s.addPhoton(s.pickPmt(rng), te + rng.uniform() * m_elTime);
          }
          finishS1(s, out, i, store, detail::streamKey(seed, kTrainS1 + kWavePurposeOffset));
       });
}

void LXeResponse::finishS2(Scratch &s, S2Batch &out, std::size_t i, bool store, Rng &rng) const
{
   // s.electronTime (ns) and s.prob (pattern) are set; x/y in out are the true position on entry.
   const std::size_t ne = s.electronTime.size(), nt = m_optics.nTop(), np = nPmt();
   out.nElectrons[i] = static_cast<int>(ne);
   if (ne == 0) {
      out.x[i] = out.y[i] = 0.f;
      return;
   }
   const double xt = out.x[i], yt = out.y[i];
   const double total = s.buildCdf();
   const double mean = static_cast<double>(ne) * m_seg * m_corr.s2Relative(xt, yt);
   const long long npe = std::poisson_distribution<long long>(mean)(rng);
   // multinomial split over PMTs by sequential binomials
   long long remaining = npe;
   double pRemaining = total;
   double q = 0., top = 0.;
   for (std::size_t k = 0; k < np; ++k) {
      long long c = 0;
      if (remaining > 0 && pRemaining > 0.) {
         const double p = std::clamp(s.prob[k] / pRemaining, 0., 1.);
         c = k + 1 == np ? remaining : std::binomial_distribution<long long>(remaining, p)(rng);
      }
      remaining -= c;
      pRemaining -= s.prob[k];
      const double a =
          c > 0 ? std::max(0., static_cast<double>(c) + m_speRes * std::sqrt(double(c)) * rng.normal()) : 0.;
      s.area[k] = a;
      q += a;
      if (k < nt)
         top += a;
      if (store)
         out.pmtArea[i * np + k] = static_cast<float>(a);
   }
   out.qS2[i] = static_cast<float>(q);
   out.S2TBA[i] = q > 0. ? static_cast<float>((2. * top - q) / q) : 0.f;
   if (top > 0.) {
      double xr = 0., yr = 0.;
      reconstructXY(s.area.data(), top, s.tmp, xr, yr);
      out.x[i] = static_cast<float>(xr);
      out.y[i] = static_cast<float>(yr);
   } else {
      out.x[i] = out.y[i] = 0.f;
   }
   if (npe == 0)
      return;
   // PE times: a random electron, uniformly within its electroluminescence, plus the TTS
   s.peTime.resize(static_cast<std::size_t>(npe));
   double tSum = 0.;
   for (auto &t : s.peTime) {
      t = s.electronTime[rng.index(ne)] + rng.uniform() * m_elTime + m_ttsSigma * rng.normal();
      tSum += t;
   }
   out.driftTime[i] = static_cast<float>((tSum / static_cast<double>(npe) - 0.5 * m_elTime) * 1e-3);
   const auto [tMinIt, tMaxIt] = std::minmax_element(s.peTime.begin(), s.peTime.end());
   const double sigmaSamples = m_smoothSigma / m_dt;
   int width = static_cast<int>(std::lround(std::sqrt(12. * sigmaSamples * sigmaSamples / 3. + 1.)));
   width += (width % 2 == 0);
   const int pad = 3 * (width / 2) + 4;
   const double origin = *tMinIt - pad * m_dt;
   const std::size_t nb = static_cast<std::size_t>((*tMaxIt - *tMinIt) / m_dt) + 2 * static_cast<std::size_t>(pad) + 2;
   s.wave.assign(nb, 0.);
   const double perPe = q / static_cast<double>(npe);
   for (double t : s.peTime) {
      const double u = (t - origin) / m_dt;
      const std::size_t b = static_cast<std::size_t>(u);
      const double f = u - static_cast<double>(b);
      s.wave[b] += perPe * (1. - f);
      s.wave[b + 1] += perPe * f;
   }
   auto symmetry = [](const std::vector<double> &w) {
      const std::size_t m = static_cast<std::size_t>(std::max_element(w.begin(), w.end()) - w.begin());
      const double before = std::accumulate(w.begin(), w.begin() + static_cast<long>(m), 0.);
      const double all = std::accumulate(w.begin(), w.end(), 0.);
      return all > 0. ? before / all : 0.;
   };
   out.S2SY1[i] = static_cast<float>(symmetry(s.wave));
   s.smooth = s.wave;
   for (int pass = 0; pass < 3; ++pass)
      boxFilter(s.smooth, s.prefix, width);
   out.S2SY2[i] = static_cast<float>(symmetry(s.smooth));
   out.wS2[i] = static_cast<float>(fullWidth(s.smooth, 0.5) * m_dt);
   out.wtenS2[i] = static_cast<float>(fullWidth(s.smooth, 0.1) * m_dt);
}

S2Batch LXeResponse::driftedS2(const float *x, const float *y, const float *driftTime, const int *nElectrons,
                               std::size_t n, std::uint64_t seed, unsigned threads, bool store) const
{
   requireFinite(x, n, "x");
   requireFinite(y, n, "y");
   requireFinite(driftTime, n, "drift_time");
   const ElectronLifetimeCorrection &lifetime = m_corr.lifetimeCorrection();
   return eventBatch<S2Batch, Scratch>(
       n, nPmt(), store, seed, kDrifted, threads, [&](Scratch &s, S2Batch &out, Rng &rng, std::size_t i) {
          const double td = std::max(0.f, driftTime[i]);
          const int ne = std::max(0, nElectrons[i]);
          const int survived = ne > 0 ? std::binomial_distribution<int>(ne, lifetime.survivalProbability(td))(rng) : 0;
          const int extracted = survived > 0 ? std::binomial_distribution<int>(survived, m_eee)(rng) : 0;
          const double sigmaT = std::sqrt(2. * m_diffL * td) / m_corr.driftVelocity(); // us
          s.electronTime.resize(static_cast<std::size_t>(extracted));
          for (auto &t : s.electronTime)
             t = (td + sigmaT * rng.normal()) * 1e3;
          m_optics.s2Collection(x[i], y[i], s.prob.data());
          out.x[i] = x[i];
          out.y[i] = y[i];
          finishS2(s, out, i, store, rng);
       });
}

S2Batch LXeResponse::electronTrainS2(const float *x, const float *y, const int *nElectrons, double spanUs,
                                     std::size_t n, std::uint64_t seed, unsigned threads, bool store) const
{
   requireFinite(x, n, "x");
   requireFinite(y, n, "y");
   requireSpan(spanUs);
   return eventBatch<S2Batch, Scratch>(n, nPmt(), store, seed, kTrainS2, threads,
                                       [&](Scratch &s, S2Batch &out, Rng &rng, std::size_t i) {
                                          trainTimes(rng, nElectrons[i], spanUs, s.electronTime);
                                          m_optics.s2Collection(x[i], y[i], s.prob.data());
                                          out.x[i] = x[i];
                                          out.y[i] = y[i];
                                          finishS2(s, out, i, store, rng);
                                       });
}

} // namespace tpcml
