// tpcml -- ONNX inference inside RDataFrame (docs/inference.md).
//
// A Scorer holds one immutable Model and one Session per RDataFrame slot, so that every
// thread has its own scratch and no event allocates. Each event is evaluated on its own
// (batch 1): scores do not depend on the number of threads.
//
//   compiled C++ / ROOT macro:
//     tpcml::onnx::Scorer scorer("mlp.onnx");
//     auto df2 = df.DefineSlot("score", scorer, {"image"});                // one RVec<float> column
//     auto df3 = df.DefineSlot("score", scorer.scalars<13>(), features);   // 13 float columns
//     auto df4 = tpcml::onnx::defineScore(df, "score", scorer);            // columns from the model's metadata
//   PyROOT / jitted strings (also on distributed RDataFrame workers):
//     df.Define("score", "tpcml::onnx::scorerFor(\"mlp.onnx\").score(rdfslot_, qS1, qS2)")
#ifndef TPCML_ONNX_SCORER_H
#define TPCML_ONNX_SCORER_H

#include "tpcml/onnx/Model.h"

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RVec.hxx>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tpcml::onnx {

class Scorer {
public:
   /// Largest RDataFrame slot number + 1 a Scorer serves.
   static constexpr unsigned kMaxSlots = 256;

   explicit Scorer(std::shared_ptr<const Model> model);
   explicit Scorer(const std::string &modelPath);

   /// Score (first value of the first output) of one event given as a vector of floats
   /// (features in model order, or a flattened image).
   float operator()(unsigned slot, const ROOT::RVec<float> &event) const;
   /// Every output value of one event, outputs concatenated in graph order.
   ROOT::RVec<float> evaluate(unsigned slot, const ROOT::RVec<float> &event) const;
   /// Score from scalar values in model input order (jitted expressions).
   template <typename... T> float score(unsigned slot, T... values) const
   {
      const float buffer[] = {static_cast<float>(values)...};
      return scoreArray(slot, buffer, sizeof...(T));
   }
   float scoreArray(unsigned slot, const float *event, std::size_t n) const;

   /// A functor of exactly N float columns, for compiled DefineSlot.
   template <std::size_t N> auto scalars() const;

   const Model &model() const;
   std::shared_ptr<const Model> sharedModel() const;
   /// Floats one event holds (the model's single input).
   std::size_t eventSize() const;
   /// Values one event produces (all outputs).
   std::size_t outputSize() const;

   /// Identifies the sessions this Scorer (and its copies) use.
   const void *identity() const { return m_state.get(); }

private:
   struct State;
   std::shared_ptr<State> m_state;
   Session &session(unsigned slot) const;
};

namespace detail {
template <std::size_t I> using FloatArg = float;

template <typename Seq> struct ScalarScore;
template <std::size_t... I> struct ScalarScore<std::index_sequence<I...>> {
   Scorer scorer;
   float operator()(unsigned slot, FloatArg<I>... values) const { return scorer.score(slot, values...); }
};
} // namespace detail

template <std::size_t N> auto Scorer::scalars() const
{
   return detail::ScalarScore<std::make_index_sequence<N>>{*this};
}

/// The Scorer of a model file, loaded once per process (thread-safe). Jitted expressions
/// and distributed RDataFrame workers reach models through it.
Scorer &scorerFor(const std::string &modelPath);

/// Defines column `name` = the model's score. `columns`: one RVec<float> column holding the
/// event, or one scalar column per model input value (any numeric type), in model order;
/// empty: the model's "tpcml.inputs" metadata. With several output values per event the
/// column is an RVec<float> of all of them. Throws InputError naming a missing column
/// (with the nearest names) or a size mismatch before the event loop.
ROOT::RDF::RNode defineScore(ROOT::RDF::RNode df, const std::string &name, const Scorer &scorer,
                             std::vector<std::string> columns = {});
ROOT::RDF::RNode defineScore(ROOT::RDF::RNode df, const std::string &name, const std::string &modelPath,
                             std::vector<std::string> columns = {});

/// What scoreFiles did.
struct ScoreFilesSummary {
   unsigned long long entries = 0;
   std::vector<std::string> columns; ///< model inputs used, in order
   std::string outputColumn;
   double seconds = 0.;
};

/// One scoring job: the options of `tpcml-infer` and the arguments of `tpcml.inference.score_files`.
struct ScoreFilesJob {
   std::vector<std::string> files; ///< input ROOT files
   std::string tree = "events";
   std::string output;                     ///< written under a temporary name, renamed when complete
   std::string modelPath;                  ///< the ONNX model (never the output)
   std::vector<std::string> columns;       ///< model inputs in order; empty: the model's tpcml.inputs metadata
   std::string name = "score";             ///< the score column
   unsigned threads = 1;                   ///< in [1, 1024]
   std::vector<std::string> commandLine{}; ///< the door's argv, for tpcml_provenance
   std::string format = "ttree";           ///< output tree format: "ttree" or "rntuple"
   bool progress = true;                   ///< progress of the event loops on stderr
   bool allowDetectorMismatch = false;     ///< score files tagged with another detector than the model's
};

/// Checks what can be checked before any work: files given, a column name, threads in range, a
/// format, an output that is none of the inputs nor the model. Throws UsageError.
void checkScoreFilesJob(const ScoreFilesJob &job);

/// Adds column `job.name` (the model's score) to every entry of tree `job.tree` in `job.files` and
/// writes all input columns plus the score, in input order, to `job.output` (temporary name, renamed
/// when complete). With threads > 1 the scores are computed in parallel, then written in one ordered
/// pass. Each input file is described (opened) once. `model`: job.modelPath, already loaded (and
/// planned: tpcml-infer loads it once to report on it). The one implementation behind `tpcml-infer`
/// and `tpcml.inference.score_files`. Throws InputError naming a missing file, tree or column, or a
/// file tagged with another detector than the model's `tpcml.detector` (unless allowDetectorMismatch).
/// The output carries tpcml_provenance, tpcml_model (path, SHA-256, metadata), tpcml_detector (the
/// input's tag, else the model's) and the input's tpcml_nr_median (docs/event-model.md §4).
ScoreFilesSummary scoreFiles(const ScoreFilesJob &job, std::shared_ptr<const Model> model);
/// The same, loading job.modelPath after checkScoreFilesJob.
ScoreFilesSummary scoreFiles(const ScoreFilesJob &job);
/// The same with the job's fields as arguments (ROOT macros, jitted code).
ScoreFilesSummary scoreFiles(const std::vector<std::string> &files, const std::string &tree, const std::string &output,
                             const std::string &modelPath, std::vector<std::string> columns = {},
                             const std::string &name = "score", unsigned threads = 1);

} // namespace tpcml::onnx

#endif // TPCML_ONNX_SCORER_H
