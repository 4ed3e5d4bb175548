// tpcml-info -- versions, threading, detector registry, and what a ROOT file holds.
//
//   tpcml-info                                   versions and ImplicitMT threads
//   tpcml-info events.root                       trees in the file
//   tpcml-info events.root --tree events         entries and columns of a tree
//   tpcml-info --detector pandax2                validated detector parameters
//   tpcml-info ... --json summary.json           also write a JSON summary (atomically)
#include "Cli.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Strings.h"
#include "tpcml/core/Version.h"

#include <ROOT/RDataFrame.hxx>
#include <TROOT.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <utility>

namespace {

/// What tpcml-info describes.
struct InfoJob {
   unsigned threads = 1;                   ///< > 1: ROOT ImplicitMT with that many threads
   std::string detector, file, tree, json; ///< empty: not asked for
};

/// The options as given.
struct Options {
   std::vector<std::string> file;
   std::string tree, detector, threads, json;
};

InfoJob jobFromArguments(const Options &o)
{
   InfoJob job;
   job.threads = tpcml::apps::toThreads(o.threads);
   if (!o.tree.empty() && o.file.empty())
      throw tpcml::UsageError("--tree needs a FILE");
   job.file = o.file.empty() ? std::string{} : o.file.front();
   job.tree = o.tree;
   job.detector = o.detector;
   job.json = o.json;
   if (!job.json.empty()) {
      std::vector<std::string> read;
      for (const std::string *in : {&job.file, &job.detector})
         if (!in->empty())
            read.push_back(*in);
      tpcml::requireDistinctOutput(job.json, read, "--json");
   }
   return job;
}

/// Versions, threads and the registry: text on stdout, the JSON's first members.
void describeBuild(std::ostringstream &json)
{
   json << "{\n  \"tpcml\": " << tpcml::jsonString(tpcml::version())
        << ",\n  \"root\": " << tpcml::jsonString(tpcml::rootVersion())
        << ",\n  \"compiler\": " << tpcml::jsonString(tpcml::compilerVersion())
        << ",\n  \"implicit_mt_threads\": " << ROOT::GetThreadPoolSize();
   std::cout << "tpcml     " << tpcml::version() << "  (" << tpcml::libraryDirectory() << ")\n"
             << "ROOT      " << tpcml::rootVersion() << "\n"
             << "compiler  " << tpcml::compilerVersion() << "\n"
             << "ImplicitMT " << (ROOT::IsImplicitMTEnabled() ? "on" : "off") << ", " << ROOT::GetThreadPoolSize()
             << " thread(s)\n"
             << "detectors " << tpcml::join(tpcml::DetectorConfig::available()) << "  ("
             << tpcml::DetectorConfig::registryDirectory() << ")\n";
}

/// Every parameter of a detector with its unit and source.
void describeDetector(const std::string &name, std::ostringstream &json)
{
   const auto det = tpcml::DetectorConfig::load(name);
   std::cout << "\ndetector '" << det.name() << "': " << det.title() << " [" << det.kind() << "]\n  file " << det.file()
             << "\n";
   json << ",\n  \"detector\": {\"name\": " << tpcml::jsonString(det.name()) << ", \"parameters\": {";
   bool first = true;
   for (const auto &key : det.keys()) {
      const auto &p = det.parameter(key);
      std::ostringstream val;
      if (p.dimension == tpcml::Dimension::kString)
         val << p.text;
      else if (p.isArray)
         val << "[" << p.array.size() << " values]";
      else
         val << std::setprecision(6) << p.value;
      const std::string unit = tpcml::canonicalUnit(p.dimension);
      std::cout << "  " << std::left << std::setw(32) << key << std::setw(14) << val.str() << std::setw(12) << unit
                << p.source << "\n";
      json << (first ? "" : ", ") << tpcml::jsonString(key) << ": "
           << (p.dimension == tpcml::Dimension::kString ? tpcml::jsonString(p.text)
               : val.str().front() == '['               ? tpcml::jsonString(val.str())
                                                        : val.str());
      first = false;
   }
   json << "}}";
}

/// The trees of a file, or one tree's entries and columns.
void describeFile(const std::string &file, const std::string &tree, std::ostringstream &json)
{
   if (tree.empty()) {
      const auto trees = tpcml::listTrees(file);
      std::cout << "\nfile " << file << ": " << trees.size() << " tree(s)\n";
      for (const auto &t : trees)
         std::cout << "  " << t << "\n";
      json << ",\n  \"file\": " << tpcml::jsonString(file) << ",\n  \"trees\": [";
      for (std::size_t i = 0; i < trees.size(); ++i)
         json << (i ? ", " : "") << tpcml::jsonString(trees[i]);
      json << "]";
      return;
   }
   const auto s = tpcml::describeTree(file, tree);
   std::cout << "\nfile " << s.file << "\ntree " << s.tree << ": " << s.entries << " entries, " << s.columns.size()
             << " columns\n";
   for (const auto &c : s.columns)
      std::cout << "  " << std::left << std::setw(28) << c.name << c.type
                << (c.length ? "  (" + std::to_string(c.length) + " per entry)" : std::string()) << "\n";
   json << ",\n  \"file\": " << tpcml::jsonString(s.file) << ",\n  \"tree\": " << tpcml::jsonString(s.tree)
        << ",\n  \"entries\": " << s.entries << ",\n  \"columns\": {";
   for (std::size_t i = 0; i < s.columns.size(); ++i)
      json << (i ? ", " : "") << tpcml::jsonString(s.columns[i].name) << ": " << tpcml::jsonString(s.columns[i].type);
   json << "},\n  \"lengths\": {"; // values per entry of the fixed-length array columns
   bool first = true;
   for (const auto &c : s.columns)
      if (c.length) {
         json << (first ? "" : ", ") << tpcml::jsonString(c.name) << ": " << c.length;
         first = false;
      }
   json << "}";
}

void writeJson(const std::string &path, const std::string &text)
{
   tpcml::AtomicOutput out(path);
   {
      std::ofstream os(out.tempPath());
      os << text;
      if (!os.flush())
         throw tpcml::Error("cannot write '" + out.tempPath() + "'");
   }
   out.commit();
}

int body(const tpcml::apps::Cli &, const Options &o)
{
   const InfoJob job = jobFromArguments(o);
   if (job.threads > 1)
      ROOT::EnableImplicitMT(job.threads);
   std::ostringstream json;
   describeBuild(json);
   if (!job.detector.empty())
      describeDetector(job.detector, json);
   if (!job.file.empty())
      describeFile(job.file, job.tree, json);
   json << "\n}\n";
   if (!job.json.empty())
      writeJson(job.json, json.str());
   return 0;
}

const tpcml::apps::About kAbout{"tpcml-info",
                                "Print tpcml, ROOT and compiler versions, ImplicitMT threads, the detector\n"
                                "registry, and the trees / columns / entries of a ROOT file.",
                                "unreadable input or invalid configuration",
                                "The same from Python: tpcml info, tpcml inspect FILE."};

void describe(tpcml::apps::Cli &cli, Options &o)
{
   cli.addInputs(o.file, "ROOT file to inspect (lists its trees)", /*multiple=*/false, /*required=*/false);
   cli.addTree(o.tree, "tree in FILE to describe (entries and columns)", "");
   cli.addDetector(o.detector, "validate and print a detector configuration");
   cli.addThreads(o.threads);
   cli.addText("--json", o.json, "OUT", "also write the summary as JSON to OUT (written atomically)");
}

} // namespace

int main(int argc, char **argv)
{
   return tpcml::apps::runApp<Options>(argc, argv, kAbout, describe, body);
}
