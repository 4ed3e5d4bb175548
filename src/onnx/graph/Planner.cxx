// tpcml (private) -- load-time planning: values, constant folding, fusion, memory plan.
#include "onnx/graph/Graph.h"
#include "onnx/graph/Schema.h"

#include "tpcml/core/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace tpcml::onnx::detail {

// ------------------------------------------------------------------------ NodeCtx
NodeCtx::NodeCtx(Planner &p, const proto::Node &n, std::size_t idx) : planner(p), node(n), index(idx)
{
   for (const std::string &name : n.input)
      m_in.push_back(name.empty() ? -1 : p.lookup(name, n));
   m_outNames = n.output;
}

int64_t NodeCtx::opset() const
{
   return planner.model.opset;
}

int NodeCtx::id(std::size_t k) const
{
   if (!has(k))
      fail("input " + std::to_string(k) + " is missing");
   return m_in[k];
}

const Value &NodeCtx::in(std::size_t k) const
{
   return planner.plan->values[std::size_t(id(k))];
}

std::vector<int64_t> NodeCtx::ints(std::size_t k, const char *what) const
{
   const Value &v = in(k);
   if (v.kind != Kind::Constant)
      fail(std::string("input ") + std::to_string(k) + " ('" + v.name + "', the " + what +
           ") must be known when the model is loaded; here it depends on the event data");
   if (v.type != DType::Int64) // the spec types shapes, axes, indices, pads... as integers
      fail(std::string("input ") + std::to_string(k) + " ('" + v.name + "', the " + what +
           ") is a float tensor; the ONNX spec wants an integer tensor there");
   return *v.i;
}

std::vector<float> NodeCtx::floats(std::size_t k, const char *what) const
{
   const Value &v = in(k);
   if (v.kind != Kind::Constant)
      fail(std::string("input ") + std::to_string(k) + " ('" + v.name + "', the " + what +
           ") must be known when the model is loaded");
   if (v.type == DType::Float)
      return *v.f;
   return std::vector<float>(v.i->begin(), v.i->end());
}

void NodeCtx::requireInputs(std::size_t min, std::size_t max) const
{
   std::size_t n = 0;
   for (std::size_t k = 0; k < m_in.size(); ++k)
      n = m_in[k] >= 0 ? k + 1 : n;
   if (n < min || m_in.size() > max)
      fail("has " + std::to_string(m_in.size()) + " inputs, expected " + std::to_string(min) +
           (max == min ? "" : " to " + std::to_string(max)));
   for (std::size_t k = 0; k < min; ++k)
      if (m_in[k] < 0)
         fail("required input " + std::to_string(k) + " is empty");
}

void NodeCtx::requireFloat(std::size_t k) const
{
   const Value &v = in(k);
   if (v.type != DType::Float)
      fail("input '" + v.name + "' is an integer tensor; this operator runs on float32 tensors");
}

const proto::Attribute *NodeCtx::typedAttr(const char *name, int32_t type) const
{
   const proto::Attribute *a = attr(name);
   if (a && a->type != type)
      fail("attribute '" + std::string(name) + "' has type " + attributeTypeName(a->type) + ", expected " +
           attributeTypeName(type));
   return a;
}

int64_t NodeCtx::attrInt(const char *name, int64_t fallback) const
{
   const proto::Attribute *a = typedAttr(name, proto::kAttrInt);
   return a ? a->i : fallback;
}

float NodeCtx::attrFloat(const char *name, float fallback) const
{
   const proto::Attribute *a = typedAttr(name, proto::kAttrFloat);
   return a ? a->f : fallback;
}

std::string NodeCtx::attrString(const char *name, const std::string &fallback) const
{
   const proto::Attribute *a = typedAttr(name, proto::kAttrString);
   return a ? a->s : fallback;
}

std::vector<int64_t> NodeCtx::attrInts(const char *name, std::vector<int64_t> fallback) const
{
   const proto::Attribute *a = typedAttr(name, proto::kAttrInts);
   return a ? a->ints : fallback;
}

const std::string &NodeCtx::outName(std::size_t k) const
{
   return m_outNames.at(k);
}

namespace {
/// Fails unless `shape` is one the kernels can index: no negative dimension, no dimension and
/// no product of dimensions above 2^31 (so that no size or offset computed from it overflows).
void checkShape(const NodeCtx &c, const std::string &name, const Shape &shape)
{
   constexpr int64_t kMax = int64_t(1) << 31;
   int64_t n = 1;
   for (int64_t d : shape) {
      if (d < 0)
         c.fail("output '" + name + "' would have the negative shape " + shapeString(shape));
      if (d > kMax || (d > 0 && n > kMax / d))
         c.fail("output '" + name + "' of shape " + shapeString(shape) + " exceeds 2^31 values");
      n = d == 0 ? n : n * d;
   }
}
} // namespace

int NodeCtx::runtime(std::size_t k, const Shape &shape)
{
   checkShape(*this, outName(k), shape);
   Value v;
   v.name = outName(k);
   v.shape = shape;
   return planner.addValue(std::move(v));
}

namespace {

/// The constant output k of n values with shape `shape`, checked (its data is the caller's to set).
Value constantOutput(NodeCtx &c, std::size_t k, const Shape &shape, std::size_t n)
{
   checkShape(c, c.outName(k), shape);
   if (int64_t(n) != numel(shape))
      c.fail("internal: constant '" + c.outName(k) + "' of shape " + shapeString(shape) + " holds " +
             std::to_string(n) + " values");
   Value v;
   v.name = c.outName(k);
   v.shape = shape;
   v.kind = Kind::Constant;
   return v;
}

} // namespace

void NodeCtx::constantF(std::size_t k, const Shape &shape, std::vector<float> data)
{
   Value v = constantOutput(*this, k, shape, data.size());
   v.f = std::make_shared<const std::vector<float>>(std::move(data));
   planner.addValue(std::move(v));
}

void NodeCtx::constantI(std::size_t k, const Shape &shape, std::vector<int64_t> data)
{
   Value v = constantOutput(*this, k, shape, data.size());
   v.type = DType::Int64;
   v.i = std::make_shared<const std::vector<int64_t>>(std::move(data));
   planner.addValue(std::move(v));
}

void NodeCtx::alias(std::size_t k, std::size_t from, const Shape &shape)
{
   const Value &src = in(from);
   checkShape(*this, outName(k), shape);
   if (numel(shape) != numel(src.shape))
      fail("cannot view " + shapeString(src.shape) + " as " + shapeString(shape));
   Value v = src;
   v.name = outName(k);
   v.shape = shape;
   if (src.kind == Kind::Runtime || src.kind == Kind::Input) {
      v.kind = Kind::Alias;
      v.root = id(from);
   }
   v.first = v.last = -1;
   v.offset = -1;
   planner.addValue(std::move(v));
}

void NodeCtx::emit(std::unique_ptr<Kernel> kernel)
{
   kernel->node = node.name;
   kernel->op = node.opType;
   Plan &plan = *planner.plan;
   bool foldable = true;
   for (int i : kernel->inputs)
      foldable = foldable && plan.values[std::size_t(i)].kind == Kind::Constant &&
                 plan.values[std::size_t(i)].type == DType::Float;
   if (!foldable) {
      plan.steps.push_back(std::move(kernel));
      return;
   }
   // Constant folding: run the kernel now on the constants and keep its outputs.
   std::vector<float *> ptr(plan.values.size(), nullptr);
   for (int i : kernel->inputs)
      ptr[std::size_t(i)] = const_cast<float *>(plan.values[std::size_t(i)].f->data());
   std::vector<std::vector<float>> outs(kernel->outputs.size());
   for (std::size_t o = 0; o < outs.size(); ++o) {
      outs[o].resize(std::size_t(numel(plan.values[std::size_t(kernel->outputs[o])].shape)));
      ptr[std::size_t(kernel->outputs[o])] = outs[o].data();
   }
   std::vector<float> ws(kernel->workspace + 16);
   kernel->run(ptr.data(), ws.data());
   for (std::size_t o = 0; o < outs.size(); ++o) {
      Value &v = plan.values[std::size_t(kernel->outputs[o])];
      v.kind = Kind::Constant;
      v.f = std::make_shared<const std::vector<float>>(std::move(outs[o]));
   }
}

void NodeCtx::fail(const std::string &what) const
{
   throw InputError(planner.where(node) + ": " + what);
}

int64_t NodeCtx::axis(int64_t a, int64_t rank, const char *what) const
{
   if (a < -rank || a >= rank)
      fail(std::string(what) + " " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
   return a < 0 ? a + rank : a;
}

// ------------------------------------------------------------------------ Planner
Planner::Planner(const ModelImpl &m, int64_t b) : model(m), batch(b) {}

/// Whether the run-time outputs of the node just planned still hold independent events on axis
/// 0. They do not when an input already mixes events, or when an input carries events and the
/// operator said it combines them (NodeCtx::mixesEvents) or its output's axis 0 is not the batch.
/// The first node that mixes is kept in Plan::mixing. (Model::fromBytes asks plans at batch 1 and
/// 2: a constant dimension cannot equal the batch in both.)
void Planner::trackEvents(const NodeCtx &ctx)
{
   bool mixedIn = false, events = false;
   for (std::size_t k = 0; k < ctx.nIn(); ++k) {
      if (!ctx.has(k) || ctx.in(k).kind == Kind::Constant)
         continue;
      mixedIn = mixedIn || ctx.in(k).mixed;
      events = events || !ctx.in(k).mixed;
   }
   for (std::size_t k = 0; k < ctx.nOut(); ++k) {
      if (!ctx.wantsOutput(k))
         continue;
      auto it = byName.find(ctx.outName(k));
      if (it == byName.end())
         continue;
      Value &v = plan->values[std::size_t(it->second)];
      if (v.kind == Kind::Constant)
         continue;
      std::string why;
      if (events && !ctx.mixReason().empty())
         why = ctx.mixReason();
      else if (events && (v.shape.empty() || v.shape[0] != batch))
         why = "its output '" + v.name + "' of shape " + shapeString(v.shape) + " does not keep the " +
               std::to_string(batch) + " events of the batch on axis 0";
      v.mixed = mixedIn || !why.empty();
      if (!why.empty() && plan->mixing.empty())
         plan->mixing = where(ctx.node) + ": " + why;
   }
}

std::string Planner::where(const proto::Node &node) const
{
   const auto &nodes = model.proto.graph.node;
   const std::string id = !node.name.empty() ? "'" + node.name + "'"
                          : (!nodes.empty() && &node >= &nodes.front() && &node <= &nodes.back())
                              ? "#" + std::to_string(&node - &nodes.front()) + " (unnamed)"
                              : "(unnamed)";
   return "ONNX model '" + model.name + "', node " + id + " (" + node.opType + ")";
}

int Planner::addValue(Value v)
{
   auto found = byName.find(v.name);
   if (found != byName.end() && !v.name.empty())
      throw InputError("ONNX model '" + model.name + "': tensor '" + v.name + "' is defined twice");
   plan->values.push_back(std::move(v));
   const int id = int(plan->values.size() - 1);
   byName[plan->values.back().name] = id;
   return id;
}

int Planner::lookup(const std::string &name, const proto::Node &node) const
{
   auto it = byName.find(name);
   if (it == byName.end())
      throw InputError(where(node) + ": input '" + name +
                       "' is not a graph input, an initializer or the output of an earlier node "
                       "(the graph must be topologically sorted)");
   return it->second;
}

bool Planner::activationOf(const proto::Node &n, kernels::Activation &act) const
{
   using kernels::ActKind;
   if (n.output.size() != 1 || n.input.empty())
      return false;
   const auto attrF = [&](const char *name, float fallback) {
      const proto::Attribute *a = n.findAttribute(name);
      return a ? a->f : fallback;
   };
   if (n.opType == "Relu")
      act = {ActKind::Relu, 0.f, 0.f};
   else if (n.opType == "Sigmoid")
      act = {ActKind::Sigmoid, 0.f, 0.f};
   else if (n.opType == "Tanh")
      act = {ActKind::Tanh, 0.f, 0.f};
   else if (n.opType == "LeakyRelu")
      act = {ActKind::LeakyRelu, attrF("alpha", 0.01f), 0.f};
   else if (n.opType == "Elu")
      act = {ActKind::Elu, attrF("alpha", 1.f), 0.f};
   else if (n.opType == "Selu")
      act = {ActKind::Selu, attrF("alpha", 1.67326319217681884765625f), attrF("gamma", 1.05070102214813232421875f)};
   else if (n.opType == "Clip") {
      float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
      if (model.opset < 11) {
         lo = attrF("min", lo);
         hi = attrF("max", hi);
      } else {
         for (std::size_t k = 1; k < n.input.size() && k < 3; ++k) {
            if (n.input[k].empty())
               continue;
            auto it = byName.find(n.input[k]);
            if (it == byName.end())
               return false;
            const Value &v = plan->values[std::size_t(it->second)];
            if (v.kind != Kind::Constant || v.type != DType::Float || v.f->size() != 1)
               return false;
            (k == 1 ? lo : hi) = (*v.f)[0];
         }
      }
      act = {ActKind::Clip, lo, hi};
   } else
      return false;
   return true;
}

Planner::Epilogue Planner::fuse(const proto::Node &producer, int64_t rank, int64_t channelAxis, int64_t channels,
                                bool allowScale)
{
   Epilogue e;
   std::string name = producer.output.at(0);
   const auto &nodes = model.proto.graph.node;
   bool haveBias = false;
   for (;;) {
      if (graphOutputs.count(name))
         break;
      auto it = consumers.find(name);
      if (it == consumers.end())
         break;
      const std::vector<std::size_t> &cons = it->second;
      if (cons.size() == 1) {
         const proto::Node &n = nodes[cons[0]];
         // the other operand of a binary node, when it is a constant with one value per channel
         auto perChannel = [&]() -> const Value * {
            if (n.input.size() != 2 || n.output.size() != 1 || n.input[0] == n.input[1])
               return nullptr;
            const std::string &other = n.input[0] == name ? n.input[1] : n.input[0];
            auto bv = byName.find(other);
            if (bv == byName.end())
               return nullptr;
            const Value &b = plan->values[std::size_t(bv->second)];
            if (b.kind != Kind::Constant || b.type != DType::Float || int64_t(b.shape.size()) > rank ||
                numel(b.shape) != channels)
               return nullptr;
            bool ok = true;
            for (std::size_t j = 0; j < b.shape.size(); ++j) {
               const int64_t outAxis = rank - int64_t(b.shape.size()) + int64_t(j);
               ok = ok && (outAxis == channelAxis ? b.shape[j] == channels : b.shape[j] == 1);
            }
            return ok && !(channels > 1 && b.shape.empty()) ? &b : nullptr;
         };
         if (allowScale && e.scale.empty() && !haveBias && e.act.kind == kernels::ActKind::None && n.opType == "Mul") {
            const Value *b = perChannel();
            if (!b)
               break;
            e.scale = *b->f;
            skip[cons[0]] = true;
            name = n.output[0];
            continue;
         }
         if (!haveBias && e.act.kind == kernels::ActKind::None && n.opType == "Add") {
            const Value *b = perChannel();
            if (!b)
               break;
            e.bias = *b->f;
            haveBias = true;
            skip[cons[0]] = true;
            name = n.output[0];
            continue;
         }
         if (e.act.kind == kernels::ActKind::None && n.input[0] == name && activationOf(n, e.act)) {
            skip[cons[0]] = true;
            name = n.output[0];
            continue;
         }
         break;
      }
      if (cons.size() == 2 && e.act.kind == kernels::ActKind::None) { // x * sigmoid(x)
         const proto::Node *sig = nullptr, *mul = nullptr;
         std::size_t sigIdx = 0, mulIdx = 0;
         for (std::size_t c : cons) {
            if (nodes[c].opType == "Sigmoid" && nodes[c].input.size() == 1 && nodes[c].output.size() == 1) {
               sig = &nodes[c];
               sigIdx = c;
            } else if (nodes[c].opType == "Mul" && nodes[c].input.size() == 2 && nodes[c].output.size() == 1) {
               mul = &nodes[c];
               mulIdx = c;
            }
         }
         if (!sig || !mul || graphOutputs.count(sig->output[0]))
            break;
         const std::string &s = sig->output[0];
         const bool pairOk =
             (mul->input[0] == name && mul->input[1] == s) || (mul->input[1] == name && mul->input[0] == s);
         auto sc = consumers.find(s);
         if (!pairOk || sc == consumers.end() || sc->second.size() != 1)
            break;
         e.act = {kernels::ActKind::Swish, 0.f, 0.f};
         skip[sigIdx] = skip[mulIdx] = true;
         name = mul->output[0];
         continue;
      }
      break;
   }
   e.outName = name;
   return e;
}

std::unique_ptr<Plan> Planner::build()
{
   plan = std::make_unique<Plan>();
   plan->batch = batch;
   const proto::Graph &g = model.proto.graph;
   for (const auto &[name, data] : model.floatInit) {
      Value v;
      v.name = name;
      v.shape = model.initShape.at(name);
      v.kind = Kind::Constant;
      v.f = data;
      addValue(std::move(v));
   }
   for (const auto &[name, data] : model.intInit) {
      Value v;
      v.name = name;
      v.shape = model.initShape.at(name);
      v.kind = Kind::Constant;
      v.type = DType::Int64;
      v.i = data;
      addValue(std::move(v));
   }
   for (std::size_t k = 0; k < model.runtimeInputs.size(); ++k) {
      Value v;
      v.name = model.runtimeInputs[k]->name;
      v.kind = Kind::Input;
      v.inputIndex = int(k);
      v.shape = model.inputs[k].shape;
      if (!v.shape.empty() && v.shape[0] < 0)
         v.shape[0] = batch;
      int64_t n = 1;
      for (int64_t d : v.shape)
         if (d < 0 || d > (int64_t(1) << 31) || (d > 0 && n > (int64_t(1) << 31) / d))
            throw InputError("ONNX model '" + model.name + "': input '" + v.name + "' of shape " +
                             shapeString(v.shape) + " exceeds 2^31 values");
         else
            n *= d == 0 ? 1 : d;
      plan->inputs.push_back(addValue(std::move(v)));
   }
   for (std::size_t k = 0; k < g.output.size(); ++k)
      graphOutputs[g.output[k].name] = int(k);
   for (std::size_t n = 0; n < g.node.size(); ++n)
      for (const std::string &in : g.node[n].input)
         if (!in.empty())
            consumers[in].push_back(n);
   skip.assign(g.node.size(), false);
   const auto &ops = operatorTable();
   for (std::size_t n = 0; n < g.node.size(); ++n) {
      if (skip[n])
         continue;
      const proto::Node &node = g.node[n];
      auto op = ops.find(node.opType);
      NodeCtx ctx(*this, node, n);
      op->second(ctx);
      for (std::size_t k = 0; k < node.output.size(); ++k)
         if (!node.output[k].empty() && !byName.count(ctx.outName(k)))
            ctx.fail("output " + std::to_string(k) + " ('" + node.output[k] + "') is not supported");
      if (model.batched)
         trackEvents(ctx);
   }
   for (const proto::ValueInfo &out : g.output) {
      auto it = byName.find(out.name);
      if (it == byName.end())
         throw InputError("ONNX model '" + model.name + "': graph output '" + out.name + "' is never computed");
      if (plan->values[std::size_t(it->second)].type != DType::Float)
         throw InputError("ONNX model '" + model.name + "': graph output '" + out.name +
                          "' is an integer tensor; tpcml returns float32 outputs only");
      plan->outputs.push_back(it->second);
   }
   fuseDenseChains(*plan);
   planMemory();
   return std::move(plan);
}

std::string batchSizeDependence(const ModelImpl &model, const Plan &p1, const Plan &p2)
{
   std::unordered_map<std::string, int> at1, at2;
   for (std::size_t v = 0; v < p1.values.size(); ++v)
      at1[p1.values[v].name] = int(v);
   for (std::size_t v = 0; v < p2.values.size(); ++v)
      at2[p2.values[v].name] = int(v);
   const auto value = [](const Plan &p, const std::unordered_map<std::string, int> &at,
                         const std::string &name) -> const Value * {
      auto it = at.find(name);
      return it == at.end() ? nullptr : &p.values[std::size_t(it->second)];
   };
   const auto &nodes = model.proto.graph.node;
   for (std::size_t n = 0; n < nodes.size(); ++n) {
      const proto::Node &node = nodes[n];
      bool runtime = false;
      for (const std::string &in : node.input) {
         const Value *v = in.empty() ? nullptr : value(p2, at2, in);
         runtime = runtime || (v && v->kind != Kind::Constant);
      }
      if (!runtime)
         continue;
      for (std::size_t k = 0; k < node.input.size(); ++k) {
         if (node.input[k].empty() || (node.opType == "Reshape" && k == 1)) // a shape may follow the batch
            continue;
         const Value *a = value(p1, at1, node.input[k]), *b = value(p2, at2, node.input[k]);
         if (!a || !b || a->kind != Kind::Constant || b->kind != Kind::Constant)
            continue;
         const bool same = a->shape == b->shape && a->type == b->type &&
                           (a->type == DType::Float ? a->f == b->f || *a->f == *b->f // initializers are shared
                                                    : a->i == b->i || *a->i == *b->i);
         if (!same) {
            const std::string id = node.name.empty() ? "#" + std::to_string(n) + " (unnamed)" : "'" + node.name + "'";
            return "ONNX model '" + model.name + "', node " + id + " (" + node.opType + "): its input '" +
                   node.input[k] + "' is computed from the number of events in the batch";
         }
      }
   }
   return "";
}

void Planner::planMemory()
{
   Plan &p = *plan;
   const int end = int(p.steps.size()) + 1;
   for (std::size_t s = 0; s < p.steps.size(); ++s) {
      for (int id : p.steps[s]->inputs) {
         Value &v = p.values[std::size_t(p.root(id))];
         if (v.kind == Kind::Runtime)
            v.last = std::max(v.last, int(s));
      }
      for (int id : p.steps[s]->outputs) {
         Value &v = p.values[std::size_t(p.root(id))];
         if (v.kind == Kind::Runtime) {
            v.first = v.first < 0 ? int(s) : std::min(v.first, int(s));
            v.last = std::max(v.last, int(s));
         }
      }
   }
   for (int id : p.outputs) {
      Value &v = p.values[std::size_t(p.root(id))];
      if (v.kind == Kind::Runtime)
         v.last = end;
   }
   struct Block {
      int64_t size, first, last, *offset;
   };
   std::vector<Block> blocks;
   const auto rounded = [](int64_t n) { return (std::max<int64_t>(n, 1) + 15) / 16 * 16; };
   for (Value &v : p.values)
      if (v.kind == Kind::Runtime && v.first >= 0)
         blocks.push_back({rounded(numel(v.shape)), v.first, v.last, &v.offset});
   p.wsOffset.assign(p.steps.size(), 0);
   for (std::size_t s = 0; s < p.steps.size(); ++s)
      if (p.steps[s]->workspace)
         blocks.push_back({rounded(int64_t(p.steps[s]->workspace)), int64_t(s), int64_t(s), &p.wsOffset[s]});
   std::stable_sort(blocks.begin(), blocks.end(), [](const Block &a, const Block &b) { return a.size > b.size; });
   std::vector<const Block *> placed;
   int64_t arena = 0;
   for (Block &b : blocks) {
      std::vector<std::pair<int64_t, int64_t>> busy;
      for (const Block *q : placed)
         if (q->first <= b.last && b.first <= q->last)
            busy.emplace_back(*q->offset, *q->offset + q->size);
      std::sort(busy.begin(), busy.end());
      int64_t at = 0;
      for (const auto &[lo, hi] : busy) {
         if (lo - at >= b.size)
            break;
         at = std::max(at, hi);
      }
      *b.offset = at;
      arena = std::max(arena, at + b.size);
      placed.push_back(&b);
   }
   p.arenaFloats = std::size_t(arena);
}

} // namespace tpcml::onnx::detail
