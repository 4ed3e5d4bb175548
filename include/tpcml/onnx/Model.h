// tpcml -- ONNX inference engine, in the spirit of TMVA SOFIE (docs/inference.md).
//
// A Model is loaded once from an ONNX file (float32 graphs as tf2onnx exports Keras
// models): every operator is checked against the supported list, the batch size is the only
// free dimension, and for each batch size the engine plans once -- shapes, constant folding
// of the shape subgraphs, fusion of bias + activation into MatMul/Gemm/Conv, and one arena
// of buffers. A Model is immutable and shared by all threads; each thread runs it through
// its own Session (scratch memory), which allocates nothing per event once warm.
//
//   auto model = tpcml::onnx::Model::load("mlp.onnx");
//   tpcml::onnx::Session session(model);
//   float score = session.score(features);                 // one event
//   session.run(inputs, outputs, nEvents);                 // a batch
#ifndef TPCML_ONNX_MODEL_H
#define TPCML_ONNX_MODEL_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tpcml::onnx {

/// A graph input or output: its name, its shape (-1 marks the batch dimension) and the
/// number of floats one event holds.
struct TensorInfo {
   std::string name;
   std::vector<int64_t> shape;
   int64_t eventSize = 0;
};

namespace detail {
struct Plan;
struct ModelImpl;
} // namespace detail

class Model {
public:
   /// Loads and checks an ONNX file. Throws tpcml::InputError naming the file for an
   /// unreadable or malformed file, an unsupported operator (type, node name and the
   /// supported list) or a shape that cannot be resolved.
   static std::shared_ptr<const Model> load(const std::string &path);
   /// Same, from the serialised bytes; `name` is used in messages.
   static std::shared_ptr<const Model> fromBytes(const std::string &bytes, const std::string &name);

   const std::string &name() const;
   const std::vector<TensorInfo> &inputs() const;
   const std::vector<TensorInfo> &outputs() const;
   /// True when the inputs have a free batch dimension; false for fully static graphs,
   /// where one "event" is one evaluation of the whole graph.
   bool batched() const;
   /// metadata_props of the file (tf2onnx / tpcml export writes e.g. "tpcml.inputs").
   const std::map<std::string, std::string> &metadata() const;
   /// SHA-256 (64 hex digits) of the bytes the model was read from (tpcml_model, docs/event-model.md §1).
   const std::string &sha256() const;
   std::string metadataValue(const std::string &key, const std::string &fallback = "") const;
   /// Input branch names in feature order from the "tpcml.inputs" metadata (a JSON list of
   /// strings); empty when absent.
   std::vector<std::string> inputColumns() const;
   /// Number of graph nodes, and of run-time steps after folding and fusion at batch 1.
   std::size_t nodeCount() const;
   std::size_t stepCount() const;
   /// The default ONNX opset the graph imports.
   int64_t opset() const;
   /// Empty when each event's outputs depend on that event alone (the batch axis stays axis 0 of
   /// every tensor); else the node that mixes events and why. Such a model runs every call to
   /// Session::run as one batch (never in chunks) and cannot be evaluated one event at a time.
   const std::string &eventMixing() const;
   /// The shape output j takes in a run of nEvents events: [nEvents, ...] for models whose events
   /// stay independent, the planned shape for those that mix them (e.g. [F, nEvents] after a
   /// transpose), or the static shape of an unbatched model.
   std::vector<int64_t> outputShape(std::size_t j, int64_t nEvents) const;
   /// Kernel instruction set in use (avx512, avx2, base).
   static std::string isa();

   /// The execution plan for a batch size (cached; thread-safe).
   std::shared_ptr<const detail::Plan> plan(int64_t batch) const;

   ~Model();
   Model(const Model &) = delete;
   Model &operator=(const Model &) = delete;

private:
   Model();
   std::unique_ptr<detail::ModelImpl> m_impl;
};

/// Per-thread scratch for running a Model. Not thread-safe: one Session per thread.
class Session {
public:
   explicit Session(std::shared_ptr<const Model> model, int64_t maxBatch = 64);
   ~Session();
   Session(Session &&) noexcept;
   Session &operator=(Session &&) noexcept;

   /// Runs nEvents events: inputs[i] holds nEvents * inputs()[i].eventSize floats, outputs[j]
   /// receives nEvents * outputs()[j].eventSize floats. Batches of at most maxBatch events, except
   /// for a model that mixes events (Model::eventMixing): all nEvents in one batch, refused with
   /// tpcml::InputError when that batch's scratch memory would exceed half the machine's memory.
   void run(const float *const *inputs, float *const *outputs, int64_t nEvents);
   /// One event of a single-input model: the first value of the first output. Refused
   /// (tpcml::InputError) for a batched model that mixes events (Model::eventMixing).
   float score(const float *event);
   /// One event of a single-input model: all values of all outputs (valid until the next call).
   const std::vector<float> &evaluate(const float *event);

   const Model &model() const { return *m_model; }
   std::shared_ptr<const Model> sharedModel() const { return m_model; }
   int64_t maxBatch() const { return m_maxBatch; }

private:
   void runPlan(const detail::Plan &plan, const float *const *inputs, float *const *outputs);
   std::shared_ptr<const Model> m_model;
   int64_t m_maxBatch;
   struct Scratch;
   std::unique_ptr<Scratch> m_scratch;
};

/// Operator types the engine supports (sorted).
std::vector<std::string> supportedOperators();

} // namespace tpcml::onnx

#endif // TPCML_ONNX_MODEL_H
