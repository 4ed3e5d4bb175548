// tpcml (private) -- the operator table and the load-time spec check (see Schema.h).
//
// Facts from the ONNX operator specs, ai.onnx opset 28 (ONNX 1.23: docs/Operators.md and
// docs/Changelog.md, onnx/defs/*/defs.cc and old.cc): every since_version of each operator, the
// attributes (type, required) of each version from the oldest one tpcml implements on, and the
// type constraints of the inputs. Cross-checked against onnx.defs by test_onnx_spec.py.
#include "onnx/graph/Schema.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

namespace tpcml::onnx::detail {

namespace {

using namespace proto;

/// The attributes of Conv, and with `extra` those of ConvTranspose, in name order.
std::vector<AttrSpec> convAttrs(std::vector<AttrSpec> extra)
{
   std::vector<AttrSpec> attrs = {{"auto_pad", kAttrString, false, 1, 0}, {"dilations", kAttrInts, false, 1, 0},
                                  {"group", kAttrInt, false, 1, 0},       {"kernel_shape", kAttrInts, false, 1, 0},
                                  {"pads", kAttrInts, false, 1, 0},       {"strides", kAttrInts, false, 1, 0}};
   attrs.insert(attrs.end(), extra.begin(), extra.end());
   std::stable_sort(attrs.begin(), attrs.end(),
                    [](const AttrSpec &a, const AttrSpec &b) { return std::string(a.name) < b.name; });
   return attrs;
}

/// ReduceMax / ReduceMean / ReduceSum: `axes` is an attribute before version axesInput, the second
/// input from it on (with noop_with_empty_axes).
OpSchema reduceSchema(const char *opType, std::vector<int64_t> versions, int64_t axesInput)
{
   return {opType,
           std::move(versions),
           1,
           {{"axes", kAttrInts, false, 1, axesInput},
            {"keepdims", kAttrInt, false, 1, 0},
            {"noop_with_empty_axes", kAttrInt, false, axesInput, 0}},
           "*L",
           {{1, 1, 1, 1, 1}, {axesInput, 1, 2, 1, 1}}};
}

// The oldest versions left out (before firstSupported) differ in semantics the engine does not
// implement: Add/Sub/Mul/Div 1 and 6 and Gemm 1 and 6 (the `broadcast`/`axis` broadcasting),
// BatchNormalization 1-7 (`spatial`, `is_test`), Cast 1 (`to` a string), Concat 1 (axis defaults
// to 1), Dropout 1 and 6 (`is_test` = 0 is training), Pad 1 (`paddings`).
// `consumed_inputs` (versions 1) is a legacy in-place hint without effect on the values.
const std::vector<OpSchema> kTable = {
    {"Add", {1, 6, 7, 13, 14}, 7, {}, "TT", {{1, 2, 2, 1, 1}}},
    {"BatchNormalization",
     {1, 6, 7, 9, 14, 15},
     9,
     {{"epsilon", kAttrFloat, false, 1, 0},
      {"momentum", kAttrFloat, false, 1, 0},
      {"training_mode", kAttrInt, false, 14, 0}},
     "FFFFF",
     {{1, 5, 5, 1, 5}, {14, 5, 5, 1, 3}}},
    {"Cast",
     {1, 6, 9, 13, 19, 21, 23, 24, 25, 28},
     6,
     {{"to", kAttrInt, true, 6, 0}, {"saturate", kAttrInt, false, 19, 0}, {"round_mode", kAttrString, false, 24, 0}},
     "*",
     {{1, 1, 1, 1, 1}}},
    {"Clip",
     {1, 6, 11, 12, 13},
     1,
     {{"consumed_inputs", kAttrInts, false, 1, 6},
      {"min", kAttrFloat, false, 1, 11},
      {"max", kAttrFloat, false, 1, 11}},
     "TTT",
     {{1, 1, 1, 1, 1}, {11, 1, 3, 1, 1}}},
    {"Concat", {1, 4, 11, 13}, 4, {{"axis", kAttrInt, true, 4, 0}}, "T+", {{1, 1, -1, 1, 1}}},
    {"Constant",
     {1, 9, 11, 12, 13, 19, 21, 23, 24, 25},
     1,
     {{"value", kAttrTensor, true, 1, 11},
      {"value", kAttrTensor, false, 11, 0},
      {"sparse_value", kAttrSparseTensor, false, 11, 0},
      {"value_float", kAttrFloat, false, 12, 0},
      {"value_floats", kAttrFloats, false, 12, 0},
      {"value_int", kAttrInt, false, 12, 0},
      {"value_ints", kAttrInts, false, 12, 0},
      {"value_string", kAttrString, false, 12, 0},
      {"value_strings", kAttrStrings, false, 12, 0}},
     "",
     {{1, 0, 0, 1, 1}}},
    {"Conv", {1, 11, 22}, 1, convAttrs({}), "FFF", {{1, 2, 3, 1, 1}}},
    {"ConvTranspose",
     {1, 11, 22},
     1,
     convAttrs({{"output_padding", kAttrInts, false, 1, 0}, {"output_shape", kAttrInts, false, 1, 0}}),
     "FFF",
     {{1, 2, 3, 1, 1}}},
    {"Div", {1, 6, 7, 13, 14}, 7, {}, "TT", {{1, 2, 2, 1, 1}}},
    {"Dropout",
     {1, 6, 7, 10, 12, 13, 22},
     7,
     {{"ratio", kAttrFloat, false, 7, 12}, {"seed", kAttrInt, false, 12, 0}},
     "FFB",
     {{1, 1, 1, 1, 2}, {12, 1, 3, 1, 2}}},
    {"Elu",
     {1, 6, 22},
     1,
     {{"alpha", kAttrFloat, false, 1, 0}, {"consumed_inputs", kAttrInts, false, 1, 6}},
     "F",
     {{1, 1, 1, 1, 1}}},
    {"Exp", {1, 6, 13}, 1, {{"consumed_inputs", kAttrInts, false, 1, 6}}, "F", {{1, 1, 1, 1, 1}}},
    {"Flatten", {1, 9, 11, 13, 21, 23, 24, 25}, 1, {{"axis", kAttrInt, false, 1, 0}}, "*", {{1, 1, 1, 1, 1}}},
    {"Gather", {1, 11, 13}, 1, {{"axis", kAttrInt, false, 1, 0}}, "*I", {{1, 2, 2, 1, 1}}},
    {"Gemm",
     {1, 6, 7, 9, 11, 13},
     7,
     {{"alpha", kAttrFloat, false, 1, 0},
      {"beta", kAttrFloat, false, 1, 0},
      {"transA", kAttrInt, false, 1, 0},
      {"transB", kAttrInt, false, 1, 0}},
     "TTT",
     {{1, 3, 3, 1, 1}, {11, 2, 3, 1, 1}}},
    {"GlobalAveragePool", {1, 22}, 1, {}, "F", {{1, 1, 1, 1, 1}}},
    {"GlobalMaxPool", {1, 22}, 1, {}, "F", {{1, 1, 1, 1, 1}}},
    {"Identity", {1, 13, 14, 16, 19, 21, 23, 24, 25}, 1, {}, "*", {{1, 1, 1, 1, 1}}},
    {"LeakyRelu",
     {1, 6, 16},
     1,
     {{"alpha", kAttrFloat, false, 1, 0}, {"consumed_inputs", kAttrInts, false, 1, 6}},
     "F",
     {{1, 1, 1, 1, 1}}},
    {"MatMul", {1, 9, 13}, 1, {}, "TT", {{1, 2, 2, 1, 1}}},
    {"MaxPool",
     {1, 8, 10, 11, 12, 22},
     1,
     {{"auto_pad", kAttrString, false, 1, 0},
      {"kernel_shape", kAttrInts, true, 1, 0},
      {"pads", kAttrInts, false, 1, 0},
      {"strides", kAttrInts, false, 1, 0},
      {"storage_order", kAttrInt, false, 8, 0},
      {"ceil_mode", kAttrInt, false, 10, 0},
      {"dilations", kAttrInts, false, 10, 0}},
     "*",
     {{1, 1, 1, 1, 1}, {8, 1, 1, 1, 2}}},
    {"Mul", {1, 6, 7, 13, 14}, 7, {}, "TT", {{1, 2, 2, 1, 1}}},
    {"Pad",
     {1, 2, 11, 13, 18, 19, 21, 23, 24, 25},
     2,
     {{"mode", kAttrString, false, 1, 0}, {"pads", kAttrInts, true, 2, 11}, {"value", kAttrFloat, false, 1, 11}},
     "TLTI",
     {{1, 1, 1, 1, 1}, {11, 2, 3, 1, 1}, {18, 2, 4, 1, 1}}},
    reduceSchema("ReduceMax", {1, 11, 12, 13, 18, 20}, 18),
    reduceSchema("ReduceMean", {1, 11, 13, 18}, 18),
    reduceSchema("ReduceSum", {1, 11, 13}, 13),
    {"Relu", {1, 6, 13, 14}, 1, {{"consumed_inputs", kAttrInts, false, 1, 6}}, "*", {{1, 1, 1, 1, 1}}},
    {"Reshape",
     {1, 5, 13, 14, 19, 21, 23, 24, 25},
     1,
     {{"consumed_inputs", kAttrInts, false, 1, 5},
      {"shape", kAttrInts, false, 1, 5},
      {"allowzero", kAttrInt, false, 14, 0}},
     "*L",
     {{1, 1, 1, 1, 1}, {5, 2, 2, 1, 1}}},
    {"Selu",
     {1, 6, 22},
     1,
     {{"alpha", kAttrFloat, false, 1, 0},
      {"gamma", kAttrFloat, false, 1, 0},
      {"consumed_inputs", kAttrInts, false, 1, 6}},
     "F",
     {{1, 1, 1, 1, 1}}},
    {"Shape",
     {1, 13, 15, 19, 21, 23, 24, 25},
     1,
     {{"start", kAttrInt, false, 15, 0}, {"end", kAttrInt, false, 15, 0}},
     "*",
     {{1, 1, 1, 1, 1}}},
    {"Sigmoid", {1, 6, 13}, 1, {{"consumed_inputs", kAttrInts, false, 1, 6}}, "F", {{1, 1, 1, 1, 1}}},
    {"Slice",
     {1, 10, 11, 13},
     1,
     {{"starts", kAttrInts, true, 1, 10}, {"ends", kAttrInts, true, 1, 10}, {"axes", kAttrInts, false, 1, 10}},
     "*IIII",
     {{1, 1, 1, 1, 1}, {10, 3, 5, 1, 1}}},
    {"Softmax", {1, 11, 13}, 1, {{"axis", kAttrInt, false, 1, 0}}, "F", {{1, 1, 1, 1, 1}}},
    {"Squeeze",
     {1, 11, 13, 21, 23, 24, 25},
     1,
     {{"axes", kAttrInts, false, 1, 13}},
     "*L",
     {{1, 1, 1, 1, 1}, {13, 1, 2, 1, 1}}},
    {"Sub", {1, 6, 7, 13, 14}, 7, {}, "TT", {{1, 2, 2, 1, 1}}},
    {"Tanh", {1, 6, 13}, 1, {{"consumed_inputs", kAttrInts, false, 1, 6}}, "F", {{1, 1, 1, 1, 1}}},
    {"Transpose", {1, 13, 21, 23, 24, 25}, 1, {{"perm", kAttrInts, false, 1, 0}}, "*", {{1, 1, 1, 1, 1}}},
    {"Unsqueeze",
     {1, 11, 13, 21, 23, 24, 25},
     1,
     {{"axes", kAttrInts, true, 1, 13}},
     "*L",
     {{1, 1, 1, 1, 1}, {13, 2, 2, 1, 1}}},
};

/// The values a STRING attribute may take, from operator version `from` on (the newest entry
/// with from <= version applies).
struct StringValues {
   const char *opType, *attr;
   int64_t from;
   std::vector<std::string> values;
};
const std::vector<std::string> kAutoPad = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
const std::vector<StringValues> kStringValues = {
    {"Conv", "auto_pad", 1, kAutoPad},
    {"ConvTranspose", "auto_pad", 1, kAutoPad},
    {"MaxPool", "auto_pad", 1, kAutoPad},
    {"Pad", "mode", 1, {"constant", "reflect", "edge"}},
    {"Pad", "mode", 19, {"constant", "reflect", "edge", "wrap"}},
    {"Cast", "round_mode", 24, {"up", "down", "nearest"}},
};

/// AttributeProto field number of each attribute type's value (onnx.proto).
int valueField(int32_t type)
{
   switch (type) {
#define TPCML_ONNX_FIELD(enumerator, value, name, field)                                                               \
   case enumerator:                                                                                                    \
      return field;
      TPCML_ONNX_ATTRIBUTE_TYPES(TPCML_ONNX_FIELD)
#undef TPCML_ONNX_FIELD
   }
   return -1;
}
/// The attribute type whose value lives in field number f, or kAttrUndefined.
int32_t typeOfField(int f)
{
   for (int32_t t = 1; t <= kAttrTypeProtos; ++t)
      if (valueField(t) == f)
         return t;
   return kAttrUndefined;
}

bool isFloating(int32_t t)
{
   return t == kFloat || t == kDouble || t == kFloat16 || t == kBFloat16;
}
std::string nodeName(const Node &n, std::size_t k)
{
   return n.name.empty() ? "#" + std::to_string(k) : "'" + n.name + "'";
}

class Checker {
public:
   Checker(const Model &m, const std::string &name) : m_model(m), m_name(name) {}

   [[noreturn]] void fail(const std::string &what) const { throw InputError("ONNX model '" + m_name + "' " + what); }
   [[noreturn]] void failNode(const Node &n, std::size_t k, const std::string &what) const
   {
      throw InputError("ONNX model '" + m_name + "', node " + nodeName(n, k) + " (" + n.opType + "): " + what);
   }

   void run()
   {
      header();
      const Graph &g = m_model.graph;
      tensors(g);
      // every operator known before anything else: all unknown ones in one message
      std::vector<std::string> unsupported, names;
      for (const OpSchema &o : kTable)
         names.push_back(o.opType);
      for (std::size_t k = 0; k < g.node.size(); ++k) {
         const Node &n = g.node[k];
         if (n.opType.empty())
            fail("node " + nodeName(n, k) + " has no op_type");
         const bool defaultDomain = n.domain.empty() || n.domain == "ai.onnx";
         if (!defaultDomain || !findSchema(n.opType))
            unsupported.push_back((defaultDomain ? "" : n.domain + ".") + n.opType + " (node " + nodeName(n, k) + ")" +
                                  (defaultDomain ? didYouMean(n.opType, names) : ""));
      }
      // ONNX IR, "Names Within a Graph": node names are one namespace, unique within the graph
      std::set<std::string> nodeNames;
      for (std::size_t k = 0; k < g.node.size(); ++k)
         if (!g.node[k].name.empty() && !nodeNames.insert(g.node[k].name).second)
            fail("has two nodes named '" + g.node[k].name + "' (node names must be unique within the graph)");
      if (!unsupported.empty())
         fail("uses unsupported operator" + std::string(unsupported.size() > 1 ? "s " : " ") + join(unsupported, ", ") +
              "; tpcml supports " + join(names, ", ") + " (default ONNX domain)");
      for (std::size_t k = 0; k < g.node.size(); ++k)
         node(g.node[k], k);
      for (const ValueInfo &out : g.output) {
         if (out.name.empty())
            fail("has a graph output without a name");
         if (!m_defined.count(out.name))
            fail("lists graph output '" + out.name + "', which no node, input or initializer defines" +
                 didYouMean(out.name, definedNames()));
      }
   }

private:
   void header()
   {
      const Model &m = m_model;
      if (m.irVersion <= 0)
         fail("has no ir_version (the ONNX spec requires one; is it an ONNX file?)");
      if (m.irVersion < kOldestIrVersion)
         fail("has IR version " + std::to_string(m.irVersion) + ", before opset imports (IR " +
              std::to_string(kOldestIrVersion) + "): unsupported, convert it with a newer ONNX");
      if (m.irVersion > kNewestIrVersion)
         fail("has IR version " + std::to_string(m.irVersion) + ", newer than the IR versions tpcml supports (" +
              std::to_string(kOldestIrVersion) + " to " + std::to_string(kNewestIrVersion) + ", ONNX 1.23)");
      std::set<std::string> domains;
      for (const OpsetId &o : m.opsetImport) {
         const std::string domain = o.domain == "ai.onnx" ? "" : o.domain;
         if (!domains.insert(domain).second)
            fail("imports the opset of domain '" + o.domain + "' twice");
         if (!domain.empty())
            continue;
         if (o.version < 1)
            fail("imports ONNX opset " + std::to_string(o.version) + " (opset versions start at 1)");
         if (o.version > kNewestOpset)
            fail("imports ONNX opset " + std::to_string(o.version) + ": unsupported, tpcml implements opsets 1 to " +
                 std::to_string(kNewestOpset) + " (ONNX 1.23)");
         m_opset = o.version;
      }
      if (m_opset == 0)
         fail("does not import the default ONNX opset (domain '' or 'ai.onnx')");
      if (!m.hasGraph)
         fail("holds no graph (is it an ONNX file?)");
      if (m.graph.node.empty())
         fail("holds a graph without nodes (is it an ONNX file?)");
      if (m.graph.hasSparseInitializer)
         fail("has sparse initializers, which tpcml does not support");
   }

   std::vector<std::string> definedNames() const
   {
      std::vector<std::string> out;
      for (const auto &entry : m_defined)
         out.push_back(entry.first);
      return out;
   }

   void define(const std::string &name, int32_t type, const std::string &what)
   {
      if (!m_defined.emplace(name, type).second)
         fail("defines tensor '" + name + "' twice (" + what + "); every tensor name must be defined once");
   }

   void tensors(const Graph &g)
   {
      std::set<std::string> inits;
      for (const Tensor &t : g.initializer) {
         if (t.name.empty())
            fail("has an initializer without a name");
         if (!inits.insert(t.name).second)
            fail("has two initializers named '" + t.name + "'");
         try {
            t.check();
            t.numel();
         } catch (const ParseError &e) {
            fail("initializer '" + t.name + "': " + e.what());
         }
         define(t.name, t.dataType, "initializer");
      }
      std::set<std::string> inputs;
      for (const ValueInfo &vi : g.input) {
         if (vi.name.empty())
            fail("has a graph input without a name");
         if (!inputs.insert(vi.name).second)
            fail("lists graph input '" + vi.name + "' twice");
         if (inits.count(vi.name)) { // an initializer listed among the inputs (IR < 4 style)
            if (vi.isTensor && vi.elemType != kUndefined && vi.elemType != m_defined[vi.name])
               fail("lists initializer '" + vi.name + "' of type " + dataTypeName(m_defined[vi.name]) +
                    " as a graph input of type " + dataTypeName(vi.elemType));
            continue;
         }
         define(vi.name, vi.isTensor ? vi.elemType : kUndefined, "graph input");
      }
      // names produced by some node, to tell "defined later" (not sorted, or a cycle) from "nowhere"
      for (const Node &n : g.node)
         for (const std::string &o : n.output)
            if (!o.empty())
               m_produced.insert(o);
   }

   void node(const Node &n, std::size_t k)
   {
      const OpSchema *s = findSchema(n.opType);
      const int64_t version = operatorVersion(*s, m_opset);
      if (version < s->firstSupported)
         failNode(n, k,
                  "is " + n.opType + "-" + std::to_string(version) + " (selected by opset " + std::to_string(m_opset) +
                      "): unsupported, tpcml implements " + n.opType + " from version " +
                      std::to_string(s->firstSupported) + " (opset " + std::to_string(s->firstSupported) +
                      ") on; convert the model to a newer opset");
      const Arity *arity = nullptr;
      for (const Arity &a : s->arity)
         if (a.from <= version)
            arity = &a;
      const int nIn = int(n.input.size()), nOut = int(n.output.size());
      auto range = [](int lo, int hi) {
         return hi < 0     ? std::to_string(lo) + " or more"
                : lo == hi ? std::to_string(lo)
                           : std::to_string(lo) + " to " + std::to_string(hi);
      };
      if (nIn < arity->minIn || (arity->maxIn >= 0 && nIn > arity->maxIn))
         failNode(n, k,
                  "has " + std::to_string(nIn) + " inputs; " + n.opType + "-" + std::to_string(version) + " takes " +
                      range(arity->minIn, arity->maxIn));
      if (nOut < arity->minOut || nOut > arity->maxOut)
         failNode(n, k,
                  "has " + std::to_string(nOut) + " outputs; " + n.opType + "-" + std::to_string(version) + " has " +
                      range(arity->minOut, arity->maxOut));
      attributes(n, k, *s, version);
      inputs(n, k, *s);
      for (const std::string &o : n.output) {
         if (o.empty())
            continue;
         auto found = m_defined.find(o);
         if (found != m_defined.end())
            failNode(n, k, "writes tensor '" + o + "', which is already defined (every tensor is defined once)");
         m_defined.emplace(o, &o == &n.output[0] ? outputType(n, k) : kUndefined);
      }
   }

   int32_t outputType(const Node &n, std::size_t) const
   {
      if (n.opType == "Shape")
         return kInt64;
      if (n.opType == "Cast")
         if (const Attribute *a = n.findAttribute("to"))
            return int32_t(a->i);
      if (n.opType == "Constant" && !n.attribute.empty()) {
         const Attribute &a = n.attribute[0];
         if (a.name == "value")
            return a.t.dataType;
         if (a.name == "value_float" || a.name == "value_floats")
            return kFloat;
         if (a.name == "value_int" || a.name == "value_ints")
            return kInt64;
      }
      // every other operator tpcml implements gives output 0 the type of input 0 (its T)
      if (!n.input.empty() && !n.input[0].empty()) {
         auto found = m_defined.find(n.input[0]);
         if (found != m_defined.end())
            return found->second;
      }
      return kUndefined;
   }

   void attributes(const Node &n, std::size_t k, const OpSchema &s, int64_t version)
   {
      std::set<std::string> seen;
      std::vector<std::string> names;
      for (const AttrSpec &spec : s.attributes)
         if (attrExists(spec, version))
            names.push_back(spec.name);
      for (const Attribute &a : n.attribute) {
         if (a.name.empty())
            failNode(n, k, "has an attribute without a name");
         if (!seen.insert(a.name).second)
            failNode(n, k, "has attribute '" + a.name + "' twice");
         const AttrSpec *spec = nullptr;
         for (const AttrSpec &x : s.attributes)
            if (x.name == a.name && attrExists(x, version))
               spec = &x;
         if (!spec) {
            std::string other;
            for (const AttrSpec &x : s.attributes)
               if (x.name == a.name)
                  other = " (it belongs to " + n.opType + " versions " + std::to_string(x.from) +
                          (x.until ? " to " + std::to_string(x.until - 1) : " on") + ")";
            failNode(n, k,
                     "unknown attribute '" + a.name + "': " + n.opType + "-" + std::to_string(version) +
                         " does not define it" + other +
                         (names.empty() ? "; it has no attributes"
                                        : didYouMean(a.name, names) + "; its attributes are " + join(names, ", ")));
         }
         if (a.present & (1u << 21))
            failNode(n, k,
                     "attribute '" + a.name + "' refers to a function attribute (ref_attr_name) outside a function");
         if (a.type == kAttrUndefined)
            failNode(n, k, "attribute '" + a.name + "' has no type (expected " + attributeTypeName(spec->type) + ")");
         if (a.type != spec->type)
            failNode(n, k,
                     "attribute '" + a.name + "' has type " + attributeTypeName(a.type) + ", expected " +
                         attributeTypeName(spec->type));
         const int want = valueField(a.type);
         for (int f = 2; f < 32; ++f)
            if (f != want && (a.present & (1u << f)) && typeOfField(f) != kAttrUndefined)
               failNode(n, k,
                        "attribute '" + a.name + "' of type " + attributeTypeName(a.type) + " also holds a " +
                            attributeTypeName(typeOfField(f)) + " value");
         if (a.type <= kAttrGraph && !(a.present & (1u << want)))
            failNode(n, k, "attribute '" + a.name + "' of type " + attributeTypeName(a.type) + " holds no value");
         if (a.type == kAttrTensor) {
            try {
               if (isFloating(a.t.dataType))
                  a.t.toFloat();
               else
                  a.t.toInt64();
            } catch (const ParseError &e) {
               failNode(n, k, "attribute '" + a.name + "': " + e.what());
            }
         }
      }
      for (const Attribute &a : n.attribute) {
         const StringValues *allowed = nullptr;
         for (const StringValues &v : kStringValues)
            if (n.opType == v.opType && a.name == v.attr && v.from <= version)
               allowed = &v;
         if (allowed && std::find(allowed->values.begin(), allowed->values.end(), a.s) == allowed->values.end())
            failNode(n, k,
                     "attribute '" + a.name + "' is '" + a.s + "'; " + n.opType + "-" + std::to_string(version) +
                         " allows " + join(allowed->values, ", ") + didYouMean(a.s, allowed->values));
      }
      // Conv, ConvTranspose, MaxPool: "pads cannot be used simultaneously with auto_pad"
      const Attribute *autoPad = n.findAttribute("auto_pad");
      if (autoPad && autoPad->s != "NOTSET" && n.findAttribute("pads"))
         failNode(n, k, "has both 'pads' and auto_pad '" + autoPad->s + "' (the ONNX spec allows one of them)");
      for (const AttrSpec &spec : s.attributes)
         if (spec.required && attrExists(spec, version) && !seen.count(spec.name))
            failNode(n, k,
                     "lacks the required attribute '" + std::string(spec.name) + "' (" + attributeTypeName(spec.type) +
                         ")");
      if (n.opType == "Constant" && n.attribute.size() != 1)
         failNode(n, k,
                  "has " + std::to_string(n.attribute.size()) +
                      " attributes; a Constant has exactly one of value, value_float(s), value_int(s), ...");
   }

   void inputs(const Node &n, std::size_t k, const OpSchema &s)
   {
      const std::string classes = s.inputs;
      const bool variadic = !classes.empty() && classes.back() == '+';
      const std::string base = variadic ? classes.substr(0, classes.size() - 1) : classes;
      int32_t tType = kUndefined;
      std::string tName;
      for (std::size_t j = 0; j < n.input.size(); ++j) {
         const std::string &in = n.input[j];
         if (in.empty())
            continue;
         auto found = m_defined.find(in);
         if (found == m_defined.end()) {
            if (m_produced.count(in))
               failNode(n, k,
                        "reads tensor '" + in +
                            "' before the node that writes it (the graph must be topologically sorted and acyclic)");
            failNode(n, k,
                     "reads tensor '" + in + "', which no node, graph input or initializer defines" +
                         didYouMean(in, definedNames()));
         }
         if (j >= base.size() && !variadic)
            continue; // too many inputs: the operator's planner says how many it takes
         const char cls = base.empty() ? '*' : base[std::min(j, base.size() - 1)];
         const int32_t type = found->second;
         if (type == kUndefined || cls == '*')
            continue;
         const std::string what =
             "input " + std::to_string(j) + " ('" + in + "') has type " + dataTypeName(type) + "; the ONNX spec wants ";
         if (cls == 'F' && !isFloating(type))
            failNode(n, k, what + "a floating-point tensor there");
         if (cls == 'I' && type != kInt32 && type != kInt64)
            failNode(n, k, what + "int32 or int64 there");
         if (cls == 'L' && type != kInt64)
            failNode(n, k, what + "int64 there");
         if (cls == 'B' && type != kBool)
            failNode(n, k, what + "bool there");
         if (cls == 'T') {
            if (tType == kUndefined) {
               tType = type;
               tName = in;
            } else if (type != tType) {
               failNode(n, k, what + "the type of '" + tName + "' (" + dataTypeName(tType) + ") there");
            }
         }
      }
   }

   const Model &m_model;
   const std::string &m_name;
   int64_t m_opset = 0;
   std::unordered_map<std::string, int32_t> m_defined; ///< tensor name -> element type (0: unknown)
   std::set<std::string> m_produced;
};

} // namespace

const std::vector<OpSchema> &schemaTable()
{
   return kTable;
}

const OpSchema *findSchema(const std::string &opType)
{
   for (const OpSchema &s : kTable)
      if (opType == s.opType)
         return &s;
   return nullptr;
}

int64_t operatorVersion(const OpSchema &schema, int64_t opset)
{
   int64_t v = 0;
   for (int64_t x : schema.versions)
      if (x <= opset)
         v = x;
   return v;
}

std::string attributeTypeName(int32_t type)
{
   switch (type) {
#define TPCML_ONNX_NAME(enumerator, value, name, field)                                                                \
   case enumerator:                                                                                                    \
      return name;
      TPCML_ONNX_ATTRIBUTE_TYPES(TPCML_ONNX_NAME)
#undef TPCML_ONNX_NAME
   }
   return "type#" + std::to_string(type);
}

void checkModel(const proto::Model &model, const std::string &name)
{
   Checker(model, name).run();
}

} // namespace tpcml::onnx::detail
