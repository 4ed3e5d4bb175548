// tpcml-pair -- accidental events from isolated S1 and S2 signals (PandaX-II, P2-DNN §2-3).
//
//   tpcml-pair --input isolated.root --n 1000000 --seed 7 --output accidentals.root
//              [--detector pandax2] [--threads N] [--without-replacement]
//              [--drift-window 18,310] [--nr-median nr.root] [--livetime SECONDS] [--efficiency E]
//
// Reads trees `s1` and `s2` (docs/event-model.md §2), pairs them with tpcml::AccidentalPairer
// (the kernel the RDataFrame and Python doors call too) and writes an `events` tree in the
// same schema as physical events, each entry weighted by n_acc / N (P2-DNN Eq. 2.1) when the
// live time is known. The output is written under a temporary name and renamed when complete.
#include "ArgParser.h"

#include "tpcml/pairing/AccidentalPairer.h"
#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Version.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>

namespace {

std::string jsonEscape(const std::string &s)
{
   std::string o;
   for (char c : s) {
      if (c == '"' || c == '\\')
         o += '\\';
      if (static_cast<unsigned char>(c) >= 0x20)
         o += c;
   }
   return o;
}

std::pair<double, double> parseWindow(const std::string &text)
{
   const auto comma = text.find(',');
   if (comma == std::string::npos)
      throw tpcml::UsageError("--drift-window expects TMIN,TMAX in us (e.g. 18,310), got '" + text + "'");
   const auto number = [&text](const std::string &part) {
      std::size_t used = 0;
      double v = 0.;
      try {
         v = std::stod(part, &used);
      } catch (const std::exception &) {
         used = 0;
      }
      if (part.empty() || used != part.size() || !std::isfinite(v))
         throw tpcml::UsageError("--drift-window expects two finite numbers TMIN,TMAX in us, got '" + text + "'");
      return v;
   };
   return {number(text.substr(0, comma)), number(text.substr(comma + 1))};
}

int body(const tpcml::apps::ArgParser &args)
{
   const auto t0 = std::chrono::steady_clock::now();
   const std::string input = args.get("input");
   const std::string output = args.get("output");
   // Streamed in chunks (below): memory does not grow with --n; the bound is the 64-bit event count.
   const unsigned long long n = args.getCount("n", 1, 1000000000000000ULL);
   const unsigned long long seed = args.getSeed("seed");
   const int threads = args.getInt("threads", 0, 1024);
   {
      std::vector<std::string> inputs = {input};
      if (args.has("nr-median"))
         inputs.push_back(args.get("nr-median"));
      inputs.push_back(args.get("detector")); // a detector given as a file
      tpcml::requireDistinctOutput(output, inputs);
   }
   tpcml::AtomicOutput out(output); // checks the directory before any work
   const auto det = tpcml::DetectorConfig::load(args.get("detector"));
   tpcml::AccidentalPairer::Options opt;
   if (args.has("drift-window")) {
      std::tie(opt.driftTimeMin, opt.driftTimeMax) = parseWindow(args.get("drift-window"));
   } else {
      opt.driftTimeMin = det.get("fiducial_drift_time_min", "us");
      opt.driftTimeMax = det.get("fiducial_drift_time_max", "us");
   }
   if (!(opt.driftTimeMin >= 0.) || !(opt.driftTimeMax > opt.driftTimeMin))
      throw tpcml::UsageError("drift window [" + std::to_string(opt.driftTimeMin) + ", " +
                              std::to_string(opt.driftTimeMax) +
                              "] us is empty or negative: expected 0 <= TMIN < TMAX");
   opt.withReplacement = !args.flag("without-replacement");
   opt.seed = seed;

   std::cerr << "tpcml-pair: reading isolated signals from " << input << "\n";
   const auto s1 = tpcml::IsolatedS1Table::fromTree(input, args.get("s1-tree"));
   const auto s2 = tpcml::IsolatedS2Table::fromTree(input, args.get("s2-tree"));

   const double userLive = args.has("livetime") ? args.getNumber("livetime", 0., 1e300) : -1.;
   const double userEff = args.has("efficiency") ? args.getNumber("efficiency", 0., 1.) : -1.;
   if (args.has("livetime") && !(userLive > 0.))
      throw tpcml::UsageError("--livetime must be > 0 s, got '" + args.get("livetime") + "'");
   const auto rates = tpcml::isolatedRates(input, s1.size(), s2.size(), userLive, userEff);
   double nAcc = -1.;
   if (rates.known()) {
      nAcc = rates.expected(opt.driftTimeMax - opt.driftTimeMin);
      opt.weight = static_cast<float>(nAcc / static_cast<double>(n));
      std::cerr << "tpcml-pair: r1 = " << rates.s1Hz << " Hz, r2 = " << rates.s2Hz << " Hz, window "
                << opt.driftTimeMax - opt.driftTimeMin << " us, T = " << rates.liveTimeS
                << " s, eps = " << rates.efficiency << " -> n_acc = " << nAcc << " (P2-DNN Eq. 2.1)\n";
   } else {
      std::cerr << "tpcml-pair: no live time (no tpcml_livetime in the input, no --livetime): weight = 1\n";
   }

   const tpcml::PositionCorrections corr(det);
   std::unique_ptr<tpcml::AccidentalPairer> made;
   try {
      made = std::make_unique<tpcml::AccidentalPairer>(s1, s2, corr, opt);
   } catch (const tpcml::UsageError &e) { // bad data in the file: an input error (exit 1)
      throw tpcml::InputError(input + ": " + e.what());
   }
   auto &pairer = *made;
   if (args.has("nr-median"))
      pairer.setNRMedian(tpcml::NRMedianCurve::fromFile(args.get("nr-median")));
   std::cerr << "tpcml-pair: pairing " << n << " events from " << s1.size() << " S1 x " << s2.size() << " S2 ("
             << (opt.withReplacement ? "with" : "without") << " replacement, seed " << opt.seed << ")\n";
   std::ostringstream prov;
   prov << "{\"tpcml_version\": \"" << tpcml::version() << "\", \"command_line\": [";
   for (std::size_t i = 0; i < args.argv().size(); ++i)
      prov << (i ? ", " : "") << '"' << jsonEscape(args.argv()[i]) << '"';
   prov << "], \"seed\": " << opt.seed << ", \"inputs\": [\"" << jsonEscape(input) << "\"], \"n_pairs\": " << n
        << ", \"n_acc\": " << (nAcc >= 0. ? std::to_string(nAcc) : "null") << "}";
   std::vector<std::pair<std::string, double>> parameters;
   if (nAcc >= 0.)
      parameters.emplace_back("tpcml_n_acc", nAcc);
   if (n > pairer.maxPairs())
      throw tpcml::UsageError("--n " + std::to_string(n) +
                              ": pairing without replacement can make at most min(N_S1, "
                              "N_S2) = " +
                              std::to_string(pairer.maxPairs()) + " pairs");
   tpcml::TreeFileWriter writer(out.tempPath(), 5000);
   pairer.writeEvents(writer, n, static_cast<unsigned>(threads)); // in chunks: memory bounded whatever --n
   writer.close({{"tpcml_detector", det.name()}, {"tpcml_provenance", prov.str()}}, parameters);
   out.commit();
   const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
   std::cerr << "tpcml-pair: wrote " << n << " events to " << output << " in " << dt << " s\n";
   return 0;
}

} // namespace

int main(int argc, char **argv)
{
   tpcml::apps::ArgParser args("tpcml-pair",
                               "Make accidental events by randomly pairing isolated S1 and S2 signals\n"
                               "(trees s1 and s2, docs/event-model.md) and write them as an `events` tree.");
   args.addOption("input", "FILE", "ROOT file with the isolated-signal trees", "", true);
   args.addOption("output", "OUT", "output ROOT file (written atomically)", "", true);
   args.addOption("n", "N", "number of accidental events to make (1 to 1e15, written in chunks)", "", true);
   args.addOption("seed", "S", "random seed, an integer in [0, 2^64 - 1] (same seed: same events, whatever --threads)",
                  "0");
   args.addOption("detector", "NAME|FILE", "detector for the position corrections", "pandax2");
   args.addOption("threads", "N", "threads (0: all cores)", "1");
   args.addOption("s1-tree", "TREE", "isolated-S1 tree", "s1");
   args.addOption("s2-tree", "TREE", "isolated-S2 tree", "s2");
   args.addOption("drift-window", "TMIN,TMAX", "drift-time window in us (default: the detector's fiducial window)");
   args.addOption("nr-median", "FILE", "ROOT file with the NR median TGraph tpcml_nr_median (sets below_nr_median)");
   args.addOption("livetime", "SECONDS",
                  "live time over which the isolated signals were collected "
                  "(default: tpcml_livetime stored in --input)");
   args.addOption("efficiency", "E",
                  "data-quality efficiency epsilon of Eq. 2.1 (default: tpcml_data_quality_efficiency stored in "
                  "--input, else 1)");
   args.addFlag("without-replacement", "use every S1 and S2 at most once (N <= min(N_S1, N_S2))");
   args.setEpilog("exit status: 0 ok, 1 unreadable input or invalid configuration, 2 bad arguments");
   try {
      if (!args.parse(argc, argv))
         return 0;
   } catch (const std::exception &e) {
      std::cerr << "tpcml-pair: error: " << e.what() << "\n";
      return 2;
   }
   return tpcml::apps::runMain(args, body);
}
