// tpcml (private) -- MaxPool (2-D on phase planes, any rank by index arithmetic).
// Semantics follow the ONNX operator specification (https://onnx.ai/onnx/operators/).
#include "onnx/ops/ConvAttrs.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tpcml::onnx::detail {
namespace {

using kernels::Activation;
using kernels::ActKind;

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
      rowMajorStrides(g.in, inStr);
      for (int64_t p = 0; p < planes; ++p) {
         const float *x = X + p * inSize;
         float *y = Y + p * outSize;
         for (int64_t of = 0; of < outSize; ++of) {
            unravelIndex(of, g.out, oIdx);
            float m = -std::numeric_limits<float>::infinity();
            bool nan = false;
            for (int64_t kf = 0; kf < kSize; ++kf) {
               unravelIndex(kf, g.kernel, kIdx);
               int64_t off = 0;
               if (tapOffset(g, oIdx, kIdx, g.in, inStr, off)) {
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

} // namespace

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
   const Shape spatial(xs.begin() + 2, xs.end());
   const int64_t ceilMode = c.attrInt("ceil_mode", 0);
   if (ceilMode != 0 && ceilMode != 1)
      c.fail("attribute 'ceil_mode' = " + std::to_string(ceilMode) + ", expected 0 or 1");
   const ConvAttrs attrs = readConvAttrs(c, spatial.size(), nullptr);
   k->g = convGeometry(c, spatial, attrs, ceilMode != 0, nullptr, nullptr, true);
   k->planes = xs[0] * xs[1];
   if (k->g.nd == 2) {
      k->win = window2dOf(k->g);
      k->taps = tapOffsets(k->win);
      k->workspace = std::size_t(kernels::windowWorkspace(k->win));
   }
   Shape out = {xs[0], xs[1]};
   out.insert(out.end(), k->g.out.begin(), k->g.out.end());
   emitOnInput0(c, std::move(k), out);
}

} // namespace tpcml::onnx::detail
