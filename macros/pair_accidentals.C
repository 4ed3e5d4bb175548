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
// pairs, seed, ImplicitMT threads (0: off; the events are the same whatever the count),
// detector (position corrections and drift window), file holding the NR median TGraph
// (optional: fills below_nr_median). Returns 0 on success, 1 on bad input.
#include "tpcml/tpcml.h"

#include <ROOT/RDataFrame.hxx>

#include <iostream>
#include <string>

int pair_accidentals(const char *input = "isolated.root", const char *output = "accidentals.root",
                     unsigned long long n = 10000, unsigned long long seed = 0, int threads = 0,
                     const char *detector = "pandax2", const char *nrMedian = "")
{
   try {
      if (n == 0)
         throw tpcml::UsageError("number of pairs must be >= 1");
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
      if (threads > 0)
         ROOT::EnableImplicitMT(threads);

      tpcml::AtomicOutput out(output);
      pairer.dataFrame(n).Snapshot("events", out.tempPath(), tpcml::AccidentalPairer::columnNames());
      out.commit();
      std::cout << "pair_accidentals: " << n << " events from " << s1.size() << " S1 x " << s2.size() << " S2 -> "
                << output << "\n";
      return 0;
   } catch (const tpcml::Error &e) {
      std::cerr << "pair_accidentals: error: " << e.what() << "\n";
      return 1;
   }
}
