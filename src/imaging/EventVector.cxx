// tpcml -- the DARWIN-VAE event vector (see include/tpcml/imaging/EventVector.h).
#include "tpcml/imaging/EventVector.h"

#include "core/Parallel.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Strings.h"
#include "tpcml/imaging/HitPeak.h"

#include <algorithm>
#include <cmath>

namespace tpcml {

namespace {
const std::vector<std::string> kNormNames{"log1p", "none"};

inline float signedLog1p(float x)
{
   return std::copysign(std::log1p(std::fabs(x)), x);
}
} // namespace

EventVectorNorm parseEventVectorNorm(const std::string &name)
{
   const auto it = std::find(kNormNames.begin(), kNormNames.end(), name);
   if (it == kNormNames.end())
      throw UsageError("unknown event-vector normalisation '" + name + "'; expected one of log1p, none" +
                       didYouMean(name, kNormNames));
   return static_cast<EventVectorNorm>(it - kNormNames.begin());
}

std::string eventVectorNormName(EventVectorNorm norm)
{
   const auto k = static_cast<std::size_t>(norm);
   return k < kNormNames.size() ? kNormNames[k] : "?";
}

const std::vector<std::string> &eventVectorColumns()
{
   static const std::vector<std::string> columns{hitPeakColumns()[2], hitPeakColumns()[5], hitPeakColumns()[1]};
   return columns;
}

EventVectorBuilder::EventVectorBuilder(std::size_t nTop, std::size_t nBottom, EventVectorOptions options)
    : m_opt(options), m_nTop(nTop), m_nBottom(nBottom)
{
   if (nTop < 1 || nBottom < 1)
      throw UsageError("EventVectorBuilder: both PMT arrays need at least one PMT, got " + std::to_string(nTop) +
                       " top and " + std::to_string(nBottom) + " bottom");
   if (m_opt.samples < 1 || m_opt.samples > 100000)
      throw UsageError("EventVectorBuilder: samples must be in [1, 100000], got " + std::to_string(m_opt.samples));
   if (eventVectorNormName(m_opt.norm) == "?")
      throw UsageError("EventVectorBuilder: unknown normalisation " + std::to_string(static_cast<int>(m_opt.norm)));
   m_size = 2 * static_cast<std::size_t>(m_opt.samples) + nTop + nBottom;
}

EventVectorBuilder::EventVectorBuilder(const DetectorConfig &detector, EventVectorOptions options)
    : EventVectorBuilder(HitPeakArrays::fromDetector(detector).topX.size(),
                         HitPeakArrays::fromDetector(detector).bottomX.size(), options)
{
}

void EventVectorBuilder::build(const float *s1Wave, const float *s2Wave, const float *s2Pmt, float *out) const
{
   const std::size_t ns = static_cast<std::size_t>(m_opt.samples), np = nPmt();
   const auto &names = eventVectorColumns();
   for (std::size_t part = 0; part < 2; ++part) {
      const float *w = part == 0 ? s1Wave : s2Wave;
      for (std::size_t k = 0; k < ns; ++k)
         if (!std::isfinite(w[k]))
            throw UsageError("EventVectorBuilder: " + names[part] + "[" + std::to_string(k) + "] is not finite");
   }
   for (std::size_t k = 0; k < np; ++k)
      if (!std::isfinite(s2Pmt[k]) || s2Pmt[k] < 0.f)
         throw UsageError("EventVectorBuilder: " + names[2] + "[" + std::to_string(k) +
                          "] = " + std::to_string(s2Pmt[k]) + "; expected a finite area >= 0 PE");
   float *o = std::copy(s1Wave, s1Wave + ns, out);
   o = std::copy(s2Wave, s2Wave + ns, o);
   std::copy(s2Pmt, s2Pmt + np, o); // registry order: the top array first, then the bottom array
   if (m_opt.norm == EventVectorNorm::kLog1p)
      std::transform(out, out + m_size, out, signedLog1p);
}

ROOT::RVec<float> EventVectorBuilder::operator()(const ROOT::RVec<float> &s1Wave, const ROOT::RVec<float> &s2Wave,
                                                 const ROOT::RVec<float> &s2Pmt) const
{
   const ROOT::RVec<float> *inputs[3] = {&s1Wave, &s2Wave, &s2Pmt};
   for (std::size_t k = 0; k < 3; ++k) {
      const std::size_t want = k < 2 ? static_cast<std::size_t>(m_opt.samples) : nPmt();
      if (inputs[k]->size() != want)
         throw UsageError("EventVectorBuilder: " + eventVectorColumns()[k] + " has " +
                          std::to_string(inputs[k]->size()) + " values; expected " + std::to_string(want) +
                          (k < 2 ? " (waveform samples)" : " (the detector's PMTs)"));
   }
   ROOT::RVec<float> out(m_size);
   build(s1Wave.data(), s2Wave.data(), s2Pmt.data(), out.data());
   return out;
}

void EventVectorBuilder::batch(const float *s1Wave, const float *s2Wave, const float *s2Pmt, std::size_t nEvents,
                               float *out, unsigned threads) const
{
   const std::size_t ns = static_cast<std::size_t>(m_opt.samples), np = nPmt();
   detail::parallelChunks(
       nEvents, threads,
       [&](std::size_t b, std::size_t end) {
          for (std::size_t i = b; i < end; ++i)
             build(s1Wave + i * ns, s2Wave + i * ns, s2Pmt + i * np, out + i * m_size);
       },
       256);
}

ROOT::RDF::RNode defineEventVector(ROOT::RDF::RNode df, const std::string &name, const EventVectorBuilder &builder,
                                   const std::vector<std::string> &columns)
{
   const std::vector<std::string> inputs = arrayInputColumns(df, columns, 3, "defineEventVector",
                                                             "S1 and S2 total waveforms, S2 PMT areas", "event vector");
   return df.DefineSlotEntry(
       name,
       [builder](unsigned, ULong64_t entry, const ROOT::RVec<float> &a, const ROOT::RVec<float> &b,
                 const ROOT::RVec<float> &c) {
          try {
             return builder(a, b, c);
          } catch (const UsageError &err) {
             throw UsageError("entry " + std::to_string(entry) + ": " + err.what());
          }
       },
       inputs);
}

} // namespace tpcml
