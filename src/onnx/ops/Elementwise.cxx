// tpcml (private) -- elementwise operators: activations, Clip, Add/Sub/Mul/Div (broadcasting).
// Semantics follow the ONNX operator specification (https://onnx.ai/onnx/operators/).
#include "onnx/ops/OpSupport.h"
#include "onnx/rewrites/Rewrites.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tpcml::onnx::detail {
namespace {

using kernels::Activation;
using kernels::ActKind;

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

} // namespace

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

namespace {

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

} // namespace

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

namespace {

enum class BinOp { Add, Sub, Mul, Div };

/// Runs a float binary op over a broadcast loop with the vector kernels on the inner runs.
void binaryRun(const BroadcastLoop &loop, const float *a, const float *b, float *y, int op)
{
   const kernels::KernelTable &kt = K();
   forEachRun(loop, [&](int64_t offA, int64_t offB, int64_t offOut, int64_t inner, int64_t ia, int64_t ib) {
      const float *pa = a + offA, *pb = b + offB;
      float *po = y + offOut;
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
   });
}

struct BinaryKernel : Kernel {
   BroadcastLoop loop;
   BinOp op = BinOp::Add;
   void run(float *const *v, float *) const override
   {
      binaryRun(loop, v[inputs[0]], v[inputs[1]], v[outputs[0]], int(op));
   }
};

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
      // p (+, -, *) q with the overflow flagged, by one of the __builtin_*_overflow
      const auto checked = [&](auto opOverflows) {
         broadcastApply(loop, x.data(), y.data(), r.data(), [&](int64_t p, int64_t q) {
            int64_t z = 0;
            overflow = opOverflows(p, q, &z) || overflow;
            return z;
         });
      };
      switch (op) {
      case BinOp::Add:
         checked([](int64_t p, int64_t q, int64_t *z) { return __builtin_add_overflow(p, q, z); });
         break;
      case BinOp::Sub:
         checked([](int64_t p, int64_t q, int64_t *z) { return __builtin_sub_overflow(p, q, z); });
         break;
      case BinOp::Mul:
         checked([](int64_t p, int64_t q, int64_t *z) { return __builtin_mul_overflow(p, q, z); });
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
   if ((op == BinOp::Mul || op == BinOp::Add) && foldAffine(c, op == BinOp::Mul, out))
      return;
   auto k = std::make_unique<BinaryKernel>();
   k->loop = loop;
   k->op = op;
   k->inputs = {c.id(0), c.id(1)};
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

} // namespace

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

} // namespace tpcml::onnx::detail
