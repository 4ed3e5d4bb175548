// tpcml (private) -- ConvTranspose (one GEMM per output phase; a scatter of each input value for other cases).
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

/// One output phase of a ConvTranspose (2-D view): the outputs (oh, ow) with oh + pt = q * sh + a and
/// ow + pl = r * sw + b. Output row q reads input row q - t of every kernel row ki whose ki * dh = t * sh + a
/// (and alike for columns), so the phase is a plain stride-1 convolution of the input with those taps: a GEMM
/// whose K rows (ci, ki, kj) read the zero-padded input planes at a shifted offset (no im2col, no col2im).
struct TransposePhase {
   int64_t a = 0, b = 0;        ///< residues of oh + pt and ow + pl
   int64_t q0 = 0, nq = 0;      ///< first output row q of the phase and how many
   int64_t r0 = 0, nr = 0;      ///< first output column r and how many
   std::vector<int64_t> ki, kj; ///< the taps of the phase
   std::vector<int32_t> bRows;  ///< per group-local (ci, ki, kj): offset into the padded planes
   std::vector<float> aPacked;  ///< W gathered to [oc, (ci, ki, kj)] and packed per group
   int64_t aStride = 0;
};

/// ConvTranspose: in 1-D and 2-D with a constant W, one GEMM per output phase and group on zero-padded input
/// planes, written straight into the output (bias and activation in the GEMM's epilogue); otherwise (other
/// ranks, a W computed at run time) a scatter of each input value through the kernel.
struct ConvTransposeKernel : Kernel {
   ConvGeometry g; // in = input spatial, out = output spatial
   int64_t N = 0, Cin = 0, Cout = 0, group = 1;
   std::vector<float> bias;
   int biasId = -1;
   Activation act;
   bool phased = false;
   /// the 2-D view of the geometry (1-D: height 1): input Hi x Wi, output Ho x Wo, kernel kh x kw
   int64_t Hi = 1, Wi = 1, Ho = 1, Wo = 1, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0;
   /// padded planes: input row r at plane row r - rowMin, column c at c - colMin; Hp x Wp per channel,
   /// planeStride floats apart (one spare row: the GEMM's wide rows read past the last valid column)
   int64_t rowMin = 0, colMin = 0, Hp = 0, Wp = 0, planeStride = 0;
   std::vector<TransposePhase> phases;
   std::size_t wideAt = 0, gemmAt = 0; ///< workspace offsets of the wide GEMM output and the GEMM's own
   /// the column path (small output channel counts, tiny inputs): col = W^T x or x^T W per group, whichever
   /// wastes less of the register tiles, then added into the output at the pixels each tap reaches
   bool gemmPath = false, transposed = false;
   std::vector<float> packedW; ///< constant W packed per group: as A (W^T) or as B (W)
   int64_t packedStride = 0;

   void run(float *const *v, float *ws) const override
   {
      const float *X = v[inputs[0]], *W = v[inputs[1]];
      float *Y = v[outputs[0]];
      const float *B = biasId >= 0 ? v[biasId] : (bias.empty() ? nullptr : bias.data());
      const int64_t outSize = numel(g.out), inSize = numel(g.in);
      for (int64_t n = 0; n < N; ++n) {
         float *y = Y + n * Cout * outSize;
         if (phased) {
            phasedEvent(X + n * Cin * inSize, B, y, ws);
            continue;
         }
         for (int64_t oc = 0; oc < Cout; ++oc)
            std::fill(y + oc * outSize, y + (oc + 1) * outSize, B ? B[oc] : 0.f);
         if (gemmPath)
            gemmEvent(X + n * Cin * inSize, W, y, ws);
         else
            scatterEvent(X + n * Cin * inSize, W, y);
         K().activate(y, Cout * outSize, act);
      }
   }

   void phasedEvent(const float *x, const float *B, float *y, float *ws) const
   {
      const kernels::KernelTable &kt = K();
      float *planes = ws, *wide = ws + wideAt;
      std::fill(planes, planes + Cin * planeStride, 0.f);
      for (int64_t ci = 0; ci < Cin; ++ci)
         for (int64_t ih = 0; ih < Hi; ++ih)
            std::copy(x + (ci * Hi + ih) * Wi, x + (ci * Hi + ih + 1) * Wi,
                      planes + ci * planeStride + (ih - rowMin) * Wp - colMin);
      const int64_t cig = Cin / group, cog = Cout / group;
      for (const TransposePhase &ph : phases) {
         if (ph.nq <= 0 || ph.nr <= 0)
            continue;
         const int64_t wideN = ph.nq * Wp;
         for (int64_t gi = 0; gi < group; ++gi) {
            kernels::GemmArgs a;
            a.M = cog;
            a.N = wideN - (Wp - ph.nr); // the last wide row needs its valid columns only
            a.K = cig * int64_t(ph.ki.size() * ph.kj.size());
            a.Apacked = ph.aPacked.empty() ? nullptr : ph.aPacked.data() + gi * ph.aStride;
            a.B = planes + gi * cig * planeStride;
            a.bRows = ph.bRows.data();
            a.sBn = 1;
            a.C = wide;
            a.ldc = wideN;
            a.rowBias = B ? B + gi * cog : nullptr;
            a.act = act;
            kt.gemm(a, ws + gemmAt);
            for (int64_t oc = 0; oc < cog; ++oc) // the phase's outputs, sh and sw apart
               for (int64_t q = 0; q < ph.nq; ++q) {
                  const float *src = wide + oc * wideN + q * Wp;
                  float *dst = y + ((gi * cog + oc) * Ho + (ph.q0 + q) * sh + ph.a - pt) * Wo + ph.r0 * sw + ph.b - pl;
                  for (int64_t r = 0; r < ph.nr; ++r)
                     dst[r * sw] = src[r];
               }
         }
      }
   }

   void gemmEvent(const float *x, const float *W, float *y, float *ws) const
   {
      const int64_t cig = Cin / group, cog = Cout / group, kSize = kh * kw, inSize = Hi * Wi;
      const kernels::KernelTable &kt = K();
      float *col = ws;
      for (int64_t gi = 0; gi < group; ++gi) {
         const float *Wg = W + gi * cig * cog * kSize, *xg = x + gi * cig * inSize;
         const float *packed = packedW.empty() ? nullptr : packedW.data() + gi * packedStride;
         kernels::GemmArgs a;
         a.K = cig;
         a.C = col;
         if (!transposed) { // col[(oc, k), i] = W_g^T x_g: A = W_g^T, B = x_g
            a.M = cog * kSize;
            a.N = inSize;
            a.A = Wg;
            a.sAm = 1;
            a.sAk = cog * kSize;
            a.Apacked = packed;
            a.B = xg;
            a.sBk = inSize;
            a.sBn = 1;
            a.ldc = inSize;
         } else { // col[i, (oc, k)] = x_g^T W_g: A = x_g^T, B = W_g
            a.M = inSize;
            a.N = cog * kSize;
            a.A = xg;
            a.sAm = 1;
            a.sAk = inSize;
            a.B = Wg;
            a.sBk = cog * kSize;
            a.sBn = 1;
            a.Bpacked = packed;
            a.ldc = cog * kSize;
         }
         kt.gemm(a, ws + cog * kSize * inSize);
         if (transposed)
            col2imByPixel(col, y + gi * cog * Ho * Wo, cog);
         else
            col2im(col, inSize, 1, y + gi * cog * Ho * Wo, cog);
      }
   }

   /// y[oc, ih * sh - pt + i * dh, iw * sw - pl + j * dw] += col[(oc, i, j), (ih, iw)] over the taps that land
   /// inside the output; element (r, p) of col at col[r * rs + p * ps].
   void col2im(const float *col, int64_t rs, int64_t ps, float *y, int64_t channels) const
   {
      for (int64_t oc = 0; oc < channels; ++oc)
         for (int64_t i = 0; i < kh; ++i)
            for (int64_t j = 0; j < kw; ++j) {
               const float *c = col + ((oc * kh + i) * kw + j) * rs;
               float *yc = y + oc * Ho * Wo;
               // input columns whose output column ow = iw * sw - pl + j * dw lies in [0, Wo)
               const int64_t base = j * dw - pl;
               const int64_t lo = base >= 0 ? 0 : (-base + sw - 1) / sw;
               const int64_t hi = std::min(Wi, base >= Wo ? 0 : (Wo - 1 - base) / sw + 1);
               for (int64_t ih = 0; ih < Hi; ++ih) {
                  const int64_t oh = ih * sh - pt + i * dh;
                  if (oh < 0 || oh >= Ho)
                     continue;
                  const float *cr = c + ih * Wi * ps;
                  float *yr = yc + oh * Wo;
                  if (sw == 1 && ps == 1) {
                     for (int64_t iw = lo; iw < hi; ++iw)
                        yr[base + iw] += cr[iw];
                  } else {
                     for (int64_t iw = lo; iw < hi; ++iw)
                        yr[base + iw * sw] += cr[iw * ps];
                  }
               }
            }
   }

   /// col2im of the transposed layout col[(ih, iw), (oc, i, j)], read in order: pixel by pixel, each
   /// pixel's kernel rows of kw taps added into the output rows they reach (consecutive pixels write
   /// neighbouring columns of the same rows, which stay in L1).
   void col2imByPixel(const float *col, float *y, int64_t channels) const
   {
      const int64_t rowLen = channels * kh * kw;
      for (int64_t ih = 0; ih < Hi; ++ih)
         for (int64_t iw = 0; iw < Wi; ++iw) {
            const float *cp = col + (ih * Wi + iw) * rowLen;
            const int64_t ow0 = iw * sw - pl;
            const bool inside = ow0 >= 0 && ow0 + (kw - 1) * dw < Wo;
            for (int64_t oc = 0; oc < channels; ++oc)
               for (int64_t i = 0; i < kh; ++i, cp += kw) {
                  const int64_t oh = ih * sh - pt + i * dh;
                  if (oh < 0 || oh >= Ho)
                     continue;
                  float *yr = y + (oc * Ho + oh) * Wo;
                  if (inside) {
                     for (int64_t j = 0; j < kw; ++j)
                        yr[ow0 + j * dw] += cp[j];
                  } else {
                     for (int64_t j = 0; j < kw; ++j) {
                        const int64_t ow = ow0 + j * dw;
                        if (ow >= 0 && ow < Wo)
                           yr[ow] += cp[j];
                     }
                  }
               }
         }
   }

   /// Any rank: each input value scattered through the kernel (the reference path).
   void scatterEvent(const float *x0, const float *W, float *y) const
   {
      const int64_t cig = Cin / group, cog = Cout / group, nd = g.nd;
      const int64_t inSize = numel(g.in), outSize = numel(g.out), kSize = numel(g.kernel);
      IndexBuf outStr{std::size_t(nd)}, iIdx{std::size_t(nd)}, kIdx{std::size_t(nd)};
      rowMajorStrides(g.out, outStr);
      for (int64_t ci = 0; ci < Cin; ++ci) {
         const int64_t gi = ci / cig;
         const float *x = x0 + ci * inSize;
         for (int64_t kf = 0; kf < kSize; ++kf) {
            unravelIndex(kf, g.kernel, kIdx);
            for (int64_t i = 0; i < inSize; ++i) {
               unravelIndex(i, g.in, iIdx);
               int64_t off = 0;
               if (!tapOffset(g, iIdx, kIdx, g.out, outStr, off)) // where tap kf takes the input pixel
                  continue;
               const float xv = x[i];
               for (int64_t oc = 0; oc < cog; ++oc)
                  y[(gi * cog + oc) * outSize + off] += xv * W[((ci * cog) + oc) * kSize + kf];
            }
         }
      }
   }
};

/// Sets the 2-D view of a 1-D or 2-D geometry (1-D: height 1); false for other ranks.
bool setView2d(ConvTransposeKernel &k)
{
   const ConvGeometry &g = k.g;
   if (g.nd != 1 && g.nd != 2)
      return false;
   const auto axis = [&g](std::size_t d, int64_t &in, int64_t &out, int64_t &kernel, int64_t &stride, int64_t &dil,
                          int64_t &pad) {
      in = g.in[d];
      out = g.out[d];
      kernel = g.kernel[d];
      stride = g.stride[d];
      dil = g.dil[d];
      pad = g.padBegin[d];
   };
   if (g.nd == 2)
      axis(0, k.Hi, k.Ho, k.kh, k.sh, k.dh, k.pt);
   axis(g.nd == 2 ? 1 : 0, k.Wi, k.Wo, k.kw, k.sw, k.dw, k.pl); // 1-D: height 1, the width is dimension 0
   return true;
}

int64_t roundUp(int64_t v, int64_t m)
{
   return (v + m - 1) / m * m;
}

/// Relative costs of the two paths, in multiply-adds of the GEMMs' register tiles (6 rows x 16 columns) plus
/// memory passes at 16 multiply-adds per copied value and 32 per added one (a rough model, checked on the
/// XENONnT and conv-VAE decoders, issue 21: it picks the faster path on each of their six layers).
double columnPathCost(const ConvTransposeKernel &k)
{
   const int64_t cig = k.Cin / k.group, cog = k.Cout / k.group, rows = cog * k.kh * k.kw, inSize = k.Hi * k.Wi;
   const int64_t tiles = std::min(roundUp(rows, 6) * roundUp(inSize, 16), roundUp(inSize, 6) * roundUp(rows, 16));
   return double(k.group) * (double(tiles) * double(cig) + 32.0 * double(rows * inSize));
}

/// The column path: one GEMM per group into a column buffer, then col2im (workspace, packed W).
void planConvTransposeGemm(NodeCtx &c, ConvTransposeKernel &k)
{
   const int64_t cig = k.Cin / k.group, cog = k.Cout / k.group, kSize = k.kh * k.kw, inSize = k.Hi * k.Wi;
   if (cog * kSize * inSize > std::numeric_limits<int32_t>::max())
      return; // a column buffer this large: the scatter path needs no workspace
   k.gemmPath = true;
   const auto up = roundUp;
   const int64_t rows = cog * kSize; // of W^T
   k.transposed = up(inSize, 6) * up(rows, 16) < up(rows, 6) * up(inSize, 16);
   k.workspace = std::size_t(rows * inSize) +
                 (k.transposed ? K().gemmWorkspace(inSize, rows, cig) : K().gemmWorkspace(rows, inSize, cig));
   if (!c.isConst(1))
      return;
   const std::vector<float> &w = *c.in(1).f;
   k.packedStride = int64_t(k.transposed ? K().gemmPackedBSize(cig, rows) : K().gemmPackedASize(rows, cig));
   k.packedW.resize(std::size_t(k.packedStride * k.group));
   for (int64_t gi = 0; gi < k.group; ++gi) {
      const float *wg = w.data() + gi * cig * rows;
      if (k.transposed)
         K().gemmPackB(wg, cig, rows, rows, 1, k.packedW.data() + gi * k.packedStride);
      else
         K().gemmPackA(wg, rows, cig, 1, rows, k.packedW.data() + gi * k.packedStride);
   }
}

/// The taps of phase `a` along one axis: kernel positions k with k * dil = t * stride + a, and their t.
void phaseTaps(int64_t a, int64_t kernel, int64_t stride, int64_t dil, std::vector<int64_t> &taps,
               std::vector<int64_t> &shifts)
{
   for (int64_t k = 0; k < kernel; ++k)
      if ((k * dil - a) % stride == 0 && k * dil >= a) {
         taps.push_back(k);
         shifts.push_back((k * dil - a) / stride);
      }
}

/// The phases of a 1-D or 2-D ConvTranspose with a constant W: geometry, padded planes, gathered and
/// packed weights, workspace.
/// Returns the cost of the phase path in columnPathCost's units, or a negative number where it does not
/// apply (a W computed at run time, planes beyond 2^31 floats); the phases are kept in `k` (used when
/// k.phased is set).
double planConvTransposePhases(NodeCtx &c, ConvTransposeKernel &k)
{
   if (!c.isConst(1))
      return -1.0;
   const auto floorDiv = [](int64_t p, int64_t q) { return p >= 0 ? p / q : -((-p + q - 1) / q); };
   // per axis and residue: the output range and the taps
   struct Axis {
      int64_t q0, n;
      std::vector<int64_t> taps, shifts;
   };
   const auto axes = [&](int64_t out, int64_t pad, int64_t stride, int64_t kernel, int64_t dil) {
      std::vector<Axis> v(static_cast<std::size_t>(stride));
      for (int64_t a = 0; a < stride; ++a) {
         Axis &ax = v[std::size_t(a)];
         ax.q0 = floorDiv(pad - a + stride - 1, stride);         // first q with q * stride + a - pad >= 0
         ax.n = floorDiv(out - 1 + pad - a, stride) - ax.q0 + 1; // through out - 1
         phaseTaps(a, kernel, stride, dil, ax.taps, ax.shifts);
      }
      return v;
   };
   const std::vector<Axis> rows = axes(k.Ho, k.pt, k.sh, k.kh, k.dh), cols = axes(k.Wo, k.pl, k.sw, k.kw, k.dw);
   // padded planes covering every row q - t (and column) any phase reads
   int64_t rMin = 0, rMax = k.Hi - 1, cMin = 0, cMax = k.Wi - 1;
   for (const Axis &ax : rows)
      for (int64_t t : ax.shifts) {
         rMin = std::min(rMin, ax.q0 - t);
         rMax = std::max(rMax, ax.q0 + ax.n - 1 - t);
      }
   for (const Axis &ax : cols)
      for (int64_t t : ax.shifts) {
         cMin = std::min(cMin, ax.q0 - t);
         cMax = std::max(cMax, ax.q0 + ax.n - 1 - t);
      }
   k.rowMin = rMin;
   k.colMin = cMin;
   k.Hp = rMax - rMin + 1;
   k.Wp = cMax - cMin + 1;
   k.planeStride = (k.Hp + 1) * k.Wp;
   const int64_t cig = k.Cin / k.group, cog = k.Cout / k.group;
   if (k.Cin * k.planeStride > std::numeric_limits<int32_t>::max())
      return -1.0; // planes this large: the scatter path
   const std::vector<float> &w = *c.in(1).f;
   int64_t maxWide = 0;
   std::size_t gemmWs = 0;
   double cost = 16.0 * double(k.Cin * k.planeStride + k.Cout * k.Ho * k.Wo); // planes and output copies
   for (int64_t a = 0; a < k.sh; ++a)
      for (int64_t b = 0; b < k.sw; ++b) {
         const Axis &ra = rows[std::size_t(a)], &cb = cols[std::size_t(b)];
         TransposePhase ph;
         ph.a = a;
         ph.b = b;
         ph.q0 = ra.q0;
         ph.nq = ra.n;
         ph.r0 = cb.q0;
         ph.nr = cb.n;
         ph.ki = ra.taps;
         ph.kj = cb.taps;
         if (ph.nq <= 0 || ph.nr <= 0)
            continue;
         const int64_t taps = int64_t(ph.ki.size() * ph.kj.size()), kd = cig * taps;
         for (int64_t ci = 0; ci < cig; ++ci)
            for (std::size_t i = 0; i < ph.ki.size(); ++i)
               for (std::size_t j = 0; j < ph.kj.size(); ++j)
                  ph.bRows.push_back(int32_t(ci * k.planeStride + (ra.q0 - ra.shifts[i] - rMin) * k.Wp +
                                             (cb.q0 - cb.shifts[j] - cMin)));
         std::vector<float> gathered(std::size_t(cog * kd));
         ph.aStride = int64_t(K().gemmPackedASize(cog, kd));
         ph.aPacked.resize(std::size_t(ph.aStride * k.group));
         for (int64_t gi = 0; gi < k.group; ++gi) {
            for (int64_t oc = 0; oc < cog; ++oc)
               for (int64_t ci = 0; ci < cig; ++ci)
                  for (std::size_t i = 0; i < ph.ki.size(); ++i)
                     for (std::size_t j = 0; j < ph.kj.size(); ++j)
                        gathered[std::size_t(
                            oc * kd + (ci * int64_t(ph.ki.size()) + int64_t(i)) * int64_t(ph.kj.size()) + int64_t(j))] =
                            w[std::size_t((((gi * cig + ci) * cog + oc) * k.kh + ph.ki[i]) * k.kw + ph.kj[j])];
            if (kd > 0)
               K().gemmPackA(gathered.data(), cog, kd, kd, 1, ph.aPacked.data() + gi * ph.aStride);
         }
         if (kd == 0)
            ph.aPacked.clear(); // no taps: the GEMM writes the bias (K = 0)
         cost += double(k.group) * double(roundUp(cog, 6) * roundUp(ph.nq * k.Wp, 16) * kd);
         maxWide = std::max(maxWide, ph.nq * k.Wp);
         gemmWs = std::max(gemmWs, K().gemmWorkspace(cog, ph.nq * k.Wp, kd));
         k.phases.push_back(std::move(ph));
      }
   k.wideAt = std::size_t(k.Cin * k.planeStride);
   k.gemmAt = k.wideAt + std::size_t(cog * maxWide);
   k.workspace = k.gemmAt + gemmWs;
   return cost;
}

/// The output geometry of a ConvTranspose over X `xs` and W `ws`: its window attributes
/// (readConvAttrs), output_padding and output_shape, the spec's output size and auto_pad rules.
ConvGeometry convTransposeGeometry(NodeCtx &c, const Shape &xs, const Shape &ws)
{
   ConvGeometry g;
   g.nd = int64_t(xs.size()) - 2;
   const std::size_t nd = std::size_t(g.nd);
   const std::string dims = std::to_string(nd) + " spatial dimensions of X";
   const Shape wKernel(ws.begin() + 2, ws.end());
   g.in.assign(xs.begin() + 2, xs.end());
   // the kernel reads W with the strides of kernel_shape: it must be W's own (onnxruntime agrees)
   const ConvAttrs attrs = readConvAttrs(c, nd, &wKernel);
   g.kernel = attrs.kernel;
   g.stride = attrs.stride;
   g.dil = attrs.dil;
   const Shape &pads = attrs.pads;
   const std::string &autoPad = attrs.autoPad;
   const Shape outPad = c.attrInts("output_padding", Shape(nd, 0));
   const Shape outShape = c.attrInts("output_shape");
   requireLength(c, "output_padding", outPad, nd, dims);
   if (!outShape.empty())
      requireLength(c, "output_shape", outShape, nd, dims);
   requireAtLeast(c, "output_padding", outPad, 0);
   requireAtLeast(c, "output_shape", outShape, 1);
   for (std::size_t d = 0; d < nd; ++d) {
      if (!outShape.empty() && outShape[d] > (int64_t(1) << 31))
         c.fail("output_shape entry beyond 2^31 in dimension " + std::to_string(d));
      // spec: output_padding < stride or < dilation; onnxruntime refuses anything >= stride (its
      // output no longer maps back onto the input), and so does tpcml
      if (outPad[d] >= g.stride[d])
         c.fail(quoted("output_padding", outPad) + ": entry " + std::to_string(d) + " is " + std::to_string(outPad[d]) +
                ", expected < strides[" + std::to_string(d) + "] = " + std::to_string(g.stride[d]));
   }
   g.padBegin.assign(pads.begin(), pads.begin() + long(nd));
   g.padEnd.assign(pads.begin() + long(nd), pads.end());
   g.out.resize(nd);
   for (std::size_t d = 0; d < nd; ++d) {
      const int64_t full = g.stride[d] * (g.in[d] - 1) + outPad[d] + (g.kernel[d] - 1) * g.dil[d] + 1;
      if (!outShape.empty() || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
         // spec: total = full - output; SAME_UPPER puts the odd pad at the end, every other
         // auto_pad (NOTSET with output_shape included) at the start -- as onnxruntime 1.32 does
         // SAME without output_shape: in * strides (spec), but never beyond `full` -- onnxruntime
         // 1.32 clamps there (strides > the kernel's extent + output_padding), and tpcml follows it
         g.out[d] = !outShape.empty() ? outShape[d] : std::min(g.in[d] * g.stride[d], full);
         // an output larger than `full` is extended at the end, unpadded, as long as it maps back
         // onto the input: up to full - output_padding + strides - 1 (onnxruntime's rule; the ONNX
         // backend test_convtranspose_output_shape needs it); beyond, refused
         const int64_t total = std::max<int64_t>(0, full - g.out[d]);
         const int64_t most = full - outPad[d] + g.stride[d] - 1;
         if (g.out[d] > most)
            c.fail((outShape.empty()
                        ? "auto_pad " + autoPad + " asks for output size " + std::to_string(g.out[d])
                        : quoted("output_shape", outShape) + " asks for size " + std::to_string(g.out[d])) +
                   " in spatial dimension " + std::to_string(d) + ", expected at most " + std::to_string(most) +
                   " (strides * (input - 1) + (kernel - 1) * dilations + 1, plus strides - 1)");
         g.padEnd[d] = autoPad == "SAME_UPPER" ? total - total / 2 : total / 2;
         g.padBegin[d] = total - g.padEnd[d];
      } else {
         if (autoPad == "VALID")
            g.padBegin[d] = g.padEnd[d] = 0;
         g.out[d] = full - g.padBegin[d] - g.padEnd[d];
         if (g.out[d] < 1)
            c.fail(quoted("pads", pads) + " leaves output size " + std::to_string(g.out[d]) + " in spatial dimension " +
                   std::to_string(d) + " (of " + std::to_string(full) + " before padding), expected >= 1");
      }
   }
   return g;
}

} // namespace

void opConvTranspose(NodeCtx &c)
{
   auto k = std::make_unique<ConvTransposeKernel>();
   readConvChannels(c, *k, true);
   const Shape &xs = c.shape(0), &ws = c.shape(1);
   k->g = convTransposeGeometry(c, xs, ws);
   Shape out = {k->N, k->Cout};
   out.insert(out.end(), k->g.out.begin(), k->g.out.end());
   k->inputs = {c.id(0), c.id(1)};
   if (readConvBias(c, k->Cout, k->bias, k->biasId, k->inputs)) {
      const Planner::Epilogue e = c.planner.fuse(c.node, int64_t(out.size()), 1, k->Cout);
      c.renameOutput(0, e.outName);
      addFusedBias(k->bias, e.bias, k->Cout);
      k->act = e.act;
   }
   if (setView2d(*k)) { // 1-D and 2-D: the phase path or the column path, whichever costs less
      const double phases = planConvTransposePhases(c, *k);
      k->phased = phases >= 0.0 && phases < columnPathCost(*k);
      if (!k->phased) {
         k->phases.clear();
         k->workspace = 0;
         planConvTransposeGemm(c, *k);
      }
   }
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

} // namespace tpcml::onnx::detail
