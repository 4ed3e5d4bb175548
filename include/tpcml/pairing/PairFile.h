// tpcml -- the accidental-pairing job: one function for every door (P2-DNN §2-3).
//
// pairFile reads the isolated S1 and S2 signals of a file (trees `s1`, `s2`: docs/event-model.md §2),
// takes the drift window (given, else the detector's fiducial window), the rates and live time of
// P2-DNN Eq. 2.1 (tpcml::isolatedRates) and from them the weight n_acc / N of each pair, pairs with
// tpcml::AccidentalPairer and writes an `events` tree (streamed in chunks: memory does not grow with
// n) with the detector name, the provenance and tpcml_n_acc, atomically. tpcml-pair, the Python
// wrapper tpcml.pairing.pair and macros/pair_accidentals.C call it (like onnx::scoreFiles).
#ifndef TPCML_PAIR_FILE_H
#define TPCML_PAIR_FILE_H

#include "tpcml/pairing/AccidentalPairer.h"

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tpcml {

/// What one pairing run does.
struct PairJob {
   std::string input;                     ///< file with the isolated-signal trees (read unless the tables are given)
   std::string output;                    ///< ROOT file to write (atomically); must not be an input
   std::string outputOption = "--output"; ///< how the door names the output in messages
   ULong64_t n = 0;                       ///< accidental events to make, >= 1
   std::uint64_t seed = 0;
   std::string detector = "pandax2"; ///< registry name or TOML file: corrections and drift window
   unsigned threads = 1;             ///< 0: all cores; the events do not depend on it
   bool withReplacement = true;
   std::string nrMedian;                        ///< file with the TGraph tpcml_nr_median; empty: no below_nr_median
   bool hasDriftWindow = false;                 ///< false: the detector's fiducial drift-time window
   double driftTimeMin = 0., driftTimeMax = 0.; ///< us
   double liveTimeS = -1.;                      ///< > 0: the user's live time (rates N / T); <= 0: the file's
   double efficiency = -1.;                     ///< >= 0: data-quality efficiency; < 0: the file's, else 1
   std::string s1Tree = "s1", s2Tree = "s2";
   /// Provenance entries of the door (JSON key and JSON value), added to tpcml::provenanceJson's
   /// (tpcml_version, command_line, created_utc, host, inputs) with the job's seed, n_pairs and n_acc.
   std::vector<std::pair<std::string, std::string>> provenance;
   std::vector<std::string> commandLine;         ///< the door's argv, for tpcml_provenance
   std::string format = "ttree";                 ///< output tree format: "ttree" or "rntuple"
   bool allowDetectorMismatch = false;           ///< pair a file tagged with another detector than `detector`
   bool progress = true;                         ///< events written, on stderr (tpcml::EventProgress)
   std::function<void(const std::string &)> log; ///< progress messages (none when empty)
};

/// What a pairing run did.
struct PairSummary {
   ULong64_t nPairs = 0;
   std::size_t nS1 = 0, nS2 = 0;
   double driftTimeMin = 0., driftTimeMax = 0.; ///< us
   IsolatedRates rates;                         ///< rates.known() false: no live time, weight 1
   double nAcc = -1.;                           ///< expected accidentals (Eq. 2.1); < 0: unknown
   float weight = 1.f;                          ///< n_acc / n per pair
};

/// Reads the isolated signals of job.input (trees job.s1Tree, job.s2Tree) and runs the job.
PairSummary pairFile(const PairJob &job);
/// Runs the job on signals already read (job.input is still the provenance's input and the file the
/// stored rates and live time are read from).
PairSummary pairFile(const PairJob &job, const IsolatedS1Table &s1, const IsolatedS2Table &s2);

} // namespace tpcml

#endif // TPCML_PAIR_FILE_H
