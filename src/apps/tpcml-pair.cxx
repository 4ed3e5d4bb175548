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

#include "tpcml/AccidentalPairer.h"
#include "tpcml/AtomicFile.h"
#include "tpcml/DetectorConfig.h"
#include "tpcml/Error.h"
#include "tpcml/Version.h"

#include <TFile.h>
#include <TNamed.h>
#include <TParameter.h>
#include <TTree.h>

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
   try {
      return {std::stod(text.substr(0, comma)), std::stod(text.substr(comma + 1))};
   } catch (const std::exception &) {
      throw tpcml::UsageError("--drift-window expects two numbers TMIN,TMAX in us, got '" + text + "'");
   }
}

double parseNumber(const std::string &opt, const std::string &text)
{
   try {
      std::size_t used = 0;
      const double v = std::stod(text, &used);
      if (used != text.size())
         throw std::invalid_argument(text);
      return v;
   } catch (const std::exception &) {
      throw tpcml::UsageError("--" + opt + " expects a number, got '" + text + "'");
   }
}

/// Live time stored by the simulation (TParameter<double> tpcml_livetime, seconds), or -1.
double storedLiveTime(const std::string &file)
{
   std::unique_ptr<TFile> f(TFile::Open(file.c_str(), "READ"));
   if (!f || f->IsZombie())
      throw tpcml::InputError("cannot open ROOT file '" + file + "'");
   auto *p = f->Get<TParameter<double>>("tpcml_livetime");
   return p ? p->GetVal() : -1.;
}

void writeEvents(const tpcml::PairedColumns &c, float weight, const std::string &path, const std::string &detector,
                 const std::string &provenance)
{
   std::unique_ptr<TFile> file(TFile::Open(path.c_str(), "RECREATE"));
   if (!file || file->IsZombie())
      throw tpcml::Error("cannot create '" + path + "'");
   TTree t("events", "tpcml accidental events (docs/event-model.md section 3)");
   UInt_t run;
   ULong64_t event;
   Int_t sample = 2, recoil = 2, npeaks;
   Long64_t s1id, s2id;
   Float_t f[18];
   Bool_t below;
   const char *names[] = {"qS1",        "qS2",   "qS1c",  "qS2c",  "wS1",         "wS2",
                          "wtenS2",     "S1TBA", "S2TBA", "S2SY1", "S2SY2",       "S1LargestBCQ",
                          "drift_time", "x",     "y",     "z",     "energy_true", "weight"};
   t.Branch("run", &run, "run/i");
   t.Branch("event", &event, "event/l");
   t.Branch("sample", &sample, "sample/I");
   t.Branch("recoil_type", &recoil, "recoil_type/I");
   t.Branch("s1_id", &s1id, "s1_id/L");
   t.Branch("s2_id", &s2id, "s2_id/L");
   for (int k = 0; k < 18; ++k) {
      if (k == 11)
         t.Branch("S1NPeaks", &npeaks, "S1NPeaks/I");
      t.Branch(names[k], &f[k], (std::string(names[k]) + "/F").c_str());
   }
   t.Branch("below_nr_median", &below, "below_nr_median/O");
   const std::vector<float> *cols[] = {&c.qS1,        &c.qS2,   &c.qS1c,  &c.qS2c,  &c.wS1,   &c.wS2,
                                       &c.wtenS2,     &c.S1TBA, &c.S2TBA, &c.S2SY1, &c.S2SY2, &c.S1LargestBCQ,
                                       &c.drift_time, &c.x,     &c.y,     &c.z};
   for (std::size_t i = 0; i < c.size(); ++i) {
      run = c.run[i];
      event = c.event[i];
      s1id = c.s1_id[i];
      s2id = c.s2_id[i];
      npeaks = c.S1NPeaks[i];
      for (int k = 0; k < 16; ++k)
         f[k] = (*cols[k])[i];
      f[16] = -1.f;
      f[17] = weight;
      below = c.below_nr_median[i] != 0;
      t.Fill();
   }
   t.Write();
   TNamed("tpcml_detector", detector.c_str()).Write();
   TNamed("tpcml_provenance", provenance.c_str()).Write();
   file->Close();
}

int body(const tpcml::apps::ArgParser &args)
{
   const auto t0 = std::chrono::steady_clock::now();
   const std::string input = args.get("input");
   const std::string output = args.get("output");
   const double nD = parseNumber("n", args.get("n"));
   if (!(nD >= 1.) || nD != std::floor(nD) || nD > 1e10)
      throw tpcml::UsageError("--n must be a positive integer (number of pairs), got '" + args.get("n") + "'");
   const auto n = static_cast<std::size_t>(nD);
   const double seedD = parseNumber("seed", args.get("seed"));
   if (seedD < 0 || seedD != std::floor(seedD))
      throw tpcml::UsageError("--seed must be a non-negative integer, got '" + args.get("seed") + "'");
   const int threads = args.getInt("threads", 0, 1024);

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
   opt.seed = static_cast<std::uint64_t>(seedD);

   std::cerr << "tpcml-pair: reading isolated signals from " << input << "\n";
   const auto s1 = tpcml::IsolatedS1Table::fromTree(input, args.get("s1-tree"));
   const auto s2 = tpcml::IsolatedS2Table::fromTree(input, args.get("s2-tree"));

   double live = args.has("livetime") ? parseNumber("livetime", args.get("livetime")) : storedLiveTime(input);
   const double eff = parseNumber("efficiency", args.get("efficiency"));
   double nAcc = -1.;
   if (live > 0.) {
      const double r1 = static_cast<double>(s1.size()) / live, r2 = static_cast<double>(s2.size()) / live;
      nAcc = tpcml::accidentalCount(r1, r2, opt.driftTimeMax - opt.driftTimeMin, live, eff);
      opt.weight = static_cast<float>(nAcc / static_cast<double>(n));
      std::cerr << "tpcml-pair: r1 = " << r1 << " Hz, r2 = " << r2 << " Hz, window "
                << opt.driftTimeMax - opt.driftTimeMin << " us, T = " << live << " s, eps = " << eff
                << " -> n_acc = " << nAcc << " (P2-DNN Eq. 2.1)\n";
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
   const auto cols = pairer.pair(0, n, static_cast<unsigned>(threads));

   std::ostringstream prov;
   prov << "{\"tpcml_version\": \"" << tpcml::version() << "\", \"command_line\": [";
   for (std::size_t i = 0; i < args.argv().size(); ++i)
      prov << (i ? ", " : "") << '"' << jsonEscape(args.argv()[i]) << '"';
   prov << "], \"seed\": " << opt.seed << ", \"inputs\": [\"" << jsonEscape(input) << "\"], \"n_pairs\": " << n
        << ", \"n_acc\": " << (nAcc >= 0. ? std::to_string(nAcc) : "null") << "}";
   writeEvents(cols, opt.weight, out.tempPath(), det.name(), prov.str());
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
   args.addOption("n", "N", "number of accidental events to make", "", true);
   args.addOption("seed", "S", "random seed (same seed: same events, whatever --threads)", "0");
   args.addOption("detector", "NAME|FILE", "detector for the position corrections", "pandax2");
   args.addOption("threads", "N", "threads (0: all cores)", "1");
   args.addOption("s1-tree", "TREE", "isolated-S1 tree", "s1");
   args.addOption("s2-tree", "TREE", "isolated-S2 tree", "s2");
   args.addOption("drift-window", "TMIN,TMAX", "drift-time window in us (default: the detector's fiducial window)");
   args.addOption("nr-median", "FILE", "ROOT file with the NR median TGraph tpcml_nr_median (sets below_nr_median)");
   args.addOption("livetime", "SECONDS",
                  "live time over which the isolated signals were collected "
                  "(default: tpcml_livetime stored in --input)");
   args.addOption("efficiency", "E", "data-quality efficiency epsilon of Eq. 2.1", "1");
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
