// tpcml (private) -- the engine's load-time structures: values, kernels, plans, and the
// planner that turns the ONNX graph into a list of run-time steps for one batch size.
#ifndef TPCML_SRC_ONNX_GRAPH_H
#define TPCML_SRC_ONNX_GRAPH_H

#include "onnx/kernels/Kernels.h"
#include "onnx/proto/Proto.h"
#include "onnx/graph/Tensor.h"

#include "tpcml/onnx/Model.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace tpcml::onnx::detail {

enum class Kind : uint8_t { Runtime, Constant, Input, Alias };
enum class DType : uint8_t { Float, Int64 };

struct Value {
   std::string name;
   Shape shape;
   DType type = DType::Float;
   Kind kind = Kind::Runtime;
   std::shared_ptr<const std::vector<float>> f;   ///< Constant float data
   std::shared_ptr<const std::vector<int64_t>> i; ///< Constant int64 data
   int root = -1;                                 ///< Alias: the value whose memory this is
   int inputIndex = -1;                           ///< Input: graph input number
   int64_t offset = -1;                           ///< Runtime: arena offset (floats)
   int first = -1, last = -1;                     ///< Runtime: lifetime in steps
   /// Run-time data whose axis 0 is not the batch of independent events (it mixes events, or
   /// moved or merged the batch axis): see Planner::build and Plan::mixing.
   bool mixed = false;
};

/// One run-time step. v[k] points at the data of value k; ws at the step's workspace.
struct Kernel {
   virtual ~Kernel() = default;
   virtual void run(float *const *v, float *ws) const = 0;
   std::vector<int> inputs, outputs;
   std::size_t workspace = 0;
   std::string node, op;
};

struct Plan {
   int64_t batch = 1;
   std::vector<Value> values;
   std::vector<std::unique_ptr<Kernel>> steps;
   std::vector<int64_t> wsOffset;
   std::size_t arenaFloats = 0;
   std::vector<int> inputs, outputs; ///< value ids of the graph inputs / outputs
   /// Empty when every event's outputs depend on that event alone (batched models: the batch
   /// axis stays axis 0 of every run-time tensor, untouched); else the first node that mixes
   /// events and why. Such a graph is never split into chunks, nor run one event at a time.
   std::string mixing;
   /// The value whose memory value `id` is (itself unless an alias).
   int root(int id) const { return values[std::size_t(id)].kind == Kind::Alias ? values[std::size_t(id)].root : id; }
};

struct ModelImpl {
   std::string name;
   std::string sha256; ///< of the serialised bytes the model was read from
   proto::Model proto;
   int64_t opset = 0;
   std::map<std::string, std::shared_ptr<const std::vector<float>>> floatInit;
   std::map<std::string, std::shared_ptr<const std::vector<int64_t>>> intInit;
   std::map<std::string, Shape> initShape;
   std::vector<const proto::ValueInfo *> runtimeInputs;
   std::vector<TensorInfo> inputs, outputs;
   bool batched = false;
   std::map<std::string, std::string> metadata;
   std::size_t steps1 = 0;
   mutable std::mutex mutex;
   mutable std::map<int64_t, std::shared_ptr<const Plan>> plans;
   /// Batched models whose graph mixes events (Plan::mixing at batch 1 or 2; empty if none).
   std::string mixing;
   /// The latest plan of such a model at a batch above 2 (one run's worth; not kept in `plans`).
   mutable std::shared_ptr<const Plan> lastWhole;
};

class Planner;

/// What an operator's planner sees of its node.
class NodeCtx {
public:
   NodeCtx(Planner &planner, const proto::Node &node, std::size_t index);
   Planner &planner;
   const proto::Node &node;
   std::size_t index;
   int64_t opset() const;

   // --- inputs
   std::size_t nIn() const { return m_in.size(); }
   bool has(std::size_t k) const { return k < m_in.size() && m_in[k] >= 0; }
   int id(std::size_t k) const;
   const Value &in(std::size_t k) const;
   const Shape &shape(std::size_t k) const { return in(k).shape; }
   bool isConst(std::size_t k) const { return has(k) && in(k).kind == Kind::Constant; }
   /// Constant input values (int64 inputs are converted); throws when not known at load time.
   std::vector<int64_t> ints(std::size_t k, const char *what) const;
   std::vector<float> floats(std::size_t k, const char *what) const;
   void requireInputs(std::size_t min, std::size_t max) const;
   void requireFloat(std::size_t k) const;

   // --- attributes (of the type the ONNX spec gives them: another type fails, naming the node)
   bool hasAttr(const char *name) const { return node.findAttribute(name) != nullptr; }
   int64_t attrInt(const char *name, int64_t fallback) const;
   float attrFloat(const char *name, float fallback) const;
   std::string attrString(const char *name, const std::string &fallback) const;
   std::vector<int64_t> attrInts(const char *name, std::vector<int64_t> fallback = {}) const;
   const proto::Attribute *attr(const char *name) const { return node.findAttribute(name); }
   /// The attribute `name`, or nullptr when absent; fails when it is not of `type`.
   const proto::Attribute *typedAttr(const char *name, int32_t type) const;

   // --- outputs
   std::size_t nOut() const { return node.output.size(); }
   bool wantsOutput(std::size_t k) const { return k < node.output.size() && !node.output[k].empty(); }
   /// Name the output k of this node takes (after fusion, the last fused node's output).
   const std::string &outName(std::size_t k) const;
   void renameOutput(std::size_t k, const std::string &name) { m_outNames[k] = name; }
   int runtime(std::size_t k, const Shape &shape);
   void constantF(std::size_t k, const Shape &shape, std::vector<float> data);
   void constantI(std::size_t k, const Shape &shape, std::vector<int64_t> data);
   /// Output k is input `from` under another shape (no copy).
   void alias(std::size_t k, std::size_t from, const Shape &shape);
   /// Adds a run-time step, or runs it at once when every input is constant (folding).
   void emit(std::unique_ptr<Kernel> kernel);

   [[noreturn]] void fail(const std::string &what) const;
   /// The operator combines events or moves the batch axis (a softmax or reduction over axis 0,
   /// a transpose of it...): recorded when some run-time input carries events (Planner::build).
   void mixesEvents(const std::string &why) { m_mix = why; }
   const std::string &mixReason() const { return m_mix; }
   /// Input k is run-time data with the batch on axis 0 (not a constant, not mixed).
   bool carriesEvents(std::size_t k) const { return has(k) && in(k).kind != Kind::Constant && !in(k).mixed; }
   int64_t axis(int64_t a, int64_t rank, const char *what) const;

private:
   std::vector<int> m_in;
   std::vector<std::string> m_outNames;
   std::string m_mix;
};

using OpPlanner = void (*)(NodeCtx &ctx);
/// Empty unless a node computing on event data reads a constant whose value differs between the
/// plans for 1 and 2 events (e.g. Cast(Shape(x)[0]): the batch size as a number) -- such a graph
/// mixes events; Reshape's target shape may follow the batch (Planner.cxx).
std::string batchSizeDependence(const ModelImpl &model, const Plan &p1, const Plan &p2);
/// The operator table (ops/OperatorTable.cxx: each operator family adds its planners).
const std::map<std::string, OpPlanner> &operatorTable();
/// Replaces runs of consecutive per-event dense layers (an MLP at batch <= 4), each the only
/// reader of the one before, by one DenseChain step (rewrites/DenseChains.cxx).
void fuseDenseChains(Plan &plan);

class Planner {
public:
   Planner(const ModelImpl &model, int64_t batch);
   std::unique_ptr<Plan> build();

   const ModelImpl &model;
   int64_t batch;
   std::unique_ptr<Plan> plan;
   std::unordered_map<std::string, int> byName;
   std::vector<bool> skip; ///< nodes absorbed by fusion
   std::unordered_map<std::string, std::vector<std::size_t>> consumers;
   std::unordered_map<std::string, int> graphOutputs;
   /// Zero Pads folded into the Convs that consume them: Pad output name -> spatial pads
   /// (begin, end); the Pad output is an alias of its input (rewrites/PadIntoConv.cxx, ops/Conv.cxx).
   std::unordered_map<std::string, std::pair<Shape, Shape>> foldedPads;
   /// Per-feature affine maps x * scale + offset (Keras Rescaling) folded into the MatMul/Gemm
   /// that reads them: value name -> (scale, offset) over the last axis (rewrites/AffineIntoMatMul.cxx).
   std::unordered_map<std::string, std::pair<std::vector<float>, std::vector<float>>> foldedAffine;

   int addValue(Value v);
   int lookup(const std::string &name, const proto::Node &node) const;
   std::string where(const proto::Node &node) const;

   /// Fusion of what follows node `producer`'s output: a bias Add with a constant of
   /// `channels` values along `channelAxis` of an output of rank `rank`, then one activation
   /// (or x * sigmoid(x)). Marks absorbed nodes; returns the final output name.
   struct Epilogue {
      std::vector<float> scale; ///< per channel, applied before the bias (allowScale only)
      std::vector<float> bias;
      kernels::Activation act;
      std::string outName;
   };
   /// With allowScale, a constant per-channel Mul (an unfolded BatchNormalization) right after
   /// the producer is absorbed too, into `scale`: the caller folds it into its weights.
   Epilogue fuse(const proto::Node &producer, int64_t rank, int64_t channelAxis, int64_t channels,
                 bool allowScale = false);

private:
   void planMemory();
   void trackEvents(const NodeCtx &ctx);
   bool activationOf(const proto::Node &node, kernels::Activation &act) const;
};

} // namespace tpcml::onnx::detail

#endif // TPCML_SRC_ONNX_GRAPH_H
