// tpcml (private) -- data movement: Slice, Gather, Concat.
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

} // namespace

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
   emitMove(c, out, [xs, start, step, out](const auto *x, auto *y) { sliceTo(x, xs, start, step, out, y); });
}

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
   emitMove(c, out, [xs, axis, idx](const auto *x, auto *y) { gatherTo(x, xs, axis, idx, y); });
}

namespace {

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

} // namespace

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

} // namespace tpcml::onnx::detail
