// tpcml -- track-to-image rasterisation (see include/tpcml/TrackRasteriser.h).
#include "tpcml/TrackRasteriser.h"

#include "Parallel.h"

#include "tpcml/DetectorConfig.h"
#include "tpcml/Error.h"
#include "tpcml/Strings.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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
[[noreturn]] void badHit(std::size_t i, const std::string &what)
{
   throw UsageError("track image: hit " + std::to_string(i) + ": " + what);
}
} // namespace

void TrackRasteriser::centres(const int *plane, const float *strip, const float *time, const float *charge,
                              std::size_t n, Centre (&c)[2]) const
{
   const double v = m_opt.driftVelocity;
   double sq[2] = {0., 0.}, zq[2] = {0., 0.}, q[2] = {0., 0.};
   for (std::size_t i = 0; i < n; ++i) {
      const int p = plane[i];
      if (p != 0 && p != 1)
         badHit(i, "plane " + std::to_string(p) + "; expected 0 (X strips) or 1 (Y strips)");
      if (!std::isfinite(strip[i]) || !std::isfinite(time[i]) || !std::isfinite(charge[i]))
         badHit(i, "non-finite strip coordinate, time or charge (" + num(strip[i]) + ", " + num(time[i]) + ", " +
                       num(charge[i]) + ")");
      const double w = charge[i];
      q[p] += w;
      sq[p] += w * double(strip[i]);
      zq[p] += w * v * double(time[i]);
   }
   for (int p = 0; p < 2; ++p) {
      c[p].q = q[p];
      c[p].s = q[p] > 0. ? sq[p] / q[p] : 0.;
      c[p].z = q[p] > 0. ? zq[p] / q[p] : 0.;
   }
}

std::size_t TrackRasteriser::rasterise(const int *plane, const float *strip, const float *time, const float *charge,
                                       std::size_t n, float *image) const
{
   Centre c[2];
   centres(plane, strip, time, charge, n, c);
   std::memset(image, 0, m_imageSize * sizeof(float));
   const int N = m_opt.pixels, half = N / 2, u = m_opt.upscale, side = m_side;
   const double v = m_opt.driftVelocity, inv = m_invPixel;
   const float norm[2] = {c[0].q > 0. ? float(1. / c[0].q) : 0.f, c[1].q > 0. ? float(1. / c[1].q) : 0.f};
   const std::size_t plane2 = std::size_t(side) * std::size_t(side);
   std::size_t outside = 0;
   for (std::size_t i = 0; i < n; ++i) {
      const int p = plane[i];
      if (!(c[p].q > 0.)) { // a projection without positive charge has no image: its hits count as outside
         ++outside;
         continue;
      }
      const double col = std::floor((double(strip[i]) - c[p].s) * inv) + half;
      const double row = std::floor((v * double(time[i]) - c[p].z) * inv) + half;
      if (col < 0. || col >= N || row < 0. || row >= N) {
         ++outside;
         continue;
      }
      const float value = charge[i] * norm[p];
      const int r0 = int(row) * u, c0 = int(col) * u;
      for (int a = 0; a < u; ++a)
         for (int b = 0; b < u; ++b) {
            const std::size_t pix = std::size_t(r0 + a) * std::size_t(side) + std::size_t(c0 + b);
            image[m_opt.channelsFirst ? std::size_t(p) * plane2 + pix : pix * kChannels + std::size_t(p)] += value;
         }
   }
   return outside;
}

ROOT::RVec<float> TrackRasteriser::operator()(const ROOT::RVec<int> &plane, const ROOT::RVec<float> &strip,
                                              const ROOT::RVec<float> &time, const ROOT::RVec<float> &charge) const
{
   const std::size_t n = plane.size();
   if (strip.size() != n || time.size() != n || charge.size() != n)
      throw UsageError("track image: hit columns differ in length (plane " + std::to_string(n) + ", strip " +
                       std::to_string(strip.size()) + ", time " + std::to_string(time.size()) + ", charge " +
                       std::to_string(charge.size()) + ")");
   ROOT::RVec<float> image(m_imageSize);
   rasterise(plane.data(), strip.data(), time.data(), charge.data(), n, image.data());
   return image;
}

unsigned TrackRasteriser::outside(const ROOT::RVec<int> &plane, const ROOT::RVec<float> &strip,
                                  const ROOT::RVec<float> &time, const ROOT::RVec<float> &charge) const
{
   const std::size_t n = plane.size();
   if (strip.size() != n || time.size() != n || charge.size() != n)
      throw UsageError("track image: hit columns differ in length");
   Centre c[2];
   centres(plane.data(), strip.data(), time.data(), charge.data(), n, c);
   const int N = m_opt.pixels, half = N / 2;
   const double v = m_opt.driftVelocity, inv = m_invPixel;
   unsigned count = 0;
   for (std::size_t i = 0; i < n; ++i) {
      const int p = plane[i];
      if (!(c[p].q > 0.)) {
         ++count;
         continue;
      }
      const double col = std::floor((double(strip[i]) - c[p].s) * inv) + half;
      const double row = std::floor((v * double(time[i]) - c[p].z) * inv) + half;
      count += (col < 0. || col >= N || row < 0. || row >= N) ? 1u : 0u;
   }
   return count;
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
             const std::size_t out =
                 rasterise(plane + first, strip + first, time + first, charge + first, n, images + k * m_imageSize);
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
   const char *wanted[4] = {"ROOT::VecOps::RVec<int>", "ROOT::VecOps::RVec<float>", "ROOT::VecOps::RVec<float>",
                            "ROOT::VecOps::RVec<float>"};
   for (std::size_t k = 0; k < 4; ++k) {
      const std::string &c = hitColumns[k];
      if (std::find(available.begin(), available.end(), c) == available.end())
         throw InputError("track image: the dataset has no column '" + c + "'" + didYouMean(c, available));
      std::string type = df.GetColumnType(c);
      if (type == "ROOT::RVec<int>" || type == "ROOT::RVecI" || type == "ROOT::VecOps::RVec<Int_t>")
         type = "ROOT::VecOps::RVec<int>";
      if (type == "ROOT::RVec<float>" || type == "ROOT::RVecF" || type == "ROOT::VecOps::RVec<Float_t>")
         type = "ROOT::VecOps::RVec<float>";
      if (type != wanted[k])
         throw InputError("track image: column '" + c + "' holds " + type + ", expected " + wanted[k]);
   }
   return df
       .Define(
           name,
           [rasteriser](const ROOT::RVec<int> &p, const ROOT::RVec<float> &s, const ROOT::RVec<float> &t,
                        const ROOT::RVec<float> &q) { return rasteriser(p, s, t, q); },
           hitColumns)
       .Define(
           name + "_outside",
           [rasteriser](const ROOT::RVec<int> &p, const ROOT::RVec<float> &s, const ROOT::RVec<float> &t,
                        const ROOT::RVec<float> &q) { return rasteriser.outside(p, s, t, q); },
           hitColumns);
}

} // namespace tpcml
