// tpcml (private) -- the Transpose kernel, shared by the Transpose planner (Transpose.cxx) and the
// rewrite that removes it before a MatMul (rewrites/FlattenTransposeIntoMatMul.cxx).
#ifndef TPCML_SRC_ONNX_OPS_TRANSPOSE_H
#define TPCML_SRC_ONNX_OPS_TRANSPOSE_H

#include "onnx/ops/OpSupport.h"

namespace tpcml::onnx::detail {

struct TransposeKernel : Kernel {
   Shape shape, perm;
   /// After merging dims that stay adjacent: a batch of R x C matrix transposes (e.g. NHWC <->
   /// NCHW), done in tiles; rows = 0 when the permutation is not of that form.
   int64_t batches = 1, rows = 0, cols = 0;
   /// Sets batches, rows and cols from shape and perm.
   void prepare();
   void run(float *const *v, float *ws) const override;
};

} // namespace tpcml::onnx::detail

#endif // TPCML_SRC_ONNX_OPS_TRANSPOSE_H
