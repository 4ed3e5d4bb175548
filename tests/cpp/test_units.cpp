#include "tpcml/core/Error.h"
#include "tpcml/core/Units.h"

#include <gtest/gtest.h>

using namespace tpcml;

TEST(Units, CanonicalUnitsAreFirstAndFactorOne)
{
   for (const auto &name : dimensionNames()) {
      const Dimension d = dimensionFromName(name);
      EXPECT_EQ(acceptedUnits(d).front(), canonicalUnit(d)) << name;
      EXPECT_DOUBLE_EQ(unitFactor(canonicalUnit(d), d), 1.0) << name;
   }
}

TEST(Units, Conversions)
{
   EXPECT_DOUBLE_EQ(unitFactor("cm", Dimension::kLength), 10.);
   EXPECT_DOUBLE_EQ(unitFactor("ms", Dimension::kTime), 1000.);
   EXPECT_DOUBLE_EQ(unitFactor("kV/cm", Dimension::kField), 1000.);
   EXPECT_DOUBLE_EQ(unitFactor("cm/us", Dimension::kVelocity), 10.);
   EXPECT_DOUBLE_EQ(unitFactor("%", Dimension::kDimensionless), 0.01);
   EXPECT_DOUBLE_EQ(unitFactor("t", Dimension::kMass), 1000.);
}

TEST(Units, WrongUnitNamesTheAcceptedOnes)
{
   try {
      unitFactor("V/m", Dimension::kField);
      FAIL() << "expected ConfigError";
   } catch (const ConfigError &e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("'V/m'"), std::string::npos) << msg;
      EXPECT_NE(msg.find("V/cm, kV/cm"), std::string::npos) << msg;
   }
   EXPECT_THROW(dimensionFromName("lenght"), ConfigError);
   EXPECT_FALSE(isUnitOf("mm", Dimension::kTime));
}
