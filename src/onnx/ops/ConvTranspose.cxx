// tpcml (private) -- ConvTranspose (GEMM + col2im; a scatter of each input value through the kernel for ranks > 2).
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

/// ConvTranspose as a GEMM and a col2im per event and group: col[(oc, k), i] = sum_ci W[ci, oc, k] x[ci, i]
/// (M = Cout/group * kernel, N = input pixels, K = Cin/group; a constant W is packed once at plan time),
/// then every column row is added into the output at the pixels its tap reaches (2-D, and 1-D as a 2-D of
/// height 1). Other ranks keep the direct scatter of each input value through the kernel.
struct ConvTransposeKernel : Kernel {
   ConvGeometry g; // in = input spatial, out = output spatial
   int64_t N = 0, Cin = 0, Cout = 0, group = 1;
   std::vector<float> bias;
   int biasId = -1;
   Activation act;
   bool gemmPath = false;
   /// the 2-D view of the geometry (1-D: height 1): input Hi x Wi, output Ho x Wo, kernel kh x kw
   int64_t Hi = 1, Wi = 1, Ho = 1, Wo = 1, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0;
   /// the GEMM's orientation: col[(oc, k), i] = W^T x (false) or col[i, (oc, k)] = x^T W (true), whichever
   /// wastes less of the register tiles (rows in sixes, columns in vectors of 16)
   bool transposed = false;
   std::vector<float> packedW; ///< constant W packed per group: as A (W^T) or as B (W)
   int64_t packedStride = 0;

   void run(float *const *v, float *ws) const override
   {
      const float *X = v[inputs[0]], *W = v[inputs[1]];
      float *Y = v[outputs[0]];
      const float *B = biasId >= 0 ? v[biasId] : (bias.empty() ? nullptr : bias.data());
      const int64_t outSize = numel(g.out);
      for (int64_t n = 0; n < N; ++n) {
         float *y = Y + n * Cout * outSize;
         for (int64_t oc = 0; oc < Cout; ++oc)
            std::fill(y + oc * outSize, y + (oc + 1) * outSize, B ? B[oc] : 0.f);
         if (gemmPath)
            gemmEvent(X + n * Cin * numel(g.in), W, y, ws);
         else
            scatterEvent(X + n * Cin * numel(g.in), W, y);
         K().activate(y, Cout * outSize, act);
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

/// Chooses the GEMM + col2im path for 1-D and 2-D (the 2-D view of the geometry), sizes its workspace
/// and packs a constant W^T per group.
void planConvTransposeGemm(NodeCtx &c, ConvTransposeKernel &k)
{
   const ConvGeometry &g = k.g;
   if (g.nd != 1 && g.nd != 2)
      return;
   const std::size_t d0 = 0, d1 = g.nd == 2 ? 1 : 0; // 1-D: height 1, the width is dimension 0
   if (g.nd == 2) {
      k.Hi = g.in[d0];
      k.Ho = g.out[d0];
      k.kh = g.kernel[d0];
      k.sh = g.stride[d0];
      k.dh = g.dil[d0];
      k.pt = g.padBegin[d0];
   }
   k.Wi = g.in[d1];
   k.Wo = g.out[d1];
   k.kw = g.kernel[d1];
   k.sw = g.stride[d1];
   k.dw = g.dil[d1];
   k.pl = g.padBegin[d1];
   const int64_t cig = k.Cin / k.group, cog = k.Cout / k.group, kSize = k.kh * k.kw, inSize = k.Hi * k.Wi;
   if (cog * kSize * inSize > std::numeric_limits<int32_t>::max())
      return; // a column buffer this large: the scatter path needs no workspace
   k.gemmPath = true;
   const auto up = [](int64_t v, int64_t m) { return (v + m - 1) / m * m; };
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
   planConvTransposeGemm(c, *k);
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

} // namespace tpcml::onnx::detail
