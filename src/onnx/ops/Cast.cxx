// tpcml (private) -- Cast between float and the integer types (load-time for integers).
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
   // clang-format off
   switch (to) {
   case proto::kInt8:   return int8_t(v);
   case proto::kUInt8:  return uint8_t(v);
   case proto::kInt16:  return int16_t(v);
   case proto::kUInt16: return uint16_t(v);
   case proto::kInt32:  return int32_t(v);
   case proto::kUInt32: return uint32_t(v);
   case proto::kBool:   return v != 0;
   default:             return v;
   }
   // clang-format on
}

} // namespace

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

} // namespace tpcml::onnx::detail
