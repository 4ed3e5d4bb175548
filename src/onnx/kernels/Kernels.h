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
   const int32_t *bRows = nullptr; ///< if set, row k of B starts at B + bRows[k] (sBk unused)
   const float *Apacked = nullptr; ///< A packed once by gemmPackA (then A, sAm, sAk unused)
   const float *Bpacked = nullptr; ///< B packed once by gemmPackB (then B, sBk, sBn unused)
   float *C = nullptr;
   int64_t ldc = 0;
   float alpha = 1.f;
   bool accumulate = false;
   const float *rowBias = nullptr;
   const float *colBias = nullptr;
   Activation act;
};

/// A 2-D sliding window (Conv, depthwise Conv, MaxPool) over one H x W plane, evaluated on
/// "phase planes": the padded input split by stride phase, sh * sw planes of Hq x Wq floats
/// (each `plane` floats apart, slack included), so that every tap of every output reads a
/// contiguous run. Output (oh, ow) lives at oh * Wq + ow of an Ho x Wq "wide" row layout;
/// columns ow >= Wo are scratch. Made by window2d() (Kernels.cxx).
struct Window2d {
   int64_t H = 0, W = 0, Ho = 0, Wo = 0, kh = 0, kw = 0;
   int64_t sh = 1, sw = 1, dh = 1, dw = 1, padTop = 0, padLeft = 0;
   int64_t Hq = 0, Wq = 0, plane = 0; ///< derived: phase-plane rows, columns, floats per plane
   /// derived, for column phases b < kMaxPhases: the phase-plane columns [colLo, colHi) that
   /// read inside the input (the rest is padding)
   static constexpr int kMaxPhases = 4;
   int64_t colLo[kMaxPhases] = {}, colHi[kMaxPhases] = {};
};

/// Fills the derived fields; all sizes must be valid (Ho, Wo >= 1).
Window2d window2d(int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                  int64_t dh, int64_t dw, int64_t padTop, int64_t padLeft);
/// Floats of the phase planes of one input plane (sh * sw * plane).
int64_t phaseFloats(const Window2d &w);
/// Offset of tap (ki, kj) in the phase planes, relative to output (0, 0).
int64_t tapOffset(const Window2d &w, int64_t ki, int64_t kj);

/// Depthwise 2-D convolution of one channel plane, y = act(bias + sum w x).
struct DepthwiseArgs {
   const float *x = nullptr;         ///< H x W
   const float *w = nullptr;         ///< kh x kw
   const int64_t *offsets = nullptr; ///< tapOffset(win, ki, kj) for the kh * kw taps
   float bias = 0.f;
   float *y = nullptr; ///< Ho x Wo
   Window2d win;
   Activation act;
   float *scratch = nullptr;  ///< windowWorkspace(win) floats
   bool bordersReady = false; ///< scratch already holds this window's padding (an earlier plane)
};
/// Depthwise 2-D convolution of all C channels of one event at once, vectorised across channels (for
/// small planes, where per-plane work is mostly overhead): x [C, H, W] is transposed to [H * W, Cpad],
/// every output pixel accumulates its in-bounds taps over channel vectors, and the [Ho * Wo, Cpad]
/// result goes back to y [C, Ho, Wo]. wT: the weights as [kh * kw, Cpad], bias Cpad floats (both zero
/// padded; Cpad a multiple of 16); win: the window geometry (its phase-plane fields unused).
struct DepthwiseChannelsArgs {
   const float *x = nullptr;
   int64_t C = 0, Cpad = 0;
   const float *wT = nullptr, *bias = nullptr;
   float *y = nullptr;
   Window2d win;
   Activation act;
   float *scratch = nullptr; ///< depthwiseChannelsWorkspace floats
};
/// Scratch floats of depthwiseChannels.
inline int64_t depthwiseChannelsWorkspace(const Window2d &w, int64_t Cpad)
{
   return (w.H * w.W + w.Ho * w.Wo) * Cpad;
}

/// Scratch floats depthwise2d and maxPool2d need.
int64_t windowWorkspace(const Window2d &w);

/// One layer of a dense chain: y = act(x W + b), W K x Npad and b Npad floats (Npad a multiple of
/// 16, zero padded), of which the first N columns are the layer's outputs.
struct DenseLayer {
   int64_t K = 0, N = 0, Npad = 0;
   const float *W = nullptr, *b = nullptr;
   Activation act;
};

struct KernelTable {
   const char *isa;
   /// Floats of workspace gemm needs for these sizes.
   std::size_t (*gemmWorkspace)(int64_t M, int64_t N, int64_t K);
   void (*gemm)(const GemmArgs &args, float *workspace);
   /// Whole-matrix packing of a constant operand (done at plan time): floats, and the packing.
   std::size_t (*gemmPackedASize)(int64_t M, int64_t K);
   void (*gemmPackA)(const float *A, int64_t M, int64_t K, int64_t sAm, int64_t sAk, float *dst);
   std::size_t (*gemmPackedBSize)(int64_t K, int64_t N);
   void (*gemmPackB)(const float *B, int64_t K, int64_t N, int64_t sBk, int64_t sBn, float *dst);
   void (*activate)(float *x, int64_t n, const Activation &act);
   /// y (M x N, leading dimension ldy) = act(x W + b) for a few rows x (M x K, leading dimension
   /// ldx); W is K x Npad and b Npad floats, Npad a multiple of 16, zero padded.
   void (*dense)(const float *x, int64_t M, int64_t K, int64_t ldx, const float *W, int64_t Npad, const float *b,
                 int64_t N, float *y, int64_t ldy, const Activation &act);
   /// A chain of dense layers on each of M rows of x (leading dimension ldx): layer l + 1 reads
   /// layer l's output; the last writes N values per row into y (leading dimension ldy). The
   /// hidden rows alternate between ws and ws + wsRow, wsRow >= the Npad of every layer but the
   /// last (the per-event path of MLPs).
   void (*denseChain)(const float *x, int64_t M, int64_t ldx, const DenseLayer *layers, int64_t nLayers, float *ws,
                      int64_t wsRow, float *y, int64_t ldy);
   void (*depthwise2d)(const DepthwiseArgs &args);
   void (*depthwiseChannels)(const DepthwiseChannelsArgs &args);
   /// Max over the window of one plane (pads ignored; NaN propagates); scratch: windowWorkspace;
   /// offsets: tapOffset of the kh * kw taps.
   void (*maxPool2d)(const float *x, const Window2d &win, const int64_t *offsets, float *y, float *scratch,
                     bool bordersReady);
   /// Splits one H x W plane into its phase planes (dst: phaseFloats(w) floats); `fill` outside.
   /// With `borders` false the padding cells of dst are assumed to hold `fill` already.
   void (*phaseSplit)(const float *x, const Window2d &w, float fill, float *dst, bool borders);
   /// Copies the Ho x Wo outputs out of the Ho x Wq wide layout (wide and y distinct).
   void (*compactRows)(const float *wide, const Window2d &w, float *y);
   /// Sum of x (n floats), or its max (NaN propagates) when `max`.
   float (*reduce)(const float *x, int64_t n, bool max);
   /// y[i] = x[i] op s (op: 0 add, 1 sub, 2 mul, 3 div), or s op x[i] when `swap`.
   void (*scalarOp)(const float *x, float s, float *y, int64_t n, int op, bool swap);
   /// y[i] = a[i] op b[i].
   void (*vectorOp)(const float *a, const float *b, float *y, int64_t n, int op);
};

KernelTable tableAvx512();
KernelTable tableAvx2();
KernelTable tableBase();
/// The table for this CPU (or TPCML_ISA), chosen once.
const KernelTable &table();

} // namespace tpcml::onnx::kernels

#endif // TPCML_SRC_ONNX_KERNELS_H
