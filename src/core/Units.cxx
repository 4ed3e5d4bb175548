#include "tpcml/core/Units.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"

#include <cmath>
#include <utility>

namespace tpcml {

namespace {

struct DimensionTable {
   Dimension dimension;
   const char *name;
   std::vector<std::pair<const char *, double>> units; // canonical first, factor to canonical
};

const std::vector<DimensionTable> &tables()
{
   // Conversion factors are definitions of the units (SI), not physics inputs.
   static const std::vector<DimensionTable> t = {
       {Dimension::kLength, "length", {{"mm", 1.}, {"um", 1e-3}, {"cm", 10.}, {"m", 1e3}}},
       {Dimension::kArea, "area", {{"cm2", 1.}, {"mm2", 1e-2}, {"m2", 1e4}}},
       {Dimension::kTime, "time", {{"us", 1.}, {"ns", 1e-3}, {"ms", 1e3}, {"s", 1e6}, {"d", 86400e6}}},
       {Dimension::kVelocity, "velocity", {{"mm/us", 1.}, {"cm/us", 10.}, {"um/ns", 1.}, {"km/s", 1.}}},
       {Dimension::kField, "field", {{"V/cm", 1.}, {"kV/cm", 1e3}}},
       {Dimension::kVoltage, "voltage", {{"kV", 1.}, {"V", 1e-3}}},
       {Dimension::kPressure, "pressure", {{"bar", 1.}, {"atm", 1.01325}, {"MPa", 10.}, {"kPa", 1e-2}}},
       {Dimension::kTemperature, "temperature", {{"K", 1.}}},
       {Dimension::kMass, "mass", {{"kg", 1.}, {"t", 1e3}, {"g", 1e-3}}},
       {Dimension::kDensity, "density", {{"g/cm3", 1.}, {"kg/m3", 1e-3}}},
       {Dimension::kEnergy, "energy", {{"keV", 1.}, {"eV", 1e-3}, {"MeV", 1e3}}},
       {Dimension::kFrequency, "frequency", {{"MHz", 1.}, {"kHz", 1e-3}, {"GHz", 1e3}, {"Hz", 1e-6}}},
       {Dimension::kRate, "rate", {{"Hz", 1.}, {"kHz", 1e3}, {"mHz", 1e-3}}},
       // differential rate per target mass, time and energy; 1 DRU = 1 /(kg d keV), mDRU = 1e-3 DRU
       {Dimension::kDifferentialRate, "differential_rate", {{"/(kg d keV)", 1.}, {"DRU", 1.}, {"mDRU", 1e-3}}},
       {Dimension::kDiffusionCoefficient, "diffusion_coefficient", {{"cm2/s", 1.}, {"mm2/us", 1e4}}},
       {Dimension::kDiffusionSqrt,
        "diffusion_sqrt",
        {{"mm/sqrt(cm)", 1.}, {"um/sqrt(cm)", 1e-3}, {"cm/sqrt(cm)", 10.}}},
       {Dimension::kPhotonGain, "photon_gain", {{"PE/photon", 1.}}},
       {Dimension::kElectronGain, "electron_gain", {{"PE/e", 1.}}},
       {Dimension::kCharge, "charge", {{"PE", 1.}}},
       {Dimension::kDimensionless, "dimensionless", {{"1", 1.}, {"%", 1e-2}}},
       {Dimension::kCount, "count", {{"count", 1.}}},
       {Dimension::kString, "string", {{"", 1.}}},
       {Dimension::kBoolean, "boolean", {{"", 1.}}},
   };
   return t;
}

const DimensionTable &table(Dimension d)
{
   for (const auto &t : tables())
      if (t.dimension == d)
         return t;
   throw Error("tpcml: internal error: unknown Dimension value " + std::to_string(static_cast<int>(d)));
}

} // namespace

std::string dimensionName(Dimension d)
{
   return table(d).name;
}

std::vector<std::string> dimensionNames()
{
   std::vector<std::string> out;
   for (const auto &t : tables())
      out.emplace_back(t.name);
   return out;
}

Dimension dimensionFromName(const std::string &name)
{
   for (const auto &t : tables())
      if (name == t.name)
         return t.dimension;
   throw ConfigError("unknown dimension '" + name + "'" + didYouMean(name, dimensionNames()) +
                     "; valid dimensions: " + join(dimensionNames()));
}

std::vector<std::string> acceptedUnits(Dimension d)
{
   std::vector<std::string> out;
   for (const auto &u : table(d).units)
      out.emplace_back(u.first);
   return out;
}

std::string canonicalUnit(Dimension d)
{
   return table(d).units.front().first;
}

bool isUnitOf(const std::string &unit, Dimension d)
{
   for (const auto &u : table(d).units)
      if (unit == u.first)
         return true;
   return false;
}

double unitFactor(const std::string &unit, Dimension d)
{
   for (const auto &u : table(d).units)
      if (unit == u.first)
         return u.second;
   std::string expected;
   for (const auto &u : acceptedUnits(d))
      expected += (expected.empty() ? "" : ", ") + (u.empty() ? std::string("\"\"") : u);
   throw ConfigError("unit '" + unit + "' is not a unit of " + dimensionName(d) + "; expected one of: " + expected);
}

} // namespace tpcml
