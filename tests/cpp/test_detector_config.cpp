#include "TempDir.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tpcml;

namespace {

const char *kSchema = R"(
[parameters.drift_velocity]
dimension = "velocity"
min = 0.1
max = 10.0
description = "electron drift velocity"
required = ["lxe_dual_phase"]

[parameters.electron_lifetime]
dimension = "time"
min = 1.0
max = 1.0e5
required = ["lxe_dual_phase"]

[parameters.n_pmt_top]
dimension = "count"
min = 1
max = 1000
required = []

[parameters.pmt_layout]
dimension = "string"
required = []
)";

std::string detectorFile(const std::string &params, const std::string &name = "toy")
{
   return "[detector]\nname = \"" + name +
          "\"\ntitle = \"test detector\"\nkind = \"lxe_dual_phase\"\n\n[parameters]\n" + params;
}

const char *kGood = R"(drift_velocity = { value = 0.17, unit = "cm/us", source = "test" }
electron_lifetime = { value = 0.8, unit = "ms", source = "test" }
n_pmt_top = { value = 55, unit = "count", source = "test" }
pmt_layout = { value = "hex", unit = "", source = "test" }
)";

std::string errorOf(const std::string &file, const std::string &schema)
{
   try {
      DetectorConfig::fromFile(file, schema);
   } catch (const ConfigError &e) {
      return e.what();
   }
   return "";
}

} // namespace

TEST(DetectorConfig, LoadsAndConvertsToCanonicalUnits)
{
   test::TempDir tmp;
   const auto schema = tmp.write("schema.toml", kSchema);
   const auto cfg = DetectorConfig::fromFile(tmp.write("toy.toml", detectorFile(kGood)), schema);
   EXPECT_EQ(cfg.name(), "toy");
   EXPECT_EQ(cfg.kind(), "lxe_dual_phase");
   EXPECT_NEAR(cfg.get("drift_velocity"), 1.7, 1e-12);    // mm/us
   EXPECT_NEAR(cfg.get("electron_lifetime"), 800., 1e-9); // us
   EXPECT_NEAR(cfg.get("electron_lifetime", "ms"), 0.8, 1e-12);
   EXPECT_EQ(cfg.getInt("n_pmt_top"), 55);
   EXPECT_EQ(cfg.getString("pmt_layout"), "hex");
   EXPECT_EQ(cfg.parameter("drift_velocity").unit, "cm/us");
   EXPECT_EQ(cfg.keys().size(), 4u);
   EXPECT_THROW(cfg.get("drift_velocty"), ConfigError);
   EXPECT_THROW(cfg.get("electron_lifetime", "mm"), ConfigError);
}

TEST(DetectorConfig, UnknownKeyNamesNearestValidKey)
{
   test::TempDir tmp;
   const auto schema = tmp.write("schema.toml", kSchema);
   const std::string msg =
       errorOf(tmp.write("toy.toml", detectorFile(std::string(kGood) +
                                                  "drift_velocty = { value = 1, unit = \"mm/us\", source = \"x\" }\n")),
               schema);
   EXPECT_NE(msg.find("toy.toml"), std::string::npos) << msg;
   EXPECT_NE(msg.find("parameters.drift_velocty: unknown parameter"), std::string::npos) << msg;
   EXPECT_NE(msg.find("did you mean: drift_velocity"), std::string::npos) << msg;
}

TEST(DetectorConfig, MissingRequiredKeyShowsExpectedForm)
{
   test::TempDir tmp;
   const auto schema = tmp.write("schema.toml", kSchema);
   const std::string msg = errorOf(
       tmp.write("toy.toml", detectorFile("drift_velocity = { value = 1.7, unit = \"mm/us\", source = \"x\" }\n")),
       schema);
   EXPECT_NE(msg.find("parameters.electron_lifetime: missing"), std::string::npos) << msg;
   EXPECT_NE(msg.find("unit = \"us\""), std::string::npos) << msg;
}

TEST(DetectorConfig, WrongUnitAndOutOfRange)
{
   test::TempDir tmp;
   const auto schema = tmp.write("schema.toml", kSchema);
   std::string params = R"(drift_velocity = { value = 1.7, unit = "mm/s", source = "x" }
electron_lifetime = { value = 800, unit = "s", source = "x" }
)";
   const std::string msg = errorOf(tmp.write("toy.toml", detectorFile(params)), schema);
   EXPECT_NE(msg.find("2 problems"), std::string::npos) << msg;
   EXPECT_NE(msg.find("parameters.drift_velocity: unit 'mm/s' is not a unit of velocity"), std::string::npos) << msg;
   EXPECT_NE(msg.find("mm/us, cm/us"), std::string::npos) << msg;
   EXPECT_NE(msg.find("parameters.electron_lifetime: value 8e+08 us is out of range [1, 100000] us"), std::string::npos)
       << msg;
}

TEST(DetectorConfig, StructuralErrors)
{
   test::TempDir tmp;
   const auto schema = tmp.write("schema.toml", kSchema);
   // missing source, wrong value type, unknown field, name mismatch
   std::string params = R"(drift_velocity = { value = "fast", unit = "mm/us", source = "" }
electron_lifetime = { value = 800, unit = "us", source = "x", sauce = "y" }
)";
   const std::string msg = errorOf(tmp.write("other.toml", detectorFile(params)), schema);
   EXPECT_NE(msg.find("missing or empty 'source'"), std::string::npos) << msg;
   EXPECT_NE(msg.find("expected a number"), std::string::npos) << msg;
   EXPECT_NE(msg.find("electron_lifetime.sauce: unknown field (did you mean: source?)"), std::string::npos) << msg;
   EXPECT_NE(msg.find("differs from the file name stem 'other'"), std::string::npos) << msg;

   const std::string syntax = errorOf(tmp.write("bad.toml", "[detector\nname = 1"), schema);
   EXPECT_NE(syntax.find("bad.toml:1:"), std::string::npos) << syntax;
   EXPECT_NE(syntax.find("TOML syntax error"), std::string::npos) << syntax;

   EXPECT_NE(errorOf(tmp.path("absent.toml"), schema).find("no such file"), std::string::npos);
}

TEST(DetectorConfig, UnknownRegisteredNameListsDetectors)
{
   try {
      DetectorConfig::load("pandx2");
      FAIL() << "expected ConfigError";
   } catch (const ConfigError &e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("unknown detector 'pandx2'"), std::string::npos) << msg;
      EXPECT_NE(msg.find("pandax2"), std::string::npos) << msg;
   }
}

// Every shipped detector file validates against the shipped schema.
TEST(DetectorConfig, RegistryFilesAreValid)
{
   const auto names = DetectorConfig::available();
   for (const char *expected : {"pandax2", "pandax3", "xenon1t", "xenonnt", "darwin"})
      EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
   for (const auto &name : names) {
      const auto cfg = DetectorConfig::load(name);
      EXPECT_EQ(cfg.name(), name);
      EXPECT_FALSE(cfg.references().empty()) << name;
      for (const auto &key : cfg.keys())
         EXPECT_FALSE(cfg.parameter(key).source.empty()) << name << "." << key;
   }
   // A dual-phase detector's maximum drift time follows from its length and velocity.
   for (const char *name : {"pandax2", "xenon1t", "xenonnt", "darwin"}) {
      const auto cfg = DetectorConfig::load(name);
      const double expected = cfg.get("drift_length") / cfg.get("drift_velocity");
      EXPECT_NEAR(cfg.get("max_drift_time") / expected, 1.0, 0.15) << name;
   }
}

TEST(DetectorConfig, RunConfigurationsReplaceTheirKeys)
{
   test::TempDir tmp;
   const auto schema = tmp.write("schema.toml", kSchema);
   std::string text = detectorFile(kGood);
   text.insert(text.find("\n\n[parameters]"), "\ndefault_run = \"b\"");
   text += "\n[runs.a]\ndrift_velocity = { value = 1.44, unit = \"mm/us\", source = \"run a\" }\n"
           "\n[runs.b]\nelectron_lifetime = { value = 650, unit = \"us\", source = \"run b\" }\n";
   const auto file = tmp.write("toy.toml", text);
   const auto a = DetectorConfig::fromFile(file, schema, "a");
   EXPECT_EQ(a.run(), "a");
   EXPECT_EQ(a.runs(), (std::vector<std::string>{"a", "b"}));
   EXPECT_NEAR(a.get("drift_velocity"), 1.44, 1e-12);
   EXPECT_EQ(a.parameter("drift_velocity").source, "run a");
   EXPECT_NEAR(a.get("electron_lifetime"), 800., 1e-9);   // not in run a: [parameters]
   const auto b = DetectorConfig::fromFile(file, schema); // default_run
   EXPECT_EQ(b.run(), "b");
   EXPECT_NEAR(b.get("drift_velocity"), 1.7, 1e-12);
   EXPECT_NEAR(b.get("electron_lifetime"), 650., 1e-9);
   try {
      DetectorConfig::fromFile(file, schema, "c");
      FAIL() << "an undefined run must throw";
   } catch (const ConfigError &e) {
      EXPECT_NE(std::string(e.what()).find("run configuration 'c' is not defined"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("defined runs: a, b"), std::string::npos) << e.what();
   }
   // a bad entry of any run is reported with its run, selected or not
   const auto bad =
       tmp.write("bad.toml", detectorFile(kGood, "bad") + "\n[runs.x]\ndrift_velocity = { value = 3, unit = \"V/cm\", "
                                                          "source = \"t\" }\n");
   EXPECT_NE(errorOf(bad, schema).find("runs.x.drift_velocity"), std::string::npos) << errorOf(bad, schema);
}
