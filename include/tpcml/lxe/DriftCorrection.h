// tpcml -- position corrections that follow from electron drift in a dual-phase TPC.
//
// Kernels are written once over raw arrays (apply) and wrapped for per-event use
// (operator(), usable directly in RDataFrame::Define and in jitted strings).
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_DRIFT_CORRECTION_H
#define TPCML_DRIFT_CORRECTION_H

#include <cmath>
#include <cstddef>
#include <string>

namespace tpcml {

class DetectorConfig;

/// Undo electron attachment to electronegative impurities during drift:
/// the charge surviving a drift time t is exp(-t / tau), so qS2c = qS2 * exp(t / tau).
/// The one implementation of the electron lifetime: the corrections (PositionCorrections), the
/// response (LXeResponse: survival of each drifting electron) and the Python simulations use it.
class ElectronLifetimeCorrection {
public:
   /// lifetimeUs: electron lifetime tau in microseconds (> 0).
   explicit ElectronLifetimeCorrection(double lifetimeUs);
   /// tau from the detector's `electron_lifetime` parameter (the one place it is read).
   static ElectronLifetimeCorrection fromDetector(const DetectorConfig &detector);
   static ElectronLifetimeCorrection fromDetector(const std::string &detectorName);

   double lifetime() const { return m_lifetime; }
   /// Fraction of drifting electrons that survive a drift time t (us): exp(-t / tau).
   double survivalProbability(double driftTimeUs) const { return std::exp(-driftTimeUs / m_lifetime); }
   /// The factor that undoes the loss, exp(t / tau) = 1 / survivalProbability(t).
   double correctionFactor(double driftTimeUs) const { return std::exp(driftTimeUs * m_invLifetime); }
   /// Corrected S2 charge for a raw charge qS2 (PE) and drift time t (us).
   float operator()(float qS2, float driftTimeUs) const
   {
      return static_cast<float>(qS2 * correctionFactor(driftTimeUs));
   }
   /// Batch kernel: out[i] = qS2[i] * exp(t[i] / tau). out may alias qS2.
   void apply(const float *qS2, const float *driftTimeUs, float *out, std::size_t n) const;

private:
   double m_lifetime;
   double m_invLifetime; ///< 1/tau, computed once: the per-event path multiplies
};

/// Depth below the gate from the drift time: z = -v_d * t (mm; z = 0 at the
/// gate, negative towards the cathode).
class DriftDepth {
public:
   /// driftVelocity in mm/us (> 0).
   explicit DriftDepth(double driftVelocityMmPerUs);
   /// v_d from the detector's `drift_velocity` parameter (the one place it is read).
   static DriftDepth fromDetector(const DetectorConfig &detector);

   double driftVelocity() const { return m_velocity; }
   float operator()(float driftTimeUs) const { return static_cast<float>(-m_velocity * driftTimeUs); }
   void apply(const float *driftTimeUs, float *z, std::size_t n) const;

private:
   double m_velocity;
};

} // namespace tpcml

#endif // TPCML_DRIFT_CORRECTION_H
