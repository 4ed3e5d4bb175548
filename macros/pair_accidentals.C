// pair_accidentals.C -- accidental events from isolated S1/S2 trees, in RDataFrame.
//
// The RDataFrame door of tpcml::AccidentalPairer (the kernel behind `tpcml-pair` and
// `tpcml pair`): an RDataFrame of N paired events, Snapshot to a file, with the same
// columns, values and weights as the other two doors for the same seed.
//
//   root -l -b -q 'macros/pair_accidentals.C("isolated.root", "acc.root", 100000)'
//   root -l -b -q 'macros/pair_accidentals.C("isolated.root", "acc.root", 100000, 7, 2, "pandax2", "nr.root")'
//
// Arguments: input file with trees s1 and s2 (docs/event-model.md), output file, number of
// pairs, seed, threads (0 or 1: RDataFrame Snapshot; more: the kernel on that many threads, the
// events written in order -- the same file whatever the count),
// detector (position corrections and drift window), file holding the NR median TGraph
// (optional: fills below_nr_median). The isolated-signal trees may be TTrees or RNTuples with float
// or double columns (S1NPeaks: 32-bit integers). n must be in [1, 1e15] (the events are streamed
// to the file, memory does not grow with n); seed takes the full unsigned 64-bit range (pass
// seeds above 2^63 with a ULL suffix). Returns (and `root -q` exits with) 0 on success, 1 on bad
// input, 2 on a bad argument (n < 1, threads < 0, output equal to an input).
#include "tpcml/tpcml.h"

#include <ROOT/RDataFrame.hxx>

#include <algorithm>
#include <iostream>
#include <string>

int pair_accidentals(const char *input = "isolated.root", const char *output = "accidentals.root", long long n = 10000,
                     unsigned long long seed = 0, int threads = 0, const char *detector = "pandax2",
                     const char *nrMedian = "")
{
   try {
      // signed: a negative n (e.g. -5) is refused, never wrapped to 2^64 - 5
      if (n < 1 || n > 1000000000000000LL)
         throw tpcml::UsageError("number of pairs n must be in [1, 1e15], got " + std::to_string(n));
      if (threads < 0 || threads > 1024)
         throw tpcml::UsageError("threads must be in [0, 1024], got " + std::to_string(threads));
      tpcml::requireDistinctOutput(output, {input, nrMedian, detector}, "output");
      const auto det = tpcml::DetectorConfig::load(detector);
      const auto s1 = tpcml::IsolatedS1Table::fromTree(input, "s1");
      const auto s2 = tpcml::IsolatedS2Table::fromTree(input, "s2");
      tpcml::AccidentalPairer::Options opt;
      opt.driftTimeMin = det.get("fiducial_drift_time_min", "us");
      opt.driftTimeMax = det.get("fiducial_drift_time_max", "us");
      opt.seed = seed;
      // weights n_acc / N with the rates stored beside the populations (P2-DNN Eq. 2.1)
      const auto rates = tpcml::isolatedRates(input, s1.size(), s2.size());
      if (rates.known())
         opt.weight = static_cast<float>(rates.expected(opt.driftTimeMax - opt.driftTimeMin) / static_cast<double>(n));
      const tpcml::PositionCorrections corrections(det);
      tpcml::AccidentalPairer pairer(s1, s2, corrections, opt);
      if (std::string(nrMedian).size())
         pairer.setNRMedian(tpcml::NRMedianCurve::fromFile(nrMedian));
      tpcml::AtomicOutput out(output);
      if (threads <= 1) {
         pairer.dataFrame(static_cast<ULong64_t>(n))
             .Snapshot("events", out.tempPath(), tpcml::AccidentalPairer::columnNames());
      } else {
         // ImplicitMT's Snapshot would write the events out of order: the kernel pairs chunks on
         // `threads` threads and they are written in order (as tpcml-pair does), same values.
         tpcml::TreeFileWriter writer(out.tempPath());
         pairer.writeEvents(writer, static_cast<ULong64_t>(n), static_cast<unsigned>(threads));
         writer.close();
      }
      out.commit();
      std::cout << "pair_accidentals: " << n << " events from " << s1.size() << " S1 x " << s2.size() << " S2 -> "
                << output << "\n";
      return 0;
   } catch (const tpcml::UsageError &e) {
      std::cerr << "pair_accidentals: error: " << e.what() << "\n";
      return 2;
   } catch (const std::exception &e) { // tpcml::InputError, and ROOT's own (std::invalid_argument ...)
      std::cerr << "pair_accidentals: error: " << e.what() << "\n";
      return 1;
   }
}
