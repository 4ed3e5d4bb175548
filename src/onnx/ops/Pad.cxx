// tpcml (private) -- Pad (constant, reflect, edge, wrap; negative pads crop).
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
      rowMajorStrides(in, inStr);
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

} // namespace

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
   // tf2onnx's explicit padding before strided convolutions
   if (k->mode == PadKernel::Constant && k->valueId < 0 && k->value == 0.f &&
       foldPadIntoConvs(c, k->in, k->out, k->begin))
      return;
   k->outputs = {c.runtime(0, k->out)};
   c.emit(std::move(k));
}

} // namespace tpcml::onnx::detail
