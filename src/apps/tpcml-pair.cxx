// tpcml-pair -- accidental events from isolated S1 and S2 signals (PandaX-II, P2-DNN §2-3).
//
//   tpcml-pair isolated.root -n 1000000 --seed 7 --output accidentals.root
//              [--detector pandax2] [--threads N] [--without-replacement] [-q]
//              [--drift-window 18,310] [--nr-median nr.root] [--livetime SECONDS] [--efficiency E]
//
// The arguments become a tpcml::PairJob and tpcml::pairFile does the job (the function the Python
// door tpcml.pairing.pair and macros/pair_accidentals.C call too): it reads trees `s1` and `s2`
// (docs/event-model.md §2), pairs them and writes an `events` tree in the same schema as physical
// events, each entry weighted by n_acc / N (P2-DNN Eq. 2.1) when the live time is known. The output
// is written under a temporary name and renamed when complete.
#include "Cli.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"
#include "tpcml/core/Version.h"
#include "tpcml/pairing/PairFile.h"

#include <chrono>
#include <iostream>

namespace {

/// The options as given (text; converted in jobFromArguments so errors name the option and value).
struct Options {
   std::vector<std::string> input;
   std::string output, events, seed = "0", detector = "pandax2", threads, s1Tree = "s1", s2Tree = "s2";
   std::string driftWindow, nrMedian, livetime, efficiency;
   bool withoutReplacement = false;
   tpcml::apps::OutputContract contract;
};

/// The command line as a pairing job.
tpcml::PairJob jobFromArguments(const tpcml::apps::Cli &cli, const Options &o)
{
   tpcml::PairJob job;
   job.input = o.input.at(0);
   job.output = o.output;
   // Streamed in chunks (pairFile): memory does not grow with --events; the bound is the 64-bit event count.
   job.n = tpcml::apps::toCount("events", o.events, 1, 1000000000000000ULL);
   job.seed = tpcml::apps::toSeed("seed", o.seed);
   job.threads = tpcml::apps::toThreads(o.threads);
   job.detector = o.detector;
   job.withReplacement = !o.withoutReplacement;
   cli.applyOutputContract(job, o.contract);
   job.nrMedian = o.nrMedian;
   if (cli.given("drift-window")) {
      job.hasDriftWindow = true;
      std::tie(job.driftTimeMin, job.driftTimeMax) = tpcml::apps::toWindow(o.driftWindow);
   }
   if (cli.given("livetime")) {
      job.liveTimeS = tpcml::apps::toNumber("livetime", o.livetime, 0., 1e300);
      if (!(job.liveTimeS > 0.))
         throw tpcml::UsageError("--livetime must be > 0 s, got '" + o.livetime + "'");
   }
   if (cli.given("efficiency"))
      job.efficiency = tpcml::apps::toNumber("efficiency", o.efficiency, 0., 1.);
   job.s1Tree = o.s1Tree;
   job.s2Tree = o.s2Tree;
   job.log = [](const std::string &m) { std::cerr << "tpcml-pair: " << m << "\n"; };
   return job;
}

int body(const tpcml::apps::Cli &cli, const Options &o)
{
   const auto t0 = std::chrono::steady_clock::now();
   const tpcml::PairJob job = jobFromArguments(cli, o);
   tpcml::pairFile(job);
   const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
   std::cerr << "tpcml-pair: wrote " << job.n << " events to " << job.output << " in " << dt << " s\n";
   return 0;
}

const tpcml::apps::About kAbout{
    "tpcml-pair", "Pairs isolated S1 and S2 signals at random into accidental events (an `events` tree).",
    "unreadable input or invalid configuration", "The same job: tpcml pair (Python), tpcml.pairing.pair."};

void describe(tpcml::apps::Cli &cli, Options &o)
{
   cli.addInputs(o.input, "ROOT file with the isolated-signal trees", /*multiple=*/false);
   cli.addOutput(o.output);
   cli.addText("-n,--events", o.events, "N", "number of accidental events to make (1 to 1e15, written in chunks)",
               true);
   cli.addText("--seed", o.seed, "S",
               "random seed, an integer in [0, 2^64 - 1] (same seed: same events, whatever --threads)");
   cli.addDetector(o.detector, "detector for the position corrections");
   cli.addThreads(o.threads);
   cli.addText("--s1-tree", o.s1Tree, "TREE", "isolated-S1 tree");
   cli.addText("--s2-tree", o.s2Tree, "TREE", "isolated-S2 tree");
   cli.addText("--drift-window", o.driftWindow, "TMIN,TMAX",
               "drift-time window in us (default: the detector's fiducial window)");
   cli.addText("--nr-median", o.nrMedian, "FILE",
               "ROOT file with the NR median TGraph tpcml_nr_median (sets below_nr_median)");
   cli.addText(
       "--livetime", o.livetime, "SECONDS",
       "live time over which the isolated signals were collected (default: tpcml_livetime stored in the input)");
   cli.addText("--efficiency", o.efficiency, "E",
               "data-quality efficiency epsilon of Eq. 2.1 (default: tpcml_data_quality_efficiency stored in the "
               "input, else 1)");
   cli.app().add_flag("--without-replacement", o.withoutReplacement,
                      "use every S1 and S2 at most once (N <= min(N_S1, N_S2))");
   cli.addOutputContract(o.contract);
}

} // namespace

int main(int argc, char **argv)
{
   return tpcml::apps::runApp<Options>(argc, argv, kAbout, describe, body);
}
