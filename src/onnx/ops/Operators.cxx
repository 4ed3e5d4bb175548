// tpcml (private) -- operators: shape inference, load-time folding and run-time kernels.
// Semantics follow the ONNX operator specification (https://onnx.ai/onnx/operators/),
// including the opset-dependent forms (attributes that became inputs in opsets 10-18).
#include "Graph.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tpcml::onnx::detail {
namespace {

using kernels::Activation;
using kernels::ActKind;

const kernels::KernelTable &K()
{
   return kernels::table();
}

// ================================================================ attribute checks
/// "attribute 'strides' = [0, 1]" -- how messages quote an integer-list attribute.
std::string quoted(const char *attr, const Shape &v)
{
   return std::string("attribute '") + attr + "' = " + shapeString(v);
}

/// Fails unless the list attribute `attr` (value v) has n entries.
void requireLength(NodeCtx &c, const char *attr, const Shape &v, std::size_t n, const std::string &why)
{
   if (v.size() != n)
      c.fail(quoted(attr, v) + " has " + std::to_string(v.size()) + " entries, expected " + std::to_string(n) + " (" +
             why + ")");
}

/// Fails unless every entry of the list attribute `attr` is >= lo.
void requireAtLeast(NodeCtx &c, const char *attr, const Shape &v, int64_t lo)
{
   for (std::size_t k = 0; k < v.size(); ++k)
      if (v[k] < lo)
         c.fail(quoted(attr, v) + ": entry " + std::to_string(k) + " is " + std::to_string(v[k]) +
                ", expected >= " + std::to_string(lo));
}

// ===================================================================== elementwise
struct UnaryKernel : Kernel {
   Activation act;
   int64_t n = 0;
   void run(float *const *v, float *) const override
   {
      const float *x = v[inputs[0]];
      float *y = v[outputs[0]];
      std::memcpy(y, x, std::size_t(n) * sizeof(float));
      K().activate(y, n, act);
   }
};

void planUnary(NodeCtx &c, Activation act)
{
   c.requireInputs(1, 1);
   c.requireFloat(0);
   auto k = std::make_unique<UnaryKernel>();
   k->act = act;
   k->n = numel(c.shape(0));
   k->inputs = {c.id(0)};
   k->outputs = {c.runtime(0, c.shape(0))};
   c.emit(std::move(k));
}

void opRelu(NodeCtx &c)
{
   planUnary(c, {ActKind::Relu, 0, 0});
}
void opSigmoid(NodeCtx &c)
{
   planUnary(c, {ActKind::Sigmoid, 0, 0});
}
void opTanh(NodeCtx &c)
{
   planUnary(c, {ActKind::Tanh, 0, 0});
}
void opExp(NodeCtx &c)
{
   planUnary(c, {ActKind::Exp, 0, 0});
}
void opLeakyRelu(NodeCtx &c)
{
   planUnary(c, {ActKind::LeakyRelu, c.attrFloat("alpha", 0.01f), 0});
}
void opElu(NodeCtx &c)
{
   planUnary(c, {ActKind::Elu, c.attrFloat("alpha", 1.f), 0});
}
void opSelu(NodeCtx &c)
{
   planUnary(c, {ActKind::Selu, c.attrFloat("alpha", 1.67326319217681884765625f),
                 c.attrFloat("gamma", 1.05070102214813232421875f)});
}

struct ClipKernel : Kernel {
   int64_t n = 0;
   int loId = -1, hiId = -1;
   float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
   void run(float *const *v, float *) const override
   {
      const float a = loId >= 0 ? v[loId][0] : lo, b = hiId >= 0 ? v[hiId][0] : hi;
      std::memcpy(v[outputs[0]], v[inputs[0]], std::size_t(n) * sizeof(float));
      K().activate(v[outputs[0]], n, {ActKind::Clip, a, b});
   }
};

void opClip(NodeCtx &c)
{
   c.requireInputs(1, 3);
   c.requireFloat(0);
   auto k = std::make_unique<ClipKernel>();
   k->n = numel(c.shape(0));
   k->inputs = {c.id(0)};
   if (c.opset() < 11) {
      k->lo = c.attrFloat("min", k->lo);
      k->hi = c.attrFloat("max", k->hi);
   } else {
      for (std::size_t j = 1; j < 3; ++j) {
         if (!c.has(j))
            continue;
         c.requireFloat(j);
         if (c.carriesEvents(j))
            c.mixesEvents("its " + std::string(j == 1 ? "min" : "max") + " comes from the event data");
         if (numel(c.shape(j)) != 1)
            c.fail("min/max must be scalars, got " + shapeString(c.shape(j)));
         (j == 1 ? k->loId : k->hiId) = c.id(j);
         k->inputs.push_back(c.id(j));
      }
   }
   k->outputs = {c.runtime(0, c.shape(0))};
   c.emit(std::move(k));
}

enum class BinOp { Add, Sub, Mul, Div };

/// Runs a float binary op over a broadcast loop with the vector kernels on the inner runs.
void binaryRun(const BroadcastLoop &loop, const float *a, const float *b, float *y, int op)
{
   const std::size_t r = loop.dims.size();
   const int64_t inner = loop.dims[r - 1], ia = loop.strideA[r - 1], ib = loop.strideB[r - 1];
   int64_t outer = 1;
   for (std::size_t k = 0; k + 1 < r; ++k)
      outer *= loop.dims[k];
   if (outer == 0 || inner == 0)
      return;
   IndexBuf idx(r);
   int64_t offA = 0, offB = 0;
   const kernels::KernelTable &kt = K();
   for (int64_t o = 0; o < outer; ++o) {
      const float *pa = a + offA, *pb = b + offB;
      float *po = y + o * inner;
      if (ia == 1 && ib == 1) {
         kt.vectorOp(pa, pb, po, inner, op);
      } else if (ia == 1 && ib == 0) {
         kt.scalarOp(pa, pb[0], po, inner, op, false);
      } else if (ia == 0 && ib == 1) {
         kt.scalarOp(pb, pa[0], po, inner, op, true);
      } else {
         for (int64_t j = 0; j < inner; ++j) {
            const float p = pa[j * ia], q = pb[j * ib];
            po[j] = op == 0 ? p + q : op == 1 ? p - q : op == 2 ? p * q : p / q;
         }
      }
      for (std::size_t k = r - 1; k-- > 0;) { // odometer over the outer dims
         offA += loop.strideA[k];
         offB += loop.strideB[k];
         if (++idx[k] < loop.dims[k])
            break;
         offA -= loop.strideA[k] * loop.dims[k];
         offB -= loop.strideB[k] * loop.dims[k];
         idx[k] = 0;
      }
   }
}

struct BinaryKernel : Kernel {
   BroadcastLoop loop;
   BinOp op = BinOp::Add;
   void run(float *const *v, float *) const override
   {
      binaryRun(loop, v[inputs[0]], v[inputs[1]], v[outputs[0]], int(op));
   }
};

/// The values of a constant that varies along the last axis only (shape [K], [1, K], ...), with
/// K the last dimension of x; empty when it is not one.
/// Whether a constant of shape `s` combined elementwise with `x` applies one value per feature
/// (x's last axis) or one value to all, without changing x's shape: foldable into a MatMul.
bool perFeatureShape(const Shape &s, const Shape &x)
{
   if (x.empty() || s.size() > x.size())
      return false;
   const int64_t n = numel(s);
   return n == 1 || (s.back() == x.back() && n == x.back());
}

/// Input k as one value per feature of x (a single value repeated), or empty when it is not such a
/// float constant.
std::vector<float> lastAxisConstant(NodeCtx &c, std::size_t k, const Shape &x)
{
   if (!c.isConst(k) || c.in(k).type != DType::Float || !perFeatureShape(c.shape(k), x))
      return {};
   const std::vector<float> &v = *c.in(k).f;
   return v.size() == 1 ? std::vector<float>(std::size_t(x.back()), v[0]) : v;
}

/// Whether `name` is read by exactly one node, a MatMul or a (transA = 0) Gemm with a constant B,
/// as its A; `through` also allows one constant per-feature Add in between (x * s + o).
bool feedsConstantMatMul(NodeCtx &c, const std::string &name, bool through, const Shape &x)
{
   const Planner &pl = c.planner;
   if (pl.graphOutputs.count(name))
      return false;
   auto it = pl.consumers.find(name);
   if (it == pl.consumers.end() || it->second.size() != 1)
      return false;
   const proto::Node &n = pl.model.proto.graph.node[it->second[0]];
   if (through && n.opType == "Add" && n.input.size() == 2 && n.output.size() == 1) {
      const std::string &other = n.input[0] == name ? n.input[1] : n.input[0];
      auto bv = pl.byName.find(other);
      if (bv == pl.byName.end())
         return false;
      // the Add must fold too (foldAffine's own test), or the Mul folded away would be lost
      const Value &o = pl.plan->values[std::size_t(bv->second)];
      if (o.kind != Kind::Constant || o.type != DType::Float || !perFeatureShape(o.shape, x))
         return false;
      return feedsConstantMatMul(c, n.output[0], false, x);
   }
   if (n.input.size() < 2 || n.input[0] != name || n.input[1] == name)
      return false;
   if (n.opType == "Gemm") {
      const proto::Attribute *ta = n.findAttribute("transA"), *beta = n.findAttribute("beta");
      if ((ta && ta->i != 0) || (beta && beta->f != 1.f))
         return false;
      if (n.input.size() > 2 && !n.input[2].empty()) {
         auto cv = pl.byName.find(n.input[2]);
         if (cv == pl.byName.end() || pl.plan->values[std::size_t(cv->second)].kind != Kind::Constant)
            return false;
      }
   } else if (n.opType != "MatMul") {
      return false;
   }
   auto bv = pl.byName.find(n.input[1]);
   if (bv == pl.byName.end())
      return false;
   const Value &b = pl.plan->values[std::size_t(bv->second)];
   return b.kind == Kind::Constant && b.type == DType::Float && b.shape.size() == 2;
}

/// x * s or x + o with a per-feature constant, on its way into a MatMul with constant weights:
/// recorded for the MatMul to fold into its weights and bias (no run-time step).
bool foldAffine(NodeCtx &c, BinOp op, const Shape &out)
{
   if (op != BinOp::Mul && op != BinOp::Add)
      return false;
   for (std::size_t k = 0; k < 2; ++k) {
      const std::size_t xk = 1 - k;
      if (c.isConst(xk) || c.in(xk).type != DType::Float || c.shape(xk).size() < 2)
         continue;
      const Shape &xs = c.shape(xk);
      if (out != xs)
         continue;
      std::vector<float> v = lastAxisConstant(c, k, xs);
      if (v.empty())
         continue;
      const std::string &xname = c.node.input[xk];
      auto prev = c.planner.foldedAffine.find(xname);
      const bool chained = prev != c.planner.foldedAffine.end();
      if (!feedsConstantMatMul(c, c.node.output.at(0), op == BinOp::Mul, xs))
         return false;
      std::vector<float> scale(v.size(), 1.f), offset(v.size(), 0.f);
      if (chained) {
         scale = prev->second.first;
         offset = prev->second.second;
      }
      for (std::size_t j = 0; j < v.size(); ++j) {
         if (op == BinOp::Mul) {
            scale[j] *= v[j];
            offset[j] *= v[j];
         } else {
            offset[j] += v[j];
         }
      }
      c.planner.foldedAffine[c.node.output.at(0)] = {std::move(scale), std::move(offset)};
      c.alias(0, xk, xs);
      return true;
   }
   return false;
}

void planBinary(NodeCtx &c, BinOp op)
{
   c.requireInputs(2, 2);
   Shape out;
   BroadcastLoop loop;
   if (!BroadcastLoop::make(c.shape(0), c.shape(1), out, loop))
      c.fail("shapes " + shapeString(c.shape(0)) + " and " + shapeString(c.shape(1)) + " do not broadcast");
   for (std::size_t j = 0; j < 2; ++j)
      if (c.carriesEvents(j) && c.shape(j).size() < out.size())
         c.mixesEvents("input " + std::to_string(j) + " " + shapeString(c.shape(j)) + " broadcasts against " +
                       shapeString(c.shape(1 - j)) + ": its batch axis is no longer axis 0");
   const Value &a = c.in(0), &b = c.in(1);
   if (a.type == DType::Int64 || b.type == DType::Int64) { // load-time integer arithmetic (shape subgraphs)
      const std::vector<int64_t> x = c.ints(0, "operand"), y = c.ints(1, "operand");
      std::vector<int64_t> r(std::size_t(numel(out)));
      bool divZero = false, overflow = false; // both undefined in C++ (INT64_MIN / -1 traps)
      switch (op) {
      case BinOp::Add:
         broadcastApply(loop, x.data(), y.data(), r.data(), [&](int64_t p, int64_t q) {
            int64_t z = 0;
            overflow = __builtin_add_overflow(p, q, &z) || overflow;
            return z;
         });
         break;
      case BinOp::Sub:
         broadcastApply(loop, x.data(), y.data(), r.data(), [&](int64_t p, int64_t q) {
            int64_t z = 0;
            overflow = __builtin_sub_overflow(p, q, &z) || overflow;
            return z;
         });
         break;
      case BinOp::Mul:
         broadcastApply(loop, x.data(), y.data(), r.data(), [&](int64_t p, int64_t q) {
            int64_t z = 0;
            overflow = __builtin_mul_overflow(p, q, &z) || overflow;
            return z;
         });
         break;
      case BinOp::Div:
         broadcastApply(loop, x.data(), y.data(), r.data(), [&](int64_t p, int64_t q) {
            divZero = divZero || q == 0;
            const bool wraps = q == -1 && p == std::numeric_limits<int64_t>::min();
            overflow = overflow || wraps;
            return q == 0 || wraps ? 0 : p / q;
         });
         break;
      }
      if (divZero)
         c.fail("integer division by zero");
      if (overflow)
         c.fail("integer arithmetic on " + shapeString(c.shape(0)) + " and " + shapeString(c.shape(1)) +
                " overflows int64");
      c.constantI(0, out, std::move(r));
      return;
   }
   if (foldAffine(c, op, out))
      return;
   auto k = std::make_unique<BinaryKernel>();
   k->loop = loop;
   k->op = op;
   k->inputs = {c.id(0), c.id(1)};
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

void opAdd(NodeCtx &c)
{
   planBinary(c, BinOp::Add);
}
void opSub(NodeCtx &c)
{
   planBinary(c, BinOp::Sub);
}
void opMul(NodeCtx &c)
{
   planBinary(c, BinOp::Mul);
}
void opDiv(NodeCtx &c)
{
   planBinary(c, BinOp::Div);
}

// ====================================================================== MatMul, Gemm
struct MatMulKernel : Kernel {
   int64_t M = 0, N = 0, Kd = 0;
   int64_t sAm = 0, sAk = 1, sBk = 0, sBn = 1;
   float alpha = 1.f;
   std::vector<int64_t> aOff, bOff; ///< per batch matrix
   std::vector<float> bias;         ///< fused, per column
   std::vector<float> bPacked;      ///< constant B packed at plan time (kernels::gemmPackB)
   std::vector<float> bOwned;       ///< constant B with a per-feature scale folded in
   Activation act;
   // Gemm with a general C: Y = beta * C (broadcast) first, then accumulate
   int cId = -1;
   float beta = 1.f;
   BroadcastLoop cLoop;
   void run(float *const *v, float *ws) const override
   {
      const float *A = v[inputs[0]], *B = bOwned.empty() ? v[inputs[1]] : bOwned.data();
      float *Y = v[outputs[0]];
      if (cId >= 0) {
         const float beta_ = beta;
         static const float zero = 0.f;
         broadcastApply(cLoop, v[cId], &zero, Y, [beta_](float p, float) { return beta_ * p; });
      }
      for (std::size_t b = 0; b < aOff.size(); ++b) {
         kernels::GemmArgs g;
         g.M = M;
         g.N = N;
         g.K = Kd;
         g.A = A + aOff[b];
         g.sAm = sAm;
         g.sAk = sAk;
         g.B = B + bOff[b];
         g.sBk = sBk;
         g.sBn = sBn;
         g.Bpacked = bPacked.empty() ? nullptr : bPacked.data();
         g.C = Y + int64_t(b) * M * N;
         g.ldc = N;
         g.alpha = alpha;
         g.accumulate = cId >= 0;
         g.colBias = bias.empty() ? nullptr : bias.data();
         g.act = act;
         K().gemm(g, ws);
      }
   }
};

/// y = act(x W + b) for a few rows with a constant W padded to whole vectors (kernels::dense):
/// the per-event path of MLPs.
struct DenseKernel : Kernel {
   int64_t M = 0, Kd = 0, N = 0, Npad = 0;
   std::vector<float> W, b; ///< Kd x Npad, Npad
   Activation act;
   decltype(kernels::KernelTable::dense) fn = K().dense;
   void run(float *const *v, float *) const override
   {
      fn(v[inputs[0]], M, Kd, Kd, W.data(), Npad, b.data(), N, v[outputs[0]], N, act);
   }
};

/// Consecutive dense layers fused into one step (fuseDenseChains): all weights and biases in one
/// contiguous block, one call per event, intermediate rows in the workspace.
struct DenseChainKernel : Kernel {
   int64_t M = 0, ldy = 0;
   int64_t wsRow = 0; ///< floats of each of the two hidden rows in the workspace (widest hidden Npad)
   std::vector<float> params;
   std::vector<kernels::DenseLayer> layers; ///< W and b point into params
   decltype(kernels::KernelTable::denseChain) fn = K().denseChain;
   void run(float *const *v, float *ws) const override
   {
      fn(v[inputs[0]], M, layers.front().K, layers.data(), int64_t(layers.size()), ws, wsRow, v[outputs[0]], ldy);
   }
};

/// The constant B of a MatMul/Gemm kernel, element (k, j).
float constantB(NodeCtx &c, const MatMulKernel &k, int64_t kk, int64_t j)
{
   const float *b = k.bOwned.empty() ? c.in(1).f->data() + k.bOff[0] : k.bOwned.data();
   return b[kk * k.sBk + j * k.sBn];
}

/// Folds a per-feature affine map recorded for A (foldAffine) into the constant B and the bias.
void absorbAffine(NodeCtx &c, MatMulKernel &k)
{
   auto it = c.planner.foldedAffine.find(c.node.input[0]);
   if (it == c.planner.foldedAffine.end())
      return;
   const std::vector<float> &scale = it->second.first, &offset = it->second.second;
   if (!c.isConst(1) || k.bOff.size() != 1 || int64_t(scale.size()) != k.Kd || k.cId >= 0)
      c.fail("internal: a folded per-feature scale meets a MatMul it cannot absorb");
   std::vector<double> shift(std::size_t(k.N), 0.0);
   std::vector<float> w(std::size_t(k.Kd * k.N));
   for (int64_t kk = 0; kk < k.Kd; ++kk)
      for (int64_t j = 0; j < k.N; ++j) {
         const float bkj = constantB(c, k, kk, j);
         w[std::size_t(kk * k.N + j)] = scale[std::size_t(kk)] * bkj;
         shift[std::size_t(j)] += double(offset[std::size_t(kk)]) * double(bkj);
      }
   k.bOwned = std::move(w);
   k.sBk = k.N;
   k.sBn = 1;
   k.bOff = {0};
   if (k.bias.empty())
      k.bias.assign(std::size_t(k.N), 0.f);
   for (int64_t j = 0; j < k.N; ++j)
      k.bias[std::size_t(j)] = float(double(k.bias[std::size_t(j)]) + double(k.alpha) * shift[std::size_t(j)]);
}

void absorbFlattenTranspose(NodeCtx &c, MatMulKernel &k);

/// Emits a planned MatMul/Gemm: the dense kernel for a few rows and constant weights, else the
/// GEMM, with a constant B packed once at plan time when the GEMM is tall enough to use it.
void emitMatMul(NodeCtx &c, std::unique_ptr<MatMulKernel> k, const Shape &out)
{
   absorbFlattenTranspose(c, *k);
   absorbAffine(c, *k);
   const bool constB = c.isConst(1) && k->bOff.size() == 1;
   if (constB && k->M <= 4 && k->cId < 0 && k->alpha == 1.f) {
      auto d = std::make_unique<DenseKernel>();
      d->M = k->M;
      d->Kd = k->Kd;
      d->N = k->N;
      d->Npad = (k->N + 15) / 16 * 16;
      d->W.assign(std::size_t(d->Kd * d->Npad), 0.f);
      for (int64_t kk = 0; kk < d->Kd; ++kk)
         for (int64_t j = 0; j < d->N; ++j)
            d->W[std::size_t(kk * d->Npad + j)] = constantB(c, *k, kk, j);
      d->b.assign(std::size_t(d->Npad), 0.f);
      for (std::size_t j = 0; j < k->bias.size(); ++j)
         d->b[j] = k->bias[j];
      d->act = k->act;
      d->inputs = {k->inputs[0]};
      d->outputs = {c.runtime(0, out)};
      c.emit(std::move(d));
      return;
   }
   if (constB && k->M > 4) {
      const float *b = k->bOwned.empty() ? c.in(1).f->data() + k->bOff[0] : k->bOwned.data();
      k->bPacked.resize(K().gemmPackedBSize(k->Kd, k->N));
      K().gemmPackB(b, k->Kd, k->N, k->sBk, k->sBn, k->bPacked.data());
   }
   k->workspace = K().gemmWorkspace(k->M, k->N, k->Kd);
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

void opMatMul(NodeCtx &c)
{
   c.requireInputs(2, 2);
   c.requireFloat(0);
   c.requireFloat(1);
   Shape a = c.shape(0), b = c.shape(1);
   if (a.empty() || b.empty())
      c.fail("operands must have rank >= 1");
   const bool aVec = a.size() == 1, bVec = b.size() == 1;
   if (aVec)
      a.insert(a.begin(), 1);
   if (bVec)
      b.push_back(1);
   const int64_t M = a[a.size() - 2], Kd = a.back(), N = b.back();
   if (b[b.size() - 2] != Kd)
      c.fail("inner dimensions differ: " + shapeString(c.shape(0)) + " x " + shapeString(c.shape(1)));
   const Shape aBatch(a.begin(), a.end() - 2), bBatch(b.begin(), b.end() - 2);
   Shape batch;
   BroadcastLoop unused;
   if (!BroadcastLoop::make(aBatch, bBatch, batch, unused))
      c.fail("batch dimensions " + shapeString(aBatch) + " and " + shapeString(bBatch) + " do not broadcast");
   Shape out = batch;
   if (!aVec)
      out.push_back(M);
   if (!bVec)
      out.push_back(N);
   if (c.carriesEvents(0) && (aVec || c.shape(0).size() < out.size()))
      c.mixesEvents("A " + shapeString(c.shape(0)) + " x B " + shapeString(c.shape(1)) +
                    " contracts or broadcasts the batch axis of A");
   if (c.carriesEvents(1) && (c.shape(1).size() <= 2 || c.shape(1).size() < out.size()))
      c.mixesEvents("A " + shapeString(c.shape(0)) + " x B " + shapeString(c.shape(1)) +
                    " contracts or broadcasts the batch axis of B");
   auto k = std::make_unique<MatMulKernel>();
   k->M = M;
   k->N = N;
   k->Kd = Kd;
   k->sAm = Kd;
   k->sAk = 1;
   k->sBk = N;
   k->sBn = 1;
   // batch offsets (broadcast); a 2-D B shared by all batch matrices of A: one tall GEMM
   const int64_t nb = numel(batch);
   if (bBatch.empty() || numel(bBatch) == 1) {
      if (numel(aBatch) == nb) {
         k->M = M * nb;
         k->aOff = {0};
         k->bOff = {0};
      }
   }
   if (k->aOff.empty()) {
      const std::size_t r = batch.size();
      Shape ea(r, 1), eb(r, 1);
      std::copy(aBatch.begin(), aBatch.end(), ea.begin() + long(r - aBatch.size()));
      std::copy(bBatch.begin(), bBatch.end(), eb.begin() + long(r - bBatch.size()));
      const Shape sa = stridesOf(ea), sb = stridesOf(eb), so = stridesOf(batch);
      for (int64_t i = 0; i < nb; ++i) {
         int64_t rem = i, oa = 0, ob = 0;
         for (std::size_t d = 0; d < r; ++d) {
            const int64_t idx = rem / so[d];
            rem %= so[d];
            oa += (ea[d] == 1 ? 0 : idx) * sa[d];
            ob += (eb[d] == 1 ? 0 : idx) * sb[d];
         }
         k->aOff.push_back(oa * M * Kd);
         k->bOff.push_back(ob * Kd * N);
      }
   }
   const Planner::Epilogue e = c.planner.fuse(c.node, int64_t(out.size()), int64_t(out.size()) - 1, N);
   c.renameOutput(0, e.outName);
   k->bias = e.bias;
   k->act = e.act;
   k->inputs = {c.id(0), c.id(1)};
   emitMatMul(c, std::move(k), out);
}

void opGemm(NodeCtx &c)
{
   c.requireInputs(2, 3);
   c.requireFloat(0);
   c.requireFloat(1);
   const Shape &a = c.shape(0), &b = c.shape(1);
   if (a.size() != 2 || b.size() != 2)
      c.fail("A and B must be matrices, got " + shapeString(a) + " and " + shapeString(b));
   const bool tA = c.attrInt("transA", 0) != 0, tB = c.attrInt("transB", 0) != 0;
   if (c.carriesEvents(0) && tA)
      c.mixesEvents("transA = 1 contracts the batch axis of A");
   if (c.carriesEvents(1))
      c.mixesEvents("B comes from the event data (its batch axis is contracted or spread over rows)");
   if (c.carriesEvents(2) && c.shape(2).size() != 2)
      c.mixesEvents("C " + shapeString(c.shape(2)) + " from the event data broadcasts over the rows of A");
   const int64_t M = tA ? a[1] : a[0], Kd = tA ? a[0] : a[1];
   const int64_t Kb = tB ? b[1] : b[0], N = tB ? b[0] : b[1];
   if (Kd != Kb)
      c.fail("inner dimensions differ: " + shapeString(a) + (tA ? "^T" : "") + " x " + shapeString(b) +
             (tB ? "^T" : ""));
   auto k = std::make_unique<MatMulKernel>();
   k->M = M;
   k->N = N;
   k->Kd = Kd;
   k->sAm = tA ? 1 : a[1];
   k->sAk = tA ? a[1] : 1;
   k->sBk = tB ? 1 : b[1];
   k->sBn = tB ? b[1] : 1;
   k->alpha = c.attrFloat("alpha", 1.f);
   k->beta = c.attrFloat("beta", 1.f);
   k->aOff = {0};
   k->bOff = {0};
   k->inputs = {c.id(0), c.id(1)};
   bool cAsBias = false;
   if (c.has(2)) {
      c.requireFloat(2);
      const Shape &cs = c.shape(2);
      Shape out;
      BroadcastLoop loop;
      if (!BroadcastLoop::make(cs, {M, N}, out, loop) || out != Shape{M, N})
         c.fail("C of shape " + shapeString(cs) + " does not broadcast to " + shapeString({M, N}));
      if (c.isConst(2) && k->beta == 1.f && numel(cs) == N && (cs.empty() ? N == 1 : cs.back() == N)) {
         k->bias = c.floats(2, "bias");
         cAsBias = true;
      } else {
         // Y = beta * C first: iterate [M, N] with C's (broadcast) strides
         BroadcastLoop l2;
         Shape ce(2, 1);
         for (std::size_t j = 0; j < cs.size(); ++j)
            ce[2 - cs.size() + j] = cs[j];
         const Shape cst = stridesOf(ce);
         l2.dims = {M, N};
         l2.strideA = {ce[0] == 1 ? 0 : cst[0], ce[1] == 1 ? 0 : cst[1]};
         l2.strideB = {0, 0};
         k->cLoop = l2;
         k->cId = c.id(2);
         k->inputs.push_back(c.id(2));
      }
   }
   if (k->cId < 0) {
      const Planner::Epilogue e = c.planner.fuse(c.node, 2, 1, N);
      c.renameOutput(0, e.outName);
      if (!e.bias.empty()) {
         if (cAsBias)
            for (int64_t j = 0; j < N; ++j)
               k->bias[std::size_t(j)] += e.bias[std::size_t(j)];
         else
            k->bias = e.bias;
      }
      k->act = e.act;
   }
   if (!k->bias.empty() && int64_t(k->bias.size()) != N)
      k->bias.assign(std::size_t(N), k->bias[0]);
   emitMatMul(c, std::move(k), {M, N});
}

// ===================================================================== convolution
struct ConvGeometry {
   int64_t nd = 0;
   Shape in, out, kernel, stride, dil, padBegin, padEnd;
};

/// Pads, strides, dilations and output size of Conv / MaxPool (ONNX auto_pad rules), every
/// attribute checked against the spec's ranges and the input's rank first. `padsBelowKernel`:
/// MaxPool's rule that a pad be smaller than the kernel (a window of padding only has no maximum).
ConvGeometry convGeometry(NodeCtx &c, const Shape &inSpatial, const Shape &kernel, bool ceilMode,
                          const Shape *extraBegin = nullptr, const Shape *extraEnd = nullptr,
                          bool padsBelowKernel = false)
{
   ConvGeometry g;
   g.nd = int64_t(inSpatial.size());
   const std::size_t nd = std::size_t(g.nd);
   const std::string dims = std::to_string(nd) + " spatial dimensions of X";
   g.in = inSpatial;
   g.kernel = kernel;
   g.stride = c.attrInts("strides", Shape(nd, 1));
   g.dil = c.attrInts("dilations", Shape(nd, 1));
   const Shape pads = c.attrInts("pads", Shape(2 * nd, 0));
   requireLength(c, "kernel_shape", kernel, nd, dims);
   requireLength(c, "strides", g.stride, nd, dims);
   requireLength(c, "dilations", g.dil, nd, dims);
   requireLength(c, "pads", pads, 2 * nd, "begin and end of the " + dims);
   requireAtLeast(c, "kernel_shape", kernel, 1);
   requireAtLeast(c, "strides", g.stride, 1);
   requireAtLeast(c, "dilations", g.dil, 1);
   requireAtLeast(c, "pads", pads, 0);
   const std::string autoPad = c.attrString("auto_pad", "NOTSET"); // value and pads: Schema.cxx
   if (padsBelowKernel && autoPad == "NOTSET")
      for (std::size_t k = 0; k < 2 * nd; ++k)
         if (pads[k] >= kernel[k % nd])
            c.fail(quoted("pads", pads) + ": entry " + std::to_string(k) + " is " + std::to_string(pads[k]) +
                   ", expected < kernel_shape[" + std::to_string(k % nd) + "] = " + std::to_string(kernel[k % nd]) +
                   " (a window over padding only has no maximum)");
   g.padBegin.assign(pads.begin(), pads.begin() + g.nd);
   g.padEnd.assign(pads.begin() + g.nd, pads.end());
   if (extraBegin && extraEnd) { // a zero Pad folded into this node (opPad)
      if (autoPad != "NOTSET" && autoPad != "VALID")
         c.fail("internal: a folded Pad meets auto_pad " + autoPad);
      if (autoPad == "VALID")
         std::fill(g.padBegin.begin(), g.padBegin.end(), 0), std::fill(g.padEnd.begin(), g.padEnd.end(), 0);
      for (std::size_t d = 0; d < nd; ++d) {
         g.padBegin[d] += (*extraBegin)[d];
         g.padEnd[d] += (*extraEnd)[d];
      }
   }
   if ((autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") &&
       std::any_of(g.dil.begin(), g.dil.end(), [](int64_t x) { return x != 1; }))
      c.fail("attribute 'auto_pad' = '" + autoPad + "' with " + quoted("dilations", g.dil) +
             " is not supported (onnxruntime refuses it for Conv and sizes MaxPool otherwise than the spec)");
   g.out.resize(nd);
   for (std::size_t d = 0; d < nd; ++d) {
      if (kernel[d] > (int64_t(1) << 31) || g.stride[d] > (int64_t(1) << 31) || g.dil[d] > (int64_t(1) << 31) ||
          g.padBegin[d] > (int64_t(1) << 31) || g.padEnd[d] > (int64_t(1) << 31))
         c.fail("kernel_shape/strides/dilations/pads entry beyond 2^31 in dimension " + std::to_string(d));
      const int64_t ext = (kernel[d] - 1) * g.dil[d] + 1;
      if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
         g.out[d] = (g.in[d] + g.stride[d] - 1) / g.stride[d];
         const int64_t total = std::max<int64_t>(0, (g.out[d] - 1) * g.stride[d] + ext - g.in[d]);
         g.padBegin[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
         g.padEnd[d] = total - g.padBegin[d];
         continue;
      }
      if (autoPad == "VALID" && !extraBegin)
         g.padBegin[d] = g.padEnd[d] = 0;
      const int64_t span = g.in[d] + g.padBegin[d] + g.padEnd[d] - ext;
      if (span < 0)
         c.fail("kernel " + shapeString(kernel) + " (dilations " + shapeString(g.dil) +
                ") is larger than the padded input " + shapeString(inSpatial));
      g.out[d] = (ceilMode ? (span + g.stride[d] - 1) / g.stride[d] : span / g.stride[d]) + 1;
      if (ceilMode && (g.out[d] - 1) * g.stride[d] >= g.in[d] + g.padBegin[d])
         --g.out[d]; // the last window must start inside the input or its left padding
   }
   if (padsBelowKernel) // MaxPool: with dilations, pads < kernel still let a window miss the input
      for (std::size_t d = 0; d < nd; ++d)
         for (int64_t o = 0; o < g.out[d]; ++o) {
            bool hits = false;
            for (int64_t k = 0; k < kernel[d] && !hits; ++k) {
               const int64_t i = o * g.stride[d] - g.padBegin[d] + k * g.dil[d];
               hits = i >= 0 && i < g.in[d];
            }
            if (!hits)
               c.fail("output " + std::to_string(o) + " along spatial dimension " + std::to_string(d) +
                      " pools padding only (kernel_shape " + shapeString(kernel) + ", dilations " + shapeString(g.dil) +
                      ", pads " + shapeString(pads) + "): it has no maximum");
         }
   return g;
}

/// im2col for any number of spatial dims: col[(ci, k...)][o...].
void im2col(const float *x, int64_t channels, const ConvGeometry &g, float *col)
{
   const int64_t nd = g.nd;
   const int64_t outSize = numel(g.out), kSize = numel(g.kernel), inSize = numel(g.in);
   if (nd == 2) {
      const int64_t H = g.in[0], W = g.in[1], Ho = g.out[0], Wo = g.out[1];
      for (int64_t ci = 0; ci < channels; ++ci)
         for (int64_t ki = 0; ki < g.kernel[0]; ++ki)
            for (int64_t kj = 0; kj < g.kernel[1]; ++kj) {
               float *dst = col + ((ci * g.kernel[0] + ki) * g.kernel[1] + kj) * outSize;
               const float *src = x + ci * inSize;
               for (int64_t oh = 0; oh < Ho; ++oh) {
                  const int64_t ih = oh * g.stride[0] - g.padBegin[0] + ki * g.dil[0];
                  float *d = dst + oh * Wo;
                  if (ih < 0 || ih >= H) {
                     std::fill(d, d + Wo, 0.f);
                     continue;
                  }
                  const float *s = src + ih * W;
                  for (int64_t ow = 0; ow < Wo; ++ow) {
                     const int64_t iw = ow * g.stride[1] - g.padBegin[1] + kj * g.dil[1];
                     d[ow] = (iw >= 0 && iw < W) ? s[iw] : 0.f;
                  }
               }
            }
      return;
   }
   Shape kIdx = Shape(std::size_t(nd)), oIdx = Shape(std::size_t(nd));
   const Shape inStr = stridesOf(g.in);
   for (int64_t ci = 0; ci < channels; ++ci)
      for (int64_t kf = 0; kf < kSize; ++kf) {
         int64_t rem = kf;
         for (int64_t d = nd; d-- > 0;) {
            kIdx[std::size_t(d)] = rem % g.kernel[std::size_t(d)];
            rem /= g.kernel[std::size_t(d)];
         }
         float *dst = col + (ci * kSize + kf) * outSize;
         for (int64_t of = 0; of < outSize; ++of) {
            int64_t r2 = of, off = 0;
            bool inside = true;
            for (int64_t d = nd; d-- > 0;) {
               const std::size_t u = std::size_t(d);
               oIdx[u] = r2 % g.out[u];
               r2 /= g.out[u];
               const int64_t i = oIdx[u] * g.stride[u] - g.padBegin[u] + kIdx[u] * g.dil[u];
               inside = inside && i >= 0 && i < g.in[u];
               off += i * inStr[u];
            }
            dst[of] = inside ? x[ci * inSize + off] : 0.f;
         }
      }
}

/// The index of the node reading `name` when it is its only reader and a MaxPool with a 2 x 2
/// kernel, stride 2, no padding, no dilation, floor mode and no Indices output (kernels'
/// maxPool2x2); -1 otherwise.
int64_t pool2x2Reader(NodeCtx &c, const std::string &name)
{
   const Planner &pl = c.planner;
   if (pl.graphOutputs.count(name))
      return -1;
   auto it = pl.consumers.find(name);
   if (it == pl.consumers.end() || it->second.size() != 1)
      return -1;
   const proto::Node &n = pl.model.proto.graph.node[it->second[0]];
   if (n.opType != "MaxPool" || n.input.size() != 1 || n.output.size() > 1)
      return -1;
   auto ints = [&](const char *a, Shape fallback) {
      const proto::Attribute *p = n.findAttribute(a);
      return p ? p->ints : fallback;
   };
   auto intv = [&](const char *a) {
      const proto::Attribute *p = n.findAttribute(a);
      return p ? p->i : int64_t(0);
   };
   const proto::Attribute *ap = n.findAttribute("auto_pad");
   const bool fits = ints("kernel_shape", {}) == Shape{2, 2} && ints("strides", {1, 1}) == Shape{2, 2} &&
                     ints("pads", {0, 0, 0, 0}) == Shape{0, 0, 0, 0} && ints("dilations", {1, 1}) == Shape{1, 1} &&
                     intv("ceil_mode") == 0 && intv("storage_order") == 0 &&
                     (!ap || ap->s.empty() || ap->s == "NOTSET" || ap->s == "VALID");
   return fits ? int64_t(it->second[0]) : -1;
}

kernels::Window2d window2dOf(const ConvGeometry &g)
{
   return kernels::window2d(g.in[0], g.in[1], g.out[0], g.out[1], g.kernel[0], g.kernel[1], g.stride[0], g.stride[1],
                            g.dil[0], g.dil[1], g.padBegin[0], g.padBegin[1]);
}

std::vector<int64_t> tapOffsets(const kernels::Window2d &w)
{
   std::vector<int64_t> off;
   for (int64_t ki = 0; ki < w.kh; ++ki)
      for (int64_t kj = 0; kj < w.kw; ++kj)
         off.push_back(kernels::tapOffset(w, ki, kj));
   return off;
}

struct ConvKernel : Kernel {
   ConvGeometry g;
   int64_t N = 0, Cin = 0, Cout = 0, group = 1;
   std::vector<float> bias; ///< fused (bias input and/or following Add)
   int biasId = -1;         ///< run-time bias input (no fusion)
   Activation act;
   bool depthwise = false, pointwise = false;
   /// 2-D windows on phase planes (Kernels.h): the GEMM reads its K rows (ci, ki, kj) from
   /// the phase planes of the input channels through bRows, no im2col buffer.
   bool windowed = false;
   /// no padding, unit strides and dilations: the phase plane of a channel is the channel
   /// itself (Wq = W), and the GEMM reads its rows in place, stopping at the last row's Wo
   /// valid columns so that no read leaves the plane
   bool direct = false;
   /// A 2 x 2 / stride 2 MaxPool read this output alone (pool2x2Reader) and is absorbed: each
   /// event's convolution goes to scratch in the wide layout [C, Ho, Wq] (cache-resident) and
   /// only the pooled [C, Ho/2, Wo/2] is written out -- a quarter of the traffic, no second pass
   /// over a batch-sized tensor.
   bool fusePool = false;
   kernels::Window2d poolWin;   ///< the pool on one wide channel (W = Wq)
   std::size_t poolScratch = 0; ///< offset in the workspace of the per-event wide output
   kernels::Window2d win;
   std::vector<int32_t> bRows;
   std::vector<int64_t> taps;  ///< tapOffset of each (ki, kj)
   std::vector<float> aPacked; ///< constant W packed per group at plan time (kernels::gemmPackA)
   std::vector<float> wOwned;  ///< W with a fused per-channel scale
   int64_t aPackedStride = 0;
   void run(float *const *v, float *ws) const override
   {
      const float *X = v[inputs[0]], *W = wOwned.empty() ? v[inputs[1]] : wOwned.data();
      float *Y = v[outputs[0]];
      const float *B = biasId >= 0 ? v[biasId] : (bias.empty() ? nullptr : bias.data());
      const int64_t cig = Cin / group, cog = Cout / group;
      const int64_t inSize = numel(g.in), outSize = numel(g.out), kSize = numel(g.kernel);
      const kernels::KernelTable &kt = K();
      const int64_t wideSize = win.Ho * win.Wq, pooledSize = poolWin.Ho * poolWin.Wo;
      for (int64_t n = 0; n < N; ++n) {
         const float *x = X + n * Cin * inSize;
         float *y = fusePool ? ws + poolScratch : Y + n * Cout * outSize;
         if (depthwise) {
            for (int64_t oc = 0; oc < Cout; ++oc) {
               kernels::DepthwiseArgs d;
               d.x = x + (oc / cog) * inSize;
               d.w = W + oc * kSize;
               d.bias = B ? B[oc] : 0.f;
               d.y = y + oc * outSize;
               d.win = win;
               d.offsets = taps.data();
               d.act = act;
               d.scratch = ws;
               d.bordersReady = n > 0 || oc > 0;
               kt.depthwise2d(d);
            }
            continue;
         }
         for (int64_t gi = 0; gi < group; ++gi) {
            const float *xg = x + gi * cig * inSize;
            kernels::GemmArgs a;
            a.M = cog;
            a.N = outSize;
            a.K = cig * kSize;
            a.A = W + gi * cog * cig * kSize;
            a.sAm = cig * kSize;
            a.sAk = 1;
            a.B = xg;
            a.sBk = outSize;
            a.sBn = 1;
            a.C = y + gi * cog * outSize;
            a.ldc = outSize;
            a.rowBias = B ? B + gi * cog : nullptr;
            a.act = act;
            if (!aPacked.empty())
               a.Apacked = aPacked.data() + gi * aPackedStride;
            float *gemmWs = ws;
            float *wide = nullptr;
            if (windowed) {
               a.bRows = bRows.data();
               if (direct) { // rows straight from the input planes (see opConv)
                  a.B = xg;
                  a.N = win.Ho * win.Wq - (win.Wq - win.Wo);
               } else {
                  const int64_t pf = kernels::phaseFloats(win);
                  for (int64_t ci = 0; ci < cig; ++ci)
                     kt.phaseSplit(xg + ci * inSize, win, 0.f, ws + ci * pf, n == 0 && gi == 0);
                  a.B = ws;
                  a.N = win.Ho * win.Wq;
                  gemmWs = ws + cig * pf;
               }
               if (fusePool) { // the wide layout is what the pool reads
                  a.C = y + gi * cog * wideSize;
                  a.ldc = wideSize;
               } else if (win.Wq != win.Wo) { // GEMM into the wide layout, then compact each channel
                  wide = gemmWs;
                  gemmWs += cog * a.N;
                  a.C = wide;
                  a.ldc = a.N;
               }
            } else if (!pointwise) {
               im2col(xg, cig, g, ws);
               a.B = ws;
               gemmWs = ws + cig * kSize * outSize;
            }
            kt.gemm(a, gemmWs);
            if (wide)
               for (int64_t oc = 0; oc < cog; ++oc)
                  kt.compactRows(wide + oc * a.N, win, y + (gi * cog + oc) * outSize);
         }
         if (fusePool)
            for (int64_t oc = 0; oc < Cout; ++oc)
               kt.maxPool2d(y + oc * wideSize, poolWin, nullptr, Y + (n * Cout + oc) * pooledSize, nullptr, true);
      }
   }
};

void opConv(NodeCtx &c)
{
   c.requireInputs(2, 3);
   c.requireFloat(0);
   c.requireFloat(1);
   const Shape &xs = c.shape(0), &ws = c.shape(1);
   if (xs.size() < 3 || ws.size() != xs.size())
      c.fail("X " + shapeString(xs) + " and W " + shapeString(ws) + " must both be N x C x spatial");
   auto k = std::make_unique<ConvKernel>();
   k->N = xs[0];
   k->Cin = xs[1];
   k->Cout = ws[0];
   k->group = c.attrInt("group", 1);
   if (k->group < 1 || k->Cin % k->group || k->Cout % k->group || ws[1] != k->Cin / k->group)
      c.fail("group " + std::to_string(k->group) + " does not fit X " + shapeString(xs) + " and W " + shapeString(ws));
   const Shape kernel = c.attrInts("kernel_shape", Shape(ws.begin() + 2, ws.end()));
   if (kernel != Shape(ws.begin() + 2, ws.end()))
      c.fail(quoted("kernel_shape", kernel) + " differs from the spatial dimensions of W " + shapeString(ws));
   const auto folded = c.planner.foldedPads.find(c.node.input[0]);
   if (folded != c.planner.foldedPads.end())
      k->g = convGeometry(c, Shape(xs.begin() + 2, xs.end()), kernel, false, &folded->second.first,
                          &folded->second.second);
   else
      k->g = convGeometry(c, Shape(xs.begin() + 2, xs.end()), kernel, false);
   Shape out = {k->N, k->Cout};
   out.insert(out.end(), k->g.out.begin(), k->g.out.end());
   k->inputs = {c.id(0), c.id(1)};
   if (c.carriesEvents(1) || c.carriesEvents(2))
      c.mixesEvents(std::string(c.carriesEvents(1) ? "the weights W" : "the bias B") + " come from the event data");
   bool canFuse = true;
   if (c.has(2)) {
      c.requireFloat(2);
      if (c.shape(2) != Shape{k->Cout})
         c.fail("bias B has shape " + shapeString(c.shape(2)) + ", expected [" + std::to_string(k->Cout) + "]");
      if (c.isConst(2)) {
         k->bias = c.floats(2, "bias");
      } else {
         k->biasId = c.id(2);
         k->inputs.push_back(c.id(2));
         canFuse = false;
      }
   }
   if (canFuse) {
      const Planner::Epilogue e = c.planner.fuse(c.node, int64_t(out.size()), 1, k->Cout, c.isConst(1));
      c.renameOutput(0, e.outName);
      if (!e.scale.empty()) { // (conv + b) * s = conv with W * s, plus b * s
         const std::vector<float> &w = *c.in(1).f;
         const std::size_t per = w.size() / std::size_t(k->Cout);
         k->wOwned.resize(w.size());
         for (std::size_t i = 0; i < w.size(); ++i)
            k->wOwned[i] = w[i] * e.scale[i / per];
         for (std::size_t j = 0; j < k->bias.size(); ++j)
            k->bias[j] *= e.scale[j];
      }
      if (!e.bias.empty()) {
         if (k->bias.empty())
            k->bias.assign(std::size_t(k->Cout), 0.f);
         for (std::size_t j = 0; j < k->bias.size(); ++j)
            k->bias[j] += e.bias[j];
      }
      k->act = e.act;
   }
   const int64_t cig = k->Cin / k->group, cog = k->Cout / k->group;
   k->depthwise = k->g.nd == 2 && cig == 1;
   bool unit = true;
   for (int64_t d = 0; d < k->g.nd; ++d) {
      const std::size_t u = std::size_t(d);
      unit = unit && k->g.kernel[u] == 1 && k->g.stride[u] == 1 && k->g.padBegin[u] == 0 && k->g.padEnd[u] == 0;
   }
   k->pointwise = unit;
   k->windowed = k->g.nd == 2 && (!unit || k->depthwise);
   const int64_t outSize = numel(k->g.out), kSize = numel(kernel);
   if (k->windowed) {
      k->win = window2dOf(k->g);
      k->taps = tapOffsets(k->win);
      if (k->depthwise) {
         k->workspace = std::size_t(kernels::windowWorkspace(k->win));
      } else {
         const kernels::Window2d &w = k->win;
         k->direct = w.sh == 1 && w.sw == 1 && w.dh == 1 && w.dw == 1 && k->g.padBegin[0] == 0 &&
                     k->g.padBegin[1] == 0 && k->g.padEnd[0] == 0 && k->g.padEnd[1] == 0 && w.Wq == w.W && w.Hq == w.H;
         const int64_t inSize = numel(k->g.in);
         const int64_t pf = k->direct ? inSize : kernels::phaseFloats(w), wideN = w.Ho * w.Wq;
         if (cig * pf > std::numeric_limits<int32_t>::max())
            c.fail("input " + shapeString(xs) + " is too large for the convolution kernels");
         for (int64_t ci = 0; ci < cig; ++ci)
            for (int64_t ki = 0; ki < k->g.kernel[0]; ++ki)
               for (int64_t kj = 0; kj < k->g.kernel[1]; ++kj)
                  k->bRows.push_back(int32_t(ci * pf + kernels::tapOffset(w, ki, kj)));
         k->workspace = std::size_t((k->direct ? 0 : cig * pf) + (w.Wq != w.Wo ? cog * wideN : 0)) +
                        K().gemmWorkspace(cog, wideN, cig * kSize);
      }
   } else if (!k->depthwise) {
      k->workspace = (unit ? 0 : std::size_t(cig * kSize * outSize)) + K().gemmWorkspace(cog, outSize, cig * kSize);
   } else {
      c.fail("internal: depthwise convolution without a 2-D window");
   }
   if (!k->depthwise && c.isConst(1)) {
      const std::vector<float> &w = k->wOwned.empty() ? *c.in(1).f : k->wOwned;
      const int64_t kd = cig * kSize;
      k->aPackedStride = int64_t(K().gemmPackedASize(cog, kd));
      k->aPacked.resize(std::size_t(k->aPackedStride * k->group));
      for (int64_t gi = 0; gi < k->group; ++gi)
         K().gemmPackA(w.data() + gi * cog * kd, cog, kd, kd, 1, k->aPacked.data() + gi * k->aPackedStride);
   }
   // A 2 x 2 / stride 2 MaxPool as the only reader: pooled per event from the GEMM's wide rows
   const int64_t poolNode = k->windowed && !k->depthwise && k->g.nd == 2 ? pool2x2Reader(c, c.outName(0)) : -1;
   if (poolNode >= 0) {
      const auto pool = std::size_t(poolNode);
      const int64_t Ho = k->win.Ho / 2, Wo = k->win.Wo / 2;
      k->fusePool = true;
      // rows Wq apart, as the GEMM leaves them; 2 * Wo <= Wq, so maxPool2x2 reads valid columns only
      k->poolWin = kernels::window2d(k->win.Ho, k->win.Wq, Ho, Wo, 2, 2, 2, 2, 1, 1, 0, 0);
      k->poolScratch = k->workspace;
      k->workspace += std::size_t(k->Cout * k->win.Ho * k->win.Wq);
      c.planner.skip[pool] = true;
      c.renameOutput(0, c.planner.model.proto.graph.node[pool].output[0]);
      out = {k->N, k->Cout, Ho, Wo};
   }
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

struct ConvTransposeKernel : Kernel {
   ConvGeometry g; // in = input spatial, out = output spatial
   int64_t N = 0, Cin = 0, Cout = 0, group = 1;
   std::vector<float> bias;
   int biasId = -1;
   Activation act;
   void run(float *const *v, float *) const override
   {
      const float *X = v[inputs[0]], *W = v[inputs[1]];
      float *Y = v[outputs[0]];
      const float *B = biasId >= 0 ? v[biasId] : (bias.empty() ? nullptr : bias.data());
      const int64_t cig = Cin / group, cog = Cout / group, nd = g.nd;
      const int64_t inSize = numel(g.in), outSize = numel(g.out), kSize = numel(g.kernel);
      IndexBuf outStr{std::size_t(nd)}, iIdx{std::size_t(nd)}, kIdx{std::size_t(nd)};
      for (std::size_t d = std::size_t(nd), acc = 1; d-- > 0;) {
         outStr[d] = int64_t(acc);
         acc *= std::size_t(g.out[d]);
      }
      for (int64_t n = 0; n < N; ++n) {
         float *y = Y + n * Cout * outSize;
         for (int64_t oc = 0; oc < Cout; ++oc)
            std::fill(y + oc * outSize, y + (oc + 1) * outSize, B ? B[oc] : 0.f);
         for (int64_t ci = 0; ci < Cin; ++ci) {
            const int64_t gi = ci / cig;
            const float *x = X + (n * Cin + ci) * inSize;
            for (int64_t kf = 0; kf < kSize; ++kf) {
               int64_t rem = kf;
               for (int64_t d = nd; d-- > 0;) {
                  kIdx[std::size_t(d)] = rem % g.kernel[std::size_t(d)];
                  rem /= g.kernel[std::size_t(d)];
               }
               for (int64_t i = 0; i < inSize; ++i) {
                  int64_t r2 = i, off = 0;
                  bool inside = true;
                  for (int64_t d = nd; d-- > 0;) {
                     const std::size_t u = std::size_t(d);
                     iIdx[u] = r2 % g.in[u];
                     r2 /= g.in[u];
                     const int64_t o = iIdx[u] * g.stride[u] - g.padBegin[u] + kIdx[u] * g.dil[u];
                     inside = inside && o >= 0 && o < g.out[u];
                     off += o * outStr[u];
                  }
                  if (!inside)
                     continue;
                  const float xv = x[i];
                  for (int64_t oc = 0; oc < cog; ++oc)
                     y[(gi * cog + oc) * outSize + off] += xv * W[((ci * cog) + oc) * kSize + kf];
               }
            }
         }
         K().activate(y, Cout * outSize, act);
      }
   }
};

void opConvTranspose(NodeCtx &c)
{
   c.requireInputs(2, 3);
   c.requireFloat(0);
   c.requireFloat(1);
   const Shape &xs = c.shape(0), &ws = c.shape(1);
   if (xs.size() < 3 || ws.size() != xs.size())
      c.fail("X " + shapeString(xs) + " and W " + shapeString(ws) + " must both be N x C x spatial");
   auto k = std::make_unique<ConvTransposeKernel>();
   k->N = xs[0];
   k->Cin = xs[1];
   k->group = c.attrInt("group", 1);
   if (k->group < 1 || ws[0] != k->Cin || k->Cin % k->group)
      c.fail("group " + std::to_string(k->group) + " does not fit X " + shapeString(xs) + " and W " + shapeString(ws));
   k->Cout = ws[1] * k->group;
   ConvGeometry &g = k->g;
   g.nd = int64_t(xs.size()) - 2;
   const std::size_t nd = std::size_t(g.nd);
   const std::string dims = std::to_string(nd) + " spatial dimensions of X";
   const Shape wKernel(ws.begin() + 2, ws.end());
   g.in.assign(xs.begin() + 2, xs.end());
   g.kernel = c.attrInts("kernel_shape", wKernel);
   g.stride = c.attrInts("strides", Shape(nd, 1));
   g.dil = c.attrInts("dilations", Shape(nd, 1));
   const Shape pads = c.attrInts("pads", Shape(2 * nd, 0));
   const Shape outPad = c.attrInts("output_padding", Shape(nd, 0));
   const Shape outShape = c.attrInts("output_shape");
   const std::string autoPad = c.attrString("auto_pad", "NOTSET"); // value and pads: Schema.cxx
   requireLength(c, "kernel_shape", g.kernel, nd, dims);
   requireLength(c, "strides", g.stride, nd, dims);
   requireLength(c, "dilations", g.dil, nd, dims);
   requireLength(c, "pads", pads, 2 * nd, "begin and end of the " + dims);
   requireLength(c, "output_padding", outPad, nd, dims);
   if (!outShape.empty())
      requireLength(c, "output_shape", outShape, nd, dims);
   // the kernel reads W with the strides of kernel_shape: it must be W's own (onnxruntime agrees)
   if (g.kernel != wKernel)
      c.fail(quoted("kernel_shape", g.kernel) + " differs from the spatial dimensions of W " + shapeString(ws));
   requireAtLeast(c, "strides", g.stride, 1);
   requireAtLeast(c, "dilations", g.dil, 1);
   requireAtLeast(c, "pads", pads, 0);
   requireAtLeast(c, "output_padding", outPad, 0);
   requireAtLeast(c, "output_shape", outShape, 1);
   constexpr int64_t kHuge = int64_t(1) << 31;
   for (std::size_t d = 0; d < nd; ++d) {
      if (g.kernel[d] > kHuge || g.stride[d] > kHuge || g.dil[d] > kHuge || pads[d] > kHuge || pads[d + nd] > kHuge ||
          (!outShape.empty() && outShape[d] > kHuge))
         c.fail("kernel_shape/strides/dilations/pads/output_shape entry beyond 2^31 in dimension " + std::to_string(d));
      // spec: output_padding < stride or < dilation; onnxruntime refuses anything >= stride (its
      // output no longer maps back onto the input), and so does tpcml
      if (outPad[d] >= g.stride[d])
         c.fail(quoted("output_padding", outPad) + ": entry " + std::to_string(d) + " is " + std::to_string(outPad[d]) +
                ", expected < strides[" + std::to_string(d) + "] = " + std::to_string(g.stride[d]));
   }
   g.padBegin.assign(pads.begin(), pads.begin() + long(nd));
   g.padEnd.assign(pads.begin() + long(nd), pads.end());
   g.out.resize(nd);
   for (std::size_t d = 0; d < nd; ++d) {
      const int64_t full = g.stride[d] * (g.in[d] - 1) + outPad[d] + (g.kernel[d] - 1) * g.dil[d] + 1;
      if (!outShape.empty() || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
         // spec: total = full - output; SAME_UPPER puts the odd pad at the end, every other
         // auto_pad (NOTSET with output_shape included) at the start -- as onnxruntime 1.32 does
         // SAME without output_shape: in * strides (spec), but never beyond `full` -- onnxruntime
         // 1.32 clamps there (strides > the kernel's extent + output_padding), and tpcml follows it
         g.out[d] = !outShape.empty() ? outShape[d] : std::min(g.in[d] * g.stride[d], full);
         // an output larger than `full` is extended at the end, unpadded, as long as it maps back
         // onto the input: up to full - output_padding + strides - 1 (onnxruntime's rule; the ONNX
         // backend test_convtranspose_output_shape needs it); beyond, refused
         const int64_t total = std::max<int64_t>(0, full - g.out[d]);
         const int64_t most = full - outPad[d] + g.stride[d] - 1;
         if (g.out[d] > most)
            c.fail((outShape.empty()
                        ? "auto_pad " + autoPad + " asks for output size " + std::to_string(g.out[d])
                        : quoted("output_shape", outShape) + " asks for size " + std::to_string(g.out[d])) +
                   " in spatial dimension " + std::to_string(d) + ", expected at most " + std::to_string(most) +
                   " (strides * (input - 1) + (kernel - 1) * dilations + 1, plus strides - 1)");
         g.padEnd[d] = autoPad == "SAME_UPPER" ? total - total / 2 : total / 2;
         g.padBegin[d] = total - g.padEnd[d];
      } else {
         if (autoPad == "VALID")
            g.padBegin[d] = g.padEnd[d] = 0;
         g.out[d] = full - g.padBegin[d] - g.padEnd[d];
         if (g.out[d] < 1)
            c.fail(quoted("pads", pads) + " leaves output size " + std::to_string(g.out[d]) + " in spatial dimension " +
                   std::to_string(d) + " (of " + std::to_string(full) + " before padding), expected >= 1");
      }
   }
   Shape out = {k->N, k->Cout};
   out.insert(out.end(), g.out.begin(), g.out.end());
   k->inputs = {c.id(0), c.id(1)};
   if (c.carriesEvents(1) || c.carriesEvents(2))
      c.mixesEvents(std::string(c.carriesEvents(1) ? "the weights W" : "the bias B") + " come from the event data");
   bool canFuse = true;
   if (c.has(2)) {
      c.requireFloat(2);
      if (c.shape(2) != Shape{k->Cout})
         c.fail("bias B has shape " + shapeString(c.shape(2)) + ", expected [" + std::to_string(k->Cout) + "]");
      if (c.isConst(2)) {
         k->bias = c.floats(2, "bias");
      } else {
         k->biasId = c.id(2);
         k->inputs.push_back(c.id(2));
         canFuse = false;
      }
   }
   if (canFuse) {
      const Planner::Epilogue e = c.planner.fuse(c.node, int64_t(out.size()), 1, k->Cout);
      c.renameOutput(0, e.outName);
      if (!e.bias.empty()) {
         if (k->bias.empty())
            k->bias.assign(std::size_t(k->Cout), 0.f);
         for (std::size_t j = 0; j < k->bias.size(); ++j)
            k->bias[j] += e.bias[j];
      }
      k->act = e.act;
   }
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

// ========================================================================= pooling
struct MaxPoolKernel : Kernel {
   ConvGeometry g;
   kernels::Window2d win; ///< 2-D pooling on phase planes (Kernels.h)
   std::vector<int64_t> taps;
   int64_t planes = 0;
   void run(float *const *v, float *ws) const override
   {
      const float *X = v[inputs[0]];
      float *Y = v[outputs[0]];
      const int64_t nd = g.nd, inSize = numel(g.in), outSize = numel(g.out), kSize = numel(g.kernel);
      if (nd == 2) {
         const kernels::KernelTable &kt = K();
         for (int64_t p = 0; p < planes; ++p)
            kt.maxPool2d(X + p * inSize, win, taps.data(), Y + p * outSize, ws, p > 0);
         return;
      }
      IndexBuf inStr{std::size_t(nd)}, oIdx{std::size_t(nd)}, kIdx{std::size_t(nd)};
      for (std::size_t d = std::size_t(nd), acc = 1; d-- > 0;) {
         inStr[d] = int64_t(acc);
         acc *= std::size_t(g.in[d]);
      }
      for (int64_t p = 0; p < planes; ++p) {
         const float *x = X + p * inSize;
         float *y = Y + p * outSize;
         for (int64_t of = 0; of < outSize; ++of) {
            int64_t rem = of;
            for (int64_t d = nd; d-- > 0;) {
               oIdx[std::size_t(d)] = rem % g.out[std::size_t(d)];
               rem /= g.out[std::size_t(d)];
            }
            float m = -std::numeric_limits<float>::infinity();
            bool nan = false;
            for (int64_t kf = 0; kf < kSize; ++kf) {
               int64_t r2 = kf, off = 0;
               bool inside = true;
               for (int64_t d = nd; d-- > 0;) {
                  const std::size_t u = std::size_t(d);
                  kIdx[u] = r2 % g.kernel[u];
                  r2 /= g.kernel[u];
                  const int64_t i = oIdx[u] * g.stride[u] - g.padBegin[u] + kIdx[u] * g.dil[u];
                  inside = inside && i >= 0 && i < g.in[u];
                  off += i * inStr[u];
               }
               if (inside) {
                  const float xv = x[off];
                  nan = nan || xv != xv;
                  m = xv > m ? xv : m;
               }
            }
            y[of] = nan ? std::numeric_limits<float>::quiet_NaN() : m;
         }
      }
   }
};

void opMaxPool(NodeCtx &c)
{
   c.requireInputs(1, 1);
   c.requireFloat(0);
   if (c.wantsOutput(1))
      c.fail("the Indices output (int64) is not supported; tpcml returns float32 tensors");
   if (c.attrInt("storage_order", 0) != 0)
      c.fail("storage_order 1 only concerns the Indices output, which is not supported");
   const Shape &xs = c.shape(0);
   if (xs.size() < 3)
      c.fail("X " + shapeString(xs) + " must be N x C x spatial");
   auto k = std::make_unique<MaxPoolKernel>();
   const Shape kernel = c.attrInts("kernel_shape");
   const Shape spatial(xs.begin() + 2, xs.end());
   const int64_t ceilMode = c.attrInt("ceil_mode", 0);
   if (ceilMode != 0 && ceilMode != 1)
      c.fail("attribute 'ceil_mode' = " + std::to_string(ceilMode) + ", expected 0 or 1");
   k->g = convGeometry(c, spatial, kernel, ceilMode != 0, nullptr, nullptr, true);
   k->planes = xs[0] * xs[1];
   if (k->g.nd == 2) {
      k->win = window2dOf(k->g);
      k->taps = tapOffsets(k->win);
      k->workspace = std::size_t(kernels::windowWorkspace(k->win));
   }
   Shape out = {xs[0], xs[1]};
   out.insert(out.end(), k->g.out.begin(), k->g.out.end());
   k->inputs = {c.id(0)};
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

// ==================================================================== reductions
enum class RedOp { Mean, Max, Sum };

struct ReduceKernel : Kernel {
   RedOp op = RedOp::Sum;
   int64_t outer = 1, red = 1, inner = 1; ///< fast path: reduced axes contiguous
   bool contiguous = true;
   Shape inShape;
   std::vector<bool> reduced;
   void run(float *const *v, float *) const override
   {
      const float *x = v[inputs[0]];
      float *y = v[outputs[0]];
      const float init = op == RedOp::Max ? -std::numeric_limits<float>::infinity() : 0.f;
      if (contiguous && inner == 1) { // e.g. GlobalAveragePool: one contiguous run per output
         const kernels::KernelTable &kt = K();
         for (int64_t o = 0; o < outer; ++o) {
            const float r = kt.reduce(x + o * red, red, op == RedOp::Max);
            y[o] = op == RedOp::Mean ? r / float(red) : r;
         }
         return;
      }
      if (contiguous) {
         for (int64_t o = 0; o < outer; ++o)
            for (int64_t i = 0; i < inner; ++i) {
               const float *p = x + o * red * inner + i;
               float acc = init;
               if (op == RedOp::Max) {
                  bool nan = false;
                  for (int64_t r = 0; r < red; ++r) {
                     nan = nan || p[r * inner] != p[r * inner];
                     acc = p[r * inner] > acc ? p[r * inner] : acc;
                  }
                  acc = nan ? std::numeric_limits<float>::quiet_NaN() : acc;
               } else {
                  for (int64_t r = 0; r < red; ++r)
                     acc += p[r * inner];
               }
               if (op == RedOp::Mean)
                  acc /= float(red);
               y[o * inner + i] = acc;
            }
         return;
      }
      // general: accumulate each input element into its output
      const int64_t n = numel(inShape), nOut = numel(inShape) / (red ? red : 1);
      std::fill(y, y + nOut, init);
      const std::size_t r = inShape.size();
      IndexBuf idx(r), outStr(r);
      int64_t s = 1;
      for (std::size_t d = r; d-- > 0;)
         if (!reduced[d]) {
            outStr[d] = s;
            s *= inShape[d];
         }
      for (int64_t e = 0; e < n; ++e) {
         int64_t o = 0;
         for (std::size_t d = 0; d < r; ++d)
            o += idx[d] * outStr[d];
         const float xv = x[e];
         if (op == RedOp::Max)
            y[o] = (xv > y[o] || xv != xv) ? xv : y[o];
         else
            y[o] += xv;
         for (std::size_t d = r; d-- > 0;) {
            if (++idx[d] < inShape[d])
               break;
            idx[d] = 0;
         }
      }
      if (op == RedOp::Mean)
         for (int64_t o = 0; o < nOut; ++o)
            y[o] /= float(red);
   }
};

void planReduce(NodeCtx &c, RedOp op, bool global)
{
   c.requireFloat(0);
   const Shape &xs = c.shape(0);
   const int64_t rank = int64_t(xs.size());
   std::vector<bool> reduced(xs.size(), false);
   bool keep = true;
   if (global) {
      c.requireInputs(1, 1);
      if (rank < 3)
         c.fail("X " + shapeString(xs) + " must be N x C x spatial");
      for (std::size_t d = 2; d < xs.size(); ++d)
         reduced[d] = true;
      if (numel(Shape(xs.begin() + 2, xs.end())) == 0) // no value to pool (onnxruntime refuses it too)
         c.fail("X " + shapeString(xs) + " has no spatial values to pool");
   } else {
      c.requireInputs(1, 2);
      keep = c.attrInt("keepdims", 1) != 0;
      Shape axes;
      // axes became an input in opset 18 (ReduceMean/Max) and 13 (ReduceSum)
      const int64_t inputSince = op == RedOp::Sum ? 13 : 18;
      if (c.opset() >= inputSince) {
         if (c.has(1))
            axes = c.ints(1, "axes");
      } else {
         axes = c.attrInts("axes");
      }
      if (axes.empty() && c.attrInt("noop_with_empty_axes", 0) != 0) {
         c.alias(0, 0, xs);
         return;
      }
      if (axes.empty())
         reduced.assign(xs.size(), true);
      for (int64_t a : axes) // a repeated axis reduces once (onnxruntime accepts it too)
         reduced[std::size_t(c.axis(a, rank, "axis"))] = true;
   }
   if (!reduced.empty() && reduced[0])
      c.mixesEvents("it reduces over axis 0, the batch axis");
   Shape out;
   int64_t red = 1;
   for (std::size_t d = 0; d < xs.size(); ++d) {
      if (reduced[d]) {
         red *= xs[d];
         if (keep)
            out.push_back(1);
      } else {
         out.push_back(xs[d]);
      }
   }
   if (op == RedOp::Mean && red == 0 && numel(out) > 0)
      c.fail("the mean over the empty axes of " + shapeString(xs) + " is undefined (spec)");
   auto k = std::make_unique<ReduceKernel>();
   k->op = op;
   k->inShape = xs;
   k->reduced = reduced;
   k->red = red;
   // contiguous block of reduced axes (ignoring size-1 dims)?
   int64_t firstR = -1, lastR = -1;
   for (std::size_t d = 0; d < xs.size(); ++d)
      if (reduced[d] && xs[d] != 1) {
         firstR = firstR < 0 ? int64_t(d) : firstR;
         lastR = int64_t(d);
      }
   bool contiguous = true;
   for (int64_t d = firstR; d >= 0 && d <= lastR; ++d)
      contiguous = contiguous && (reduced[std::size_t(d)] || xs[std::size_t(d)] == 1);
   k->contiguous = contiguous;
   if (contiguous) {
      k->outer = k->inner = 1;
      for (int64_t d = 0; d < rank; ++d) {
         if (reduced[std::size_t(d)] || (d >= firstR && d <= lastR && firstR >= 0))
            continue;
         if (firstR < 0 || d < firstR)
            k->outer *= xs[std::size_t(d)];
         else
            k->inner *= xs[std::size_t(d)];
      }
   }
   k->inputs = {c.id(0)};
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

void opReduceMean(NodeCtx &c)
{
   planReduce(c, RedOp::Mean, false);
}
void opReduceMax(NodeCtx &c)
{
   planReduce(c, RedOp::Max, false);
}
void opReduceSum(NodeCtx &c)
{
   planReduce(c, RedOp::Sum, false);
}
void opGlobalAveragePool(NodeCtx &c)
{
   planReduce(c, RedOp::Mean, true);
}
void opGlobalMaxPool(NodeCtx &c)
{
   planReduce(c, RedOp::Max, true);
}

struct SoftmaxKernel : Kernel {
   int64_t outer = 1, len = 1, inner = 1;
   void run(float *const *v, float *) const override
   {
      const float *x = v[inputs[0]];
      float *y = v[outputs[0]];
      for (int64_t o = 0; o < outer; ++o)
         for (int64_t i = 0; i < inner; ++i) {
            const float *p = x + o * len * inner + i;
            float *q = y + o * len * inner + i;
            float m = -std::numeric_limits<float>::infinity();
            for (int64_t r = 0; r < len; ++r)
               m = p[r * inner] > m ? p[r * inner] : m;
            float sum = 0.f;
            for (int64_t r = 0; r < len; ++r) {
               q[r * inner] = std::exp(p[r * inner] - m);
               sum += q[r * inner];
            }
            for (int64_t r = 0; r < len; ++r)
               q[r * inner] /= sum;
         }
   }
};

void opSoftmax(NodeCtx &c)
{
   c.requireInputs(1, 1);
   c.requireFloat(0);
   const Shape &xs = c.shape(0);
   const int64_t rank = int64_t(xs.size());
   auto k = std::make_unique<SoftmaxKernel>();
   if (rank == 0) {
      k->outer = k->len = k->inner = 1;
   } else if (c.opset() >= 13) {
      const int64_t a = c.axis(c.attrInt("axis", -1), rank, "axis");
      if (a == 0)
         c.mixesEvents("softmax over axis 0, the batch axis");
      k->len = xs[std::size_t(a)];
      k->outer = k->inner = 1;
      for (int64_t d = 0; d < a; ++d)
         k->outer *= xs[std::size_t(d)];
      for (int64_t d = a + 1; d < rank; ++d)
         k->inner *= xs[std::size_t(d)];
   } else { // opsets 1-12: coerce to 2-D at axis
      const int64_t a = c.axis(c.attrInt("axis", 1), rank, "axis");
      if (a == 0)
         c.mixesEvents("softmax over axes 0.. (axis 0, opset < 13 coerces to 2-D) includes the batch axis");
      k->outer = k->len = 1;
      for (int64_t d = 0; d < a; ++d)
         k->outer *= xs[std::size_t(d)];
      for (int64_t d = a; d < rank; ++d)
         k->len *= xs[std::size_t(d)];
      k->inner = 1;
   }
   k->inputs = {c.id(0)};
   k->outputs = {c.runtime(0, xs)};
   c.emit(std::move(k));
}

struct BatchNormKernel : Kernel {
   int64_t N = 0, C = 0, inner = 1;
   float eps = 1e-5f, momentum = 0.9f;
   bool training = false;
   void run(float *const *v, float *) const override
   {
      const float *x = v[inputs[0]], *scale = v[inputs[1]], *bias = v[inputs[2]], *mean = v[inputs[3]],
                  *var = v[inputs[4]];
      float *y = v[outputs[0]];
      for (int64_t ch = 0; ch < C; ++ch) {
         float mu = mean[ch], sigma2 = var[ch];
         if (training) {
            double s = 0, s2 = 0;
            for (int64_t n = 0; n < N; ++n)
               for (int64_t i = 0; i < inner; ++i) {
                  const double xv = x[(n * C + ch) * inner + i];
                  s += xv;
                  s2 += xv * xv;
               }
            const double cnt = double(N * inner);
            const double m = s / cnt, var_ = std::max(0.0, s2 / cnt - m * m); // no rounding below 0
            mu = float(m);
            sigma2 = float(var_);
            if (outputs.size() > 1)
               v[outputs[1]][ch] = mean[ch] * momentum + mu * (1.f - momentum);
            if (outputs.size() > 2)
               v[outputs[2]][ch] = var[ch] * momentum + sigma2 * (1.f - momentum);
         }
         const float a = scale[ch] / std::sqrt(sigma2 + eps), b = bias[ch] - mu * a;
         for (int64_t n = 0; n < N; ++n) {
            const float *p = x + (n * C + ch) * inner;
            float *q = y + (n * C + ch) * inner;
            for (int64_t i = 0; i < inner; ++i)
               q[i] = a * p[i] + b;
         }
      }
   }
};

void opBatchNormalization(NodeCtx &c)
{
   c.requireInputs(5, 5);
   for (std::size_t j = 0; j < 5; ++j)
      c.requireFloat(j);
   const Shape &xs = c.shape(0);
   if (xs.size() < 2)
      c.fail("X " + shapeString(xs) + " must have a channel dimension");
   auto k = std::make_unique<BatchNormKernel>();
   k->N = xs[0];
   k->C = xs[1];
   for (std::size_t d = 2; d < xs.size(); ++d)
      k->inner *= xs[d];
   for (std::size_t j = 1; j < 5; ++j)
      if (c.shape(j) != Shape{k->C}) // spec: 1-D tensors of size C
         c.fail("input " + std::to_string(j) + " has shape " + shapeString(c.shape(j)) + ", expected [" +
                std::to_string(k->C) + "]");
   k->eps = c.attrFloat("epsilon", 1e-5f);
   k->momentum = c.attrFloat("momentum", 0.9f);
   k->training = c.opset() >= 14 && c.attrInt("training_mode", 0) != 0;
   if (k->training)
      c.mixesEvents("training_mode = 1 normalises with the mean and variance of the whole batch");
   for (std::size_t j = 1; j < 5; ++j)
      if (c.carriesEvents(j))
         c.mixesEvents("input " + std::to_string(j) + " comes from the event data");
   if (!k->training && c.nOut() > 1)
      for (std::size_t j = 1; j < c.nOut(); ++j)
         if (c.wantsOutput(j))
            c.fail("running mean/variance outputs exist only with training_mode=1");
   k->inputs = {c.id(0), c.id(1), c.id(2), c.id(3), c.id(4)};
   k->outputs = {c.runtime(0, xs)};
   for (std::size_t j = 1; j < c.nOut() && j < 3; ++j)
      if (c.wantsOutput(j))
         k->outputs.push_back(c.runtime(j, {k->C}));
   c.emit(std::move(k));
}

// =============================================================== data movement
/// out[c * rows + r] = in[r * C + c]: a rows x C matrix with few columns, transposed.
template <int C> void deinterleaveRows(const float *__restrict in, int64_t rows, float *__restrict out)
{
   for (int64_t r = 0; r < rows; ++r)
      for (int c = 0; c < C; ++c)
         out[c * rows + r] = in[r * C + c];
}

struct TransposeKernel : Kernel {
   Shape shape, perm;
   /// After merging dims that stay adjacent: a batch of R x C matrix transposes (e.g. NHWC <->
   /// NCHW), done in tiles; rows = 0 when the permutation is not of that form.
   int64_t batches = 1, rows = 0, cols = 0;
   void prepare()
   {
      // merged groups of input dims, in output order
      std::vector<Shape> groups;
      for (std::size_t k = 0; k < perm.size(); ++k) {
         if (!groups.empty() && groups.back().back() + 1 == perm[k])
            groups.back().push_back(perm[k]);
         else
            groups.push_back({perm[k]});
      }
      auto size = [&](const Shape &g) {
         int64_t n = 1;
         for (int64_t d : g)
            n *= shape[std::size_t(d)];
         return n;
      };
      if (groups.size() == 2 && groups[0][0] > groups[1][0]) { // (A, B) -> (B, A)
         rows = size(groups[1]);
         cols = size(groups[0]);
      } else if (groups.size() == 3 && groups[0][0] == 0 && groups[1][0] > groups[2][0]) { // (N, A, B) -> (N, B, A)
         batches = size(groups[0]);
         rows = size(groups[2]);
         cols = size(groups[1]);
      }
   }
   void run(float *const *v, float *) const override
   {
      const float *x = v[inputs[0]];
      float *y = v[outputs[0]];
      if (rows == 0) {
         transposeTo(x, shape, perm, y);
         return;
      }
      constexpr int64_t T = 16;
      for (int64_t b = 0; b < batches; ++b) {
         const float *in = x + b * rows * cols;
         float *out = y + b * rows * cols;
         if (cols == 3) { // an NHWC RGB image to NCHW (the compiler vectorises the stride-3 group)
            deinterleaveRows<3>(in, rows, out);
            continue;
         }
         if (cols == 2) {
            deinterleaveRows<2>(in, rows, out);
            continue;
         }
         for (int64_t r0 = 0; r0 < rows; r0 += T)
            for (int64_t c0 = 0; c0 < cols; c0 += T) {
               const int64_t r1 = std::min(rows, r0 + T), c1 = std::min(cols, c0 + T);
               for (int64_t r = r0; r < r1; ++r)
                  for (int64_t cc = c0; cc < c1; ++cc)
                     out[cc * rows + r] = in[r * cols + cc];
            }
      }
   }
};

/// Flatten(Transpose(X)) * W with a constant W (Keras flattening NHWC after NCHW convolutions):
/// the MatMul reads X itself with the rows of W permuted, and the Transpose step goes.
void absorbFlattenTranspose(NodeCtx &c, MatMulKernel &k)
{
   Planner &pl = c.planner;
   Plan &plan = *pl.plan;
   const Value &a = c.in(0);
   if (a.kind != Kind::Alias || a.shape.size() != 2 || !c.isConst(1) || k.bOff.size() != 1 || k.cId >= 0)
      return;
   const int root = a.root;
   const Value &t = plan.values[std::size_t(root)];
   auto single = [&](const std::string &name) {
      auto it = pl.consumers.find(name);
      return it != pl.consumers.end() && it->second.size() == 1 && !pl.graphOutputs.count(name);
   };
   if (t.kind != Kind::Runtime || !single(t.name) || !single(a.name))
      return;
   std::size_t step = plan.steps.size();
   for (std::size_t s = plan.steps.size(); s-- > 0;)
      if (!plan.steps[s]->outputs.empty() && plan.steps[s]->outputs[0] == root) {
         step = s;
         break;
      }
   if (step == plan.steps.size())
      return;
   const auto *tk = dynamic_cast<const TransposeKernel *>(plan.steps[step].get());
   if (!tk || tk->perm.empty() || tk->perm[0] != 0 || a.shape[0] != tk->shape[0])
      return;
   const int src = tk->inputs[0];
   const Value &x = plan.values[std::size_t(src)];
   if (x.kind != Kind::Runtime && x.kind != Kind::Input)
      return;
   // row of W for each element of X (dims 1..r, row-major): its place in the transposed order
   const Shape &xs = tk->shape, &perm = tk->perm;
   const std::size_t r = xs.size();
   Shape outDims(r), outStr(r, 1);
   for (std::size_t d = 0; d < r; ++d)
      outDims[d] = xs[std::size_t(perm[d])];
   for (std::size_t d = r - 1; d-- > 1;)
      outStr[d] = outStr[d + 1] * outDims[d + 1];
   Shape strideOfIn(r, 0); // stride of input dim perm[d] in the transposed layout is outStr[d]
   for (std::size_t d = 1; d < r; ++d)
      strideOfIn[std::size_t(perm[d])] = outStr[d];
   const int64_t F = a.shape[1];
   std::vector<float> w(std::size_t(F * k.N));
   IndexBuf idx(r);
   for (int64_t f = 0; f < F; ++f) {
      int64_t dst = 0;
      for (std::size_t d = 1; d < r; ++d)
         dst += idx[d] * strideOfIn[d];
      for (int64_t j = 0; j < k.N; ++j)
         w[std::size_t(f * k.N + j)] = constantB(c, k, dst, j);
      for (std::size_t d = r; d-- > 1;) {
         if (++idx[d] < xs[d])
            break;
         idx[d] = 0;
      }
   }
   k.bOwned = std::move(w);
   k.sBk = k.N;
   k.sBn = 1;
   k.bOff = {0};
   Value view = x;
   view.name = a.name + ":untransposed";
   view.shape = a.shape;
   view.kind = Kind::Alias;
   view.root = x.kind == Kind::Alias ? x.root : src;
   view.first = view.last = -1;
   view.offset = -1;
   k.inputs[0] = pl.addValue(std::move(view));
   plan.steps.erase(plan.steps.begin() + long(step));
}

void opTranspose(NodeCtx &c)
{
   c.requireInputs(1, 1);
   const Shape &xs = c.shape(0);
   const int64_t r = int64_t(xs.size());
   Shape perm = c.attrInts("perm");
   if (!c.hasAttr("perm")) // the default reverses the axes; a given perm (even []) must have one entry per axis
      for (int64_t d = r; d-- > 0;)
         perm.push_back(d);
   if (int64_t(perm.size()) != r)
      c.fail(quoted("perm", perm) + " has " + std::to_string(perm.size()) + " entries for an input of rank " +
             std::to_string(r) + " " + shapeString(xs));
   std::vector<bool> seen(std::size_t(r), false);
   Shape out;
   for (int64_t &p : perm) {
      if (p < 0 || p >= r || seen[std::size_t(p)])
         c.fail(quoted("perm", perm) + " is not a permutation of 0.." + std::to_string(r - 1) +
                " (the input has rank " + std::to_string(r) + ")");
      seen[std::size_t(p)] = true;
      out.push_back(xs[std::size_t(p)]);
   }
   if (r > 0 && perm[0] != 0)
      c.mixesEvents(quoted("perm", perm) + " moves axis 0, the batch axis");
   if (c.in(0).type == DType::Int64) {
      const std::vector<int64_t> x = c.ints(0, "data");
      std::vector<int64_t> y(x.size());
      transposeTo(x.data(), xs, perm, y.data());
      c.constantI(0, out, std::move(y));
      return;
   }
   auto k = std::make_unique<TransposeKernel>();
   k->shape = xs;
   k->perm = perm;
   k->prepare();
   k->inputs = {c.id(0)};
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

/// A view of input 0 under a new shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity...).
void view(NodeCtx &c, const Shape &shape)
{
   if (numel(shape) != numel(c.shape(0)))
      c.fail("cannot reshape " + shapeString(c.shape(0)) + " (" + std::to_string(numel(c.shape(0))) + " elements) to " +
             shapeString(shape));
   c.alias(0, 0, shape);
}

void opReshape(NodeCtx &c)
{
   const Shape &xs = c.shape(0);
   Shape target;
   if (c.opset() < 5) {
      c.requireInputs(1, 1);
      target = c.attrInts("shape");
   } else {
      c.requireInputs(2, 2);
      target = c.ints(1, "shape");
   }
   const bool allowZero = c.attrInt("allowzero", 0) != 0;
   const Shape asGiven = target;
   int64_t known = 1, minus = -1;
   bool zero = false;
   for (std::size_t d = 0; d < target.size(); ++d) {
      if (target[d] == 0 && !allowZero) {
         if (d >= xs.size())
            c.fail("shape " + shapeString(asGiven) + ": entry 0 at position " + std::to_string(d) +
                   " has no input dimension to copy (input " + shapeString(xs) + ")");
         target[d] = xs[d];
      }
      if (target[d] == -1) {
         if (minus >= 0)
            c.fail("shape " + shapeString(asGiven) + " has more than one -1");
         minus = int64_t(d);
      } else if (target[d] < 0) {
         c.fail("shape " + shapeString(asGiven) + " has the negative entry " + std::to_string(target[d]) +
                " (only -1 is allowed)");
      } else if (__builtin_mul_overflow(known, target[d], &known)) {
         c.fail("shape " + shapeString(asGiven) + " has more elements than int64 can count");
      }
      zero = zero || (allowZero && asGiven[d] == 0);
   }
   if (minus >= 0) {
      if (zero) // spec: with allowzero = 1, a 0 and a -1 in one shape are invalid
         c.fail("shape " + shapeString(asGiven) + " has both a 0 and a -1 while allowzero = 1");
      if (known == 0 || numel(xs) % known)
         c.fail("cannot infer the -1 of shape " + shapeString(asGiven) + " from " + shapeString(xs) + " (" +
                std::to_string(numel(xs)) + " elements)");
      target[std::size_t(minus)] = numel(xs) / known;
   }
   view(c, target);
}

void opFlatten(NodeCtx &c)
{
   c.requireInputs(1, 1);
   const Shape &xs = c.shape(0);
   const int64_t r = int64_t(xs.size());
   const int64_t a = c.attrInt("axis", 1);
   if (a < -r || a > r)
      c.fail("axis " + std::to_string(a) + " is out of range for rank " + std::to_string(r));
   const int64_t ax = a < 0 ? a + r : a;
   if (ax == 0)
      c.mixesEvents("axis 0 flattens the batch axis into the features");
   int64_t lead = 1, trail = 1;
   for (int64_t d = 0; d < r; ++d)
      (d < ax ? lead : trail) *= xs[std::size_t(d)];
   view(c, {lead, trail});
}

Shape axesOf(NodeCtx &c, int64_t inputSince, const char *what)
{
   if (c.opset() >= inputSince)
      return c.has(1) ? c.ints(1, what) : Shape{};
   return c.attrInts("axes");
}

void opSqueeze(NodeCtx &c)
{
   c.requireInputs(1, 2);
   const Shape &xs = c.shape(0);
   const int64_t r = int64_t(xs.size());
   const Shape axes = axesOf(c, 13, "axes");
   std::vector<bool> drop(xs.size(), false);
   if (axes.empty()) {
      for (std::size_t d = 0; d < xs.size(); ++d)
         drop[d] = xs[d] == 1;
   }
   for (int64_t a : axes) {
      const int64_t ax = c.axis(a, r, "axis");
      if (xs[std::size_t(ax)] != 1)
         c.fail("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(xs[std::size_t(ax)]));
      drop[std::size_t(ax)] = true;
   }
   if (!drop.empty() && drop[0])
      c.mixesEvents("it squeezes axis 0, the batch axis");
   Shape out;
   for (std::size_t d = 0; d < xs.size(); ++d)
      if (!drop[d])
         out.push_back(xs[d]);
   view(c, out);
}

void opUnsqueeze(NodeCtx &c)
{
   c.requireInputs(1, 2);
   const Shape &xs = c.shape(0);
   const Shape axes = axesOf(c, 13, "axes");
   const int64_t r = int64_t(xs.size() + axes.size());
   std::vector<bool> add(std::size_t(r), false);
   for (int64_t a : axes) {
      const int64_t ax = c.axis(a, r, "axis");
      if (add[std::size_t(ax)])
         c.fail("axis " + std::to_string(a) + " is repeated");
      add[std::size_t(ax)] = true;
   }
   if (r > 0 && add[0])
      c.mixesEvents("it inserts an axis before the batch axis");
   Shape out;
   std::size_t j = 0;
   for (std::size_t d = 0; d < std::size_t(r); ++d)
      out.push_back(add[d] ? 1 : xs[j++]);
   view(c, out);
}

void opIdentity(NodeCtx &c)
{
   c.requireInputs(1, 1);
   c.alias(0, 0, c.shape(0));
}

void opDropout(NodeCtx &c)
{
   c.requireInputs(1, 3);
   if (c.has(2)) {
      const Shape t = c.ints(2, "training_mode");
      if (!t.empty() && t[0] != 0) {
         const float ratio = c.has(1) ? c.floats(1, "ratio").at(0) : 0.5f;
         if (ratio != 0.f)
            c.fail("training_mode=true drops random elements; tpcml runs inference only");
      }
   }
   if (c.wantsOutput(1))
      c.fail("the mask output (bool) is not supported; tpcml returns float32 tensors");
   c.alias(0, 0, c.shape(0));
}

/// x rounded to the nearest float16 (ties to even; beyond 65504 it becomes infinite), as float.
float roundToHalf(float x)
{
   if (!std::isfinite(x))
      return x;
   const float a = std::fabs(x);
   if (a >= 65520.f) // halfway between 65504 and 2^16 and above round to infinity
      return std::copysign(std::numeric_limits<float>::infinity(), x);
   int e = 0;
   std::frexp(a, &e);                         // a = m * 2^e, m in [0.5, 1)
   const int quantum = std::max(e - 11, -24); // 11 significant bits; subnormals step 2^-24
   const float q = std::ldexp(1.f, quantum);
   return std::copysign(std::nearbyint(a / q) * q, x);
}

/// An integer value converted to the integer type `to` (wrapping as a C++ conversion and
/// onnxruntime do), kept as int64.
int64_t narrowInt(int64_t v, int64_t to)
{
   switch (to) {
   case proto::kInt8:
      return int8_t(v);
   case proto::kUInt8:
      return uint8_t(v);
   case proto::kInt16:
      return int16_t(v);
   case proto::kUInt16:
      return uint16_t(v);
   case proto::kInt32:
      return int32_t(v);
   case proto::kUInt32:
      return uint32_t(v);
   case proto::kBool:
      return v != 0;
   default:
      return v;
   }
}

void opCast(NodeCtx &c)
{
   c.requireInputs(1, 1);
   const int64_t to = c.attrInt("to", proto::kFloat);
   const Value &x = c.in(0);
   const bool toFloat = to == proto::kFloat || to == proto::kDouble || to == proto::kFloat16;
   const bool toInt = to == proto::kInt64 || to == proto::kInt32 || to == proto::kInt16 || to == proto::kInt8 ||
                      to == proto::kUInt8 || to == proto::kUInt16 || to == proto::kUInt32 || to == proto::kUInt64 ||
                      to == proto::kBool;
   if (!toFloat && !toInt)
      c.fail("attribute 'to' = " + std::to_string(to) + " (" + proto::dataTypeName(int32_t(to)) +
             ") is not a numeric type tpcml supports");
   if (x.kind == Kind::Constant) {
      if (toFloat) {
         std::vector<float> v = c.floats(0, "data");
         if (to == proto::kFloat16)
            for (float &f : v)
               f = roundToHalf(f);
         c.constantF(0, x.shape, std::move(v));
         return;
      }
      std::vector<int64_t> v;
      v.reserve(std::size_t(numel(x.shape)));
      if (x.type == DType::Float)
         for (float f : *x.f) {
            if (to == proto::kBool) {
               v.push_back(f != 0.f); // NaN is true
               continue;
            }
            // spec: float -> integer is undefined out of the target's range; refuse it, not guess
            const double t = std::trunc(double(f));
            const bool fits = t >= -9.2e18 && t <= 9.2e18 && narrowInt(int64_t(t), to) == int64_t(t) &&
                              (to != proto::kUInt64 || t >= 0);
            if (!fits)
               c.fail("cast of the constant " + std::to_string(f) + " to " + proto::dataTypeName(int32_t(to)) +
                      " is undefined (out of that type's range)");
            v.push_back(int64_t(t));
         }
      else
         for (int64_t q : *x.i)
            v.push_back(narrowInt(q, to));
      c.constantI(0, x.shape, std::move(v));
      return;
   }
   if (to == proto::kFloat && x.type == DType::Float) {
      c.alias(0, 0, x.shape);
      return;
   }
   c.fail("cast of a run-time tensor to " + proto::dataTypeName(int32_t(to)) + " is not supported (float32 only)");
}

void opShape(NodeCtx &c)
{
   c.requireInputs(1, 1);
   const Shape &xs = c.shape(0);
   const int64_t r = int64_t(xs.size());
   int64_t start = c.attrInt("start", 0), end = c.attrInt("end", r);
   start = std::clamp(start < 0 ? start + r : start, int64_t(0), r);
   end = std::clamp(end < 0 ? end + r : end, int64_t(0), r);
   std::vector<int64_t> dims;
   for (int64_t d = start; d < end; ++d)
      dims.push_back(xs[std::size_t(d)]);
   const Shape shape = {int64_t(dims.size())}; // before the move below
   c.constantI(0, shape, std::move(dims));
}

void opConstant(NodeCtx &c)
{
   if (const proto::Attribute *a = c.attr("value")) {
      if (!a->hasTensor)
         c.fail("attribute 'value' holds no tensor");
      const Shape dims = a->t.dims;
      if (a->t.dataType == proto::kFloat || a->t.dataType == proto::kDouble || a->t.dataType == proto::kFloat16)
         c.constantF(0, dims, a->t.toFloat());
      else
         c.constantI(0, dims, a->t.toInt64());
   } else if (const proto::Attribute *f = c.attr("value_float")) {
      c.constantF(0, {}, {f->f});
   } else if (const proto::Attribute *fs = c.attr("value_floats")) {
      c.constantF(0, {int64_t(fs->floats.size())}, fs->floats);
   } else if (const proto::Attribute *i = c.attr("value_int")) {
      c.constantI(0, {}, {i->i});
   } else if (const proto::Attribute *is = c.attr("value_ints")) {
      c.constantI(0, {int64_t(is->ints.size())}, is->ints);
   } else {
      c.fail("needs one of the attributes value, value_float(s), value_int(s)");
   }
}

struct SliceKernel : Kernel {
   Shape shape, start, step, out;
   void run(float *const *v, float *) const override { sliceTo(v[inputs[0]], shape, start, step, out, v[outputs[0]]); }
};

void opSlice(NodeCtx &c)
{
   const Shape &xs = c.shape(0);
   const int64_t r = int64_t(xs.size());
   Shape starts, ends, axes, steps;
   if (c.opset() < 10) {
      c.requireInputs(1, 1);
      starts = c.attrInts("starts");
      ends = c.attrInts("ends");
      axes = c.attrInts("axes");
   } else {
      c.requireInputs(3, 5);
      static const char *const names[] = {"", "starts", "ends", "axes", "steps"};
      for (std::size_t k = 1; k < 5; ++k) // the spec's 1-D tensors (onnxruntime refuses a scalar)
         if (c.has(k) && c.shape(k).size() != 1)
            c.fail(std::string("input ") + std::to_string(k) + " ('" + c.node.input[k] + "', the " + names[k] +
                   ") has shape " + shapeString(c.shape(k)) + "; the ONNX spec wants a 1-D tensor");
      starts = c.ints(1, "starts");
      ends = c.ints(2, "ends");
      if (c.has(3))
         axes = c.ints(3, "axes");
      if (c.has(4))
         steps = c.ints(4, "steps");
   }
   if (axes.empty())
      for (std::size_t d = 0; d < starts.size(); ++d)
         axes.push_back(int64_t(d));
   if (steps.empty())
      steps.assign(starts.size(), 1);
   if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
      c.fail("starts, ends, axes and steps differ in length");
   Shape start(std::size_t(r), 0), step(std::size_t(r), 1), out = xs;
   std::vector<bool> seen(std::size_t(r), false);
   for (std::size_t j = 0; j < starts.size(); ++j) {
      const std::size_t a = std::size_t(c.axis(axes[j], r, "axis"));
      if (seen[a])
         c.fail("axis " + std::to_string(axes[j]) + " is repeated");
      seen[a] = true;
      const int64_t dim = xs[a], s = steps[j];
      if (s == 0)
         c.fail("steps " + shapeString(steps) + ": entry " + std::to_string(j) + " is 0");
      int64_t b = starts[j], e = ends[j];
      b = b < 0 ? b + dim : b;
      e = e < 0 ? e + dim : e;
      // (written so that no step or bound, up to +-2^63, overflows)
      if (s > 0) {
         b = std::clamp(b, int64_t(0), dim);
         e = std::clamp(e, int64_t(0), dim);
         out[a] = e > b ? (e - b - 1) / s + 1 : 0;
      } else if (dim == 0) {
         b = 0;
         out[a] = 0;
      } else {
         b = std::clamp(b, int64_t(0), dim - 1);
         e = std::clamp(e, int64_t(-1), dim - 1);
         out[a] = b > e ? (b - e - 1) / (s == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max()
                                                                                  : -s) +
                              1
                        : 0;
      }
      start[a] = out[a] > 0 ? b : 0;
      step[a] = out[a] > 1 ? s : 1; // a step never taken is 1 (no overflow in the offsets)
   }
   // axis 0 named with any bound that is not "from the first to the last" (end >= 2^31 - 1, as
   // tf2onnx writes it; a count such as 4 looks whole at batch 1 and 2 and cuts 50 events): the
   // events kept depend on the batch
   for (std::size_t j = 0; j < starts.size(); ++j)
      if (c.axis(axes[j], r, "axis") == 0 && !(steps[j] == 1 && (starts[j] == 0 || starts[j] <= -(int64_t(1) << 31)) &&
                                               ends[j] >= std::numeric_limits<int32_t>::max()))
         c.mixesEvents("it slices axis 0, the batch axis (starts " + std::to_string(starts[j]) + ", ends " +
                       std::to_string(ends[j]) + ", steps " + std::to_string(steps[j]) + ")");
   if (c.in(0).type == DType::Int64) {
      const std::vector<int64_t> x = c.ints(0, "data");
      std::vector<int64_t> y(std::size_t(numel(out)));
      sliceTo(x.data(), xs, start, step, out, y.data());
      c.constantI(0, out, std::move(y));
      return;
   }
   auto k = std::make_unique<SliceKernel>();
   k->shape = xs;
   k->start = start;
   k->step = step;
   k->out = out;
   k->inputs = {c.id(0)};
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

struct GatherKernel : Kernel {
   Shape shape;
   int64_t axis = 0;
   std::vector<int64_t> indices;
   void run(float *const *v, float *) const override { gatherTo(v[inputs[0]], shape, axis, indices, v[outputs[0]]); }
};

void opGather(NodeCtx &c)
{
   c.requireInputs(2, 2);
   const Shape &xs = c.shape(0);
   const int64_t r = int64_t(xs.size());
   if (r == 0)
      c.fail("data must have rank >= 1");
   const int64_t axis = c.axis(c.attrInt("axis", 0), r, "axis");
   std::vector<int64_t> idx = c.ints(1, "indices");
   const int64_t dim = xs[std::size_t(axis)];
   for (int64_t &i : idx) {
      if (i < -dim || i >= dim)
         c.fail("index " + std::to_string(i) + " is out of range for axis " + std::to_string(axis) + " of size " +
                std::to_string(dim));
      i = i < 0 ? i + dim : i;
   }
   if (axis == 0)
      c.mixesEvents("it gathers along axis 0, the batch axis");
   Shape out(xs.begin(), xs.begin() + axis);
   const Shape &is = c.shape(1);
   out.insert(out.end(), is.begin(), is.end());
   out.insert(out.end(), xs.begin() + axis + 1, xs.end());
   if (c.in(0).type == DType::Int64) {
      const std::vector<int64_t> x = c.ints(0, "data");
      std::vector<int64_t> y(std::size_t(numel(out)));
      gatherTo(x.data(), xs, axis, idx, y.data());
      c.constantI(0, out, std::move(y));
      return;
   }
   auto k = std::make_unique<GatherKernel>();
   k->shape = xs;
   k->axis = axis;
   k->indices = idx;
   k->inputs = {c.id(0)};
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

struct ConcatKernel : Kernel {
   std::vector<Shape> shapes;
   int64_t axis = 0;
   int64_t outer = 1, total = 0;
   std::vector<int64_t> block; ///< floats each input contributes per outer index
   void prepare()
   {
      outer = 1;
      for (int64_t k = 0; k < axis; ++k)
         outer *= shapes[0][std::size_t(k)];
      block.assign(shapes.size(), 1);
      total = 0;
      for (std::size_t i = 0; i < shapes.size(); ++i) {
         for (std::size_t k = std::size_t(axis); k < shapes[i].size(); ++k)
            block[i] *= shapes[i][k];
         total += block[i];
      }
   }
   void run(float *const *v, float *) const override
   {
      float *out = v[outputs[0]];
      for (int64_t o = 0; o < outer; ++o) {
         float *dst = out + o * total;
         for (std::size_t i = 0; i < inputs.size(); ++i) {
            if (block[i])
               std::memcpy(dst, v[inputs[i]] + o * block[i], std::size_t(block[i]) * sizeof(float));
            dst += block[i];
         }
      }
   }
};

void opConcat(NodeCtx &c)
{
   if (c.nIn() == 0)
      c.fail("needs at least one input");
   const Shape &x0 = c.shape(0);
   const int64_t r = int64_t(x0.size());
   const int64_t axis = c.axis(c.attrInt("axis", 0), r, "axis");
   if (axis == 0)
      c.mixesEvents("it concatenates along axis 0, the batch axis");
   Shape out = x0;
   out[std::size_t(axis)] = 0;
   bool anyInt = false, allConst = true;
   std::vector<Shape> shapes;
   for (std::size_t j = 0; j < c.nIn(); ++j) {
      const Shape &s = c.shape(j);
      if (int64_t(s.size()) != r)
         c.fail("input " + std::to_string(j) + " has rank " + std::to_string(s.size()) + ", expected " +
                std::to_string(r));
      for (int64_t d = 0; d < r; ++d)
         if (d != axis && s[std::size_t(d)] != x0[std::size_t(d)])
            c.fail("input " + std::to_string(j) + " has shape " + shapeString(s) + ", incompatible with " +
                   shapeString(x0) + " outside axis " + std::to_string(axis));
      out[std::size_t(axis)] += s[std::size_t(axis)];
      anyInt = anyInt || c.in(j).type == DType::Int64;
      allConst = allConst && c.isConst(j);
      shapes.push_back(s);
   }
   if (anyInt) {
      std::vector<std::vector<int64_t>> data;
      std::vector<const int64_t *> ptrs;
      for (std::size_t j = 0; j < c.nIn(); ++j)
         data.push_back(c.ints(j, "input"));
      for (auto &d : data)
         ptrs.push_back(d.data());
      std::vector<int64_t> y(std::size_t(numel(out)));
      concatTo(ptrs, shapes, axis, y.data());
      c.constantI(0, out, std::move(y));
      return;
   }
   (void)allConst;
   auto k = std::make_unique<ConcatKernel>();
   k->shapes = shapes;
   k->axis = axis;
   k->prepare();
   for (std::size_t j = 0; j < c.nIn(); ++j)
      k->inputs.push_back(c.id(j));
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

struct PadKernel : Kernel {
   enum Mode { Constant, Reflect, Edge, Wrap } mode = Constant;
   Shape in, out, begin;
   /// The input range [keepLo, keepHi) left along each axis after negative pads crop it: edge,
   /// wrap and reflect extend this range, not the whole input (as onnxruntime does).
   Shape keepLo, keepHi;
   float value = 0.f;
   int valueId = -1;
   /// Source index along axis d for output index o (-1: constant fill).
   int64_t source(int64_t o, std::size_t d) const
   {
      const int64_t i = o - begin[d], a = keepLo[d], len = keepHi[d] - keepLo[d];
      if (i >= a && i < keepHi[d])
         return i;
      switch (mode) {
      case Constant:
         return -1;
      case Edge:
         return i < a ? a : keepHi[d] - 1;
      case Wrap:
         return a + (((i - a) % len) + len) % len;
      case Reflect: {
         if (len == 1)
            return a;
         const int64_t period = 2 * (len - 1);
         const int64_t j = (((i - a) % period) + period) % period;
         return a + (j >= len ? period - j : j);
      }
      }
      return -1;
   }
   void run(float *const *v, float *) const override
   {
      const float *x = v[inputs[0]];
      float *y = v[outputs[0]];
      const float fill = valueId >= 0 ? v[valueId][0] : value;
      const std::size_t r = out.size();
      const int64_t n = numel(out);
      if (n == 0)
         return;
      if (r == 0) {
         y[0] = x[0];
         return;
      }
      IndexBuf inStr(r), idx(r);
      for (std::size_t d = r, acc = 1; d-- > 0;) {
         inStr[d] = int64_t(acc);
         acc *= std::size_t(in[d]);
      }
      // one output row (last axis) at a time: the outer indices map to one source row or to fill
      const std::size_t last = r - 1;
      const int64_t inner = out[last], lo = std::max<int64_t>(0, begin[last]),
                    hi = std::min<int64_t>(inner, begin[last] + in[last]);
      for (int64_t row = 0; row < n; row += inner) {
         float *dst = y + row;
         int64_t off = 0;
         bool inside = true;
         for (std::size_t d = 0; d < last; ++d) {
            const int64_t i = source(idx[d], d);
            inside = inside && i >= 0;
            off += i * inStr[d];
         }
         if (!inside || in[last] == 0) {
            std::fill(dst, dst + inner, fill);
         } else {
            const float *src = x + off;
            for (int64_t o = 0; o < lo; ++o) {
               const int64_t i = source(o, last);
               dst[o] = i < 0 ? fill : src[i];
            }
            if (hi > lo)
               std::memcpy(dst + lo, src + (lo - begin[last]), std::size_t(hi - lo) * sizeof(float));
            for (int64_t o = std::max(hi, lo); o < inner; ++o) {
               const int64_t i = source(o, last);
               dst[o] = i < 0 ? fill : src[i];
            }
         }
         for (std::size_t d = last; d-- > 0;) {
            if (++idx[d] < out[d])
               break;
            idx[d] = 0;
         }
      }
   }
};

/// A zero Pad of the spatial dims of an N x C x H x W tensor read only by Convs (as their X)
/// becomes extra pads of those Convs: the Pad output aliases its input, no copy is made.
bool foldPadIntoConvs(NodeCtx &c, const PadKernel &k)
{
   if (k.mode != PadKernel::Constant || k.valueId >= 0 || k.value != 0.f || k.in.size() != 4 || c.isConst(0))
      return false;
   if (k.begin[0] != 0 || k.begin[1] != 0 || k.out[0] != k.in[0] || k.out[1] != k.in[1])
      return false;
   Shape begin(2), end(2);
   for (std::size_t d = 0; d < 2; ++d) {
      begin[d] = k.begin[d + 2];
      end[d] = k.out[d + 2] - k.in[d + 2] - begin[d];
      if (begin[d] < 0 || end[d] < 0)
         return false;
   }
   const std::string &name = c.node.output.at(0);
   if (c.planner.graphOutputs.count(name))
      return false;
   auto it = c.planner.consumers.find(name);
   if (it == c.planner.consumers.end() || it->second.empty())
      return false;
   const auto &nodes = c.planner.model.proto.graph.node;
   for (std::size_t ci : it->second) {
      const proto::Node &n = nodes[ci];
      if (n.opType != "Conv" || n.input.empty() || n.input[0] != name)
         return false;
      for (std::size_t j = 1; j < n.input.size(); ++j)
         if (n.input[j] == name)
            return false;
      const proto::Attribute *ap = n.findAttribute("auto_pad");
      if (ap && ap->s != "NOTSET" && ap->s != "VALID" && !ap->s.empty())
         return false;
   }
   c.planner.foldedPads[name] = {begin, end};
   c.alias(0, 0, k.in);
   return true;
}

void opPad(NodeCtx &c)
{
   c.requireFloat(0);
   const Shape &xs = c.shape(0);
   const int64_t r = int64_t(xs.size());
   Shape pads, axes;
   auto k = std::make_unique<PadKernel>();
   k->inputs = {c.id(0)};
   if (c.opset() < 11) {
      c.requireInputs(1, 1);
      pads = c.attrInts("pads");
      k->value = c.attrFloat("value", 0.f);
   } else {
      c.requireInputs(2, 4);
      pads = c.ints(1, "pads");
      if (c.has(2)) {
         if (numel(c.shape(2)) != 1)
            c.fail("constant_value has shape " + shapeString(c.shape(2)) + ", expected one value");
         if (c.isConst(2)) {
            k->value = c.floats(2, "constant_value").at(0);
         } else {
            c.requireFloat(2);
            k->valueId = c.id(2);
            k->inputs.push_back(c.id(2));
         }
      }
      if (c.has(3))
         axes = c.ints(3, "axes");
   }
   if (axes.empty())
      for (int64_t d = 0; d < r; ++d)
         axes.push_back(d);
   if (pads.size() != 2 * axes.size())
      c.fail("pads has " + std::to_string(pads.size()) + " entries, expected " + std::to_string(2 * axes.size()));
   const std::string mode = c.attrString("mode", "constant");
   if (mode == "constant")
      k->mode = PadKernel::Constant;
   else if (mode == "reflect")
      k->mode = PadKernel::Reflect;
   else if (mode == "edge")
      k->mode = PadKernel::Edge;
   else if (mode == "wrap")
      k->mode = PadKernel::Wrap;
   else
      c.fail("mode '" + mode + "' is not one of constant, reflect, edge, wrap");
   k->in = xs;
   k->out = xs;
   k->begin.assign(std::size_t(r), 0);
   k->keepLo.assign(std::size_t(r), 0);
   k->keepHi = xs;
   const std::size_t na = axes.size();
   std::vector<bool> seen(std::size_t(r), false);
   for (std::size_t j = 0; j < na; ++j) {
      const std::size_t a = std::size_t(c.axis(axes[j], r, "axis"));
      if (seen[a])
         c.fail("axes " + shapeString(axes) + " name axis " + std::to_string(a) + " more than once");
      seen[a] = true;
      const int64_t p0 = pads[j], p1 = pads[j + na];
      if (std::abs(p0) > (int64_t(1) << 31) || std::abs(p1) > (int64_t(1) << 31))
         c.fail("pads " + shapeString(pads) + " has an entry beyond +-2^31");
      k->begin[a] = p0;
      k->out[a] = xs[a] + p0 + p1;
      k->keepLo[a] = std::max<int64_t>(0, -p0);
      k->keepHi[a] = xs[a] - std::max<int64_t>(0, -p1);
      if (k->out[a] < 0)
         c.fail("pads " + shapeString(pads) + " remove more than the input " + shapeString(xs) + " holds along axis " +
                std::to_string(a));
      // constant mode may crop past the input (what is left is padding); the others extend
      // what the crop keeps, which must not be empty (as onnxruntime)
      const int64_t len = std::max<int64_t>(0, k->keepHi[a] - k->keepLo[a]);
      if (k->mode != PadKernel::Constant && len == 0 && (p0 != 0 || p1 != 0))
         c.fail("pads " + shapeString(pads) + " leave nothing of axis " + std::to_string(a) + " of " + shapeString(xs) +
                " to extend in mode " + mode);
      if (k->mode == PadKernel::Reflect && ((p0 > 0 && p0 >= len) || (p1 > 0 && p1 >= len)))
         c.fail("pads " + shapeString(pads) + " reflect " + std::to_string(std::max(p0, p1)) + " values of axis " +
                std::to_string(a) + ", which holds " + std::to_string(len) +
                " after cropping: mode reflect needs pads < that size");
   }
   if (r > 0 && (k->begin[0] != 0 || k->out[0] != xs[0]))
      c.mixesEvents("it pads or crops axis 0, the batch axis");
   if (c.carriesEvents(2))
      c.mixesEvents("its constant_value comes from the event data");
   if (foldPadIntoConvs(c, *k)) // tf2onnx's explicit padding before strided convolutions
      return;
   k->outputs = {c.runtime(0, k->out)};
   c.emit(std::move(k));
}

} // namespace

void fuseDenseChains(Plan &plan)
{
   std::vector<int> uses(plan.values.size(), 0); // steps reading a value (or an alias of it), graph outputs
   for (const auto &step : plan.steps)
      for (int id : step->inputs)
         ++uses[std::size_t(plan.root(id))];
   for (int id : plan.outputs)
      ++uses[std::size_t(plan.root(id))];
   const auto dense = [&](std::size_t s) { return dynamic_cast<const DenseKernel *>(plan.steps[s].get()); };
   std::vector<std::unique_ptr<Kernel>> steps;
   for (std::size_t s = 0; s < plan.steps.size();) {
      std::size_t e = s + 1; // [s, e): a chain, each layer the only reader of the one before
      if (dense(s))
         while (e < plan.steps.size() && dense(e) && dense(e)->M == dense(s)->M &&
                dense(e)->inputs[0] == dense(e - 1)->outputs[0] && uses[std::size_t(dense(e - 1)->outputs[0])] == 1)
            ++e;
      if (e - s < 2) {
         steps.push_back(std::move(plan.steps[s++]));
         continue;
      }
      auto chain = std::make_unique<DenseChainKernel>();
      for (std::size_t k = s; k < e; ++k) {
         const DenseKernel &d = *dense(k);
         chain->params.insert(chain->params.end(), d.W.begin(), d.W.end());
         chain->params.insert(chain->params.end(), d.b.begin(), d.b.end());
         chain->layers.push_back({d.Kd, d.N, d.Npad, nullptr, nullptr, d.act});
         chain->node += (k > s ? "+" : "") + d.node;
         if (k + 1 < e)
            chain->wsRow = std::max(chain->wsRow, d.Npad);
      }
      const float *at = chain->params.data(); // params no longer grows: point the layers into it
      for (kernels::DenseLayer &L : chain->layers) {
         L.W = at;
         L.b = at + L.K * L.Npad;
         at = L.b + L.Npad;
      }
      chain->op = "DenseChain";
      chain->M = dense(s)->M;
      chain->ldy = dense(e - 1)->N;
      chain->workspace = std::size_t(2 * chain->wsRow);
      chain->inputs = dense(s)->inputs;
      chain->outputs = dense(e - 1)->outputs;
      steps.push_back(std::move(chain));
      s = e;
   }
   plan.steps = std::move(steps);
}

const std::map<std::string, OpPlanner> &operatorTable()
{
   static const std::map<std::string, OpPlanner> table = {
       {"Add", opAdd},
       {"BatchNormalization", opBatchNormalization},
       {"Cast", opCast},
       {"Clip", opClip},
       {"Concat", opConcat},
       {"Constant", opConstant},
       {"Conv", opConv},
       {"ConvTranspose", opConvTranspose},
       {"Div", opDiv},
       {"Dropout", opDropout},
       {"Elu", opElu},
       {"Exp", opExp},
       {"Flatten", opFlatten},
       {"Gather", opGather},
       {"Gemm", opGemm},
       {"GlobalAveragePool", opGlobalAveragePool},
       {"GlobalMaxPool", opGlobalMaxPool},
       {"Identity", opIdentity},
       {"LeakyRelu", opLeakyRelu},
       {"MatMul", opMatMul},
       {"MaxPool", opMaxPool},
       {"Mul", opMul},
       {"Pad", opPad},
       {"ReduceMax", opReduceMax},
       {"ReduceMean", opReduceMean},
       {"ReduceSum", opReduceSum},
       {"Relu", opRelu},
       {"Reshape", opReshape},
       {"Selu", opSelu},
       {"Shape", opShape},
       {"Sigmoid", opSigmoid},
       {"Slice", opSlice},
       {"Softmax", opSoftmax},
       {"Squeeze", opSqueeze},
       {"Sub", opSub},
       {"Tanh", opTanh},
       {"Transpose", opTranspose},
       {"Unsqueeze", opUnsqueeze},
   };
   return table;
}

} // namespace tpcml::onnx::detail
