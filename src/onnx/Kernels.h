// tpcml (private) -- numerical kernels of the ONNX engine: GEMM with a fused epilogue
// (bias + activation), activations, depthwise 2-D convolution.
//
// Each kernel is compiled three times (KernelsAvx512.cxx, KernelsAvx2.cxx, KernelsBase.cxx
// include KernelsImpl.inl with different -m flags); table() picks the best the CPU runs,
// once. A set TPCML_ISA=avx512|avx2|base environment variable forces one (tests compare
// them). This header holds plain data only: the ISA-specific translation units must not
// instantiate shared inline code (the linker could keep an AVX-512 copy for everyone).
#ifndef TPCML_SRC_ONNX_KERNELS_H
#define TPCML_SRC_ONNX_KERNELS_H

#include <cstddef>
#include <cstdint>

namespace tpcml::onnx::kernels {

enum class ActKind : uint8_t { None, Relu, LeakyRelu, Sigmoid, Tanh, Elu, Selu, Clip, Swish, Exp };

/// y = f(x). Parameters: LeakyRelu alpha; Elu alpha; Selu alpha, gamma (in beta); Clip lo (alpha), hi (beta).
struct Activation {
   ActKind kind = ActKind::None;
   float alpha = 0.f;
   float beta = 0.f;
};

/// C[M,N] (=|+=) alpha * A[M,K] B[K,N] (+ rowBias[i] + colBias[j]), then act; strided A and B
/// (element (i,k) of A at A[i*sAm + k*sAk]), row-major C with leading dimension ldc.
struct GemmArgs {
   int64_t M = 0, N = 0, K = 0;
   const float *A = nullptr;
   int64_t sAm = 0, sAk = 1;
   const float *B = nullptr;
   int64_t sBk = 0, sBn = 1;
   float *C = nullptr;
   int64_t ldc = 0;
   float alpha = 1.f;
   bool accumulate = false;
   const float *rowBias = nullptr;
   const float *colBias = nullptr;
   Activation act;
};

/// Depthwise 2-D convolution of one channel plane (NCHW), y = bias + sum w x, then act.
struct DepthwiseArgs {
   const float *x = nullptr; ///< H x W
   const float *w = nullptr; ///< kh x kw
   float bias = 0.f;
   float *y = nullptr; ///< Ho x Wo
   int64_t H = 0, W = 0, Ho = 0, Wo = 0, kh = 0, kw = 0;
   int64_t strideH = 1, strideW = 1, dilH = 1, dilW = 1, padTop = 0, padLeft = 0;
   Activation act;
};

struct KernelTable {
   const char *isa;
   /// Floats of workspace gemm needs for these sizes.
   std::size_t (*gemmWorkspace)(int64_t M, int64_t N, int64_t K);
   void (*gemm)(const GemmArgs &args, float *workspace);
   void (*activate)(float *x, int64_t n, const Activation &act);
   void (*depthwise2d)(const DepthwiseArgs &args);
};

KernelTable tableAvx512();
KernelTable tableAvx2();
KernelTable tableBase();
/// The table for this CPU (or TPCML_ISA), chosen once.
const KernelTable &table();

} // namespace tpcml::onnx::kernels

#endif // TPCML_SRC_ONNX_KERNELS_H
