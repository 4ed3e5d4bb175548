// tpcml -- ONNX inference inside RDataFrame (see include/tpcml/onnx/Scorer.h).
#include "tpcml/onnx/Scorer.h"

#include "onnx/ops/MatMul.h"
#include "onnx/rdataframe/ScalarDefine.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/Provenance.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Strings.h"
#include "tpcml/core/Version.h"

#include <TInterpreter.h>
#include <TROOT.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace tpcml::onnx {

namespace {

/// The batch-1 plan's only step when it is a dense chain from the graph input to the graph output
/// (an MLP): the per-event path then calls that step's kernel directly, without Session::run's
/// bookkeeping (binding values, output copies), which costs far more inside an event loop than
/// alone (issue 21: ~180 ns/event of the MLP 4C's ~400 in the RDataFrame loop). The same kernel,
/// with the same arguments, as the session's run: bit-identical scores.
const detail::DenseChainKernel *directChain(const detail::Plan &plan, const Model &model)
{
   if (plan.steps.size() != 1 || plan.inputs.size() != 1 || plan.outputs.size() != 1 || model.outputs().size() != 1)
      return nullptr;
   const auto *chain = dynamic_cast<const detail::DenseChainKernel *>(plan.steps.front().get());
   if (!chain || chain->M != 1 || chain->layers.empty() || chain->inputs.size() != 1 || chain->outputs.size() != 1)
      return nullptr;
   if (plan.root(chain->inputs[0]) != plan.root(plan.inputs[0]) ||
       plan.root(chain->outputs[0]) != plan.root(plan.outputs[0]))
      return nullptr;
   if (chain->layers.front().K != model.inputs()[0].eventSize || chain->ldy != model.outputs()[0].eventSize)
      return nullptr;
   return chain;
}

/// A slot's scratch for the direct path, on cache lines of its own (no false sharing between
/// the threads of an ImplicitMT loop).
struct alignas(64) ChainScratch {
   struct Free {
      void operator()(float *p) const { std::free(p); }
   };
   std::unique_ptr<float, Free> floats; ///< the chain's workspace, then its output row
   float *ws = nullptr, *out = nullptr;
   explicit ChainScratch(const detail::DenseChainKernel &c)
   {
      const std::size_t n = (c.workspace + std::size_t(c.ldy) + 15) / 16 * 16; // whole cache lines
      floats.reset(static_cast<float *>(std::aligned_alloc(64, n * sizeof(float))));
      if (!floats)
         throw Error("cannot allocate the scoring scratch (" + std::to_string(n) + " floats)");
      ws = floats.get();
      out = ws + c.workspace;
   }
};

/// RDataFrame's slot numbers index the per-slot state: refuse one beyond it.
void checkSlot(unsigned slot)
{
   if (slot >= Scorer::kMaxSlots)
      throw UsageError("RDataFrame slot " + std::to_string(slot) + " exceeds tpcml's limit of " +
                       std::to_string(Scorer::kMaxSlots) + " slots");
}

} // namespace

struct Scorer::State {
   std::shared_ptr<const Model> model;
   std::size_t eventSize = 0, outputSize = 0;
   std::shared_ptr<const detail::Plan> plan1;       ///< keeps `chain` alive
   const detail::DenseChainKernel *chain = nullptr; ///< directChain of plan1, if any
   // One session (or chain scratch) per slot, created by the slot's own thread on first use
   // (RDataFrame never runs one slot on two threads at a time).
   std::array<std::unique_ptr<Session>, kMaxSlots> sessions;
   std::array<std::unique_ptr<ChainScratch>, kMaxSlots> scratch;
};

Scorer::Scorer(std::shared_ptr<const Model> model) : m_state(std::make_shared<State>())
{
   if (!model)
      throw UsageError("Scorer needs a model");
   if (model->inputs().size() != 1)
      throw UsageError("model '" + model->name() + "' has " + std::to_string(model->inputs().size()) +
                       " inputs; RDataFrame scoring takes single-input models");
   if (model->batched() && !model->eventMixing().empty()) // issue 13: per event, such a graph gives other numbers
      throw InputError("model '" + model->name() + "' mixes events (" + model->eventMixing() +
                       "); RDataFrame scores one event at a time, which would not give the numbers of a batch: "
                       "run it on whole batches (tpcml.inference.Model.run)");
   m_state->model = std::move(model);
   m_state->eventSize = std::size_t(m_state->model->inputs()[0].eventSize);
   for (const TensorInfo &o : m_state->model->outputs())
      m_state->outputSize += std::size_t(o.eventSize);
   m_state->plan1 = m_state->model->plan(1); // what Session::score runs
   m_state->chain = directChain(*m_state->plan1, *m_state->model);
}

Scorer::Scorer(const std::string &modelPath) : Scorer(Model::load(modelPath)) {}

Session &Scorer::session(unsigned slot) const
{
   checkSlot(slot);
   std::unique_ptr<Session> &s = m_state->sessions[slot];
   if (!s)
      s = std::make_unique<Session>(m_state->model, 1);
   return *s;
}

float Scorer::scoreArray(unsigned slot, const float *event, std::size_t n) const
{
   State &st = *m_state;
   if (n != st.eventSize)
      throw UsageError("model '" + st.model->name() + "' takes " + std::to_string(st.eventSize) +
                       " values per event, got " + std::to_string(n));
   if (!st.chain)
      return session(slot).score(event);
   checkSlot(slot);
   std::unique_ptr<ChainScratch> &s = st.scratch[slot];
   if (!s)
      s = std::make_unique<ChainScratch>(*st.chain);
   const detail::DenseChainKernel &c = *st.chain;
   c.fn(event, 1, c.layers.front().K, c.layers.data(), int64_t(c.layers.size()), s->ws, c.wsRow, s->out, c.ldy);
   return s->out[0];
}

float Scorer::operator()(unsigned slot, const ROOT::RVec<float> &event) const
{
   return scoreArray(slot, event.data(), event.size());
}

ROOT::RVec<float> Scorer::evaluate(unsigned slot, const ROOT::RVec<float> &event) const
{
   if (event.size() != m_state->eventSize)
      throw UsageError("model '" + m_state->model->name() + "' takes " + std::to_string(m_state->eventSize) +
                       " values per event, got " + std::to_string(event.size()));
   const std::vector<float> &v = session(slot).evaluate(event.data());
   return ROOT::RVec<float>(v.begin(), v.end());
}

const Model &Scorer::model() const
{
   return *m_state->model;
}
std::shared_ptr<const Model> Scorer::sharedModel() const
{
   return m_state->model;
}
std::size_t Scorer::eventSize() const
{
   return m_state->eventSize;
}
std::size_t Scorer::outputSize() const
{
   return m_state->outputSize;
}

namespace {

std::mutex &registryMutex()
{
   static std::mutex m;
   return m;
}
std::map<std::string, std::unique_ptr<Scorer>> &registry()
{
   static std::map<std::string, std::unique_ptr<Scorer>> r;
   return r;
}

/// Keeps a copy of `scorer` alive for the process and returns a stable pointer to it. The key is
/// the scorer's own state (its sessions), not its model: two Scorers of one model used by two
/// threads at once must keep two sets of sessions (keying on the model once handed both threads
/// the same slot-0 session -- corrupted scores, found by the PandaX-II study's engine check).
const Scorer *keepAlive(const Scorer &scorer)
{
   std::lock_guard<std::mutex> lock(registryMutex());
   std::ostringstream key;
   key << "@" << scorer.identity();
   auto &slot = registry()[key.str()];
   if (!slot)
      slot = std::make_unique<Scorer>(scorer);
   return slot.get();
}

bool isFloatScalar(const std::string &type)
{
   return type == "float" || type == "Float_t";
}

template <typename T> ROOT::RDF::RNode castColumn(ROOT::RDF::RNode df, const std::string &to, const std::string &from)
{
   return df.Define(to, [](T v) { return static_cast<float>(v); }, {from});
}

/// A compiled float copy of a numeric scalar column (no jitting), or false for other types.
bool defineFloatCopy(ROOT::RDF::RNode &df, const std::string &type, const std::string &to, const std::string &from)
{
   using Caster = ROOT::RDF::RNode (*)(ROOT::RDF::RNode, const std::string &, const std::string &);
   // each numeric type by its C++ name and by its ROOT name (RtypesCore.h)
#define TPCML_CASTER(Cxx, Root) {#Cxx, &castColumn<Cxx>}, {#Root, &castColumn<Cxx>},
   // clang-format off
   static const std::map<std::string, Caster> casters = {
       TPCML_CASTER(double, Double_t) TPCML_CASTER(int, Int_t) TPCML_CASTER(unsigned int, UInt_t)
       TPCML_CASTER(long long, Long64_t) TPCML_CASTER(unsigned long long, ULong64_t)
       TPCML_CASTER(long, Long_t) TPCML_CASTER(unsigned long, ULong_t)
       TPCML_CASTER(short, Short_t) TPCML_CASTER(unsigned short, UShort_t)
       TPCML_CASTER(char, Char_t) TPCML_CASTER(unsigned char, UChar_t) TPCML_CASTER(bool, Bool_t)
   };
   // clang-format on
#undef TPCML_CASTER
   auto it = casters.find(type);
   if (it == casters.end())
      return false;
   df = it->second(df, to, from);
   return true;
}

/// Jitted expressions need cling to see tpcml's headers; executables do not get the include
/// path from the Python environment, so give it from the library's own location.
void declareHeadersToCling()
{
   static std::once_flag once;
   std::call_once(once, [] {
      const std::string inc = tpcml::libraryDirectory() + "/../include";
      gInterpreter->AddIncludePath(inc.c_str());
      if (!gInterpreter->Declare("#include \"tpcml/onnx/Scorer.h\""))
         throw Error("ROOT's interpreter cannot parse tpcml/onnx/Scorer.h (include path " + inc + ")");
   });
}

} // namespace

Scorer &scorerFor(const std::string &modelPath)
{
   std::lock_guard<std::mutex> lock(registryMutex());
   auto &slot = registry()[modelPath];
   if (!slot)
      slot = std::make_unique<Scorer>(modelPath);
   return *slot;
}

ROOT::RDF::RNode defineScore(ROOT::RDF::RNode df, const std::string &name, const Scorer &scorer,
                             std::vector<std::string> columns)
{
   const Model &model = scorer.model();
   if (columns.empty())
      columns = model.inputColumns();
   if (columns.empty())
      throw UsageError("model '" + model.name() +
                       "' carries no tpcml.inputs metadata: give the input columns in model order");
   const std::vector<std::string> available = df.GetColumnNames();
   for (const std::string &c : columns) {
      bool found = false;
      for (const std::string &a : available)
         found = found || a == c;
      if (!found)
         throw InputError("input column '" + c + "' of model '" + model.name() + "' is not in the dataset" +
                          didYouMean(c, available));
   }
   const bool vectorOut = scorer.outputSize() != 1;
   if (columns.size() == 1 && !canonicalColumnType(df.GetColumnType(columns[0])).empty() &&
       canonicalColumnType(df.GetColumnType(columns[0])).back() == ']') {
      // one array column holding the event: RVec / std::vector of float or double (tpcml::defineAs)
      const std::vector<std::string> array = {
          defineAs(df, columns[0], ColumnKind::kRealArray, "the input of model '" + model.name() + "'")};
      if (vectorOut)
         return df.DefineSlot(
             name, [scorer](unsigned slot, const ROOT::RVec<float> &x) { return scorer.evaluate(slot, x); }, array);
      return df.DefineSlot(name, scorer, array);
   }
   if (columns.size() != scorer.eventSize())
      throw InputError("model '" + model.name() + "' takes " + std::to_string(scorer.eventSize()) +
                       " values per event; " + std::to_string(columns.size()) + " columns given (" +
                       tpcml::join(columns) + ")");
   bool allFloat = true;
   // numeric non-float columns (e.g. S1NPeaks, Int_t) through compiled float copies: no jitting
   std::vector<std::string> inputs = columns;
   for (std::string &c : inputs) {
      const std::string type = df.GetColumnType(c);
      if (isFloatScalar(type))
         continue;
      const std::string canonical = canonicalColumnType(type);
      if (canonical.empty() || canonical.back() == ']')
         throw InputError("column '" + c + "' has type " + type + "; model '" + model.name() + "' takes " +
                          (columns.size() == 1 ? "one array column (RVec or std::vector of float or double) or " : "") +
                          std::to_string(scorer.eventSize()) + " numeric scalar columns (read as float32)");
      const std::string copy = "tpcml_float_" + name + "_" + c;
      if (defineFloatCopy(df, type, copy, c))
         c = copy;
      else
         allFloat = false;
   }
   if (allFloat && !vectorOut && inputs.size() <= detail::kCompiledArity)
      return detail::defineScalarScore(df, name, scorer, inputs);
   // Any other arity or column types: a jitted expression calling the same compiled Scorer.
   declareHeadersToCling();
   const Scorer *kept = keepAlive(scorer);
   std::ostringstream expr;
   expr << "auto &tpcml_scorer = *reinterpret_cast<const tpcml::onnx::Scorer *>(" << static_cast<const void *>(kept)
        << "); ";
   if (vectorOut) {
      expr << "return tpcml_scorer.evaluate(rdfslot_, ROOT::RVec<float>{";
      for (std::size_t k = 0; k < columns.size(); ++k)
         expr << (k ? ", " : "") << "static_cast<float>(" << columns[k] << ")";
      expr << "});";
   } else {
      expr << "return tpcml_scorer.score(rdfslot_";
      for (const std::string &c : columns)
         expr << ", " << c;
      expr << ");";
   }
   return df.Define(name, expr.str());
}

ROOT::RDF::RNode defineScore(ROOT::RDF::RNode df, const std::string &name, const std::string &modelPath,
                             std::vector<std::string> columns)
{
   return defineScore(std::move(df), name, scorerFor(modelPath), std::move(columns));
}

void checkScoreFilesJob(const ScoreFilesJob &job)
{
   if (job.files.empty())
      throw UsageError("no input files given");
   if (job.name.empty())
      throw UsageError("the score column needs a name");
   if (job.threads == 0 || job.threads > 1024)
      throw UsageError("threads must be in [1, 1024], got " + std::to_string(job.threads));
   checkFormat(job.format);
   std::vector<std::string> inputs = job.files;
   inputs.push_back(job.modelPath);
   requireDistinctOutput(job.output, inputs);
}

ScoreFilesSummary scoreFiles(const std::vector<std::string> &files, const std::string &tree, const std::string &output,
                             const std::string &modelPath, std::vector<std::string> columns, const std::string &name,
                             unsigned threads)
{
   ScoreFilesJob job{files, tree, output, modelPath, std::move(columns), name, threads};
   return scoreFiles(job);
}

ScoreFilesSummary scoreFiles(const ScoreFilesJob &job)
{
   checkScoreFilesJob(job); // before the model is read
   return scoreFiles(job, Model::load(job.modelPath));
}

namespace {

/// The model's input columns for the job (its tpcml.inputs metadata unless given), checked against
/// every input file: each file is described (opened) once.
std::vector<std::string> checkInputs(const ScoreFilesJob &job, const Model &model, unsigned long long &entries)
{
   entries = 0;
   std::vector<std::string> columns = job.columns.empty() ? model.inputColumns() : job.columns;
   if (columns.empty())
      throw UsageError("model '" + job.modelPath + "' carries no tpcml.inputs metadata: give the input columns");
   std::vector<TreeSummary> summaries;
   for (const std::string &f : job.files) {
      summaries.push_back(describeTree(f, job.tree));
      requireColumns(summaries.back(), columns); // names the file, tree and missing columns
      entries += static_cast<unsigned long long>(summaries.back().entries);
      for (const ColumnInfo &c : summaries.back().columns)
         if (c.name == job.name)
            throw UsageError("tree '" + job.tree + "' in " + f + " already has a column '" + job.name +
                             "': choose another name for the score");
   }
   requireOneFormat(summaries);
   return columns;
}

/// Pass 1 with several threads: the scores (`width` values per entry), stored by entry number
/// (tpcml::runInRanges: one single-threaded RDataFrame per contiguous range of entries;
/// ImplicitMT does not keep the order). scoreFiles writes them in one ordered pass.
std::vector<float> scoresInParallel(const ScoreFilesJob &job, const Scorer &scorer,
                                    const std::vector<std::string> &columns, std::size_t width,
                                    unsigned long long total, EventProgress &progress)
{
   const std::vector<std::string> &files = job.files;
   const std::string &tree = job.tree, &name = job.name;
   const unsigned threads = job.threads;
   std::vector<float> scores;
   requireMemory(double(total) * double(width) * sizeof(float),
                 "keeping the scores of " + std::to_string(total) + " entries");
   scores.resize(std::size_t(total) * width);
   std::vector<std::unique_ptr<Scorer>> scorers(threads);
   std::vector<ROOT::RDF::RResultPtr<std::vector<float>>> scalar(threads);
   std::vector<ROOT::RDF::RResultPtr<std::vector<ROOT::RVec<float>>>> vector(threads);
   runInRanges(
       files, tree, total, threads,
       [&](unsigned t, ROOT::RDF::RNode node, ULong64_t, ULong64_t) {
          scorers[t] = std::make_unique<Scorer>(scorer.sharedModel()); // every thread its own sessions
          auto scored = defineScore(node, name, *scorers[t], columns);
          progress.attach(scored);
          if (width == 1)
             scalar[t] = scored.Take<float>(name);
          else
             vector[t] = scored.Take<ROOT::RVec<float>>(name);
       },
       [&](unsigned t, ULong64_t begin, ULong64_t end) {
          std::size_t got = 0;
          if (width == 1) {
             const std::vector<float> &v = *scalar[t]; // runs this part's event loop
             got = v.size();
             if (got == end - begin)
                std::copy(v.begin(), v.end(), scores.begin() + long(begin));
          } else {
             const std::vector<ROOT::RVec<float>> &v = *vector[t];
             got = v.size();
             for (std::size_t i = 0; i < v.size() && got == end - begin; ++i)
                std::copy(v[i].begin(), v[i].end(), scores.begin() + long((begin + i) * width));
          }
          if (got != std::size_t(end - begin))
             throw Error("scoring entries " + std::to_string(begin) + ".." + std::to_string(end) + " of " +
                         files.front() + " returned " + std::to_string(got) + " scores");
       });
   return scores;
}

} // namespace

ScoreFilesSummary scoreFiles(const ScoreFilesJob &job, std::shared_ptr<const Model> model)
{
   const auto t0 = std::chrono::steady_clock::now();
   const RootMessagesToStderr messages; // never PyROOT's handler on a thread without the GIL
   checkScoreFilesJob(job);
   const std::string &name = job.name;
   const Scorer scorer(std::move(model));
   unsigned long long total = 0;
   const std::vector<std::string> columns = checkInputs(job, scorer.model(), total);
   const std::string modelDetector = scorer.model().metadataValue("tpcml.detector");
   std::string detector = checkDetector(job.files, modelDetector, "model '" + job.modelPath + "' is for detector",
                                        job.allowDetectorMismatch);
   if (detector.empty())
      detector = modelDetector;
   AtomicOutput out(job.output);
   const bool wasMT = ROOT::IsImplicitMTEnabled();
   const unsigned poolBefore = wasMT ? ROOT::GetThreadPoolSize() : 0;
   if (wasMT)
      ROOT::DisableImplicitMT();
   ScoreFilesSummary summary;
   summary.columns = columns;
   summary.outputColumn = name;
   try {
      const std::size_t width = scorer.outputSize();
      const bool parallel = job.threads > 1;
      ROOT::RDataFrame df(job.tree, job.files); // one ordered pass writes the output
      std::vector<float> scores;
      if (parallel) {
         EventProgress progress("scoring " + job.output, total, job.progress);
         scores = scoresInParallel(job, scorer, columns, width, total, progress);
      }
      EventProgress progress(parallel ? "writing " + job.output : "scoring " + job.output, total, job.progress);
      ROOT::RDF::RNode withScore = df;
      if (parallel && width == 1)
         withScore = df.Define(name, [&scores](ULong64_t e) { return scores[e]; }, {"rdfentry_"});
      else if (parallel)
         withScore = df.Define(name,
                               [&scores, width](ULong64_t e) {
                                  return ROOT::RVec<float>(scores.begin() + long(e * width),
                                                           scores.begin() + long((e + 1) * width));
                               },
                               {"rdfentry_"});
      else
         withScore = defineScore(df, name, scorer, columns);
      std::vector<std::string> keep = df.GetColumnNames(); // the input's columns and the score, in that order
      keep.push_back(name);
      auto count = withScore.Count();
      progress.attach(withScore);
      withScore.Snapshot(job.tree, out.tempPath(), keep, snapshotOptions(job.format));
      summary.entries = *count;
      OutputMetadata meta;
      meta.detector = detector;
      meta.provenance = provenanceJson(job.commandLine, job.files);
      meta.model = modelJson(job.modelPath, scorer.model().metadata(), scorer.model().sha256());
      meta.carryFrom = job.files;
      writeOutputMetadata(out.tempPath(), meta);
      out.commit();
   } catch (...) {
      if (ROOT::IsImplicitMTEnabled())
         ROOT::DisableImplicitMT();
      if (wasMT)
         ROOT::EnableImplicitMT(poolBefore);
      throw;
   }
   if (wasMT)
      ROOT::EnableImplicitMT(poolBefore);
   summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
   return summary;
}

} // namespace tpcml::onnx
