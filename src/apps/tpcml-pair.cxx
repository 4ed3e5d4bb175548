// tpcml-pair -- accidental events from isolated S1 and S2 signals (PandaX-II, P2-DNN §2-3).
//
//   tpcml-pair --input isolated.root --n 1000000 --seed 7 --output accidentals.root
//              [--detector pandax2] [--threads N] [--without-replacement]
//              [--drift-window 18,310] [--nr-median nr.root] [--livetime SECONDS] [--efficiency E]
//
// The arguments become a tpcml::PairJob and tpcml::pairFile does the job (the function the Python
// door tpcml.pairing.pair and macros/pair_accidentals.C call too): it reads trees `s1` and `s2`
// (docs/event-model.md §2), pairs them and writes an `events` tree in the same schema as physical
// events, each entry weighted by n_acc / N (P2-DNN Eq. 2.1) when the live time is known. The output
// is written under a temporary name and renamed when complete.
#include "ArgParser.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"
#include "tpcml/core/Version.h"
#include "tpcml/pairing/PairFile.h"

#include <chrono>
#include <cmath>
#include <iostream>

namespace {

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

/// The command line as a pairing job.
tpcml::PairJob jobFromArguments(const tpcml::apps::ArgParser &args)
{
   tpcml::PairJob job;
   job.input = args.get("input");
   job.output = args.get("output");
   // Streamed in chunks (pairFile): memory does not grow with --n; the bound is the 64-bit event count.
   job.n = args.getCount("n", 1, 1000000000000000ULL);
   job.seed = args.getSeed("seed");
   job.threads = static_cast<unsigned>(args.getInt("threads", 0, 1024));
   job.detector = args.get("detector");
   job.withReplacement = !args.flag("without-replacement");
   if (args.has("nr-median"))
      job.nrMedian = args.get("nr-median");
   if (args.has("drift-window")) {
      job.hasDriftWindow = true;
      std::tie(job.driftTimeMin, job.driftTimeMax) = parseWindow(args.get("drift-window"));
   }
   if (args.has("livetime")) {
      job.liveTimeS = args.getNumber("livetime", 0., 1e300);
      if (!(job.liveTimeS > 0.))
         throw tpcml::UsageError("--livetime must be > 0 s, got '" + args.get("livetime") + "'");
   }
   if (args.has("efficiency"))
      job.efficiency = args.getNumber("efficiency", 0., 1.);
   job.s1Tree = args.get("s1-tree");
   job.s2Tree = args.get("s2-tree");
   job.commandLine = args.argv();
   job.format = args.get("format");
   job.allowDetectorMismatch = args.flag("allow-detector-mismatch");
   job.log = [](const std::string &m) { std::cerr << "tpcml-pair: " << m << "\n"; };
   return job;
}

int body(const tpcml::apps::ArgParser &args)
{
   const auto t0 = std::chrono::steady_clock::now();
   const tpcml::PairJob job = jobFromArguments(args);
   tpcml::pairFile(job);
   const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
   std::cerr << "tpcml-pair: wrote " << job.n << " events to " << job.output << " in " << dt << " s\n";
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
   args.addOption("format", "ttree|rntuple", "output tree format: ttree (a TTree, the default) or rntuple (an RNTuple)",
                  "ttree");
   args.addFlag("allow-detector-mismatch", "pair a file tagged (tpcml_detector) with another detector than --detector");
   args.setEpilog("exit status: 0 ok, 1 unreadable input or invalid configuration, 2 bad arguments");
   return tpcml::apps::runMain(args, argc, argv, body);
}
