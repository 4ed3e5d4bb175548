// tpcml (private) -- normalisations: Softmax and BatchNormalization.
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

} // namespace

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

namespace {

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

} // namespace

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

} // namespace tpcml::onnx::detail
