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
#include "Kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

namespace {

constexpr int VW = TPCML_VW;
constexpr int MR = 6;
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
inline vf vbroadcast(float x)
{
   return vf{} + x;
}

/// exp(x) by range reduction x = n ln2 + r and the Cephes expf polynomial (relative error
/// < 2e-7 on [-86.6, 88.7]); NaN stays NaN, +overflow gives +inf, x < -86.6 gives 0.
inline float expApprox(float x)
{
   float xc = x < -86.6f ? -86.6f : x;
   xc = xc > 88.72283f ? 88.72283f : xc;
   const float fn = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
   const float r = xc - fn * 0.693359375f - fn * -2.12194440e-4f;
   float p = 1.9875691500E-4f;
   p = p * r + 1.3981999507E-3f;
   p = p * r + 8.3334519073E-3f;
   p = p * r + 4.1665795894E-2f;
   p = p * r + 1.6666665459E-1f;
   p = p * r + 5.0000001201E-1f;
   const float e = p * r * r + r + 1.0f;
   const int32_t n = int32_t(fn) - 1; // n in [-126, 127]: 2^n * 2 stays a normal number
   const uint32_t bits = uint32_t(n + 127) << 23;
   float scale;
   memcpy(&scale, &bits, 4);
   float res = e * scale * 2.0f;
   res = x > 88.72283f ? __builtin_inff() : res;
   res = x < -86.6f ? 0.0f : res;
   return res;
}

void activate(float *x, int64_t n, const tpcml::onnx::kernels::Activation &act)
{
   using tpcml::onnx::kernels::ActKind;
   const float a = act.alpha, b = act.beta;
   switch (act.kind) {
   case ActKind::None: return;
   case ActKind::Relu:
      for (int64_t k = 0; k < n; ++k)
         x[k] = x[k] < 0.f ? 0.f : x[k]; // NaN stays NaN
      return;
   case ActKind::LeakyRelu:
      for (int64_t k = 0; k < n; ++k)
         x[k] = x[k] < 0.f ? a * x[k] : x[k];
      return;
   case ActKind::Sigmoid:
      for (int64_t k = 0; k < n; ++k)
         x[k] = 1.f / (1.f + expApprox(-x[k]));
      return;
   case ActKind::Swish:
      for (int64_t k = 0; k < n; ++k)
         x[k] = x[k] / (1.f + expApprox(-x[k]));
      return;
   case ActKind::Tanh:
      for (int64_t k = 0; k < n; ++k)
         x[k] = tanhf(x[k]);
      return;
   case ActKind::Exp:
      for (int64_t k = 0; k < n; ++k)
         x[k] = expApprox(x[k]);
      return;
   case ActKind::Elu:
      for (int64_t k = 0; k < n; ++k)
         x[k] = x[k] < 0.f ? a * (expApprox(x[k]) - 1.f) : x[k];
      return;
   case ActKind::Selu:
      for (int64_t k = 0; k < n; ++k)
         x[k] = x[k] <= 0.f ? b * a * (expApprox(x[k]) - 1.f) : b * x[k];
      return;
   case ActKind::Clip:
      for (int64_t k = 0; k < n; ++k) {
         float v = x[k] < a ? a : x[k]; // NaN stays NaN
         x[k] = v > b ? b : v;
      }
      return;
   }
}

// ------------------------------------------------------------------------- GEMM
/// Packs rows [i0, i0+mc) x cols [k0, k0+kc) of A into MR-row panels: Ap[(p*kc + k)*MR + r].
void packA(const tpcml::onnx::kernels::GemmArgs &g, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float *Ap)
{
   for (int64_t p = 0; p < mc; p += MR) {
      const int64_t rows = imin(MR, mc - p);
      float *dst = Ap + p * kc;
      for (int64_t k = 0; k < kc; ++k) {
         const float *src = g.A + (i0 + p) * g.sAm + (k0 + k) * g.sAk;
         int64_t r = 0;
         for (; r < rows; ++r)
            dst[k * MR + r] = src[r * g.sAm];
         for (; r < MR; ++r)
            dst[k * MR + r] = 0.f;
      }
   }
}

/// Packs rows [k0, k0+kc) x cols [j0, j0+nc) of B into NR-column panels: Bp[(q*kc + k)*NR + c].
void packB(const tpcml::onnx::kernels::GemmArgs &g, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float *Bp)
{
   for (int64_t q = 0; q < nc; q += NR) {
      const int64_t cols = imin(NR, nc - q);
      float *dst = Bp + q * kc;
      for (int64_t k = 0; k < kc; ++k) {
         const float *src = g.B + (k0 + k) * g.sBk + (j0 + q) * g.sBn;
         float *d = dst + k * NR;
         if (g.sBn == 1 && cols == NR) {
            memcpy(d, src, NR * sizeof(float));
         } else {
            int64_t c = 0;
            for (; c < cols; ++c)
               d[c] = src[c * g.sBn];
            for (; c < NR; ++c)
               d[c] = 0.f;
         }
      }
   }
}

/// One MR x NR tile: C (=|+=) alpha * Ap Bp; on the last K block adds the biases and
/// applies the activation.
void microKernel(const tpcml::onnx::kernels::GemmArgs &g, int64_t kc, const float *Ap, const float *Bp, int64_t i0,
                 int64_t j0, int mr, int nr, bool overwrite, bool last)
{
   vf acc[MR][2];
   for (int r = 0; r < MR; ++r) {
      acc[r][0] = vbroadcast(0.f);
      acc[r][1] = vbroadcast(0.f);
   }
   for (int64_t k = 0; k < kc; ++k) {
      const vf b0 = vload(Bp + k * NR);
      const vf b1 = vload(Bp + k * NR + VW);
      const float *a = Ap + k * MR;
      for (int r = 0; r < MR; ++r) {
         const vf av = vbroadcast(a[r]);
         acc[r][0] += av * b0;
         acc[r][1] += av * b1;
      }
   }
   using tpcml::onnx::kernels::ActKind;
   const vf alpha = vbroadcast(g.alpha);
   const ActKind kind = g.act.kind;
   const bool inlineAct = kind == ActKind::None || kind == ActKind::Relu || kind == ActKind::LeakyRelu;
   if (nr == NR) { // full-width tile: vector stores, epilogue in registers
      const vf slope = vbroadcast(kind == ActKind::LeakyRelu ? g.act.alpha : 0.f);
      for (int r = 0; r < mr; ++r) {
         float *c = g.C + (i0 + r) * g.ldc + j0;
         vf c0 = acc[r][0] * alpha, c1 = acc[r][1] * alpha;
         if (!overwrite) {
            c0 += vload(c);
            c1 += vload(c + VW);
         }
         if (last) {
            if (g.rowBias) {
               c0 += g.rowBias[i0 + r];
               c1 += g.rowBias[i0 + r];
            }
            if (g.colBias) {
               c0 += vload(g.colBias + j0);
               c1 += vload(g.colBias + j0 + VW);
            }
            if (kind == ActKind::Relu || kind == ActKind::LeakyRelu) {
               c0 = c0 < 0.f ? c0 * slope : c0;
               c1 = c1 < 0.f ? c1 * slope : c1;
            }
         }
         vstore(c, c0);
         vstore(c + VW, c1);
         if (last && !inlineAct)
            activate(c, nr, g.act);
      }
      return;
   }
   float tile[MR * NR];
   for (int r = 0; r < MR; ++r) {
      vstore(tile + r * NR, acc[r][0] * alpha);
      vstore(tile + r * NR + VW, acc[r][1] * alpha);
   }
   for (int r = 0; r < mr; ++r) {
      float *c = g.C + (i0 + r) * g.ldc + j0;
      const float *t = tile + r * NR;
      if (overwrite) {
         for (int j = 0; j < nr; ++j)
            c[j] = t[j];
      } else {
         for (int j = 0; j < nr; ++j)
            c[j] += t[j];
      }
      if (last) {
         if (g.rowBias) {
            const float bias = g.rowBias[i0 + r];
            for (int j = 0; j < nr; ++j)
               c[j] += bias;
         }
         if (g.colBias) {
            for (int j = 0; j < nr; ++j)
               c[j] += g.colBias[j0 + j];
         }
         activate(c, nr, g.act);
      }
   }
}

/// Few rows and a contiguous B: no packing, one pass over B per row (the per-event MLP path).
void gemmSmallM(const tpcml::onnx::kernels::GemmArgs &g)
{
   for (int64_t i = 0; i < g.M; ++i) {
      float *c = g.C + i * g.ldc;
      const float *a = g.A + i * g.sAm;
      int64_t j = 0;
      for (; j + VW <= g.N; j += VW) {
         vf acc = vbroadcast(0.f);
         for (int64_t k = 0; k < g.K; ++k)
            acc += vbroadcast(a[k * g.sAk]) * vload(g.B + k * g.sBk + j);
         acc *= vbroadcast(g.alpha);
         if (g.accumulate)
            acc += vload(c + j);
         if (g.colBias)
            acc += vload(g.colBias + j);
         if (g.rowBias)
            acc += vbroadcast(g.rowBias[i]);
         vstore(c + j, acc);
      }
      for (; j < g.N; ++j) {
         float s = 0.f;
         for (int64_t k = 0; k < g.K; ++k)
            s += a[k * g.sAk] * g.B[k * g.sBk + j];
         s *= g.alpha;
         if (g.accumulate)
            s += c[j];
         if (g.colBias)
            s += g.colBias[j];
         if (g.rowBias)
            s += g.rowBias[i];
         c[j] = s;
      }
      activate(c, g.N, g.act);
   }
}

size_t gemmWorkspace(int64_t M, int64_t N, int64_t K)
{
   const int64_t kc = imin(K, KC), nc = imin(N, NC), mc = imin(M, MC);
   const int64_t ncPad = (nc + NR - 1) / NR * NR, mcPad = (mc + MR - 1) / MR * MR;
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
   if (g.M <= 2 && g.sBn == 1) {
      gemmSmallM(g);
      return;
   }
   const int64_t kcMax = imin(g.K, KC), ncMax = imin(g.N, NC);
   const int64_t ncPad = (ncMax + NR - 1) / NR * NR;
   float *Bp = ws;
   float *Ap = ws + kcMax * ncPad;
   for (int64_t jc = 0; jc < g.N; jc += NC) {
      const int64_t nc = imin(NC, g.N - jc);
      for (int64_t pc = 0; pc < g.K; pc += KC) {
         const int64_t kc = imin(KC, g.K - pc);
         const bool first = pc == 0, last = pc + kc == g.K;
         packB(g, pc, kc, jc, nc, Bp);
         for (int64_t ic = 0; ic < g.M; ic += MC) {
            const int64_t mc = imin(MC, g.M - ic);
            packA(g, ic, mc, pc, kc, Ap);
            for (int64_t jr = 0; jr < nc; jr += NR) {
               const int nr = int(imin(NR, nc - jr));
               for (int64_t ir = 0; ir < mc; ir += MR) {
                  const int mr = int(imin(MR, mc - ir));
                  microKernel(g, kc, Ap + ir * kc, Bp + jr * kc, ic + ir, jc + jr, mr, nr, first && !g.accumulate,
                              last);
               }
            }
         }
      }
   }
}

// ---------------------------------------------------------------- depthwise conv
void depthwise2d(const tpcml::onnx::kernels::DepthwiseArgs &d)
{
   for (int64_t k = 0; k < d.Ho * d.Wo; ++k)
      d.y[k] = d.bias;
   for (int64_t kj = 0; kj < d.kw; ++kj) {
      // output columns whose input column ow*s - pad + kj*dil lies inside [0, W)
      const int64_t off = kj * d.dilW - d.padLeft;
      int64_t lo = off >= 0 ? 0 : (-off + d.strideW - 1) / d.strideW;
      int64_t hi = d.W - 1 - off < 0 ? 0 : (d.W - 1 - off) / d.strideW + 1;
      lo = imin(lo, d.Wo);
      hi = imax(lo, imin(hi, d.Wo));
      for (int64_t oh = 0; oh < d.Ho; ++oh) {
         float *y = d.y + oh * d.Wo;
         for (int64_t ki = 0; ki < d.kh; ++ki) {
            const int64_t ih = oh * d.strideH - d.padTop + ki * d.dilH;
            if (ih < 0 || ih >= d.H)
               continue;
            const float w = d.w[ki * d.kw + kj];
            const float *x = d.x + ih * d.W + off;
            if (d.strideW == 1) {
               for (int64_t ow = lo; ow < hi; ++ow)
                  y[ow] += w * x[ow];
            } else {
               for (int64_t ow = lo; ow < hi; ++ow)
                  y[ow] += w * x[ow * d.strideW];
            }
         }
      }
   }
   activate(d.y, d.Ho * d.Wo, d.act);
}

} // namespace

namespace tpcml::onnx::kernels {
KernelTable TPCML_TABLE_FN()
{
   return KernelTable{TPCML_ISA_NAME, &::gemmWorkspace, &::gemm, &::activate, &::depthwise2d};
}
} // namespace tpcml::onnx::kernels
