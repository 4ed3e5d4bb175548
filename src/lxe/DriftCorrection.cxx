#include "tpcml/lxe/DriftCorrection.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"

#include <cmath>
#include <string>

namespace tpcml {

ElectronLifetimeCorrection::ElectronLifetimeCorrection(double lifetimeUs)
    : m_lifetime(lifetimeUs), m_invLifetime(1. / lifetimeUs)
{
   if (!(lifetimeUs > 0.) || !std::isfinite(lifetimeUs))
      throw UsageError("ElectronLifetimeCorrection: electron lifetime must be a positive number of us, got " +
                       std::to_string(lifetimeUs));
}

ElectronLifetimeCorrection ElectronLifetimeCorrection::fromDetector(const DetectorConfig &detector)
{
   return ElectronLifetimeCorrection(detector.get("electron_lifetime", "us"));
}

ElectronLifetimeCorrection ElectronLifetimeCorrection::fromDetector(const std::string &detectorName)
{
   return fromDetector(DetectorConfig::load(detectorName));
}

void ElectronLifetimeCorrection::apply(const float *qS2, const float *driftTimeUs, float *out, std::size_t n) const
{
   // the same expression as operator(), so batch and per-event results are identical
   for (std::size_t i = 0; i < n; ++i)
      out[i] = (*this)(qS2[i], driftTimeUs[i]);
}

DriftDepth::DriftDepth(double driftVelocityMmPerUs) : m_velocity(driftVelocityMmPerUs)
{
   if (!(driftVelocityMmPerUs > 0.) || !std::isfinite(driftVelocityMmPerUs))
      throw UsageError("DriftDepth: drift velocity must be a positive number of mm/us, got " +
                       std::to_string(driftVelocityMmPerUs));
}

DriftDepth DriftDepth::fromDetector(const DetectorConfig &detector)
{
   return DriftDepth(detector.get("drift_velocity", "mm/us"));
}

void DriftDepth::apply(const float *driftTimeUs, float *z, std::size_t n) const
{
   for (std::size_t i = 0; i < n; ++i)
      z[i] = (*this)(driftTimeUs[i]);
}

} // namespace tpcml
