// tpcml -- track-to-image rasterisation (see include/tpcml/imaging/TrackRasteriser.h).
#include "tpcml/imaging/TrackRasteriser.h"

#include "core/Parallel.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Strings.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <sstream>

namespace tpcml {

namespace {
std::string num(double v)
{
   std::ostringstream os;
   os << v;
   return os.str();
}
} // namespace

RasterOptions RasterOptions::fromDetector(const DetectorConfig &detector, int upscale, bool channelsFirst)
{
   RasterOptions o;
   o.pixels = static_cast<int>(std::lround(detector.get("image_pixels")));
   o.pixelSize = detector.get("pixel_size", "mm");
   o.driftVelocity = detector.get("drift_velocity", "mm/us");
   o.upscale = upscale;
   o.channelsFirst = channelsFirst;
   return o;
}

TrackRasteriser::TrackRasteriser(const RasterOptions &options) : m_opt(options)
{
   if (m_opt.pixels < 2 || m_opt.pixels % 2 || m_opt.pixels > 4096)
      throw UsageError("track image: pixels per side must be even and in [2, 4096], got " +
                       std::to_string(m_opt.pixels));
   if (!(m_opt.pixelSize > 0.) || !std::isfinite(m_opt.pixelSize))
      throw UsageError("track image: pixel size must be a positive number of mm, got " + num(m_opt.pixelSize));
   if (!(m_opt.driftVelocity > 0.) || !std::isfinite(m_opt.driftVelocity))
      throw UsageError("track image: drift velocity must be a positive number of mm/us, got " +
                       num(m_opt.driftVelocity));
   if (m_opt.upscale < 1 || m_opt.upscale > 8)
      throw UsageError("track image: upscale factor must be an integer in [1, 8], got " +
                       std::to_string(m_opt.upscale));
   m_side = m_opt.pixels * m_opt.upscale;
   m_imageSize = std::size_t(m_side) * std::size_t(m_side) * kChannels;
   m_invPixel = 1. / m_opt.pixelSize;
}

namespace {
/// floor(x) as an int, branchless and without a libm call (baseline x86-64 has no rounding
/// instruction): x is first clamped to +-2^30 (NaN to -2^30), far outside any window, so that
/// the conversion never overflows and such hits count as outside.
inline int floorClamped(double x)
{
   constexpr double kBig = 1073741824.;
   x = x > -kBig ? x : -kBig;
   x = x < kBig ? x : kBig;
   const int i = static_cast<int>(x);
   return i - (static_cast<double>(i) > x ? 1 : 0);
}

const char *const kHitColumn[4] = {"plane", "strip", "time", "charge"};

[[noreturn]] void badHit(std::size_t i, int column, const std::string &what)
{
   throw TrackHitError("track image: hit " + std::to_string(i) + " (" + kHitColumn[column] + "): " + what, i, column);
}
} // namespace

void TrackRasteriser::centres(const int *plane, const float *strip, const float *time, const float *charge,
                              std::size_t n, Centre (&c)[2]) const
{
   // Both planes' sums in registers (a select instead of an indexed store: no memory dependency
   // chain). Non-finite inputs are found from the sums: a product of two finite floats is finite
   // in double and no realistic number of them overflows, so a sum is finite exactly when all
   // its terms are; a NaN or an infinity makes it NaN or infinite.
   double q0 = 0., q1 = 0., s0 = 0., s1 = 0., t0 = 0., t1 = 0.;
   unsigned badPlane = 0, negative = 0;
   for (std::size_t i = 0; i < n; ++i) {
      const int p = plane[i];
      const double w = charge[i], ws = w * double(strip[i]), wt = w * double(time[i]);
      badPlane |= unsigned(p) > 1u ? 1u : 0u;
      negative |= w < 0. ? 1u : 0u;
      const bool x = p == 0;
      q0 += x ? w : 0.;
      q1 += x ? 0. : w;
      s0 += x ? ws : 0.;
      s1 += x ? 0. : ws;
      t0 += x ? wt : 0.;
      t1 += x ? 0. : wt;
   }
   const bool finite = std::isfinite(q0 + q1) && std::isfinite(s0 + s1) && std::isfinite(t0 + t1);
   if (badPlane || negative || !finite) { // find and name the first bad hit
      for (std::size_t i = 0; i < n; ++i) {
         if (plane[i] != 0 && plane[i] != 1)
            badHit(i, 0, "plane " + std::to_string(plane[i]) + "; expected 0 (X strips) or 1 (Y strips)");
         if (!std::isfinite(strip[i]))
            badHit(i, 1, "strip coordinate " + num(strip[i]) + "; expected a finite number of mm");
         if (!std::isfinite(time[i]))
            badHit(i, 2, "time " + num(time[i]) + "; expected a finite number of us");
         if (!std::isfinite(charge[i]) || charge[i] < 0.f)
            badHit(i, 3, "charge " + num(charge[i]) + "; expected a finite charge >= 0");
      }
      throw UsageError("track image: the charge-weighted sums of the " + std::to_string(n) +
                       " hits overflow (charges or coordinates near the float limit)");
   }
   const double v = m_opt.driftVelocity;
   const double q[2] = {q0, q1}, sq[2] = {s0, s1}, tq[2] = {t0, t1};
   for (int p = 0; p < 2; ++p) {
      c[p].q = q[p];
      c[p].s = q[p] > 0. ? sq[p] / q[p] : 0.;
      c[p].z = q[p] > 0. ? v * tq[p] / q[p] : 0.;
   }
}

std::size_t TrackRasteriser::rasterise(const int *plane, const float *strip, const float *time, const float *charge,
                                       std::size_t n, float *image) const
{
   std::memset(image, 0, m_imageSize * sizeof(float));
   return fill(plane, strip, time, charge, n, image);
}

std::size_t TrackRasteriser::fill(const int *plane, const float *strip, const float *time, const float *charge,
                                  std::size_t n, float *image) const
{
   Centre c[2];
   centres(plane, strip, time, charge, n, c);
   const int N = m_opt.pixels, half = N / 2, u = m_opt.upscale;
   const bool chw = m_opt.channelsFirst;
   // With upscaling the event is drawn at N x N first and every pixel then copied u x u times
   // (nearest neighbour: each copy is the same sum, bit for bit).
   thread_local std::vector<float> base;
   float *img = image;
   if (u > 1) {
      base.assign(std::size_t(N) * std::size_t(N) * kChannels, 0.f);
      img = base.data();
   }
   // The kernel is branch-free per hit: a hit outside the window (or of a projection without
   // positive charge) adds 0 to pixel 0 and is counted.
   const std::size_t rowStride = chw ? std::size_t(N) : std::size_t(N) * kChannels, colStride = chw ? 1 : kChannels;
   const std::size_t planeStride = chw ? std::size_t(N) * std::size_t(N) : 1;
   const double v = m_opt.driftVelocity, inv = m_invPixel;
   const double cs[2] = {c[0].s, c[1].s}, cz[2] = {c[0].z, c[1].z};
   const float norm[2] = {c[0].q > 0. ? float(1. / c[0].q) : 0.f, c[1].q > 0. ? float(1. / c[1].q) : 0.f};
   const bool has[2] = {c[0].q > 0., c[1].q > 0.};
   const auto uN = unsigned(N);
   std::size_t outside = 0;
   const auto hit = [&](std::size_t i) {
      const int p = plane[i] & 1; // 0 or 1: checked by centres()
      const int col = floorClamped((double(strip[i]) - cs[p]) * inv) + half;
      const int row = floorClamped((v * double(time[i]) - cz[p]) * inv) + half;
      const bool in = (unsigned(col) < uN) & (unsigned(row) < uN) & has[p];
      outside += in ? 0 : 1;
      const std::size_t at =
          in ? std::size_t(row) * rowStride + std::size_t(col) * colStride + std::size_t(p) * planeStride : 0;
      img[at] += in ? charge[i] * norm[p] : 0.f;
   };
   // Successive hits often share a pixel (a strip's consecutive time bins: 8 per 3 mm), and each
   // add then waits for the previous one's store: the two halves of the hit list are walked in
   // lockstep, two independent chains (a fixed order, so the sums are the same on every call).
   const std::size_t h = n / 2;
   for (std::size_t j = 0; j < h; ++j) {
      hit(j);
      hit(j + h);
   }
   if (n % 2)
      hit(n - 1);
   if (u > 1) {
      // NCHW: 3 planes of 1-float pixels; NHWC: 1 plane of 3-float pixels. Each source row becomes u rows.
      const std::size_t side = std::size_t(m_side), su = std::size_t(u), n0 = std::size_t(N);
      const std::size_t px = chw ? 1 : std::size_t(kChannels), planes = chw ? std::size_t(kChannels) : 1;
      for (std::size_t pl = 0; pl < planes; ++pl)
         for (std::size_t r = 0; r < n0; ++r) {
            const float *src = img + (pl * n0 + r) * n0 * px;
            float *dst = image + (pl * side + r * su) * side * px;
            for (std::size_t k = 0; k < n0; ++k)
               for (std::size_t b = 0; b < su; ++b)
                  for (std::size_t ch = 0; ch < px; ++ch)
                     dst[(k * su + b) * px + ch] = src[k * px + ch];
            for (std::size_t a = 1; a < su; ++a)
               std::memcpy(dst + a * side * px, dst, side * px * sizeof(float));
         }
   }
   return outside;
}

ROOT::RVec<float> TrackRasteriser::image(const ROOT::RVec<int> &plane, const ROOT::RVec<float> &strip,
                                         const ROOT::RVec<float> &time, const ROOT::RVec<float> &charge,
                                         unsigned &outsideCount) const
{
   const std::size_t n = plane.size();
   if (strip.size() != n || time.size() != n || charge.size() != n)
      throw UsageError("track image: hit columns differ in length (plane " + std::to_string(n) + ", strip " +
                       std::to_string(strip.size()) + ", time " + std::to_string(time.size()) + ", charge " +
                       std::to_string(charge.size()) + ")");
   ROOT::RVec<float> image(m_imageSize); // value-initialised: zeros
   outsideCount = unsigned(fill(plane.data(), strip.data(), time.data(), charge.data(), n, image.data()));
   return image;
}

ROOT::RVec<float> TrackRasteriser::operator()(const ROOT::RVec<int> &plane, const ROOT::RVec<float> &strip,
                                              const ROOT::RVec<float> &time, const ROOT::RVec<float> &charge) const
{
   unsigned ignored = 0;
   return image(plane, strip, time, charge, ignored);
}

void TrackRasteriser::batch(const int *plane, const float *strip, const float *time, const float *charge,
                            const int64_t *offsets, std::size_t nEvents, float *images, uint32_t *outsideCounts,
                            unsigned threads) const
{
   for (std::size_t e = 0; e < nEvents; ++e)
      if (offsets[e] < 0 || offsets[e + 1] < offsets[e])
         throw UsageError("track image: offsets must start at >= 0 and never decrease; offsets[" + std::to_string(e) +
                          "] = " + std::to_string(offsets[e]) + ", offsets[" + std::to_string(e + 1) +
                          "] = " + std::to_string(offsets[e + 1]));
   detail::parallelChunks(
       nEvents, threads,
       [&](std::size_t b, std::size_t e) {
          for (std::size_t k = b; k < e; ++k) {
             const auto first = std::size_t(offsets[k]), n = std::size_t(offsets[k + 1] - offsets[k]);
             std::size_t out = 0;
             try {
                out =
                    rasterise(plane + first, strip + first, time + first, charge + first, n, images + k * m_imageSize);
             } catch (const TrackHitError &err) {
                throw TrackHitError("event " + std::to_string(k) + ", " + err.what(), err.hit, err.column,
                                    static_cast<long long>(k));
             }
             if (outsideCounts)
                outsideCounts[k] = uint32_t(out);
          }
       },
       256);
}

ROOT::RDF::RNode defineTrackImage(ROOT::RDF::RNode df, const std::string &name, const TrackRasteriser &rasteriser,
                                  const std::vector<std::string> &hitColumns)
{
   if (hitColumns.size() != 4)
      throw UsageError("defineTrackImage takes 4 hit columns (plane, strip, time, charge), got " +
                       std::to_string(hitColumns.size()));
   const std::vector<std::string> available = df.GetColumnNames();
   std::vector<std::string> inputs(4);
   for (std::size_t k = 0; k < 4; ++k) {
      const std::string &c = hitColumns[k];
      if (std::find(available.begin(), available.end(), c) == available.end())
         throw InputError("track image: the dataset has no column '" + c + "'" + didYouMean(c, available));
      inputs[k] = defineAs(df, c, k == 0 ? ColumnKind::kInt32Array : ColumnKind::kRealArray, "the track-image input");
   }
   // One kernel call per event gives both columns: the image's Define keeps the event's outside
   // count in its processing slot, and the count's Define, which takes the image as input (so
   // it always runs after it, for the same entry, in the same slot), reads it back.
   struct alignas(64) SlotCount {
      unsigned value = 0;
   };
   auto counts = std::make_shared<std::vector<SlotCount>>(std::max(1u, df.GetNSlots()));
   return df
       .DefineSlotEntry(
           name,
           [rasteriser, counts, hitColumns](unsigned slot, ULong64_t entry, const ROOT::RVec<int> &p,
                                            const ROOT::RVec<float> &s, const ROOT::RVec<float> &t,
                                            const ROOT::RVec<float> &q) {
              try {
                 return rasteriser.image(p, s, t, q, (*counts)[slot].value);
              } catch (const TrackHitError &e) {
                 throw TrackHitError("entry " + std::to_string(entry) + ", column '" + hitColumns[e.column] + "', " +
                                         std::string(e.what()).substr(std::string("track image: ").size()),
                                     e.hit, e.column, static_cast<long long>(entry));
              }
           },
           inputs)
       .DefineSlot(name + "_outside",
                   [counts](unsigned slot, const ROOT::RVec<float> &) { return (*counts)[slot].value; }, {name});
}

} // namespace tpcml
