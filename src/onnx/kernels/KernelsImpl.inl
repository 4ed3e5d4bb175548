// tpcml (private) -- kernel bodies, included once per instruction set by
// KernelsAvx512.cxx / KernelsAvx2.cxx / KernelsBase.cxx, which define
//   TPCML_VW          floats per SIMD vector (16, 8, 4)
//   TPCML_TABLE_FN    name of the function returning the KernelTable
//   TPCML_ISA_NAME    readable name
// Everything here has internal linkage and uses no shared inline code (no std::
// templates): see Kernels.h.
//
// GEMM: the Goto/van de Geijn blocking (K. Goto, R. van de Geijn, ACM TOMS 34 (2008) 12):
// B packed in KC x NR panels, A in MR x KC panels, an MR x NR register tile.
#include "onnx/kernels/Kernels.h"

#include <math.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <stdint.h>
#include <string.h>

namespace {

constexpr int VW = TPCML_VW;
// 8-row tiles with 32 vector registers (AVX-512: 16 accumulators; channel counts are multiples of 8, so
// M = 16, 32, 64, 128 no longer end in a 2- or 4-row tile), 6 with 16 (AVX2, SSE)
constexpr int MR = VW == 16 ? 8 : 6;
constexpr int NR = 2 * VW;
constexpr int64_t KC = 256;
constexpr int64_t MC = 96; // multiple of MR
constexpr int64_t NC = 512;

typedef float vf __attribute__((vector_size(VW * 4)));
typedef float vfu __attribute__((vector_size(VW * 4), aligned(4), may_alias)); // unaligned access

inline int64_t imin(int64_t a, int64_t b)
{
   return a < b ? a : b;
}
inline int64_t imax(int64_t a, int64_t b)
{
   return a > b ? a : b;
}

inline vf vload(const float *p)
{
   return *reinterpret_cast<const vfu *>(p);
}
inline void vstore(float *p, vf v)
{
   *reinterpret_cast<vfu *>(p) = v;
}
/// x in every lane. Not `vf{} + x`: that is a real addition (-0 + 0 is +0), which the
/// compiler keeps in every inner loop.
template <typename V> inline V splat(float x);
inline vf vbroadcast(float x)
{
   return splat<vf>(x);
}

typedef int32_t vi __attribute__((vector_size(VW * 4)));

template <typename V> inline V splat(float x)
{
   typedef int32_t IV __attribute__((vector_size(sizeof(V))));
   const V v = {x};
   return __builtin_shuffle(v, IV{}); // lane 0 everywhere: vbroadcastss
}

/// exp(x) by range reduction x = n ln2 + r (n rounded to nearest) and the Cephes expf
/// polynomial (relative error < 1e-7 wherever exp(x) is a normal float, measured in
/// test_onnx_fusions.py); NaN stays NaN. The scaling by 2^n over- and underflows like the true exp
/// (+inf above 88.72, gradual underflow to 0 below -87.34), so x is only clamped to keep n small:
/// one vscalefps on AVX-512, two normal powers of two 2^(n/2) elsewhere. One vector at a time.
__attribute__((always_inline)) inline vf vexp(vf x)
{
   const vf lo = splat<vf>(-104.f), hi = splat<vf>(89.f);
   vf xc = x < lo ? lo : x; // NaN stays NaN (the comparisons are false)
   xc = xc > hi ? hi : xc;
   const vf magic = splat<vf>(12582912.f); // 1.5 * 2^23: adding it rounds to an integer
   const vf fn = (xc * 1.44269504088896341f + magic) - magic;
   const vf r = xc - fn * 0.693359375f - fn * -2.12194440e-4f;
   vf p = splat<vf>(1.9875691500E-4f);
   p = p * r + 1.3981999507E-3f;
   p = p * r + 8.3334519073E-3f;
   p = p * r + 4.1665795894E-2f;
   p = p * r + 1.6666665459E-1f;
   p = p * r + 5.0000001201E-1f;
   const vf e = p * r * r + r + 1.0f;
#if defined(__AVX512F__) && TPCML_VW == 16
   return vf(_mm512_maskz_scalef_ps(__mmask16(0xFFFF), __m512(e), __m512(fn)));
#else
   // n in [-150, 129] split as n1 + n2, both in [-75, 65]: 2^n1 and 2^n2 are normal numbers
   const vi n = __builtin_convertvector(fn == fn ? fn : splat<vf>(0.f), vi); // NaN: e is NaN anyway
   const vi n1 = n >> 1, n2 = n - n1;
   const vi b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
   vf s1, s2;
   memcpy(&s1, &b1, sizeof(vf));
   memcpy(&s2, &b2, sizeof(vf));
   return e * s1 * s2;
#endif
}

/// The logistic function 1 / (1 + exp(-x)) with -x clamped to [-104, 87] (so 1 + exp(-x) stays finite
/// and its reciprocal normal): exp by the range reduction of vexp and a degree-5 polynomial fitted for
/// the least maximum relative error on [-ln2/2, ln2/2] (7.5e-8; Lawson's algorithm, an own fit), the
/// reciprocal on AVX-512 by the 14-bit vrcp14ps and one Newton step (a division elsewhere). Relative
/// error < 4e-7 for x >= -87 (measured in test_onnx_fusions.py); below, about 1.6e-38 instead of the
/// smaller true values. NaN stays NaN. About 17 vector operations: the logistic and Swish of
/// EfficientNet's layers cost more than their 1 x 1 convolutions with K = 16.
__attribute__((always_inline)) inline vf vsigmoid(vf x)
{
#if defined(__AVX512F__) && TPCML_VW == 16
   // -x clamped to [-104, 87]: vminps / vmaxps return their second operand (here -x) on NaN
   const vf z = vf(_mm512_maskz_max_ps(__mmask16(0xFFFF), __m512(splat<vf>(-104.f)),
                                       _mm512_maskz_min_ps(__mmask16(0xFFFF), __m512(splat<vf>(87.f)), __m512(-x))));
#else
   const vf lo = splat<vf>(-104.f), hi = splat<vf>(87.f), nx = -x;
   vf z = nx > hi ? hi : nx;
   z = z < lo ? lo : z;
#endif
   const vf magic = splat<vf>(12582912.f); // 1.5 * 2^23: adding it rounds to an integer
   const vf fn = (z * 1.44269504088896341f + magic) - magic;
   const vf r = z - fn * 0.693359375f - fn * -2.12194440e-4f;
   vf p = splat<vf>(8.297654800e-03f);
   p = p * r + 4.191538319e-02f;
   p = p * r + 1.666757464e-01f;
   p = p * r + 4.999889433e-01f;
   p = p * r + 9.999997020e-01f;
   p = p * r + 1.000000119e+00f;
#if defined(__AVX512F__) && TPCML_VW == 16
   const vf e = vf(_mm512_maskz_scalef_ps(__mmask16(0xFFFF), __m512(p), __m512(fn)));
#else
   // n in [-150, 126] split as n1 + n2, both normal powers of two
   const vi n = __builtin_convertvector(fn == fn ? fn : splat<vf>(0.f), vi);
   const vi n1 = n >> 1, n2 = n - n1;
   const vi b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
   vf s1, s2;
   memcpy(&s1, &b1, sizeof(vf));
   memcpy(&s2, &b2, sizeof(vf));
   const vf e = p * s1 * s2;
#endif
   const vf d = 1.f + e;
#if defined(__AVX512F__) && TPCML_VW == 16
   const vf q = vf(_mm512_maskz_rcp14_ps(__mmask16(0xFFFF), __m512(d)));
   return q + q * (1.f - d * q);
#else
   return 1.f / d;
#endif
}

/// tanh: Cephes tanhf (the odd polynomial for |x| < 0.625, 1 - 2 / (exp(2x) + 1) beyond).
inline vf vtanh(vf x)
{
   const vf z = x * x;
   vf p = splat<vf>(-5.70498872745E-3f);
   p = p * z + 2.06390887954E-2f;
   p = p * z - 5.37397155531E-2f;
   p = p * z + 1.33314422036E-1f;
   p = p * z - 3.33332819422E-1f;
   const vf small = p * z * x + x;
   const vf large = 1.f - 2.f / (vexp(x + x) + 1.f);
   const vf ax = x < 0.f ? -x : x;
   return ax < 0.625f ? small : large;
}

__attribute__((always_inline)) inline vf vact(vf x, const tpcml::onnx::kernels::Activation &act)
{
   using tpcml::onnx::kernels::ActKind;
   switch (act.kind) {
   case ActKind::None:
      return x;
   case ActKind::Relu:
      return x < 0.f ? splat<vf>(0.f) : x; // NaN stays NaN
   case ActKind::LeakyRelu:
      return x < 0.f ? x * act.alpha : x;
   case ActKind::Sigmoid:
      return vsigmoid(x);
   case ActKind::Swish:
      return x * vsigmoid(x);
   case ActKind::Tanh:
      return vtanh(x);
   case ActKind::Exp:
      return vexp(x);
   case ActKind::Elu:
      return x < 0.f ? act.alpha * (vexp(x) - 1.f) : x;
   case ActKind::Selu:
      return x <= 0.f ? act.beta * act.alpha * (vexp(x) - 1.f) : act.beta * x;
   case ActKind::Clip: {
      const vf v = x < act.alpha ? splat<vf>(act.alpha) : x; // NaN stays NaN
      return v > act.beta ? splat<vf>(act.beta) : v;
   }
   }
   return x;
}

/// Loads n < VW floats into a vector (the rest zero) / stores its first n lanes.
/// AVX-512: masked loads and stores (lanes outside the mask are neither read nor written).
inline vf vloadPartial(const float *p, int64_t n)
{
#if defined(__AVX512F__) && TPCML_VW == 16
   return vf(_mm512_maskz_loadu_ps(__mmask16((1u << n) - 1u), p));
#else
   float tmp[VW] = {};
   memcpy(tmp, p, size_t(n) * sizeof(float));
   return vload(tmp);
#endif
}
inline void vstorePartial(float *p, vf v, int64_t n)
{
#if defined(__AVX512F__) && TPCML_VW == 16
   _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1u), __m512(v));
#else
   float tmp[VW];
   vstore(tmp, v);
   memcpy(p, tmp, size_t(n) * sizeof(float));
#endif
}

void activate(float *x, int64_t n, const tpcml::onnx::kernels::Activation &act)
{
   using tpcml::onnx::kernels::ActKind;
   if (act.kind == ActKind::None)
      return;
   int64_t k = 0;
   for (; k + VW <= n; k += VW)
      vstore(x + k, vact(vload(x + k), act));
   if (k < n)
      vstorePartial(x + k, vact(vloadPartial(x + k, n - k), act), n - k);
}

// ------------------------------------------------------------------------- GEMM
// A is read either from MR-row panels (packed per block, or once at plan time: Ap[(p*K + k)*MR
// + r] for panel p over the whole K) or straight from memory when few column panels reuse it.
// B is read from NR-column panels, NR = NV * VW with NV = 1 or 2 vectors (Bp[(q*K + k)*NR + c]
// for a whole-K packing at plan time, or per KC block).

/// Packs rows [i0, i0+mc) x cols [k0, k0+kc) of A into MR-row panels: Ap[(p*kc + k)*MR + r].
void packA(const float *A, int64_t sAm, int64_t sAk, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float *Ap)
{
   for (int64_t p = 0; p < mc; p += MR) {
      const int64_t rows = imin(MR, mc - p);
      float *dst = Ap + p * kc;
      for (int64_t k = 0; k < kc; ++k) {
         const float *src = A + (i0 + p) * sAm + (k0 + k) * sAk;
         int64_t r = 0;
         for (; r < rows; ++r)
            dst[k * MR + r] = src[r * sAm];
         for (; r < MR; ++r)
            dst[k * MR + r] = 0.f;
      }
   }
}

/// Packs rows [k0, k0+kc) x cols [j0, j0+nc) of B into nr-column panels: Bp[(q*kc + k)*nr + c].
/// Row by row (each source row read once, front to back: B is often an activation fresh from
/// memory, and panel by panel the reads jumped between kc rows for every nr floats).
void packB(const tpcml::onnx::kernels::GemmArgs &g, int64_t nr, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
           float *Bp)
{
   const int64_t fullPanels = g.sBn == 1 ? nc / nr : 0;
   for (int64_t k = 0; k < kc; ++k) {
      const float *src = g.B + (g.bRows ? g.bRows[k0 + k] : (k0 + k) * g.sBk) + j0 * g.sBn;
      float *d = Bp + k * nr;
      for (int64_t q = 0; q < fullPanels; ++q)
         for (int64_t v = 0; v < nr; v += VW)
            vstore(d + q * kc * nr + v, vload(src + q * nr + v));
   }
   for (int64_t q = fullPanels * nr; q < nc; q += nr) {
      const int64_t cols = imin(nr, nc - q);
      float *dst = Bp + q * kc;
      for (int64_t k = 0; k < kc; ++k) {
         const float *src = g.B + (g.bRows ? g.bRows[k0 + k] : (k0 + k) * g.sBk) + (j0 + q) * g.sBn;
         float *d = dst + k * nr;
         int64_t c = 0;
         for (; c < cols; ++c)
            d[c] = src[c * g.sBn];
         for (; c < nr; ++c)
            d[c] = 0.f;
      }
   }
}

/// One MRt x (NV*VW) tile: C (=|+=) alpha * A Bp; on the last K block adds the biases and applies
/// the activation. A element (r, k) at a[r*ars + k*aks]; PackedA: ars = 1, aks = MR.
/// The K loop, all loops with constant trip counts (registers only).
template <int MRt, int NV, bool PackedA>
__attribute__((always_inline)) inline void microLoop(int64_t kc, const float *a, int64_t ars, int64_t aks,
                                                     const float *Bp, vf (&acc)[MRt][NV])
{
   constexpr int NRt = NV * VW;
   const float *ar[MRt];
#pragma GCC unroll 8
   for (int r = 0; r < MRt; ++r)
      ar[r] = a + r * ars;
   for (int64_t k = 0; k < kc; ++k) {
      vf b[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
         b[v] = vload(Bp + k * NRt + v * VW);
#pragma GCC unroll 8
      for (int r = 0; r < MRt; ++r) {
         const vf av = vbroadcast(PackedA ? a[k * MR + r] : ar[r][k * aks]);
#pragma GCC unroll 8
         for (int v = 0; v < NV; ++v)
            acc[r][v] += av * b[v];
      }
   }
}

/// The activation of a tile, the kind chosen once per tile (each case's loop sees a constant kind,
/// so vact's switch folds away).
template <int MRt, int NV>
__attribute__((always_inline)) inline void activateTile(vf (&acc)[MRt][NV], const tpcml::onnx::kernels::Activation &act)
{
   using tpcml::onnx::kernels::ActKind;
#define TPCML_ACT_TILE(KIND)                                                                                           \
   case ActKind::KIND: {                                                                                               \
      const tpcml::onnx::kernels::Activation k{ActKind::KIND, act.alpha, act.beta};                                    \
      _Pragma("GCC unroll 8") for (int r = 0; r < MRt; ++r) _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v)       \
          acc[r][v] = vact(acc[r][v], k);                                                                              \
      return;                                                                                                          \
   }
   switch (act.kind) {
   case ActKind::None:
      return;
      TPCML_ACT_TILE(Relu)
      TPCML_ACT_TILE(LeakyRelu)
      TPCML_ACT_TILE(Sigmoid)
      TPCML_ACT_TILE(Tanh)
      TPCML_ACT_TILE(Elu)
      TPCML_ACT_TILE(Selu)
      TPCML_ACT_TILE(Clip)
      TPCML_ACT_TILE(Swish)
      TPCML_ACT_TILE(Exp)
   }
#undef TPCML_ACT_TILE
}

/// An MRt-row tile from the K loop to the stores, the accumulators in registers throughout (one
/// instantiation per row count: with a run-time row count they went through the stack between the
/// K loop and the epilogue, a large share of the work when K is 16-32).
template <int MRt, int NV, bool PackedA>
__attribute__((always_inline)) inline void microTile(const tpcml::onnx::kernels::GemmArgs &g, int64_t kc,
                                                     const float *a, int64_t ars, int64_t aks, const float *Bp,
                                                     int64_t i0, int64_t j0, int nr, bool overwrite, bool last)
{
   vf acc[MRt][NV];
#pragma GCC unroll 8
   for (int r = 0; r < MRt; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
         acc[r][v] = vbroadcast(0.f);
   microLoop<MRt, NV, PackedA>(kc, a, ars, aks, Bp, acc);
   // the epilogue in passes over the tile: scale, earlier K blocks and biases, the activation (its kind chosen
   // once per tile, not per vector), the stores
   if (g.alpha != 1.f) {
      const vf alpha = vbroadcast(g.alpha);
#pragma GCC unroll 8
      for (int r = 0; r < MRt; ++r)
#pragma GCC unroll 8
         for (int v = 0; v < NV; ++v)
            acc[r][v] *= alpha;
   }
   const bool fullTile = nr == NV * VW;
   if (fullTile) {
      if (!overwrite)
#pragma GCC unroll 8
         for (int r = 0; r < MRt; ++r)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
               acc[r][v] += vload(g.C + (i0 + r) * g.ldc + j0 + v * VW);
      if (last) {
         if (g.rowBias)
#pragma GCC unroll 8
            for (int r = 0; r < MRt; ++r)
#pragma GCC unroll 8
               for (int v = 0; v < NV; ++v)
                  acc[r][v] += g.rowBias[i0 + r];
         if (g.colBias)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) {
               const vf cb = vload(g.colBias + j0 + v * VW);
#pragma GCC unroll 8
               for (int r = 0; r < MRt; ++r)
                  acc[r][v] += cb;
            }
         activateTile<MRt, NV>(acc, g.act);
      }
#pragma GCC unroll 8
      for (int r = 0; r < MRt; ++r)
#pragma GCC unroll 8
         for (int v = 0; v < NV; ++v)
            vstore(g.C + (i0 + r) * g.ldc + j0 + v * VW, acc[r][v]);
      return;
   }
#pragma GCC unroll 8
   for (int r = 0; r < MRt; ++r) {
      const float *c = g.C + (i0 + r) * g.ldc + j0;
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
         const int64_t n = imin(VW, nr - v * VW); // valid columns of this vector
         if (n <= 0)
            break;
         const bool full = n == VW;
         if (!overwrite)
            acc[r][v] += full ? vload(c + v * VW) : vloadPartial(c + v * VW, n);
         if (last) {
            if (g.rowBias)
               acc[r][v] += g.rowBias[i0 + r];
            if (g.colBias)
               acc[r][v] += full ? vload(g.colBias + j0 + v * VW) : vloadPartial(g.colBias + j0 + v * VW, n);
         }
      }
   }
   if (last)
      activateTile<MRt, NV>(acc, g.act);
#pragma GCC unroll 8
   for (int r = 0; r < MRt; ++r) {
      float *c = g.C + (i0 + r) * g.ldc + j0;
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
         const int64_t n = imin(VW, nr - v * VW);
         if (n <= 0)
            break;
         if (n == VW)
            vstore(c + v * VW, acc[r][v]);
         else
            vstorePartial(c + v * VW, acc[r][v], n);
      }
   }
}

template <int NV, bool PackedA>
void microKernel(const tpcml::onnx::kernels::GemmArgs &g, int64_t kc, const float *a, int64_t ars, int64_t aks,
                 const float *Bp, int64_t i0, int64_t j0, int mr, int nr, bool overwrite, bool last)
{
   if constexpr (PackedA) {
      ars = 1;
      aks = MR;
   }
   static_assert(MR == 6 || MR == 8, "the dispatch below assumes 6- or 8-row tiles");
   switch (mr) {
   case 8:
      if constexpr (MR >= 8)
         microTile<MR >= 8 ? 8 : 1, NV, PackedA>(g, kc, a, ars, aks, Bp, i0, j0, nr, overwrite, last);
      break;
   case 7:
      if constexpr (MR >= 8)
         microTile<MR >= 8 ? 7 : 1, NV, PackedA>(g, kc, a, ars, aks, Bp, i0, j0, nr, overwrite, last);
      break;
   case 6:
      microTile<6, NV, PackedA>(g, kc, a, ars, aks, Bp, i0, j0, nr, overwrite, last);
      break;
   case 5:
      microTile<5, NV, PackedA>(g, kc, a, ars, aks, Bp, i0, j0, nr, overwrite, last);
      break;
   case 4:
      microTile<4, NV, PackedA>(g, kc, a, ars, aks, Bp, i0, j0, nr, overwrite, last);
      break;
   case 3:
      microTile<3, NV, PackedA>(g, kc, a, ars, aks, Bp, i0, j0, nr, overwrite, last);
      break;
   case 2:
      microTile<2, NV, PackedA>(g, kc, a, ars, aks, Bp, i0, j0, nr, overwrite, last);
      break;
   default:
      microTile<1, NV, PackedA>(g, kc, a, ars, aks, Bp, i0, j0, nr, overwrite, last);
      break;
   }
}

/// N <= 8 columns (the last layers of MLPs at large batch): rows four at a time against B
/// copied to 8-float rows, one 8-float accumulator chain per row.
void gemmNarrow(const tpcml::onnx::kernels::GemmArgs &g, float *ws)
{
   typedef float v8 __attribute__((vector_size(32)));
   typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
   float *Bn = ws; // K x 8, zero padded
   for (int64_t k = 0; k < g.K; ++k) {
      const float *src = g.B + (g.bRows ? g.bRows[k] : k * g.sBk);
      for (int64_t j = 0; j < 8; ++j)
         Bn[k * 8 + j] = j < g.N ? src[j * g.sBn] : 0.f;
   }
   float bias[8] = {};
   if (g.colBias)
      for (int64_t j = 0; j < g.N; ++j)
         bias[j] = g.colBias[j];
   const int n = int(g.N);
   auto finish = [&](int64_t i, v8 acc) {
      float *c = g.C + i * g.ldc;
      float t[VW >= 8 ? VW : 8] = {};
      *reinterpret_cast<v8u *>(t) = acc;
      for (int j = 0; j < n; ++j) {
         float x = t[j] * g.alpha;
         if (g.accumulate)
            x += c[j];
         x += bias[j];
         if (g.rowBias)
            x += g.rowBias[i];
         t[j] = x;
      }
      memcpy(c, t, size_t(n) * sizeof(float));
   };
   int64_t i = 0;
   for (; i + 4 <= g.M; i += 4) {
      v8 a0 = {}, a1 = {}, a2 = {}, a3 = {};
      const float *r0 = g.A + i * g.sAm, *r1 = r0 + g.sAm, *r2 = r1 + g.sAm, *r3 = r2 + g.sAm;
      for (int64_t k = 0; k < g.K; ++k) {
         const v8 b = *reinterpret_cast<const v8u *>(Bn + k * 8);
         const int64_t o = k * g.sAk;
         a0 += r0[o] * b;
         a1 += r1[o] * b;
         a2 += r2[o] * b;
         a3 += r3[o] * b;
      }
      finish(i, a0);
      finish(i + 1, a1);
      finish(i + 2, a2);
      finish(i + 3, a3);
   }
   for (; i < g.M; ++i) {
      v8 a0 = {};
      const float *r0 = g.A + i * g.sAm;
      for (int64_t k = 0; k < g.K; ++k)
         a0 += r0[k * g.sAk] * *reinterpret_cast<const v8u *>(Bn + k * 8);
      finish(i, a0);
   }
   // the activation over whole vectors of C, not per row
   if (g.ldc == g.N)
      activate(g.C, g.M * g.N, g.act);
   else
      for (int64_t r = 0; r < g.M; ++r)
         activate(g.C + r * g.ldc, g.N, g.act);
}

/// Vectors per B panel for N columns: one when two-vector panels would waste a vector.
int gemmPanelVectors(int64_t N)
{
   // two-vector panels reuse each A broadcast twice; one-vector panels only when two-vector ones
   // would compute a fifth more columns than needed
   const int64_t one = (N + VW - 1) / VW, two = 2 * ((N + 2 * VW - 1) / (2 * VW));
   return 5 * two > 6 * one ? 1 : 2;
}

size_t gemmPackedASize(int64_t M, int64_t K)
{
   return size_t((M + MR - 1) / MR * MR * K);
}
void gemmPackA(const float *A, int64_t M, int64_t K, int64_t sAm, int64_t sAk, float *dst)
{
   packA(A, sAm, sAk, 0, M, 0, K, dst);
}
size_t gemmPackedBSize(int64_t K, int64_t N)
{
   const int64_t nr = gemmPanelVectors(N) * VW;
   return size_t((N + nr - 1) / nr * nr * K);
}
void gemmPackB(const float *B, int64_t K, int64_t N, int64_t sBk, int64_t sBn, float *dst)
{
   tpcml::onnx::kernels::GemmArgs g;
   g.B = B;
   g.sBk = sBk;
   g.sBn = sBn;
   packB(g, gemmPanelVectors(N) * VW, 0, K, 0, N, dst);
}

template <int NV> void gemmBlocked(const tpcml::onnx::kernels::GemmArgs &g, float *ws)
{
   constexpr int64_t NRt = NV * VW;
   const int64_t kcMax = imin(g.K, KC), ncMax = imin(g.N, NC);
   const int64_t ncPad = (ncMax + NRt - 1) / NRt * NRt;
   float *BpBlock = ws;
   float *ApBlock = ws + kcMax * ncPad;
   // A straight from memory when only a few column panels reuse each packed block
   const bool directA = !g.Apacked && (g.N + NRt - 1) / NRt <= 2;
   // K blocks of equal size (K = 288: 144 + 144, not 256 + 32, whose short block pays a whole epilogue)
   const int64_t kBlocks = (g.K + KC - 1) / KC, kcStep = (g.K + kBlocks - 1) / kBlocks;
   for (int64_t jc = 0; jc < g.N; jc += NC) {
      const int64_t nc = imin(NC, g.N - jc);
      for (int64_t pc = 0; pc < g.K; pc += kcStep) {
         const int64_t kc = imin(kcStep, g.K - pc);
         const bool first = pc == 0, last = pc + kc == g.K;
         const float *Bp = BpBlock;
         int64_t bPanel = kc * NRt; // floats between panels
         if (g.Bpacked) {
            Bp = g.Bpacked + (jc / NRt * g.K + pc) * NRt;
            bPanel = g.K * NRt;
         } else {
            packB(g, NRt, pc, kc, jc, nc, BpBlock);
         }
         for (int64_t ic = 0; ic < g.M; ic += MC) {
            const int64_t mc = imin(MC, g.M - ic);
            const float *Ap = ApBlock;
            int64_t aPanel = kc * MR;
            if (g.Apacked) {
               Ap = g.Apacked + (ic / MR * g.K + pc) * MR;
               aPanel = g.K * MR;
            } else if (!directA) {
               packA(g.A, g.sAm, g.sAk, ic, mc, pc, kc, ApBlock);
            }
            for (int64_t jr = 0; jr < nc; jr += NRt) {
               const int nr = int(imin(NRt, nc - jr));
               const float *bq = Bp + (jr / NRt) * bPanel;
               for (int64_t ir = 0; ir < mc; ir += MR) {
                  const int mr = int(imin(MR, mc - ir));
                  const bool ov = first && !g.accumulate;
                  if (directA)
                     microKernel<NV, false>(g, kc, g.A + (ic + ir) * g.sAm + pc * g.sAk, g.sAm, g.sAk, bq, ic + ir,
                                            jc + jr, mr, nr, ov, last);
                  else
                     microKernel<NV, true>(g, kc, Ap + (ir / MR) * aPanel, 1, MR, bq, ic + ir, jc + jr, mr, nr, ov,
                                           last);
               }
            }
         }
      }
   }
}

/// Bias, alpha, accumulation and activation for `n` <= VW finished sums of row i at column j0.
inline void smallMStore(const tpcml::onnx::kernels::GemmArgs &g, int64_t i, int64_t j0, float *sums, int n)
{
   float *c = g.C + i * g.ldc + j0;
   float t[VW] = {};
   for (int j = 0; j < n; ++j) {
      float s = sums[j] * g.alpha;
      if (g.accumulate)
         s += c[j];
      if (g.colBias)
         s += g.colBias[j0 + j];
      if (g.rowBias)
         s += g.rowBias[i];
      t[j] = s;
   }
   vstore(t, vact(vload(t), g.act));
   memcpy(c, t, size_t(n) * sizeof(float));
}

/// One row of C, columns [j0, j0 + NV*W), with NV full vectors V of W floats. K runs in P
/// interleaved phases so that P*NV independent accumulators hide the FMA latency; the phases
/// are summed in a fixed order (results depend on nothing but the inputs).
template <typename V, int W, int NV, int P>
inline void smallMRow(const tpcml::onnx::kernels::GemmArgs &g, int64_t i, int64_t j0)
{
   typedef float Vu __attribute__((vector_size(W * 4), aligned(4), may_alias));
   const float *a = g.A + i * g.sAm;
   V acc[P][NV];
   for (int p = 0; p < P; ++p)
      for (int v = 0; v < NV; ++v)
         acc[p][v] = V{};
   const int32_t *rows = g.bRows;
   const float *B = g.B + j0;
   const int64_t sBk = g.sBk, sAk = g.sAk, Kd = g.K;
   int64_t k = 0;
   for (; k + P <= Kd; k += P)
      for (int p = 0; p < P; ++p) {
         const float *b = B + (rows ? rows[k + p] : (k + p) * sBk);
         const V av = splat<V>(a[(k + p) * sAk]);
         for (int v = 0; v < NV; ++v)
            acc[p][v] += av * V(*reinterpret_cast<const Vu *>(b + v * W));
      }
   for (; k < Kd; ++k) {
      const float *b = B + (rows ? rows[k] : k * sBk);
      const V av = splat<V>(a[k * sAk]);
      for (int v = 0; v < NV; ++v)
         acc[0][v] += av * V(*reinterpret_cast<const Vu *>(b + v * W));
   }
   for (int v = 0; v < NV; ++v) {
      V sum = acc[0][v];
      for (int p = 1; p < P; ++p)
         sum += acc[p][v];
      float out[W];
      *reinterpret_cast<Vu *>(out) = sum;
      smallMStore(g, i, j0 + v * W, out, W);
   }
}

/// Columns [j0, j0 + n) of row i, n < 4, as dot products with four partial sums each.
inline void smallMTail(const tpcml::onnx::kernels::GemmArgs &g, int64_t i, int64_t j0, int n)
{
   const float *a = g.A + i * g.sAm;
   float sums[4] = {};
   for (int j = 0; j < n; ++j) {
      float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
      int64_t k = 0;
      auto bAt = [&](int64_t kk) { return g.B[(g.bRows ? g.bRows[kk] : kk * g.sBk) + (j0 + j) * g.sBn]; };
      for (; k + 4 <= g.K; k += 4) {
         s0 += a[k * g.sAk] * bAt(k);
         s1 += a[(k + 1) * g.sAk] * bAt(k + 1);
         s2 += a[(k + 2) * g.sAk] * bAt(k + 2);
         s3 += a[(k + 3) * g.sAk] * bAt(k + 3);
      }
      for (; k < g.K; ++k)
         s0 += a[k * g.sAk] * bAt(k);
      sums[j] = (s0 + s1) + (s2 + s3);
   }
   smallMStore(g, i, j0, sums, n);
}

/// Few rows and B with unit column stride: no packing, each row of C in column blocks of up
/// to 4 full vectors, then narrower vectors and dot products for what remains (the per-event
/// path of MLPs).
void gemmSmallM(const tpcml::onnx::kernels::GemmArgs &g)
{
   typedef float v8 __attribute__((vector_size(VW >= 8 ? 32 : 16)));
   typedef float v4 __attribute__((vector_size(16)));
   for (int64_t i = 0; i < g.M; ++i) {
      int64_t j = 0;
      for (; j + 4 * VW <= g.N; j += 4 * VW)
         smallMRow<vf, VW, 4, 2>(g, i, j);
      const int64_t rest = g.N - j;
      if (rest >= 3 * VW) {
         smallMRow<vf, VW, 3, 2>(g, i, j);
         j += 3 * VW;
      } else if (rest >= 2 * VW) {
         smallMRow<vf, VW, 2, 4>(g, i, j);
         j += 2 * VW;
      } else if (rest >= VW) {
         smallMRow<vf, VW, 1, 8>(g, i, j);
         j += VW;
      }
      if constexpr (VW >= 16) {
         if (g.N - j >= 8) {
            smallMRow<v8, 8, 1, 8>(g, i, j);
            j += 8;
         }
      }
      if constexpr (VW >= 8) {
         if (g.N - j >= 4) {
            smallMRow<v4, 4, 1, 8>(g, i, j);
            j += 4;
         }
      }
      if (j < g.N)
         smallMTail(g, i, j, int(g.N - j));
   }
}

/// One row of a dense layer, columns [j0, j0 + NV*VW) of W padded to Npad: y = act(x W + b).
template <int NV>
inline void denseBlock(const float *__restrict x, int64_t K, const float *__restrict W, int64_t Npad,
                       const float *__restrict b, int64_t j0, int64_t N, float *__restrict y,
                       const tpcml::onnx::kernels::Activation &act)
{
   constexpr int P = NV >= 3 ? 2 : 4; // independent accumulator chains per vector
   vf acc[P][NV];
   for (int p = 0; p < P; ++p)
      for (int v = 0; v < NV; ++v)
         acc[p][v] = vbroadcast(0.f);
   const float *w = W + j0;
   const int64_t step = P * Npad;
   int64_t k = 0;
#pragma GCC unroll 4
   for (; k + P <= K; k += P, w += step)
      for (int p = 0; p < P; ++p) {
         const vf xv = vbroadcast(x[k + p]);
         const float *wp = w + p * Npad;
         for (int v = 0; v < NV; ++v)
            acc[p][v] += xv * vload(wp + v * VW);
      }
   for (; k < K; ++k, w += Npad) {
      const vf xv = vbroadcast(x[k]);
      for (int v = 0; v < NV; ++v)
         acc[0][v] += xv * vload(w + v * VW);
   }
   for (int v = 0; v < NV; ++v) {
      vf sum = acc[0][v];
      for (int p = 1; p < P; ++p)
         sum += acc[p][v];
      sum += vload(b + j0 + v * VW);
      if (act.kind == tpcml::onnx::kernels::ActKind::Relu) // the common case inline
         sum = sum < 0.f ? vbroadcast(0.f) : sum;
      else if (act.kind != tpcml::onnx::kernels::ActKind::None)
         sum = vact(sum, act);
      const int64_t col = j0 + v * VW, n = imin(VW, N - col);
      if (n == VW)
         vstore(y + col, sum);
      else if (n > 0)
         vstorePartial(y + col, sum, n);
   }
}

/// Dense layer for a few rows (the per-event path of MLPs): W is K x Npad (Npad a multiple of
/// 16, zero padded), b has Npad values; y (M x N, leading dimension ldy) = act(x W + b).
void dense(const float *x, int64_t M, int64_t K, int64_t ldx, const float *W, int64_t Npad, const float *b, int64_t N,
           float *y, int64_t ldy, const tpcml::onnx::kernels::Activation &act)
{
   for (int64_t i = 0; i < M; ++i) {
      const float *xi = x + i * ldx;
      float *yi = y + i * ldy;
      int64_t j = 0;
      for (; j + 4 * VW <= Npad; j += 4 * VW)
         denseBlock<4>(xi, K, W, Npad, b, j, N, yi, act);
      switch ((Npad - j) / VW) {
      case 3:
         denseBlock<3>(xi, K, W, Npad, b, j, N, yi, act);
         break;
      case 2:
         denseBlock<2>(xi, K, W, Npad, b, j, N, yi, act);
         break;
      case 1:
         denseBlock<1>(xi, K, W, Npad, b, j, N, yi, act);
         break;
      default:
         break;
      }
   }
}

#include "onnx/kernels/DenseRow.inl"

void denseChain(const float *x, int64_t M, int64_t ldx, const tpcml::onnx::kernels::DenseLayer *layers, int64_t nLayers,
                float *ws, int64_t wsRow, float *y, int64_t ldy)
{
   const bool inRegisters = denseRowFits(layers, nLayers); // narrow layers: DenseRow.inl
   for (int64_t i = 0; i < M; ++i) {
      const float *in = x + i * ldx;
      if (inRegisters) {
         denseRow(in, layers, nLayers, y + i * ldy);
         continue;
      }
      for (int64_t l = 0; l < nLayers; ++l) {
         const tpcml::onnx::kernels::DenseLayer &L = layers[l];
         const bool last = l + 1 == nLayers;
         // intermediate rows are written whole (Npad), the next layer reads its K of them
         float *out = last ? y + i * ldy : ws + (l & 1) * wsRow;
         dense(in, 1, L.K, L.K, L.W, L.Npad, L.b, last ? L.N : L.Npad, out, 0, L.act);
         in = out;
      }
   }
}

size_t gemmWorkspace(int64_t M, int64_t N, int64_t K)
{
   const int64_t nr = 2 * VW;
   const int64_t kc = imin(K, KC), nc = imin(N, NC), mc = imin(M, MC);
   const int64_t ncPad = (nc + nr - 1) / nr * nr, mcPad = (mc + MR - 1) / MR * MR;
   return size_t(kc * ncPad + kc * mcPad + 64);
}

void gemm(const tpcml::onnx::kernels::GemmArgs &g, float *ws)
{
   if (g.M == 0 || g.N == 0)
      return;
   if (g.K == 0) { // C = accumulate ? C : 0, plus epilogue
      for (int64_t i = 0; i < g.M; ++i) {
         float *c = g.C + i * g.ldc;
         for (int64_t j = 0; j < g.N; ++j) {
            float v = g.accumulate ? c[j] : 0.f;
            if (g.rowBias)
               v += g.rowBias[i];
            if (g.colBias)
               v += g.colBias[j];
            c[j] = v;
         }
         activate(c, g.N, g.act);
      }
      return;
   }
   // few rows: straight from B, which they read once each -- unless B is packed and there are several rows
   // (one pass over the packed panels for all of them)
   if (g.M <= 4 && g.sBn == 1 && !g.Apacked && (!g.Bpacked || g.M == 1)) {
      gemmSmallM(g);
      return;
   }
   if (g.N <= 8 && g.K <= KC && !g.Apacked && (VW >= 8)) {
      gemmNarrow(g, ws);
      return;
   }
   if (gemmPanelVectors(g.N) == 1)
      gemmBlocked<1>(g, ws);
   else
      gemmBlocked<2>(g, ws);
}

// ------------------------------------------------------- windows on phase planes
/// Even and odd lanes of the 2*W floats in (a, b) (a template: only the W in use is instantiated).
template <int W, typename V> inline void deinterleaveT(V a, V b, V &even, V &odd)
{
   if constexpr (W == 16) {
      even = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
      odd = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
   } else if constexpr (VW == 8) {
      even = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14);
      odd = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15);
   } else {
      even = __builtin_shufflevector(a, b, 0, 2, 4, 6);
      odd = __builtin_shufflevector(a, b, 1, 3, 5, 7);
   }
}
inline void deinterleave(vf a, vf b, vf &even, vf &odd)
{
   deinterleaveT<VW>(a, b, even, odd);
}

/// Short runs are the rule here (rows of 4..64 floats): explicit vector loops, no libc calls
/// (the attribute keeps GCC from turning the scalar tails back into memset/memcpy calls).
#define TPCML_NO_LIBC_IDIOMS __attribute__((optimize("no-tree-loop-distribute-patterns")))
TPCML_NO_LIBC_IDIOMS inline void fillRun(float *p, int64_t n, float v)
{
   const vf fv = vbroadcast(v);
   int64_t k = 0;
   for (; k + VW <= n; k += VW)
      vstore(p + k, fv);
   for (; k < n; ++k)
      p[k] = v;
}
TPCML_NO_LIBC_IDIOMS inline void copyRun(float *dst, const float *src, int64_t n)
{
   int64_t k = 0;
   for (; k + VW <= n; k += VW)
      vstore(dst + k, vload(src + k));
   if (k == n)
      return;
   if (n >= VW) { // the tail as one vector overlapping what is already copied (dst, src distinct)
      vstore(dst + n - VW, vload(src + n - VW));
      return;
   }
#pragma GCC unroll 1
   for (; k < n; ++k)
      dst[k] = src[k];
}
/// The Ho x Wo outputs out of the Ho x Wq wide layout (Kernels.h, compactRows).
TPCML_NO_LIBC_IDIOMS inline void compactWide(const float *wide, const tpcml::onnx::kernels::Window2d &w, float *y)
{
   if (w.Wq == w.Wo) {
      copyRun(y, wide, w.Ho * w.Wo);
      return;
   }
   if (w.Wo == VW) {
      for (int64_t oh = 0; oh < w.Ho; ++oh)
         vstore(y + oh * VW, vload(wide + oh * w.Wq));
      return;
   }
   if (w.Wo < VW) { // rows shorter than a vector: a whole-vector store spills into the next
      // rows, which later iterations overwrite; near the end of the plane, partial stores
      const int64_t total = w.Ho * w.Wo;
      int64_t oh = 0;
      for (; oh < w.Ho && oh * w.Wo + VW <= total; ++oh)
         vstore(y + oh * w.Wo, vload(wide + oh * w.Wq));
      for (; oh < w.Ho; ++oh)
         vstorePartial(y + oh * w.Wo, vload(wide + oh * w.Wq), w.Wo);
      return;
   }
   for (int64_t oh = 0; oh < w.Ho; ++oh)
      copyRun(y + oh * w.Wo, wide + oh * w.Wq, w.Wo);
}

/// The phase planes of one plane (Kernels.h, Window2d). For a column stride of 2 both column
/// phases of an input row are written in one pass (a deinterleave the compiler vectorises).
/// With `borders` false only the cells that read the input are written: the padding and slack
/// cells already hold `fill` from an earlier call on the same scratch and geometry.
TPCML_NO_LIBC_IDIOMS void phaseSplitImpl(const float *x, const tpcml::onnx::kernels::Window2d &w, float fill,
                                         float *dst, bool borders)
{
   // columns c of phase b with 0 <= sw*c + b - padLeft < W: [lo, hi) (precomputed by window2d)
   const int64_t *lo = w.colLo, *hi = w.colHi;
   if (w.sh == 1 && w.sw == 1 && !borders) { // stride 1, padding in place: copy the interior rows
      const int64_t r0 = imax(0, w.padTop), r1 = imin(w.Hq, w.padTop + w.H), n = hi[0] - lo[0];
      const float *src = x + (r0 - w.padTop) * w.W + (lo[0] - w.padLeft);
      float *d = dst + r0 * w.Wq + lo[0];
      if (n == VW) {
         for (int64_t r = r0; r < r1; ++r, src += w.W, d += w.Wq)
            vstore(d, vload(src));
      } else {
         for (int64_t r = r0; r < r1; ++r, src += w.W, d += w.Wq)
            copyRun(d, src, n);
      }
      return;
   }
   for (int64_t a = 0; a < w.sh; ++a) {
      for (int64_t r = 0; r < w.Hq; ++r) {
         const int64_t ih = w.sh * r + a - w.padTop;
         const bool rowInside = ih >= 0 && ih < w.H;
         const float *src = x + ih * w.W;
         if (w.sw == 2) {
            float *r0 = dst + (a * 2) * w.plane + r * w.Wq, *r1 = r0 + w.plane;
            if (!rowInside) {
               if (borders) {
                  fillRun(r0, w.Wq, fill);
                  fillRun(r1, w.Wq, fill);
               }
               continue;
            }
            if (borders) {
               fillRun(r0, lo[0], fill);
               fillRun(r1, lo[1], fill);
            }
            // both phases inside: c in [max lo, min hi)
            const int64_t c0 = imax(lo[0], lo[1]), c1 = imin(hi[0], hi[1]);
            for (int64_t c = lo[0]; c < imin(c0, hi[0]); ++c)
               r0[c] = src[2 * c - w.padLeft];
            for (int64_t c = lo[1]; c < imin(c0, hi[1]); ++c)
               r1[c] = src[2 * c + 1 - w.padLeft];
            const float *s0 = src - w.padLeft;
            int64_t cc = c0;
            for (; cc + VW <= c1; cc += VW) {
               vf ev, od;
               deinterleave(vload(s0 + 2 * cc), vload(s0 + 2 * cc + VW), ev, od);
               vstore(r0 + cc, ev);
               vstore(r1 + cc, od);
            }
            if (cc < c1) { // the tail as partial vectors (as scalars it cost as much as the rest of the row)
               const int64_t m = c1 - cc, m2 = 2 * m;
               vf ev, od;
               deinterleave(vloadPartial(s0 + 2 * cc, imin(VW, m2)),
                            m2 > VW ? vloadPartial(s0 + 2 * cc + VW, m2 - VW) : vbroadcast(0.f), ev, od);
               vstorePartial(r0 + cc, ev, m);
               vstorePartial(r1 + cc, od, m);
            }
            for (int64_t c = imax(c1, lo[0]); c < hi[0]; ++c)
               r0[c] = src[2 * c - w.padLeft];
            for (int64_t c = imax(c1, lo[1]); c < hi[1]; ++c)
               r1[c] = src[2 * c + 1 - w.padLeft];
            if (borders) {
               fillRun(r0 + hi[0], w.Wq - hi[0], fill);
               fillRun(r1 + hi[1], w.Wq - hi[1], fill);
            }
            continue;
         }
         for (int64_t b = 0; b < w.sw; ++b) {
            float *row = dst + (a * w.sw + b) * w.plane + r * w.Wq;
            if (!rowInside) {
               if (borders)
                  fillRun(row, w.Wq, fill);
               continue;
            }
            const int64_t off = b - w.padLeft;
            int64_t l, h;
            if (b < tpcml::onnx::kernels::Window2d::kMaxPhases) {
               l = lo[b];
               h = hi[b];
            } else {
               l = off >= 0 ? 0 : (-off + w.sw - 1) / w.sw;
               h = w.W - off <= 0 ? 0 : (w.W - off + w.sw - 1) / w.sw;
               l = imin(l, w.Wq);
               h = imax(l, imin(h, w.Wq));
            }
            if (borders)
               fillRun(row, l, fill);
            if (w.sw == 1)
               copyRun(row + l, src + l + off, h - l);
            else
               for (int64_t c = l; c < h; ++c)
                  row[c] = src[w.sw * c + off];
            if (borders)
               fillRun(row + h, w.Wq - h, fill);
         }
      }
      for (int64_t b = 0; b < w.sw && borders; ++b) {
         float *p = dst + (a * w.sw + b) * w.plane;
         fillRun(p + w.Hq * w.Wq, w.plane - w.Hq * w.Wq, fill);
      }
   }
}

void phaseSplit(const float *x, const tpcml::onnx::kernels::Window2d &w, float fill, float *dst, bool borders)
{
   phaseSplitImpl(x, w, fill, dst, borders);
}

/// Depthwise convolution of one plane: each output vector of the wide layout sums its taps,
/// each a contiguous load from the phase planes (Kernels.h, Window2d).
/// Kernels.h, DepthwiseChannelsArgs. Channels in blocks of CB vectors held in registers.
template <int CB>
inline void depthwiseChannelsBlock(const tpcml::onnx::kernels::DepthwiseChannelsArgs &d, const float *xt, float *yt,
                                   int64_t c0)
{
   const tpcml::onnx::kernels::Window2d &w = d.win;
   const int64_t Cp = d.Cpad;
   for (int64_t oh = 0; oh < w.Ho; ++oh) {
      const int64_t ih0 = oh * w.sh - w.padTop;
      for (int64_t ow = 0; ow < w.Wo; ++ow) {
         const int64_t iw0 = ow * w.sw - w.padLeft;
         vf acc[CB];
         for (int b = 0; b < CB; ++b)
            acc[b] = vload(d.bias + c0 + b * VW);
         for (int64_t ki = 0; ki < w.kh; ++ki) {
            const int64_t ih = ih0 + ki * w.dh;
            if (ih < 0 || ih >= w.H)
               continue;
            for (int64_t kj = 0; kj < w.kw; ++kj) {
               const int64_t iw = iw0 + kj * w.dw;
               if (iw < 0 || iw >= w.W)
                  continue;
               const float *xp = xt + (ih * w.W + iw) * Cp + c0;
               const float *wp = d.wT + (ki * w.kw + kj) * Cp + c0;
               for (int b = 0; b < CB; ++b)
                  acc[b] += vload(wp + b * VW) * vload(xp + b * VW);
            }
         }
         float *yp = yt + (oh * w.Wo + ow) * Cp + c0;
         for (int b = 0; b < CB; ++b)
            vstore(yp + b * VW, vact(acc[b], d.act));
      }
   }
}

void depthwiseChannels(const tpcml::onnx::kernels::DepthwiseChannelsArgs &d)
{
   const tpcml::onnx::kernels::Window2d &w = d.win;
   const int64_t Cp = d.Cpad, inSize = w.H * w.W, outSize = w.Ho * w.Wo;
   float *xt = d.scratch, *yt = d.scratch + inSize * Cp;
   // [C, H*W] -> [H*W, Cpad] in blocks of 16 pixels: every read a contiguous run, the writes within
   // 16 rows that stay in L1
   for (int64_t p0 = 0; p0 < inSize; p0 += 16) {
      const int64_t np = imin(16, inSize - p0);
      for (int64_t c = 0; c < d.C; ++c) {
         const float *src = d.x + c * inSize + p0;
         for (int64_t q = 0; q < np; ++q)
            xt[(p0 + q) * Cp + c] = src[q];
      }
      for (int64_t q = 0; q < np; ++q)
         for (int64_t c = d.C; c < Cp; ++c)
            xt[(p0 + q) * Cp + c] = 0.f;
   }
   int64_t c0 = 0;
   for (; c0 + 4 * VW <= Cp; c0 += 4 * VW)
      depthwiseChannelsBlock<4>(d, xt, yt, c0);
   for (; c0 < Cp; c0 += VW)
      depthwiseChannelsBlock<1>(d, xt, yt, c0);
   for (int64_t p0 = 0; p0 < outSize; p0 += 16) { // [Ho*Wo, Cpad] -> [C, Ho*Wo], blocked alike
      const int64_t np = imin(16, outSize - p0);
      for (int64_t c = 0; c < d.C; ++c) {
         float *dst = d.y + c * outSize + p0;
         for (int64_t q = 0; q < np; ++q)
            dst[q] = yt[(p0 + q) * Cp + c];
      }
   }
}

void depthwise2d(const tpcml::onnx::kernels::DepthwiseArgs &d)
{
   using namespace tpcml::onnx::kernels;
   const Window2d &w = d.win;
   float *ph = d.scratch;
   float *wide = ph + phaseFloats(w);
   phaseSplitImpl(d.x, w, 0.f, ph, !d.bordersReady);
   const int64_t n = w.Ho * w.Wq, taps = w.kh * w.kw;
   constexpr int64_t kChunk = 32; // taps per pass (registers / stack)
   vf wv[kChunk];
   for (int64_t t0 = 0; t0 < taps; t0 += kChunk) {
      const int64_t nt = imin(kChunk, taps - t0);
      const int64_t *off = d.offsets + t0;
      for (int64_t t = 0; t < nt; ++t)
         wv[t] = vbroadcast(d.w[t0 + t]);
      const bool first = t0 == 0, lastPass = t0 + nt == taps;
      // four output vectors at a time: four independent FMA chains over the taps
      int64_t o = 0;
      for (; o + 4 * VW <= n; o += 4 * VW) {
         vf a0, a1, a2, a3;
         if (first) {
            a0 = a1 = a2 = a3 = vbroadcast(d.bias);
         } else {
            a0 = vload(wide + o);
            a1 = vload(wide + o + VW);
            a2 = vload(wide + o + 2 * VW);
            a3 = vload(wide + o + 3 * VW);
         }
         const float *p = ph + o;
         for (int64_t t = 0; t < nt; ++t) {
            const float *q = p + off[t];
            a0 += wv[t] * vload(q);
            a1 += wv[t] * vload(q + VW);
            a2 += wv[t] * vload(q + 2 * VW);
            a3 += wv[t] * vload(q + 3 * VW);
         }
         if (lastPass) {
            a0 = vact(a0, d.act);
            a1 = vact(a1, d.act);
            a2 = vact(a2, d.act);
            a3 = vact(a3, d.act);
         }
         vstore(wide + o, a0);
         vstore(wide + o + VW, a1);
         vstore(wide + o + 2 * VW, a2);
         vstore(wide + o + 3 * VW, a3);
      }
      for (; o < n; o += VW) { // the rest: even and odd taps in two chains
         vf a0 = first ? vbroadcast(d.bias) : vload(wide + o), a1 = vbroadcast(0.f);
         const float *p = ph + o;
         int64_t t = 0;
         for (; t + 2 <= nt; t += 2) {
            a0 += wv[t] * vload(p + off[t]);
            a1 += wv[t + 1] * vload(p + off[t + 1]);
         }
         if (t < nt)
            a0 += wv[t] * vload(p + off[t]);
         const vf acc = a0 + a1;
         vstore(wide + o, lastPass ? vact(acc, d.act) : acc);
      }
   }
   compactWide(wide, w, d.y);
}

/// 2 x 2 max pooling with stride 2 and no padding, straight from the input rows: the vertical
/// max of two rows, then the max of each even/odd pair (NaN propagates).
void maxPool2x2(const float *x, const tpcml::onnx::kernels::Window2d &w, float *y)
{
   auto vmax = [](vf m, vf v) { return (v > m || v != v) ? v : m; };
   for (int64_t oh = 0; oh < w.Ho; ++oh) {
      const float *r0 = x + 2 * oh * w.W, *r1 = r0 + w.W;
      float *out = y + oh * w.Wo;
      const auto block = [&](int64_t ow) {
         const vf a = vmax(vload(r0 + 2 * ow), vload(r1 + 2 * ow));
         const vf b = vmax(vload(r0 + 2 * ow + VW), vload(r1 + 2 * ow + VW));
         vf ev, od;
         deinterleave(a, b, ev, od);
         vstore(out + ow, vmax(ev, od));
      };
      int64_t ow = 0;
      for (; ow + VW <= w.Wo; ow += VW)
         block(ow);
      if (ow < w.Wo && w.Wo >= VW) { // the tail as one more block ending at Wo (its overlap recomputes equal values)
         block(w.Wo - VW);
         continue;
      }
      if (ow < w.Wo) { // Wo < VW: partial vectors (scalar, a 12-wide row cost as much as the convolution's)
         const int64_t m = w.Wo - ow, m2 = 2 * m, n0 = imin(VW, m2);
         const vf a = vmax(vloadPartial(r0 + 2 * ow, n0), vloadPartial(r1 + 2 * ow, n0));
         const vf b =
             m2 > VW ? vmax(vloadPartial(r0 + 2 * ow + VW, m2 - VW), vloadPartial(r1 + 2 * ow + VW, m2 - VW)) : a;
         vf ev, od;
         deinterleave(a, b, ev, od);
         vstorePartial(out + ow, vmax(ev, od), m);
      }
   }
}

/// Max pooling of one plane on its phase planes (padding reads -inf; NaN propagates).
void maxPool2d(const float *x, const tpcml::onnx::kernels::Window2d &w, const int64_t *off, float *y, float *scratch,
               bool bordersReady)
{
   using namespace tpcml::onnx::kernels;
   if (w.kh == 2 && w.kw == 2 && w.sh == 2 && w.sw == 2 && w.dh == 1 && w.dw == 1 && w.padTop == 0 && w.padLeft == 0 &&
       2 * w.Ho <= w.H && 2 * w.Wo <= w.W) {
      maxPool2x2(x, w, y);
      return;
   }
   float *ph = scratch;
   float *wide = ph + phaseFloats(w);
   phaseSplitImpl(x, w, -__builtin_inff(), ph, !bordersReady);
   const int64_t n = w.Ho * w.Wq, taps = w.kh * w.kw;
   const vf ninf = vbroadcast(-__builtin_inff());
   auto vmax = [](vf m, vf v) { return (v > m || v != v) ? v : m; };
   int64_t o = 0;
   for (; o + 4 * VW <= n; o += 4 * VW) {
      vf m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
      for (int64_t t = 0; t < taps; ++t) {
         const float *q = ph + o + off[t];
         m0 = vmax(m0, vload(q));
         m1 = vmax(m1, vload(q + VW));
         m2 = vmax(m2, vload(q + 2 * VW));
         m3 = vmax(m3, vload(q + 3 * VW));
      }
      vstore(wide + o, m0);
      vstore(wide + o + VW, m1);
      vstore(wide + o + 2 * VW, m2);
      vstore(wide + o + 3 * VW, m3);
   }
   for (; o < n; o += VW) {
      vf m = ninf;
      for (int64_t t = 0; t < taps; ++t)
         m = vmax(m, vload(ph + o + off[t]));
      vstore(wide + o, m);
   }
   compactWide(wide, w, y);
}

// ------------------------------------------------------------------ elementwise
/// Sum (or NaN-propagating max) of n floats, in four vector accumulators, a fixed order.
float reduce(const float *x, int64_t n, bool max)
{
   int64_t k = 0;
   if (max) {
      vf m = vbroadcast(-__builtin_inff());
      for (; k + VW <= n; k += VW) {
         const vf v = vload(x + k);
         m = (v > m || v != v) ? v : m;
      }
      float tmp[VW];
      vstore(tmp, m);
      float r = tmp[0];
      for (int j = 1; j < VW; ++j)
         r = (tmp[j] > r || tmp[j] != tmp[j]) ? tmp[j] : r;
      for (; k < n; ++k)
         r = (x[k] > r || x[k] != x[k]) ? x[k] : r;
      return r;
   }
   vf a0 = vbroadcast(0.f), a1 = a0, a2 = a0, a3 = a0;
   for (; k + 4 * VW <= n; k += 4 * VW) {
      a0 += vload(x + k);
      a1 += vload(x + k + VW);
      a2 += vload(x + k + 2 * VW);
      a3 += vload(x + k + 3 * VW);
   }
   for (; k + VW <= n; k += VW)
      a0 += vload(x + k);
   const vf sum = (a0 + a1) + (a2 + a3);
   float tmp[VW];
   vstore(tmp, sum);
   float r = 0.f;
   for (int j = 0; j < VW; ++j)
      r += tmp[j];
   for (; k < n; ++k)
      r += x[k];
   return r;
}

template <typename F> inline void mapBinary(const float *a, const float *b, float *y, int64_t n, F f)
{
   int64_t k = 0;
   for (; k + VW <= n; k += VW)
      vstore(y + k, f(vload(a + k), vload(b + k)));
   for (; k < n; ++k) {
      const vf r = f(vbroadcast(a[k]), vbroadcast(b[k]));
      y[k] = r[0];
   }
}
template <typename F> inline void mapScalar(const float *x, float s, float *y, int64_t n, F f)
{
   const vf sv = vbroadcast(s);
   int64_t k = 0;
   for (; k + VW <= n; k += VW)
      vstore(y + k, f(vload(x + k), sv));
   for (; k < n; ++k) {
      const vf r = f(vbroadcast(x[k]), sv);
      y[k] = r[0];
   }
}

void vectorOp(const float *a, const float *b, float *y, int64_t n, int op)
{
   switch (op) {
   case 0:
      mapBinary(a, b, y, n, [](vf p, vf q) { return p + q; });
      return;
   case 1:
      mapBinary(a, b, y, n, [](vf p, vf q) { return p - q; });
      return;
   case 2:
      mapBinary(a, b, y, n, [](vf p, vf q) { return p * q; });
      return;
   default:
      mapBinary(a, b, y, n, [](vf p, vf q) { return p / q; });
      return;
   }
}

void scalarOp(const float *x, float s, float *y, int64_t n, int op, bool swap)
{
   if (!swap) {
      switch (op) {
      case 0:
         mapScalar(x, s, y, n, [](vf p, vf q) { return p + q; });
         return;
      case 1:
         mapScalar(x, s, y, n, [](vf p, vf q) { return p - q; });
         return;
      case 2:
         mapScalar(x, s, y, n, [](vf p, vf q) { return p * q; });
         return;
      default:
         mapScalar(x, s, y, n, [](vf p, vf q) { return p / q; });
         return;
      }
   }
   switch (op) {
   case 0:
      mapScalar(x, s, y, n, [](vf p, vf q) { return q + p; });
      return;
   case 1:
      mapScalar(x, s, y, n, [](vf p, vf q) { return q - p; });
      return;
   case 2:
      mapScalar(x, s, y, n, [](vf p, vf q) { return q * p; });
      return;
   default:
      mapScalar(x, s, y, n, [](vf p, vf q) { return q / p; });
      return;
   }
}

} // namespace

namespace tpcml::onnx::kernels {
KernelTable TPCML_TABLE_FN()
{
   KernelTable t{};
   t.isa = TPCML_ISA_NAME;
   t.gemmWorkspace = &::gemmWorkspace;
   t.gemm = &::gemm;
   t.gemmPackedASize = &::gemmPackedASize;
   t.gemmPackA = &::gemmPackA;
   t.gemmPackedBSize = &::gemmPackedBSize;
   t.gemmPackB = &::gemmPackB;
   t.activate = &::activate;
   t.dense = &::dense;
   t.denseChain = &::denseChain;
   t.depthwise2d = &::depthwise2d;
   t.depthwiseChannels = &::depthwiseChannels;
   t.maxPool2d = &::maxPool2d;
   t.phaseSplit = &::phaseSplit;
   t.compactRows = &::compactWide;
   t.reduce = &::reduce;
   t.scalarOp = &::scalarOp;
   t.vectorOp = &::vectorOp;
   return t;
}
} // namespace tpcml::onnx::kernels
