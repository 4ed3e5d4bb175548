// tpcml -- physical dimensions and units of the detector registry.
//
// Every dimension has one canonical unit (the first in its table, see
// docs/detector-format.md); values are stored converted to it, so that code
// reads e.g. drift velocity always in mm/us and times always in us.
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_UNITS_H
#define TPCML_UNITS_H

#include <string>
#include <vector>

namespace tpcml {

enum class Dimension {
   kLength,
   kArea,
   kTime,
   kVelocity,
   kField,
   kVoltage,
   kPressure,
   kTemperature,
   kMass,
   kDensity,
   kEnergy,
   kFrequency,
   kRate,
   kDiffusionCoefficient,
   kDiffusionSqrt,
   kPhotonGain,
   kElectronGain,
   kCharge,
   kDimensionless,
   kCount,
   kString,
   kBoolean,
   kDifferentialRate
};

/// Name used in schema files ("length", "diffusion_coefficient", ...).
std::string dimensionName(Dimension d);
/// Inverse of dimensionName; throws ConfigError listing the valid names.
Dimension dimensionFromName(const std::string &name);
/// All dimension names.
std::vector<std::string> dimensionNames();
/// Units accepted for d, canonical first ("" for string/boolean).
std::vector<std::string> acceptedUnits(Dimension d);
/// Canonical unit of d.
std::string canonicalUnit(Dimension d);
/// Whether unit is accepted for d.
bool isUnitOf(const std::string &unit, Dimension d);
/// Multiply a value in `unit` by this to get the canonical unit; throws
/// ConfigError naming the unit and listing the accepted ones.
double unitFactor(const std::string &unit, Dimension d);

} // namespace tpcml

#endif // TPCML_UNITS_H
