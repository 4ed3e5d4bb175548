// tpcml (private) -- shape operators: views (Reshape, Flatten, Squeeze, Unsqueeze, Identity,
// Dropout), Shape and Constant.
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

/// A view of input 0 under a new shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity...).
void view(NodeCtx &c, const Shape &shape)
{
   if (numel(shape) != numel(c.shape(0)))
      c.fail("cannot reshape " + shapeString(c.shape(0)) + " (" + std::to_string(numel(c.shape(0))) + " elements) to " +
             shapeString(shape));
   c.alias(0, 0, shape);
}

} // namespace

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

namespace {

Shape axesOf(NodeCtx &c, int64_t inputSince, const char *what)
{
   if (c.opset() >= inputSince)
      return c.has(1) ? c.ints(1, what) : Shape{};
   return c.attrInts("axes");
}

} // namespace

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

} // namespace tpcml::onnx::detail
