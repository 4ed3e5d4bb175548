// lifetime_bands.C -- ER/NR band analysis with tpcml's electron-lifetime correction.
//
// Reads the `events` tree of a tpcml (or your own) file with raw qS1, qS2 and
// drift_time, corrects S2 for electron attachment with
// tpcml::ElectronLifetimeCorrection inside a jitted RDataFrame Define (tau from
// the detector registry), and writes the log10(qS2c/qS1) vs qS1 band
// histograms of ER and NR events.
//
//   root -l -b -q 'macros/lifetime_bands.C("events.root", "bands.root")'
//   root -l -b -q 'macros/lifetime_bands.C("events.root", "bands.root", "pandax2", 2)'
//
// The detector defaults to the one recorded in the file (TNamed tpcml_detector). The input may be
// a TTree or an RNTuple, with float or double columns. Returns (and `root -q` exits with) 0 on
// success, 1 on bad input, 2 on a bad argument (e.g. the output is the input).
// No R__LOAD_LIBRARY needed: libtpcml's rootmap lets ROOT load it on first use
// (and R__LOAD_LIBRARY fails under paths with a ".dir" component, root-project/root#9697).
// The header is included so that the jitted strings see complete tpcml types.
#include "tpcml/tpcml.h"

#include <ROOT/RDataFrame.hxx>
#include <TFile.h>
#include <TH2D.h>
#include <TNamed.h>

#include <iostream>
#include <memory>
#include <string>

int lifetime_bands(const char *input = "events.root", const char *output = "lifetime_bands.root",
                   const char *detector = "", int threads = 0)
{
   return tpcml::runGuarded("lifetime_bands", [&] {
      if (threads < 0 || threads > 1024)
         throw tpcml::UsageError("threads must be in [0, 1024], got " + std::to_string(threads));
      tpcml::requireDistinctOutput(output, {input, detector}, "output");
      tpcml::requireColumns(input, "events", {"qS1", "qS2", "drift_time", "recoil_type"});
      std::string det = detector;
      if (det.empty()) {
         std::unique_ptr<TFile> f(TFile::Open(input));
         auto *named = f ? f->Get<TNamed>("tpcml_detector") : nullptr;
         if (!named || std::string(named->GetTitle()).empty()) {
            std::cerr << "lifetime_bands: " << input << " does not record its detector; pass it as 3rd argument\n";
            return 1;
         }
         det = named->GetTitle();
      }
      const double tau = tpcml::ElectronLifetimeCorrection::fromDetector(det).lifetime();
      if (threads > 0)
         ROOT::EnableImplicitMT(threads);

      ROOT::RDataFrame df("events", input);
      // tpcml class used from a jitted string: cling finds it through the dictionary.
      auto corrected =
          df.Define("qS2c", "tpcml::ElectronLifetimeCorrection(" + std::to_string(tau) + ")(qS2, drift_time)")
              .Filter("qS1 > 0 && qS2c > 0", "Non-zero S1 and S2")
              .Define("log_s2s1", "std::log10(qS2c / qS1)");
      // Binning: qS1 3-45 PE is the PandaX-II signal window (pandax2-accidental-dnn, Sec. 3).
      const char *axes = ";qS1 [PE];log_{10}(qS2c/qS1)";
      auto er =
          corrected.Filter("recoil_type == 0", "ER events")
              .Histo2D({"h_er", (std::string("ER band") + axes).c_str(), 42, 3., 45., 100, 0., 3.}, "qS1", "log_s2s1");
      auto nr =
          corrected.Filter("recoil_type == 1", "NR events")
              .Histo2D({"h_nr", (std::string("NR band") + axes).c_str(), 42, 3., 45., 100, 0., 3.}, "qS1", "log_s2s1");

      tpcml::AtomicOutput out(output);
      {
         TFile f(out.tempPath().c_str(), "RECREATE");
         er->Write();
         nr->Write();
         TNamed("tpcml_detector", det.c_str()).Write();
      }
      out.commit();
      df.Report()->Print();
      std::cout << "lifetime_bands: tau = " << tau << " us; ER " << er->GetEntries() << ", NR " << nr->GetEntries()
                << " events -> " << output << "\n";
      return 0;
   });
}

#ifndef __CLING__
// Also compiles as a program: c++ lifetime_bands.C $(...) -o lifetime_bands
int main(int argc, char **argv)
{
   if (argc < 3) {
      std::cerr << "usage: " << argv[0] << " INPUT OUTPUT [DETECTOR] [THREADS]\n";
      return 2;
   }
   return lifetime_bands(argv[1], argv[2], argc > 3 ? argv[3] : "", argc > 4 ? std::stoi(argv[4]) : 0);
}
#endif
