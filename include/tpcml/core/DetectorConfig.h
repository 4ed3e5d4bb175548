// tpcml -- the detector registry: validated, unit-converted detector parameters.
//
// A detector file (data/detectors/<name>.toml) holds one entry per parameter,
// `key = { value = ..., unit = "...", source = "..." }`, validated against
// data/detectors/schema.toml (dimension, range, required keys per detector
// kind). Numeric values are converted to the canonical unit of their
// dimension (see Units.h): code reads `cfg.get("drift_velocity")` in mm/us.
// Format: docs/detector-format.md.
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_DETECTOR_CONFIG_H
#define TPCML_DETECTOR_CONFIG_H

#include "tpcml/core/Units.h"

#include <map>
#include <string>
#include <vector>

namespace tpcml {

/// One validated parameter.
struct DetectorParameter {
   std::string key;
   Dimension dimension = Dimension::kDimensionless;
   std::string unit;          ///< unit as written in the file
   std::string source;        ///< citation
   double value = 0.;         ///< numeric value in the canonical unit (booleans: 0/1)
   std::vector<double> array; ///< array values in the canonical unit
   std::string text;          ///< string value
   bool isArray = false;
};

class DetectorConfig {
public:
   DetectorConfig() = default;

   /// Load a registered detector by name ("pandax2") or a TOML file by path.
   /// Names are searched in $TPCML_DETECTOR_PATH (':'-separated directories),
   /// then in the installed data directory.
   /// A run configuration is selected with "<name>:<run>" ("xenon1t:sr0"); without it the
   /// file's detector.default_run (if any) applies. See docs/detector-format.md.
   static DetectorConfig load(const std::string &nameOrPath);
   /// Load `path`, validating against `schemaPath` (default: the registry's schema.toml).
   /// `run` selects a [runs.<run>] table (empty: detector.default_run, or none).
   static DetectorConfig fromFile(const std::string &path, const std::string &schemaPath = "",
                                  const std::string &run = "");
   /// Names of the registered detectors, sorted.
   static std::vector<std::string> available();
   /// Directory holding the registry's TOML files.
   static std::string registryDirectory();

   const std::string &name() const { return m_name; }
   const std::string &title() const { return m_title; }
   const std::string &kind() const { return m_kind; }
   const std::string &file() const { return m_file; }
   const std::vector<std::string> &references() const { return m_references; }
   /// Selected run configuration ("" when the file defines none or none is selected).
   const std::string &run() const { return m_run; }
   /// Run configurations the file defines ([runs.<run>] tables), in file order.
   const std::vector<std::string> &runs() const { return m_runs; }
   /// Directory of the detector file (PMT tables are read relative to it).
   std::string directory() const;

   bool has(const std::string &key) const;
   /// Numeric value in the canonical unit of its dimension.
   double get(const std::string &key) const;
   /// Numeric value converted to `unit` (which must belong to the key's dimension).
   double get(const std::string &key, const std::string &unit) const;
   /// Numeric value, or `fallback` when the (optional) key is absent.
   double getOr(const std::string &key, double fallback) const;
   /// Integer value (count dimension); throws if not integral.
   long long getInt(const std::string &key) const;
   std::string getString(const std::string &key) const;
   bool getBool(const std::string &key) const;
   std::vector<double> getArray(const std::string &key) const;
   const DetectorParameter &parameter(const std::string &key) const;
   /// All parameter keys, sorted.
   std::vector<std::string> keys() const;

private:
   const DetectorParameter &lookup(const std::string &key) const;

   std::string m_name;
   std::string m_title;
   std::string m_kind;
   std::string m_file;
   std::vector<std::string> m_references;
   std::string m_run;
   std::vector<std::string> m_runs;
   std::map<std::string, DetectorParameter> m_parameters;
};

} // namespace tpcml

#endif // TPCML_DETECTOR_CONFIG_H
