#include "tpcml/pairing/PairFile.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/Provenance.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Strings.h"
#include "tpcml/lxe/NRMedian.h"
#include "tpcml/lxe/PositionCorrections.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

namespace tpcml {

namespace {

std::string number(double v, const char *format = "%.4g")
{
   char buf[64];
   std::snprintf(buf, sizeof buf, format, v);
   return buf;
}

/// The drift window of the job: given, else the detector's fiducial window; inside [0, max drift time].
std::pair<double, double> driftWindow(const PairJob &job, const DetectorConfig &det)
{
   const double tMin = job.hasDriftWindow ? job.driftTimeMin : det.get("fiducial_drift_time_min", "us");
   const double tMax = job.hasDriftWindow ? job.driftTimeMax : det.get("fiducial_drift_time_max", "us");
   const double maxDrift = det.has("max_drift_time") ? det.get("max_drift_time", "us") : INFINITY;
   if (!std::isfinite(tMin) || !std::isfinite(tMax) || !(tMin >= 0.) || !(tMax > tMin) || tMax > maxDrift)
      throw UsageError("drift window [" + number(tMin, "%g") + ", " + number(tMax, "%g") +
                       "] us: expected 0 <= TMIN < TMAX <= " + number(maxDrift, "%g") +
                       " us (the maximum drift time of detector " + det.name() + ")");
   return {tMin, tMax};
}

std::string pairProvenance(const PairJob &job, double nAcc)
{
   std::vector<std::pair<std::string, std::string>> extra = job.provenance;
   extra.emplace_back("seed", std::to_string(job.seed));
   extra.emplace_back("n_pairs", std::to_string(job.n));
   extra.emplace_back("n_acc", nAcc >= 0. ? number(nAcc, "%.17g") : "null");
   return provenanceJson(job.commandLine, {job.input}, extra);
}

} // namespace

PairSummary pairFile(const PairJob &job)
{
   if (job.log)
      job.log("reading isolated signals from " + job.input);
   const auto s1 = IsolatedS1Table::fromTree(job.input, job.s1Tree);
   const auto s2 = IsolatedS2Table::fromTree(job.input, job.s2Tree);
   return pairFile(job, s1, s2);
}

PairSummary pairFile(const PairJob &job, const IsolatedS1Table &s1, const IsolatedS2Table &s2)
{
   auto say = [&job](const std::string &m) {
      if (job.log)
         job.log(m);
   };
   if (job.n < 1 || job.n > 1000000000000000ULL)
      throw UsageError("number of pairs n must be in [1, 1e15], got " + std::to_string(job.n));
   if (job.threads > 1024)
      throw UsageError("threads must be in [0, 1024], got " + std::to_string(job.threads));
   if (!std::isfinite(job.liveTimeS))
      throw UsageError("live time must be finite, got " + number(job.liveTimeS, "%g"));
   if (job.efficiency > 1. || !std::isfinite(job.efficiency))
      throw UsageError("efficiency must be in [0, 1], got " + number(job.efficiency, "%g"));
   checkFormat(job.format);
   requireDistinctOutput(job.output, {job.input, job.nrMedian, job.detector}, job.outputOption);
   AtomicOutput out(job.output); // checks the directory before any work
   const auto det = DetectorConfig::load(job.detector);
   checkDetector({job.input}, det.name(), "the pairing runs with detector", job.allowDetectorMismatch);

   AccidentalPairer::Options opt;
   std::tie(opt.driftTimeMin, opt.driftTimeMax) = driftWindow(job, det);
   opt.withReplacement = job.withReplacement;
   opt.seed = job.seed;
   say("read " + std::to_string(s1.size()) + " isolated S1 and " + std::to_string(s2.size()) + " isolated S2 from " +
       job.input);

   PairSummary sum;
   sum.nPairs = job.n;
   sum.nS1 = s1.size();
   sum.nS2 = s2.size();
   sum.driftTimeMin = opt.driftTimeMin;
   sum.driftTimeMax = opt.driftTimeMax;
   // P2-DNN Eq. 2.1: n_acc = r1 r2 dt_w T eps; each pair weighs n_acc / N
   sum.rates = isolatedRates(job.input, s1.size(), s2.size(), job.liveTimeS, job.efficiency);
   const double window = opt.driftTimeMax - opt.driftTimeMin;
   if (sum.rates.known()) {
      sum.nAcc = sum.rates.expected(window);
      sum.weight = opt.weight = static_cast<float>(sum.nAcc / static_cast<double>(job.n));
      say("r1 = " + number(sum.rates.s1Hz) + " Hz, r2 = " + number(sum.rates.s2Hz) + " Hz, window " +
          number(window, "%g") + " us, T = " + number(sum.rates.liveTimeS) +
          " s, eps = " + number(sum.rates.efficiency, "%g") + ": n_acc = " + number(sum.nAcc) + " (P2-DNN Eq. 2.1)");
   } else {
      say("no live time known (tpcml_livetime absent, no live time given): weight = 1 per pair");
   }

   const PositionCorrections corr(det);
   std::unique_ptr<AccidentalPairer> made;
   try {
      made = std::make_unique<AccidentalPairer>(s1, s2, corr, opt);
   } catch (const UsageError &e) { // bad data in the file: an input error
      throw InputError(job.input + ": " + e.what());
   }
   AccidentalPairer &pairer = *made;
   if (!job.nrMedian.empty())
      pairer.setNRMedian(NRMedianCurve::fromFile(job.nrMedian));
   if (job.n > pairer.maxPairs())
      throw UsageError("n = " + std::to_string(job.n) +
                       ": pairing without replacement can make at most min(N_S1, N_S2) = " +
                       std::to_string(pairer.maxPairs()) + " pairs");
   say("pairing " + std::to_string(job.n) + " events from " + std::to_string(s1.size()) + " S1 x " +
       std::to_string(s2.size()) + " S2 (" + (opt.withReplacement ? "with" : "without") + " replacement, " +
       std::to_string(job.threads) + " thread(s), seed " + std::to_string(opt.seed) + ")");

   std::vector<std::pair<std::string, double>> parameters;
   if (sum.nAcc >= 0.)
      parameters.emplace_back("tpcml_n_acc", sum.nAcc);
   TreeFileWriter writer(out.tempPath(), 5000, job.format);
   EventProgress progress("pairing " + job.output, job.n, job.progress);
   // in chunks: memory bounded whatever n
   pairer.writeEvents(writer, job.n, job.threads, "events", [&progress](ULong64_t k) { progress.add(k); });
   writer.close({}, parameters);
   OutputMetadata meta;
   meta.detector = det.name();
   meta.provenance = pairProvenance(job, sum.nAcc);
   meta.carryFrom = {job.nrMedian, job.input};
   writeOutputMetadata(out.tempPath(), meta);
   out.commit();
   return sum;
}

} // namespace tpcml
