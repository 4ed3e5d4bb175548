// tpcml (private) -- the MatMul/Gemm kernels, shared by the MatMul and Gemm planners (MatMul.cxx)
// and the rewrites that fold into them (rewrites/AffineIntoMatMul.cxx, FlattenTransposeIntoMatMul.cxx,
// DenseChains.cxx).
#ifndef TPCML_SRC_ONNX_OPS_MATMUL_H
#define TPCML_SRC_ONNX_OPS_MATMUL_H

#include "onnx/ops/OpSupport.h"

#include <memory>
#include <vector>

namespace tpcml::onnx::detail {

struct MatMulKernel : Kernel {
   int64_t M = 0, N = 0, Kd = 0;
   int64_t sAm = 0, sAk = 1, sBk = 0, sBn = 1;
   float alpha = 1.f;
   std::vector<int64_t> aOff, bOff; ///< per batch matrix
   std::vector<float> bias;         ///< fused, per column
   std::vector<float> bPacked;      ///< constant B packed at plan time (kernels::gemmPackB)
   std::vector<float> bOwned;       ///< constant B with a per-feature scale folded in
   kernels::Activation act;
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
   kernels::Activation act;
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
float constantB(NodeCtx &c, const MatMulKernel &k, int64_t kk, int64_t j);

} // namespace tpcml::onnx::detail

#endif // TPCML_SRC_ONNX_OPS_MATMUL_H
