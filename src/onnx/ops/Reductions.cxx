// tpcml (private) -- reductions: ReduceMean/Max/Sum and the global poolings built on them.
// Semantics follow the ONNX operator specification (https://onnx.ai/onnx/operators/).
#include "onnx/ops/OpSupport.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tpcml::onnx::detail {
namespace {

using kernels::Activation;
using kernels::ActKind;

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
   emitOnInput0(c, std::move(k), out);
}

} // namespace

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

} // namespace tpcml::onnx::detail
