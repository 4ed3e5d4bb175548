// tpcml -- Hit / Peak / HitPeak images of LXe TPC events (see include/tpcml/imaging/HitPeak.h).
#include "tpcml/imaging/HitPeak.h"

#include "core/Parallel.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Strings.h"
#include "tpcml/lxe/LXeOptics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

namespace tpcml {

namespace {
/// Sub-samples per pixel side for the coverage of a pixel cut by a disc edge (16 x 16: the covered
/// fraction to 1/256; computed once per imager).
constexpr int kSub = 16;
constexpr double kLog10Of2 = 0.30102999566398120;

/// matplotlib's "hot" colour map (_cm.py, _hot_data): piecewise linear in v, red from 0 to 0.365079, green to
/// 0.746032, blue to 1 (float, the ramps as multiplications: it runs once per lit PMT).
std::array<float, 3> hot(float v)
{
   constexpr float a = 0.365079f, b = 0.746032f;
   constexpr float ia = 1.f / a, iab = 1.f / (b - a), ib1 = 1.f / (1.f - b);
   return {std::clamp(v * ia, 0.f, 1.f), std::clamp((v - a) * iab, 0.f, 1.f), std::clamp((v - b) * ib1, 0.f, 1.f)};
}

void requireFinitePositions(const std::vector<double> &v, const char *what)
{
   for (std::size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
         throw UsageError(std::string("HitPeakImager: ") + what + "[" + std::to_string(i) + "] is not finite");
}
} // namespace

HitPeakKind parseHitPeakKind(const std::string &name)
{
   static const std::vector<std::string> names{"hit", "peak", "hitpeak", "raw"};
   for (std::size_t k = 0; k < names.size(); ++k)
      if (name == names[k])
         return static_cast<HitPeakKind>(k);
   throw UsageError("unknown image kind '" + name + "'; expected one of hit, peak, hitpeak, raw" +
                    didYouMean(name, names));
}

std::string hitPeakKindName(HitPeakKind kind)
{
   switch (kind) {
   case HitPeakKind::kHit:
      return "hit";
   case HitPeakKind::kPeak:
      return "peak";
   case HitPeakKind::kHitPeak:
      return "hitpeak";
   case HitPeakKind::kRaw:
      return "raw";
   }
   return "?";
}

const std::vector<std::string> &hitPeakColumns()
{
   static const std::vector<std::string> columns{"s1_pmt_area",     "s2_pmt_area",        "s1_waveform",
                                                 "s1_waveform_top", "s1_waveform_bottom", "s2_waveform",
                                                 "s2_waveform_top", "s2_waveform_bottom"};
   return columns;
}

HitPeakArrays HitPeakArrays::fromDetector(const DetectorConfig &detector)
{
   const LXeOptics optics(detector);
   HitPeakArrays a;
   a.topX = optics.top().x;
   a.topY = optics.top().y;
   a.bottomX = optics.bottom().x;
   a.bottomY = optics.bottom().y;
   a.tpcRadius = optics.tpcRadius();
   a.pmtDiameter = detector.get("pmt_diameter", "mm");
   return a;
}

HitPeakImager::HitPeakImager(const DetectorConfig &detector, HitPeakOptions options)
    : HitPeakImager(HitPeakArrays::fromDetector(detector), options)
{
}

HitPeakImager::HitPeakImager(HitPeakArrays arrays, HitPeakOptions options) : m_arrays(std::move(arrays)), m_opt(options)
{
   const auto &a = m_arrays;
   if (a.topX.size() != a.topY.size() || a.bottomX.size() != a.bottomY.size())
      throw UsageError("HitPeakImager: PMT x and y positions differ in length");
   if (a.topX.empty() || a.bottomX.empty())
      throw UsageError("HitPeakImager: both PMT arrays need at least one PMT");
   requireFinitePositions(a.topX, "top x");
   requireFinitePositions(a.topY, "top y");
   requireFinitePositions(a.bottomX, "bottom x");
   requireFinitePositions(a.bottomY, "bottom y");
   if (!(a.tpcRadius > 0.) || !std::isfinite(a.tpcRadius))
      throw UsageError("HitPeakImager: tpc_radius must be finite and > 0 mm, got " + std::to_string(a.tpcRadius));
   if (!(a.pmtDiameter > 0.) || !std::isfinite(a.pmtDiameter))
      throw UsageError("HitPeakImager: pmt_diameter must be finite and > 0 mm, got " + std::to_string(a.pmtDiameter));
   if (m_opt.samples < 1 || m_opt.samples > 100000)
      throw UsageError("HitPeakImager: samples must be in [1, 100000], got " + std::to_string(m_opt.samples));
   if (!(m_opt.logMin < m_opt.logMax) || !std::isfinite(m_opt.logMin) || !std::isfinite(m_opt.logMax))
      throw UsageError("HitPeakImager: the waveform log10 range needs finite logMin < logMax, got [" +
                       std::to_string(m_opt.logMin) + ", " + std::to_string(m_opt.logMax) + "]");
   m_nPmt = a.nPmt();
   const HitPeakKind kind = m_opt.kind;
   if (kind == HitPeakKind::kRaw) {
      m_w = m_h = 0;
      m_size = 2 * m_nPmt + 6 * static_cast<std::size_t>(m_opt.samples);
      return;
   }
   if (kind != HitPeakKind::kHit && kind != HitPeakKind::kPeak && kind != HitPeakKind::kHitPeak)
      throw UsageError("HitPeakImager: unknown image kind " + std::to_string(static_cast<int>(kind)));
   const bool square = kind == HitPeakKind::kHitPeak;
   m_w = m_opt.width > 0 ? m_opt.width : (square ? 75 : 100);  // X1T-CNN Sec. IV
   m_h = m_opt.height > 0 ? m_opt.height : (square ? 75 : 50); // X1T-CNN Sec. IV
   for (int v : {m_w, m_h})
      if (v < 8 || v > 1024)
         throw UsageError("HitPeakImager: image width and height must be in [8, 1024] pixels, got " +
                          std::to_string(m_w) + " x " + std::to_string(m_h));
   m_size = static_cast<std::size_t>(m_w) * static_cast<std::size_t>(m_h) * 3;
   m_hit = kind != HitPeakKind::kPeak;
   m_peak = kind != HitPeakKind::kHit;
   layout();
}

void HitPeakImager::layout()
{
   const double w = m_w, h = m_h;
   // the Hit layout fills the canvas (Hit) or its upper half (HitPeak); Peak the canvas or the lower half
   const double hitBottom = m_peak ? 0.5 * h : h;
   const double peakTop = m_hit ? 0.5 * h : 0.;
   m_s1Panel = {0., peakTop, 0.5 * w, h};
   m_s2Panel = {0.5 * w, peakTop, w, h};
   m_coverAt.assign(1, 0);
   if (!m_hit)
      return;
   // cells: S1 row over S2 row; top array left, bottom array right
   const double cw = 0.5 * w, ch = 0.5 * hitBottom;
   for (int signal = 0; signal < 2; ++signal) {
      const double y0 = signal * ch;
      discCovers(m_arrays.topX, m_arrays.topY, Rect{0., y0, cw, y0 + ch}, m_coverAt);
      discCovers(m_arrays.bottomX, m_arrays.bottomY, Rect{cw, y0, w, y0 + ch}, m_coverAt);
   }
}

void HitPeakImager::discCovers(const std::vector<double> &px, const std::vector<double> &py, const Rect &cell,
                               std::vector<std::uint32_t> &begin)
{
   // The disc of radius tpc_radius + pmt_diameter / 2 inscribed in the cell (every PMT disc inside its
   // cell): mm -> pixels; y of the detector upwards, rows downwards.
   const double side = std::min(cell.x1 - cell.x0, cell.y1 - cell.y0);
   const double scale = side / (2. * m_arrays.tpcRadius + m_arrays.pmtDiameter);
   const double cx = 0.5 * (cell.x0 + cell.x1), cy = 0.5 * (cell.y0 + cell.y1);
   const double r = 0.5 * m_arrays.pmtDiameter * scale, r2 = r * r;
   for (std::size_t i = 0; i < px.size(); ++i) {
      const double x = cx + px[i] * scale, y = cy - py[i] * scale;
      const int c0 = std::max(0, static_cast<int>(std::floor(x - r))), c1 = std::min(m_w - 1, static_cast<int>(x + r));
      const int r0 = std::max(0, static_cast<int>(std::floor(y - r))), r1 = std::min(m_h - 1, static_cast<int>(y + r));
      for (int row = r0; row <= r1; ++row)
         for (int col = c0; col <= c1; ++col) {
            // nearest and farthest points of the pixel from the disc centre
            const double nx = std::clamp(x, double(col), col + 1.) - x, ny = std::clamp(y, double(row), row + 1.) - y;
            if (nx * nx + ny * ny >= r2)
               continue;
            const double fx = std::max(std::abs(col - x), std::abs(col + 1. - x));
            const double fy = std::max(std::abs(row - y), std::abs(row + 1. - y));
            double frac = 1.;
            if (fx * fx + fy * fy > r2) { // the edge crosses the pixel: sub-sample it
               int inside = 0;
               for (int a = 0; a < kSub; ++a)
                  for (int b = 0; b < kSub; ++b) {
                     const double sx = col + (a + 0.5) / kSub - x, sy = row + (b + 0.5) / kSub - y;
                     inside += sx * sx + sy * sy < r2;
                  }
               frac = inside / double(kSub * kSub);
            }
            if (frac > 0.)
               m_covers.push_back({static_cast<std::uint32_t>(row * m_w + col), static_cast<float>(frac)});
         }
      begin.push_back(static_cast<std::uint32_t>(m_covers.size()));
   }
}

void HitPeakImager::drawHits(const float *area, std::size_t coverOffset, float *image) const
{
   // one signal's pattern, both arrays; coverOffset: its first PMT's index in m_coverAt (0: S1, n_pmt: S2)
   float amax = 0.f;
   for (std::size_t k = 0; k < m_nPmt; ++k)
      amax = std::max(amax, area[k]);
   if (!(amax > 0.f))
      return;
   const float norm = 1.f / std::log2(1.f + amax); // v = log10(1 + a) / log10(1 + a_max), in any base
   // locals: the compiler cannot otherwise keep the tables' pointers in registers across image stores
   const Cover *covers = m_covers.data();
   const std::uint32_t *at = m_coverAt.data() + coverOffset;
   const std::size_t stride = m_opt.channelsFirst ? static_cast<std::size_t>(m_w) * static_cast<std::size_t>(m_h) : 1;
   const std::size_t pixelStep = m_opt.channelsFirst ? 1 : 3;
   for (std::size_t k = 0; k < m_nPmt; ++k) {
      if (!(area[k] > 0.f))
         continue;
      const auto colour = hot(std::log2(1.f + area[k]) * norm);
      for (std::uint32_t c = at[k], end = at[k + 1]; c < end; ++c) {
         float *p = image + covers[c].pixel * pixelStep;
         const float f = covers[c].fraction;
         p[0] = std::min(1.f, p[0] + f * colour[0]);
         p[stride] = std::min(1.f, p[stride] + f * colour[1]);
         p[2 * stride] = std::min(1.f, p[2 * stride] + f * colour[2]);
      }
   }
}

void HitPeakImager::drawWave(const std::array<const float *, 3> &wave, const Rect &panel, float *image,
                             std::vector<float> &acc) const
{
   // Each sample is a bar [xa, xb] x [bottom - height, bottom]; a pixel gets the area of the bars it
   // overlaps (exact area weighting). The bars add their partly covered rows directly and their runs of
   // fully covered rows through a difference array along the column, both in a panel buffer laid out as
   // the image's rows (acc); one pass down the rows then sums the runs and writes whole rows (contiguous,
   // vectorised).
   // x axis autoscaled to the peak as PaX's display draws it: the samples up to the last non-zero one of the
   // three waveforms (the stored peak; the rest of the 200 samples is padding) span the panel's width
   int ns = 0;
   for (int k = m_opt.samples; k > 0 && ns == 0; --k)
      for (const float *w : wave)
         if (w[k - 1] != 0.f)
            ns = k;
   if (ns == 0)
      return; // nothing stored: an empty panel
   const double sw = (panel.x1 - panel.x0) / ns;
   const double span = panel.y1 - panel.y0, invRange = 1. / (m_opt.logMax - m_opt.logMin);
   const int colBegin = static_cast<int>(std::floor(panel.x0)), colEnd = static_cast<int>(std::ceil(panel.x1));
   const int rowBegin = static_cast<int>(std::floor(panel.y0)), rowEnd = std::min(m_h, int(std::ceil(panel.y1)));
   const std::size_t nRows = static_cast<std::size_t>(rowEnd - rowBegin);
   const std::size_t nCols = static_cast<std::size_t>(colEnd - colBegin), rowLen = 3 * nCols;
   // bar tops (panel rows from its top edge; hi = the panel's bottom) per sample and channel;
   // channel order: 0 red = top, 1 green = sum, 2 blue = bottom; inputs: sum, top, bottom
   const float *in[3] = {wave[1], wave[0], wave[2]};
   const std::size_t nsz = static_cast<std::size_t>(ns);
   const float hiF = static_cast<float>(panel.y1 - rowBegin);
   const int lastRow = static_cast<int>(nRows) - 1;
   acc.resize(3 * nsz + 2 * (nRows + 1) * rowLen);
   float *lows = acc.data();
   int top = static_cast<int>(nRows);
   // log10 below the axis (v <= 1 PE, frac <= 0): no bar (-1); log10 through float log2 (~1e-7 relative)
   const float scale = static_cast<float>(kLog10Of2 * invRange), offset = static_cast<float>(m_opt.logMin * invRange);
   const float spanF = static_cast<float>(span);
   for (std::size_t k = 0; k < nsz; ++k)
      for (std::size_t ch = 0; ch < 3; ++ch) {
         const float v = in[ch][k];
         float lo = -1.f;
         if (v > 1.f) {
            const float frac = std::min(1.f, std::log2(v) * scale - offset);
            if (frac > 0.f) {
               lo = hiF - frac * spanF;
               top = std::min(top, static_cast<int>(lo));
            }
         }
         lows[k * 3 + ch] = lo;
      }
   if (top >= static_cast<int>(nRows))
      return; // no bar reaches into the panel
   // partial[r][c * 3 + ch] and full[r][c * 3 + ch] (difference array), rows top .. nRows
   float *partial = lows + 3 * nsz, *full = partial + (nRows + 1) * rowLen;
   const auto topU = static_cast<std::size_t>(top);
   std::fill(partial + topU * rowLen, partial + (nRows + 1) * rowLen, 0.f);
   std::fill(full + topU * rowLen, full + (nRows + 1) * rowLen, 0.f);
   for (std::size_t ci = 0; ci < nCols; ++ci) {
      const int col = colBegin + static_cast<int>(ci);
      const int k0 = std::max(0, static_cast<int>(std::floor((col - panel.x0) / sw)));
      const int k1 = std::min(ns, static_cast<int>(std::ceil((col + 1 - panel.x0) / sw)));
      for (int k = k0; k < k1; ++k) {
         const double xa = panel.x0 + k * sw;
         const float wx = static_cast<float>(std::min(xa + sw, col + 1.) - std::max(xa, double(col)));
         if (wx <= 0.f)
            continue;
         for (std::size_t ch = 0; ch < 3; ++ch) {
            const float lo = lows[static_cast<std::size_t>(k) * 3 + ch];
            if (lo < 0.f)
               continue;
            const int rlo = static_cast<int>(lo), rhi = std::min(lastRow, static_cast<int>(hiF));
            const float rloF = static_cast<float>(rlo), rhiF = static_cast<float>(rhi);
            const std::size_t j = ci * 3 + ch;
            if (rlo >= rhi) { // within one row
               partial[static_cast<std::size_t>(rlo) * rowLen + j] += wx * (std::min(hiF, rloF + 1.f) - lo);
               continue;
            }
            partial[static_cast<std::size_t>(rlo) * rowLen + j] += wx * (rloF + 1.f - lo);
            full[static_cast<std::size_t>(rlo + 1) * rowLen + j] += wx; // rows rlo+1 .. rhi-1 fully
            full[static_cast<std::size_t>(rhi) * rowLen + j] -= wx;
            if (hiF > rhiF)
               partial[static_cast<std::size_t>(rhi) * rowLen + j] += wx * (std::min(hiF, rhiF + 1.f) - rhiF);
         }
      }
   }
   // down the rows: the running sum of full (kept in row `top` of full), plus partial, clipped and added to the
   // image; a >= 0 up to rounding
   float *run = full + topU * rowLen;
   const std::size_t plane = static_cast<std::size_t>(m_w) * static_cast<std::size_t>(m_h);
   for (std::size_t r = topU; r < nRows; ++r) {
      const float *fr = full + r * rowLen, *pr = partial + r * rowLen;
      if (r > topU)
         for (std::size_t j = 0; j < rowLen; ++j)
            run[j] += fr[j];
      const std::size_t row = static_cast<std::size_t>(rowBegin) + r;
      if (!m_opt.channelsFirst) {
         float *p = image + (row * static_cast<std::size_t>(m_w) + static_cast<std::size_t>(colBegin)) * 3;
         for (std::size_t j = 0; j < rowLen; ++j) {
            const float a = pr[j] + run[j];
            const float v = p[j] + (a > 0.f ? a : 0.f);
            p[j] = v < 1.f ? v : 1.f;
         }
      } else {
         for (std::size_t ch = 0; ch < 3; ++ch) {
            float *p = image + ch * plane + row * static_cast<std::size_t>(m_w) + static_cast<std::size_t>(colBegin);
            for (std::size_t c = 0; c < nCols; ++c) {
               const float a = pr[c * 3 + ch] + run[c * 3 + ch];
               const float v = p[c] + (a > 0.f ? a : 0.f);
               p[c] = v < 1.f ? v : 1.f;
            }
         }
      }
   }
}

void HitPeakImager::render(const HitPeakEvent &e, float *image) const
{
   const std::size_t ns = static_cast<std::size_t>(m_opt.samples);
   // a float is inf or NaN iff its exponent bits are all set: an integer max over the arrays vectorises (a float
   // sum would not, without -ffast-math); the naming scan runs only on failure
   auto allFinite = [](const float *v, std::size_t n) {
      constexpr std::uint32_t kExponent = 0x7F800000u;
      std::uint32_t top = 0;
      for (std::size_t k = 0; k < n; ++k) {
         std::uint32_t bits;
         std::memcpy(&bits, v + k, sizeof bits);
         top = std::max(top, bits & kExponent);
      }
      return top != kExponent;
   };
   for (const auto &[ptr, what] : {std::pair{e.s1Pmt, "s1_pmt_area"}, std::pair{e.s2Pmt, "s2_pmt_area"}})
      if (!allFinite(ptr, m_nPmt))
         for (std::size_t k = 0; k < m_nPmt; ++k)
            if (!std::isfinite(ptr[k]))
               throw UsageError(std::string("HitPeakImager: ") + what + "[" + std::to_string(k) +
                                "] = " + std::to_string(ptr[k]) + "; expected a finite area in PE");
   for (std::size_t s = 0; s < 2; ++s)
      for (std::size_t c = 0; c < 3; ++c) {
         const float *w = (s == 0 ? e.s1Wave : e.s2Wave)[c];
         if (!allFinite(w, ns))
            for (std::size_t k = 0; k < ns; ++k)
               if (!std::isfinite(w[k]))
                  throw UsageError("HitPeakImager: " + hitPeakColumns()[2 + 3 * s + c] + "[" + std::to_string(k) +
                                   "] is not finite");
      }
   if (m_opt.kind == HitPeakKind::kRaw) {
      float *o = std::copy(e.s1Pmt, e.s1Pmt + m_nPmt, image);
      o = std::copy(e.s2Pmt, e.s2Pmt + m_nPmt, o);
      for (const auto *wave : {&e.s1Wave, &e.s2Wave})
         for (const float *w : *wave)
            o = std::copy(w, w + ns, o);
      return;
   }
   std::fill(image, image + m_size, 0.f);
   if (m_hit) {
      drawHits(e.s1Pmt, 0, image);
      drawHits(e.s2Pmt, m_nPmt, image);
   }
   if (m_peak) {
      thread_local std::vector<float> scratch; // kept between images: no allocation per event
      drawWave(e.s1Wave, m_s1Panel, image, scratch);
      drawWave(e.s2Wave, m_s2Panel, image, scratch);
   }
}

ROOT::RVec<float> HitPeakImager::operator()(const ROOT::RVec<float> &s1Pmt, const ROOT::RVec<float> &s2Pmt,
                                            const ROOT::RVec<float> &s1Wave, const ROOT::RVec<float> &s1Top,
                                            const ROOT::RVec<float> &s1Bottom, const ROOT::RVec<float> &s2Wave,
                                            const ROOT::RVec<float> &s2Top, const ROOT::RVec<float> &s2Bottom) const
{
   const std::size_t ns = static_cast<std::size_t>(m_opt.samples);
   const ROOT::RVec<float> *inputs[8] = {&s1Pmt, &s2Pmt, &s1Wave, &s1Top, &s1Bottom, &s2Wave, &s2Top, &s2Bottom};
   for (std::size_t k = 0; k < 8; ++k) {
      const std::size_t want = k < 2 ? m_nPmt : ns;
      if (inputs[k]->size() != want)
         throw UsageError("HitPeakImager: " + hitPeakColumns()[k] + " has " + std::to_string(inputs[k]->size()) +
                          " values; expected " + std::to_string(want) +
                          (k < 2 ? " (the detector's PMTs)" : " (waveform samples)"));
   }
   ROOT::RVec<float> image(m_size);
   render(HitPeakEvent{s1Pmt.data(),
                       s2Pmt.data(),
                       {s1Wave.data(), s1Top.data(), s1Bottom.data()},
                       {s2Wave.data(), s2Top.data(), s2Bottom.data()}},
          image.data());
   return image;
}

void HitPeakImager::batch(const float *s1Pmt, const float *s2Pmt, const std::array<const float *, 3> &s1Wave,
                          const std::array<const float *, 3> &s2Wave, std::size_t nEvents, float *images,
                          unsigned threads) const
{
   const std::size_t ns = static_cast<std::size_t>(m_opt.samples);
   detail::parallelChunks(
       nEvents, threads,
       [&](std::size_t b, std::size_t end) {
          for (std::size_t i = b; i < end; ++i) {
             HitPeakEvent e{s1Pmt + i * m_nPmt, s2Pmt + i * m_nPmt, {}, {}};
             for (std::size_t c = 0; c < 3; ++c) {
                e.s1Wave[c] = s1Wave[c] + i * ns;
                e.s2Wave[c] = s2Wave[c] + i * ns;
             }
             render(e, images + i * m_size);
          }
       },
       256);
}

std::vector<std::string> arrayInputColumns(ROOT::RDF::RNode &df, const std::vector<std::string> &columns,
                                           std::size_t expected, const std::string &door, const std::string &hint,
                                           const std::string &what)
{
   if (columns.size() != expected)
      throw UsageError(door + " takes " + std::to_string(expected) + " columns (" + hint + "), got " +
                       std::to_string(columns.size()));
   const std::vector<std::string> available = df.GetColumnNames();
   std::vector<std::string> inputs;
   for (const auto &c : columns) {
      if (std::find(available.begin(), available.end(), c) == available.end())
         throw InputError(what + ": the dataset has no column '" + c + "'" + didYouMean(c, available));
      inputs.push_back(defineAs(df, c, ColumnKind::kRealArray, "the " + what + " input"));
   }
   return inputs;
}

ROOT::RDF::RNode defineHitPeakImage(ROOT::RDF::RNode df, const std::string &name, const HitPeakImager &imager,
                                    const std::vector<std::string> &columns)
{
   const std::vector<std::string> inputs =
       arrayInputColumns(df, columns, 8, "defineHitPeakImage",
                         "s1 and s2 PMT areas, s1 and s2 waveforms: sum, top, bottom", "HitPeak image");
   return df.DefineSlotEntry(
       name,
       [imager, columns](unsigned, ULong64_t entry, const ROOT::RVec<float> &a, const ROOT::RVec<float> &b,
                         const ROOT::RVec<float> &c, const ROOT::RVec<float> &d, const ROOT::RVec<float> &e,
                         const ROOT::RVec<float> &f, const ROOT::RVec<float> &g, const ROOT::RVec<float> &h) {
          try {
             return imager(a, b, c, d, e, f, g, h);
          } catch (const UsageError &err) {
             throw UsageError("entry " + std::to_string(entry) + ": " + err.what());
          }
       },
       inputs);
}

} // namespace tpcml
