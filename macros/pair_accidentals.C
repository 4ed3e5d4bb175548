// pair_accidentals.C -- accidental events from isolated S1/S2 trees, from ROOT.
//
// Runs tpcml::pairFile, the pairing job behind `tpcml-pair` and `tpcml pair`: the same columns,
// values, weights and metadata as the other two doors for the same seed. (The RDataFrame door of
// the kernel is tpcml::AccidentalPairer::dataFrame(n): an RDataFrame of n paired events.)
//
//   root -l -b -q 'macros/pair_accidentals.C("isolated.root", "acc.root", 100000)'
//   root -l -b -q 'macros/pair_accidentals.C("isolated.root", "acc.root", 100000, 7, 2, "pandax2", "nr.root")'
//
// Arguments: input file with trees s1 and s2 (docs/event-model.md), output file, number of
// pairs, seed, threads (0: all cores; the events are written in order -- the same file whatever
// the count),
// detector (position corrections and drift window), file holding the NR median TGraph
// (optional: fills below_nr_median). The isolated-signal trees may be TTrees or RNTuples with float
// or double columns (S1NPeaks: 32-bit integers). n must be in [1, 1e15] (the events are streamed
// to the file, memory does not grow with n); seed takes the full unsigned 64-bit range (pass
// seeds above 2^63 with a ULL suffix). Returns (and `root -q` exits with) 0 on success, 1 on bad
// input, 2 on a bad argument (n < 1, threads < 0, output equal to an input).
#include "tpcml/tpcml.h"

#include <iostream>
#include <string>

int pair_accidentals(const char *input = "isolated.root", const char *output = "accidentals.root", long long n = 10000,
                     unsigned long long seed = 0, int threads = 0, const char *detector = "pandax2",
                     const char *nrMedian = "")
{
   return tpcml::runGuarded("pair_accidentals", [&] {
      // signed: a negative n (e.g. -5) is refused, never wrapped to 2^64 - 5
      if (n < 1 || n > 1000000000000000LL)
         throw tpcml::UsageError("number of pairs n must be in [1, 1e15], got " + std::to_string(n));
      if (threads < 0 || threads > 1024)
         throw tpcml::UsageError("threads must be in [0, 1024], got " + std::to_string(threads));
      tpcml::PairJob job; // the job tpcml-pair and tpcml.pairing.pair run: tpcml::pairFile
      job.input = input;
      job.output = output;
      job.outputOption = "output";
      job.n = static_cast<ULong64_t>(n);
      job.seed = seed;
      job.threads = static_cast<unsigned>(threads);
      job.detector = detector;
      job.nrMedian = nrMedian;
      job.provenance = {{"macro", "\"pair_accidentals.C\""}};
      const auto sum = tpcml::pairFile(job);
      std::cout << "pair_accidentals: " << n << " events from " << sum.nS1 << " S1 x " << sum.nS2 << " S2 -> " << output
                << "\n";
      return 0;
   });
}
