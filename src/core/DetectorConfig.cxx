#include "tpcml/core/DetectorConfig.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"
#include "tpcml/core/Version.h"

#include "core/BuildInfo.h"

// header-only toml++, with exceptions (set here, not as compile definitions, see BuildInfo.h.in)
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#if __has_include(<toml++/toml.hpp>)
#include <toml++/toml.hpp>
#else
#include <toml++/toml.h> // Debian's name for the same header
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace tpcml {

namespace {

struct SchemaEntry {
   Dimension dimension = Dimension::kDimensionless;
   double min = -std::numeric_limits<double>::infinity();
   double max = std::numeric_limits<double>::infinity();
   std::string description;
   std::vector<std::string> required; // detector kinds
};

struct Schema {
   std::string file;
   std::map<std::string, SchemaEntry> entries;
   std::set<std::string> kinds;
};

std::string formatNumber(double v)
{
   std::ostringstream os;
   os << v;
   return os.str();
}

toml::table parseToml(const std::string &path, const char *what)
{
   std::error_code ec;
   if (!fs::is_regular_file(path, ec))
      throw ConfigError("cannot read " + std::string(what) + " '" + path + "': no such file");
   try {
      return toml::parse_file(path);
   } catch (const toml::parse_error &e) {
      const auto &b = e.source().begin;
      throw ConfigError(path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                        ": TOML syntax error: " + std::string(e.description()));
   }
}

std::vector<std::string> keysOf(const toml::table &t)
{
   std::vector<std::string> out;
   for (const auto &kv : t)
      out.emplace_back(kv.first.str());
   return out;
}

Schema loadSchema(const std::string &path)
{
   const toml::table doc = parseToml(path, "detector schema");
   Schema schema;
   schema.file = path;
   const toml::table *params = doc["parameters"].as_table();
   if (!params)
      throw ConfigError(path + ": schema has no [parameters] table");
   for (const auto &kv : *params) {
      const std::string key(kv.first.str());
      const toml::table *t = kv.second.as_table();
      if (!t)
         throw ConfigError(path + ": parameters." + key + " must be a table");
      SchemaEntry e;
      const auto dim = (*t)["dimension"].value<std::string>();
      if (!dim)
         throw ConfigError(path + ": parameters." + key + ": missing 'dimension'");
      try {
         e.dimension = dimensionFromName(*dim);
      } catch (const ConfigError &err) {
         throw ConfigError(path + ": parameters." + key + ": " + err.what());
      }
      if (auto v = (*t)["min"].value<double>())
         e.min = *v;
      if (auto v = (*t)["max"].value<double>())
         e.max = *v;
      e.description = (*t)["description"].value_or(std::string{});
      if (const toml::array *req = (*t)["required"].as_array())
         for (const auto &r : *req)
            if (auto s = r.value<std::string>()) {
               e.required.push_back(*s);
               schema.kinds.insert(*s);
            }
      schema.entries.emplace(key, std::move(e));
   }
   if (const toml::array *kinds = doc["kinds"].as_array())
      for (const auto &k : *kinds)
         if (auto s = k.value<std::string>())
            schema.kinds.insert(*s);
   return schema;
}

std::string exampleFor(Dimension d)
{
   switch (d) {
   case Dimension::kString:
      return "{ value = \"...\", unit = \"\", source = \"...\" }";
   case Dimension::kBoolean:
      return "{ value = true, unit = \"\", source = \"...\" }";
   case Dimension::kCount:
      return "{ value = 1, unit = \"count\", source = \"...\" }";
   default:
      return "{ value = <number>, unit = \"" + canonicalUnit(d) + "\", source = \"...\" }";
   }
}

std::string envOr(const char *name, const std::string &fallback)
{
   const char *v = std::getenv(name);
   return (v && *v) ? std::string(v) : fallback;
}

std::vector<std::string> splitPath(const std::string &s)
{
   std::vector<std::string> out;
   std::string cur;
   std::istringstream is(s);
   while (std::getline(is, cur, ':'))
      if (!cur.empty())
         out.push_back(cur);
   return out;
}

} // namespace

std::string DetectorConfig::registryDirectory()
{
   std::error_code ec;
   const std::string fromEnv = envOr("TPCML_DATA_DIR", "");
   if (!fromEnv.empty())
      return (fs::path(fromEnv) / "detectors").string();
   const std::string libdir = libraryDirectory();
   if (!libdir.empty()) {
      const fs::path installed = fs::path(libdir) / TPCML_DATA_RELDIR / "detectors";
      if (fs::is_directory(installed, ec))
         return fs::weakly_canonical(installed, ec).string();
   }
   return (fs::path(TPCML_SOURCE_DATA_DIR) / "detectors").string();
}

std::vector<std::string> DetectorConfig::available()
{
   std::set<std::string> names;
   std::vector<std::string> dirs = splitPath(envOr("TPCML_DETECTOR_PATH", ""));
   dirs.push_back(registryDirectory());
   std::error_code ec;
   for (const auto &dir : dirs) {
      for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
         const fs::path &p = it->path();
         if (p.extension() == ".toml" && p.stem() != "schema")
            names.insert(p.stem().string());
      }
   }
   return {names.begin(), names.end()};
}

DetectorConfig DetectorConfig::load(const std::string &spec)
{
   // "<name or path>[:<run>]": the run is the text after the last ':' when it is a plain word
   std::string nameOrPath = spec, run;
   const auto colon = spec.rfind(':');
   if (colon != std::string::npos && colon > 0 && colon + 1 < spec.size() &&
       spec.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", colon + 1) ==
           std::string::npos) {
      nameOrPath = spec.substr(0, colon);
      run = spec.substr(colon + 1);
   }
   if (nameOrPath.find('/') != std::string::npos || fs::path(nameOrPath).extension() == ".toml")
      return fromFile(nameOrPath, "", run);
   std::vector<std::string> dirs = splitPath(envOr("TPCML_DETECTOR_PATH", ""));
   dirs.push_back(registryDirectory());
   std::error_code ec;
   for (const auto &dir : dirs) {
      const fs::path p = fs::path(dir) / (nameOrPath + ".toml");
      if (fs::is_regular_file(p, ec))
         return fromFile(p.string(), "", run);
   }
   const auto names = available();
   throw ConfigError("unknown detector '" + nameOrPath + "'" + didYouMean(nameOrPath, names) +
                     "; registered detectors: " + (names.empty() ? std::string("none") : join(names)) +
                     " (searched $TPCML_DETECTOR_PATH and " + registryDirectory() + ")");
}

DetectorConfig DetectorConfig::fromFile(const std::string &path, const std::string &schemaPath, const std::string &run)
{
   const std::string schemaFile =
       schemaPath.empty() ? (fs::path(registryDirectory()) / "schema.toml").string() : schemaPath;
   const Schema schema = loadSchema(schemaFile);
   const toml::table doc = parseToml(path, "detector file");

   std::vector<std::string> problems;
   auto problem = [&](const std::string &msg) { problems.push_back(msg); };

   for (const auto &top : keysOf(doc))
      if (top != "detector" && top != "parameters" && top != "runs")
         problem("unknown top-level table '" + top + "'" + didYouMean(top, {"detector", "parameters", "runs"}) +
                 "; expected [detector], [parameters] and optionally [runs.<run>]");

   DetectorConfig cfg;
   cfg.m_file = path;
   const toml::table *det = doc["detector"].as_table();
   if (!det) {
      problem("missing [detector] table (with name, title, kind)");
   } else {
      for (const auto &k : keysOf(*det))
         if (k != "name" && k != "title" && k != "kind" && k != "references" && k != "default_run")
            problem("detector." + k + ": unknown key" +
                    didYouMean(k, {"name", "title", "kind", "references", "default_run"}) +
                    "; expected name, title, kind, references, default_run");
      cfg.m_run = (*det)["default_run"].value_or(std::string{});
      cfg.m_name = (*det)["name"].value_or(std::string{});
      cfg.m_title = (*det)["title"].value_or(std::string{});
      cfg.m_kind = (*det)["kind"].value_or(std::string{});
      const std::string stem = fs::path(path).stem().string();
      if (cfg.m_name.empty())
         problem("detector.name: missing; expected a string equal to the file name stem ('" + stem + "')");
      else if (cfg.m_name != stem)
         problem("detector.name: '" + cfg.m_name + "' differs from the file name stem '" + stem + "'");
      if (cfg.m_title.empty())
         problem("detector.title: missing; expected a descriptive string");
      const std::vector<std::string> kinds(schema.kinds.begin(), schema.kinds.end());
      if (cfg.m_kind.empty())
         problem("detector.kind: missing; expected one of: " + join(kinds));
      else if (!schema.kinds.count(cfg.m_kind))
         problem("detector.kind: '" + cfg.m_kind + "' is not a known kind" + didYouMean(cfg.m_kind, kinds) +
                 "; expected one of: " + join(kinds));
      if (const toml::array *refs = (*det)["references"].as_array())
         for (const auto &r : *refs)
            if (auto s = r.value<std::string>())
               cfg.m_references.push_back(*s);
   }

   std::vector<std::string> schemaKeys;
   for (const auto &kv : schema.entries)
      schemaKeys.push_back(kv.first);

   // Run configurations: [runs.<run>] tables whose entries replace those of [parameters].
   const toml::table *runs = doc["runs"].as_table();
   if (doc.contains("runs") && !runs)
      problem("runs: expected tables [runs.<run>] of parameter entries");
   if (runs)
      for (const auto &kv : *runs) {
         cfg.m_runs.emplace_back(kv.first.str());
         if (!kv.second.as_table())
            problem("runs." + cfg.m_runs.back() + ": expected a table of parameter entries");
      }
   if (!run.empty())
      cfg.m_run = run;
   const toml::table *runParams = nullptr;
   if (!cfg.m_run.empty()) {
      if (std::find(cfg.m_runs.begin(), cfg.m_runs.end(), cfg.m_run) == cfg.m_runs.end()) {
         const std::string msg = "run configuration '" + cfg.m_run + "' is not defined" +
                                 didYouMean(cfg.m_run, cfg.m_runs) +
                                 "; defined runs: " + (cfg.m_runs.empty() ? std::string("none") : join(cfg.m_runs));
         if (!run.empty())
            throw ConfigError(path + ": " + msg);
         problem("detector.default_run: " + msg);
      } else
         runParams = (*runs)[cfg.m_run].as_table();
   }
   const toml::table *params = doc["parameters"].as_table();
   std::vector<std::pair<std::string, const toml::table *>> sections;
   if (params)
      sections.emplace_back("parameters.", params);
   if (runs)
      for (const auto &kv : *runs)
         if (const toml::table *t = kv.second.as_table())
            sections.emplace_back("runs." + std::string(kv.first.str()) + ".", t);
   if (!params)
      problem("missing [parameters] table");
   for (const auto &[prefix, section] : sections) {
      // every run is validated; only [parameters] and the selected run are kept (the run last)
      const bool keep = section == params || section == runParams;
      for (const auto &kv : *section) {
         const std::string key(kv.first.str());
         const std::string where = prefix + key;
         auto it = schema.entries.find(key);
         if (it == schema.entries.end()) {
            problem(where + ": unknown parameter" + didYouMean(key, schemaKeys) + " (valid names are listed in " +
                    schema.file + ")");
            continue;
         }
         const SchemaEntry &se = it->second;
         const toml::table *entry = kv.second.as_table();
         if (!entry) {
            problem(where + ": expected an inline table " + exampleFor(se.dimension));
            continue;
         }
         for (const auto &f : keysOf(*entry))
            if (f != "value" && f != "unit" && f != "source")
               problem(where + "." + f + ": unknown field" + didYouMean(f, {"value", "unit", "source"}) +
                       "; expected value, unit, source");
         DetectorParameter p;
         p.key = key;
         p.dimension = se.dimension;
         const auto unit = (*entry)["unit"].value<std::string>();
         const auto source = (*entry)["source"].value<std::string>();
         const toml::node *value = entry->get("value");
         if (!unit) {
            problem(where + ": missing 'unit'; expected " + exampleFor(se.dimension));
            continue;
         }
         if (!source || source->find_first_not_of(" \t") == std::string::npos)
            problem(where + ": missing or empty 'source'; every value must cite where it comes from");
         if (!value) {
            problem(where + ": missing 'value'; expected " + exampleFor(se.dimension));
            continue;
         }
         p.unit = *unit;
         p.source = source.value_or("");
         double factor = 1.;
         try {
            factor = unitFactor(p.unit, se.dimension);
         } catch (const ConfigError &e) {
            problem(where + ": " + e.what());
            continue;
         }
         const std::string cu = canonicalUnit(se.dimension);
         auto checkRange = [&](double v) {
            if (!std::isfinite(v) || v < se.min || v > se.max)
               problem(where + ": value " + formatNumber(v) + " " + cu + " is out of range [" + formatNumber(se.min) +
                       ", " + formatNumber(se.max) + "] " + cu +
                       (p.unit != cu ? " (after conversion from " + p.unit + ")" : ""));
         };
         if (se.dimension == Dimension::kString) {
            if (auto s = value->value_exact<std::string>())
               p.text = *s;
            else
               problem(where + ": expected a string value");
         } else if (se.dimension == Dimension::kBoolean) {
            if (auto b = value->value_exact<bool>())
               p.value = *b ? 1. : 0.;
            else
               problem(where + ": expected true or false");
         } else if (se.dimension == Dimension::kCount) {
            if (auto i = value->value_exact<int64_t>()) {
               p.value = static_cast<double>(*i);
               checkRange(p.value);
            } else
               problem(where + ": expected an integer count");
         } else if (const toml::array *arr = value->as_array()) {
            p.isArray = true;
            for (const auto &el : *arr) {
               auto d = el.value<double>();
               if (!d || el.is_boolean()) {
                  problem(where + ": array elements must be numbers");
                  break;
               }
               p.array.push_back(*d * factor);
               checkRange(p.array.back());
            }
         } else {
            auto d = value->value<double>();
            if (!d || value->is_boolean() || value->is_string()) {
               problem(where + ": expected a number in " + dimensionName(se.dimension) + " units");
               continue;
            }
            p.value = *d * factor;
            checkRange(p.value);
         }
         if (keep)
            cfg.m_parameters[key] = std::move(p);
      }
   }

   if (!cfg.m_kind.empty() && schema.kinds.count(cfg.m_kind)) {
      for (const auto &kv : schema.entries) {
         const auto &req = kv.second.required;
         if (std::find(req.begin(), req.end(), cfg.m_kind) != req.end() && !cfg.m_parameters.count(kv.first) &&
             !(params && params->contains(kv.first)))
            problem("parameters." + kv.first + ": missing; required for a detector of kind '" + cfg.m_kind +
                    "'. Expected: " + kv.first + " = " + exampleFor(kv.second.dimension) +
                    (kv.second.description.empty() ? "" : "  # " + kv.second.description));
      }
   }

   if (!problems.empty()) {
      std::string msg = "invalid detector file '" + path + "' (" + std::to_string(problems.size()) + " problem" +
                        (problems.size() > 1 ? "s" : "") + "):";
      for (const auto &p : problems)
         msg += "\n  " + path + ": " + p;
      throw ConfigError(msg);
   }
   return cfg;
}

const DetectorParameter &DetectorConfig::lookup(const std::string &key) const
{
   auto it = m_parameters.find(key);
   if (it == m_parameters.end())
      throw ConfigError("detector '" + m_name + "' (" + m_file + ") has no parameter '" + key + "'" +
                        didYouMean(key, keys()));
   return it->second;
}

std::string DetectorConfig::directory() const
{
   return fs::path(m_file).parent_path().string();
}

bool DetectorConfig::has(const std::string &key) const
{
   return m_parameters.count(key) > 0;
}

const DetectorParameter &DetectorConfig::parameter(const std::string &key) const
{
   return lookup(key);
}

double DetectorConfig::get(const std::string &key) const
{
   const auto &p = lookup(key);
   if (p.dimension == Dimension::kString || p.isArray)
      throw ConfigError("detector '" + m_name + "': parameter '" + key + "' is " +
                        (p.isArray ? "an array; use getArray()" : "a string; use getString()"));
   return p.value;
}

double DetectorConfig::get(const std::string &key, const std::string &unit) const
{
   const auto &p = lookup(key);
   const double v = get(key);
   try {
      return v / unitFactor(unit, p.dimension);
   } catch (const ConfigError &e) {
      throw ConfigError("detector '" + m_name + "': parameter '" + key + "': " + e.what());
   }
}

double DetectorConfig::getOr(const std::string &key, double fallback) const
{
   return has(key) ? get(key) : fallback;
}

long long DetectorConfig::getInt(const std::string &key) const
{
   const double v = get(key);
   if (std::floor(v) != v)
      throw ConfigError("detector '" + m_name + "': parameter '" + key + "' = " + formatNumber(v) +
                        " is not an integer");
   return static_cast<long long>(v);
}

std::string DetectorConfig::getString(const std::string &key) const
{
   const auto &p = lookup(key);
   if (p.dimension != Dimension::kString)
      throw ConfigError("detector '" + m_name + "': parameter '" + key + "' is not a string");
   return p.text;
}

bool DetectorConfig::getBool(const std::string &key) const
{
   const auto &p = lookup(key);
   if (p.dimension != Dimension::kBoolean)
      throw ConfigError("detector '" + m_name + "': parameter '" + key + "' is not a boolean");
   return p.value != 0.;
}

std::vector<double> DetectorConfig::getArray(const std::string &key) const
{
   const auto &p = lookup(key);
   if (!p.isArray)
      return {p.value};
   return p.array;
}

std::vector<std::string> DetectorConfig::keys() const
{
   std::vector<std::string> out;
   for (const auto &kv : m_parameters)
      out.push_back(kv.first);
   return out;
}

} // namespace tpcml
