// tpcml (private) -- Conv: GEMM over im2col or over 2-D phase-plane windows, depthwise kernels.
// Semantics follow the ONNX operator specification (https://onnx.ai/onnx/operators/).
#include "onnx/ops/ConvAttrs.h"
#include "onnx/rewrites/Rewrites.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tpcml::onnx::detail {
namespace {

using kernels::Activation;
using kernels::ActKind;

/// im2col for any number of spatial dims: col[(ci, k...)][o...].
void im2col(const float *x, int64_t channels, const ConvGeometry &g, float *col)
{
   const int64_t nd = g.nd;
   const int64_t outSize = numel(g.out), kSize = numel(g.kernel), inSize = numel(g.in);
   if (nd == 2) {
      const int64_t H = g.in[0], W = g.in[1], Ho = g.out[0], Wo = g.out[1];
      for (int64_t ci = 0; ci < channels; ++ci)
         for (int64_t ki = 0; ki < g.kernel[0]; ++ki)
            for (int64_t kj = 0; kj < g.kernel[1]; ++kj) {
               float *dst = col + ((ci * g.kernel[0] + ki) * g.kernel[1] + kj) * outSize;
               const float *src = x + ci * inSize;
               for (int64_t oh = 0; oh < Ho; ++oh) {
                  const int64_t ih = oh * g.stride[0] - g.padBegin[0] + ki * g.dil[0];
                  float *d = dst + oh * Wo;
                  if (ih < 0 || ih >= H) {
                     std::fill(d, d + Wo, 0.f);
                     continue;
                  }
                  const float *s = src + ih * W;
                  for (int64_t ow = 0; ow < Wo; ++ow) {
                     const int64_t iw = ow * g.stride[1] - g.padBegin[1] + kj * g.dil[1];
                     d[ow] = (iw >= 0 && iw < W) ? s[iw] : 0.f;
                  }
               }
            }
      return;
   }
   Shape kIdx = Shape(std::size_t(nd)), oIdx = Shape(std::size_t(nd));
   const Shape inStr = stridesOf(g.in);
   for (int64_t ci = 0; ci < channels; ++ci)
      for (int64_t kf = 0; kf < kSize; ++kf) {
         unravelIndex(kf, g.kernel, kIdx);
         float *dst = col + (ci * kSize + kf) * outSize;
         for (int64_t of = 0; of < outSize; ++of) {
            unravelIndex(of, g.out, oIdx);
            int64_t off = 0;
            dst[of] = tapOffset(g, oIdx, kIdx, g.in, inStr, off) ? x[ci * inSize + off] : 0.f;
         }
      }
}

struct ConvKernel : Kernel {
   ConvGeometry g;
   int64_t N = 0, Cin = 0, Cout = 0, group = 1;
   std::vector<float> bias; ///< fused (bias input and/or following Add)
   int biasId = -1;         ///< run-time bias input (no fusion)
   Activation act;
   bool depthwise = false, pointwise = false;
   /// 2-D windows on phase planes (Kernels.h): the GEMM reads its K rows (ci, ki, kj) from
   /// the phase planes of the input channels through bRows, no im2col buffer.
   bool windowed = false;
   /// no padding, unit strides and dilations: the phase plane of a channel is the channel
   /// itself (Wq = W), and the GEMM reads its rows in place, stopping at the last row's Wo
   /// valid columns so that no read leaves the plane
   bool direct = false;
   /// A 2 x 2 / stride 2 MaxPool read this output alone (pool2x2Reader) and is absorbed: each
   /// event's convolution goes to scratch in the wide layout [C, Ho, Wq] (cache-resident) and
   /// only the pooled [C, Ho/2, Wo/2] is written out -- a quarter of the traffic, no second pass
   /// over a batch-sized tensor.
   bool fusePool = false;
   kernels::Window2d poolWin;   ///< the pool on one wide channel (W = Wq)
   std::size_t poolScratch = 0; ///< offset in the workspace of the per-event wide output
   kernels::Window2d win;
   std::vector<int32_t> bRows;
   std::vector<int64_t> taps;  ///< tapOffset of each (ki, kj)
   std::vector<float> aPacked; ///< constant W packed per group at plan time (kernels::gemmPackA)
   std::vector<float> wOwned;  ///< W with a fused per-channel scale
   int64_t aPackedStride = 0;
   /// depthwise on small planes: all channels at once, vectorised across channels
   /// (kernels::depthwiseChannels); the weights as [kh * kw, Cpad] and the bias padded
   bool channelsLast = false;
   int64_t Cpad = 0;
   std::vector<float> wT, biasPad;
   /// a 1 x 1 convolution of 1-pixel planes (squeeze-excite blocks): the whole batch as one GEMM
   /// Y [N, Cout] = X [N, Cin] W^T, W^T kept row-major (wRows) and packed (bPacked) at plan time;
   /// per event it was a GEMM with one column
   bool batchRows = false;
   /// the same for a k x k convolution with outputs of fewer pixels than a vector (the CVAE encoder's
   /// 2 x 2 planes): rows (event, pixel) of im2col^T times W^T, then back to [N, Cout, pixels]
   bool pixelRows = false;
   std::vector<float> wRows, bPacked;
   void run(float *const *v, float *ws) const override
   {
      if (pixelRows) {
         runPixelRows(v[inputs[0]], v[outputs[0]], ws);
         return;
      }
      if (batchRows) {
         rowsGemm(v[inputs[0]], N, Cin, v[outputs[0]], ws);
         return;
      }
      const float *X = v[inputs[0]], *W = wOwned.empty() ? v[inputs[1]] : wOwned.data();
      float *Y = v[outputs[0]];
      const float *B = biasId >= 0 ? v[biasId] : (bias.empty() ? nullptr : bias.data());
      const int64_t inSize = numel(g.in), outSize = numel(g.out);
      const int64_t wideSize = win.Ho * win.Wq, pooledSize = poolWin.Ho * poolWin.Wo;
      for (int64_t n = 0; n < N; ++n) {
         const float *x = X + n * Cin * inSize;
         float *y = fusePool ? ws + poolScratch : Y + n * Cout * outSize;
         if (channelsLast) {
            kernels::DepthwiseChannelsArgs d;
            d.x = x;
            d.C = Cout;
            d.Cpad = Cpad;
            d.wT = wT.data();
            d.bias = biasPad.data();
            d.y = y;
            d.win = win;
            d.act = act;
            d.scratch = ws;
            K().depthwiseChannels(d);
            continue;
         }
         if (depthwise) {
            depthwiseEvent(x, W, B, y, ws, n == 0);
            continue;
         }
         for (int64_t gi = 0; gi < group; ++gi)
            groupGemm(gi, x, W, B, y, ws, n == 0 && gi == 0);
         if (fusePool)
            for (int64_t oc = 0; oc < Cout; ++oc)
               K().maxPool2d(y + oc * wideSize, poolWin, nullptr, Y + (n * Cout + oc) * pooledSize, nullptr, true);
      }
   }

   /// C [rows, Cout] = act(A [rows, kd] W^T + bias) with the plan-time W^T (batchRows, pixelRows).
   void rowsGemm(const float *A, int64_t rows, int64_t kd, float *C, float *ws) const
   {
      // every field in Kernels.h's order: M, N, K; A, sAm, sAk; B = W^T (row-major for the few-row paths),
      // sBk, sBn, bRows, Apacked, Bpacked (packed for the blocked one); C, ldc, alpha, accumulate; biases; act
      const kernels::GemmArgs a{rows,
                                Cout,
                                kd,
                                A,
                                kd,
                                1,
                                wRows.data(),
                                Cout,
                                1,
                                nullptr,
                                nullptr,
                                bPacked.data(),
                                C,
                                Cout,
                                1.f,
                                false,
                                nullptr,
                                bias.empty() ? nullptr : bias.data(),
                                act};
      K().gemm(a, ws);
   }

   /// pixelRows: A [(n, p), (ci, k)] from each event's im2col, one GEMM with W^T, the result transposed
   /// per event into Y [n, co, p].
   void runPixelRows(const float *X, float *Y, float *ws) const
   {
      const int64_t outSize = numel(g.out), inSize = numel(g.in), Kd = Cin * numel(g.kernel), rows = N * outSize;
      float *A = ws, *C = A + rows * Kd, *col = C + rows * Cout, *gemmWs = col + Kd * outSize;
      for (int64_t n = 0; n < N; ++n) {
         im2col(X + n * Cin * inSize, Cin, g, col);
         for (int64_t p = 0; p < outSize; ++p)
            for (int64_t kk = 0; kk < Kd; ++kk)
               A[(n * outSize + p) * Kd + kk] = col[kk * outSize + p];
      }
      rowsGemm(A, rows, Kd, C, gemmWs);
      for (int64_t n = 0; n < N; ++n)
         for (int64_t co = 0; co < Cout; ++co)
            for (int64_t p = 0; p < outSize; ++p)
               Y[(n * Cout + co) * outSize + p] = C[(n * outSize + p) * Cout + co];
   }

   /// One event's depthwise convolution (one input channel per group), channel by channel.
   void depthwiseEvent(const float *x, const float *W, const float *B, float *y, float *ws, bool firstEvent) const
   {
      const int64_t cog = Cout / group, inSize = numel(g.in), outSize = numel(g.out), kSize = numel(g.kernel);
      const kernels::KernelTable &kt = K();
      for (int64_t oc = 0; oc < Cout; ++oc) {
         kernels::DepthwiseArgs d;
         d.x = x + (oc / cog) * inSize;
         d.w = W + oc * kSize;
         d.bias = B ? B[oc] : 0.f;
         d.y = y + oc * outSize;
         d.win = win;
         d.offsets = taps.data();
         d.act = act;
         d.scratch = ws;
         d.bordersReady = !firstEvent || oc > 0;
         kt.depthwise2d(d);
      }
   }

   /// Group gi of one event's convolution as a GEMM: its W (cog x cig * kernel) times the input
   /// rows, read through 2-D windows (in place, or from phase planes in the workspace), from im2col,
   /// or the input itself (pointwise). x, y: the event's input and output (the wide layout when a
   /// pool is fused). `firstSplit`: the phase planes' borders are not yet written.
   void groupGemm(int64_t gi, const float *x, const float *W, const float *B, float *y, float *ws,
                  bool firstSplit) const
   {
      const int64_t cig = Cin / group, cog = Cout / group;
      const int64_t inSize = numel(g.in), outSize = numel(g.out), kSize = numel(g.kernel);
      const kernels::KernelTable &kt = K();
      const float *xg = x + gi * cig * inSize;
      float *yg = y + gi * cog * (fusePool ? win.Ho * win.Wq : outSize);
      kernels::GemmArgs a;
      a.M = cog;
      a.N = outSize;
      a.K = cig * kSize;
      a.A = W + gi * cog * cig * kSize;
      a.sAm = cig * kSize;
      a.sAk = 1;
      a.B = xg;
      a.sBk = outSize;
      a.sBn = 1;
      a.C = yg;
      a.ldc = outSize;
      a.rowBias = B ? B + gi * cog : nullptr;
      a.act = act;
      if (!aPacked.empty())
         a.Apacked = aPacked.data() + gi * aPackedStride;
      float *gemmWs = ws;
      float *wide = nullptr;
      if (windowed) {
         a.bRows = bRows.data();
         if (direct) { // rows straight from the input planes (see chooseConvAlgorithm)
            a.N = win.Ho * win.Wq - (win.Wq - win.Wo);
         } else {
            const int64_t pf = kernels::phaseFloats(win);
            for (int64_t ci = 0; ci < cig; ++ci)
               kt.phaseSplit(xg + ci * inSize, win, 0.f, ws + ci * pf, firstSplit);
            a.B = ws;
            a.N = win.Ho * win.Wq;
            gemmWs = ws + cig * pf;
         }
         if (fusePool) { // the wide layout is what the pool reads
            a.ldc = win.Ho * win.Wq;
         } else if (win.Wq != win.Wo) { // GEMM into the wide layout, then compact each channel
            wide = gemmWs;
            gemmWs += cog * a.N;
            a.C = wide;
            a.ldc = a.N;
         }
      } else if (!pointwise) {
         im2col(xg, cig, g, ws);
         a.B = ws;
         gemmWs = ws + cig * kSize * outSize;
      }
      kt.gemm(a, gemmWs);
      if (wide)
         for (int64_t oc = 0; oc < cog; ++oc)
            kt.compactRows(wide + oc * a.N, win, yg + oc * outSize);
   }
};

/// The bias B, and a following bias Add, per-channel Mul (an unfolded BatchNormalization) and
/// activation fused into the kernel (Planner::fuse).
void fuseConvEpilogue(NodeCtx &c, ConvKernel &k, const Shape &out)
{
   if (!readConvBias(c, k.Cout, k.bias, k.biasId, k.inputs))
      return; // a run-time B: nothing fused
   const Planner::Epilogue e = c.planner.fuse(c.node, int64_t(out.size()), 1, k.Cout, c.isConst(1));
   c.renameOutput(0, e.outName);
   if (!e.scale.empty()) { // (conv + b) * s = conv with W * s, plus b * s
      const std::vector<float> &w = *c.in(1).f;
      const std::size_t per = w.size() / std::size_t(k.Cout);
      k.wOwned.resize(w.size());
      for (std::size_t i = 0; i < w.size(); ++i)
         k.wOwned[i] = w[i] * e.scale[i / per];
      for (std::size_t j = 0; j < k.bias.size(); ++j)
         k.bias[j] *= e.scale[j];
   }
   addFusedBias(k.bias, e.bias, k.Cout);
   k.act = e.act;
}

/// Output planes up to this many pixels run depthwise convolutions across channels. Measured on
/// EfficientNet-B0 at 128 x 128 (issue 21, thread-CPU us per event, per-plane -> across channels):
/// 4 x 4 planes of 1152 channels (5 x 5) 150 -> 43, 8 x 8 of 672 (5 x 5) 128 -> 97, 8 x 8 of 240
/// (3 x 3) 62 -> 48; but 16 x 16 of 240 100 -> 151 and 32 x 32 of 96 249 -> 495 (the transposes).
constexpr int64_t kDepthwiseChannelsMaxPlane = 64;

/// Chooses how the kernel runs (depthwise, windowed 2-D GEMM, direct, pointwise or im2col) and sizes
/// its workspace.
void chooseConvAlgorithm(NodeCtx &c, ConvKernel &k)
{
   const Shape &xs = c.shape(0);
   const int64_t cig = k.Cin / k.group, cog = k.Cout / k.group;
   // one input channel per group; a single group (Cin = 1, the first layer of image models) is one GEMM
   // with M = Cout over one phase split: per output channel it split the same input Cout times
   k.depthwise = k.g.nd == 2 && cig == 1 && (k.group > 1 || cog == 1);
   bool unit = true;
   for (int64_t d = 0; d < k.g.nd; ++d) {
      const std::size_t u = std::size_t(d);
      unit = unit && k.g.kernel[u] == 1 && k.g.stride[u] == 1 && k.g.padBegin[u] == 0 && k.g.padEnd[u] == 0;
   }
   k.pointwise = unit;
   const int64_t outSize = numel(k.g.out), kSize = numel(k.g.kernel);
   if ((!unit || outSize > 1) && !k.depthwise && k.group == 1 && outSize < 16 && c.isConst(1) && k.biasId < 0) {
      k.pixelRows = true; // see ConvKernel::pixelRows
      const int64_t rows = k.N * outSize, kd = k.Cin * kSize;
      k.workspace = std::size_t(rows * kd + rows * k.Cout + kd * outSize) + K().gemmWorkspace(rows, k.Cout, kd);
      return;
   }
   k.windowed = k.g.nd == 2 && (!unit || k.depthwise);
   if (k.windowed) {
      k.win = window2dOf(k.g);
      k.taps = tapOffsets(k.win);
      if (k.depthwise && cog == 1 && c.isConst(1) && k.biasId < 0 && outSize <= kDepthwiseChannelsMaxPlane) {
         // small planes: the per-plane kernel's set-up (phase planes, borders, compaction) costs more
         // than the arithmetic; vectorise across channels instead
         k.channelsLast = true;
         k.Cpad = (k.Cout + 15) / 16 * 16;
         const std::vector<float> &w = k.wOwned.empty() ? *c.in(1).f : k.wOwned;
         k.wT.assign(std::size_t(kSize * k.Cpad), 0.f);
         for (int64_t oc = 0; oc < k.Cout; ++oc)
            for (int64_t t = 0; t < kSize; ++t)
               k.wT[std::size_t(t * k.Cpad + oc)] = w[std::size_t(oc * kSize + t)];
         k.biasPad.assign(std::size_t(k.Cpad), 0.f);
         for (std::size_t j = 0; j < k.bias.size(); ++j)
            k.biasPad[j] = k.bias[j];
         k.workspace = std::size_t(kernels::depthwiseChannelsWorkspace(k.win, k.Cpad));
      } else if (k.depthwise) {
         k.workspace = std::size_t(kernels::windowWorkspace(k.win));
      } else {
         const kernels::Window2d &w = k.win;
         k.direct = w.sh == 1 && w.sw == 1 && w.dh == 1 && w.dw == 1 && k.g.padBegin[0] == 0 && k.g.padBegin[1] == 0 &&
                    k.g.padEnd[0] == 0 && k.g.padEnd[1] == 0 && w.Wq == w.W && w.Hq == w.H;
         const int64_t inSize = numel(k.g.in);
         const int64_t pf = k.direct ? inSize : kernels::phaseFloats(w), wideN = w.Ho * w.Wq;
         if (cig * pf > std::numeric_limits<int32_t>::max())
            c.fail("input " + shapeString(xs) + " is too large for the convolution kernels");
         for (int64_t ci = 0; ci < cig; ++ci)
            for (int64_t ki = 0; ki < k.g.kernel[0]; ++ki)
               for (int64_t kj = 0; kj < k.g.kernel[1]; ++kj)
                  k.bRows.push_back(int32_t(ci * pf + kernels::tapOffset(w, ki, kj)));
         k.workspace = std::size_t((k.direct ? 0 : cig * pf) + (w.Wq != w.Wo ? cog * wideN : 0)) +
                       K().gemmWorkspace(cog, wideN, cig * kSize);
      }
   } else if (!k.depthwise) {
      k.batchRows = unit && outSize == 1 && k.group == 1 && c.isConst(1) && k.biasId < 0;
      k.workspace =
          k.batchRows ? K().gemmWorkspace(k.N, k.Cout, k.Cin)
                      : (unit ? 0 : std::size_t(cig * kSize * outSize)) + K().gemmWorkspace(cog, outSize, cig * kSize);
   } else {
      c.fail("internal: depthwise convolution without a 2-D window");
   }
}

/// A constant W is packed once per group at plan time (kernels::gemmPackA).
void packConvWeights(NodeCtx &c, ConvKernel &k)
{
   if (k.depthwise || !c.isConst(1))
      return;
   const std::vector<float> &w = k.wOwned.empty() ? *c.in(1).f : k.wOwned;
   const int64_t cog = k.Cout / k.group, kd = k.Cin / k.group * numel(k.g.kernel);
   if (k.batchRows || k.pixelRows) { // W^T [Cin * kernel, Cout]: row-major for the few-row paths, packed
      k.wRows.resize(w.size());
      for (int64_t co = 0; co < k.Cout; ++co)
         for (int64_t ci = 0; ci < kd; ++ci)
            k.wRows[std::size_t(ci * k.Cout + co)] = w[std::size_t(co * kd + ci)];
      k.bPacked.resize(K().gemmPackedBSize(kd, k.Cout));
      K().gemmPackB(k.wRows.data(), kd, k.Cout, k.Cout, 1, k.bPacked.data());
      return;
   }
   k.aPackedStride = int64_t(K().gemmPackedASize(cog, kd));
   k.aPacked.resize(std::size_t(k.aPackedStride * k.group));
   for (int64_t gi = 0; gi < k.group; ++gi)
      K().gemmPackA(w.data() + gi * cog * kd, cog, kd, kd, 1, k.aPacked.data() + gi * k.aPackedStride);
}

/// A 2 x 2 / stride 2 MaxPool as the only reader (rewrites/ConvMaxPool.cxx): pooled per event from
/// the GEMM's wide rows; `out` becomes the pooled shape.
void absorbMaxPool2x2(NodeCtx &c, ConvKernel &k, Shape &out)
{
   const int64_t poolNode = k.windowed && !k.depthwise && k.g.nd == 2 ? pool2x2Reader(c, c.outName(0)) : -1;
   if (poolNode < 0)
      return;
   const auto pool = std::size_t(poolNode);
   const int64_t Ho = k.win.Ho / 2, Wo = k.win.Wo / 2;
   k.fusePool = true;
   // rows Wq apart, as the GEMM leaves them; 2 * Wo <= Wq, so maxPool2x2 reads valid columns only
   k.poolWin = kernels::window2d(k.win.Ho, k.win.Wq, Ho, Wo, 2, 2, 2, 2, 1, 1, 0, 0);
   k.poolScratch = k.workspace;
   k.workspace += std::size_t(k.Cout * k.win.Ho * k.win.Wq);
   c.planner.skip[pool] = true;
   c.renameOutput(0, c.planner.model.proto.graph.node[pool].output[0]);
   out = {k.N, k.Cout, Ho, Wo};
}

} // namespace

void opConv(NodeCtx &c)
{
   auto k = std::make_unique<ConvKernel>();
   readConvChannels(c, *k, false);
   const Shape &xs = c.shape(0), &ws = c.shape(1);
   const Shape wKernel(ws.begin() + 2, ws.end()), spatial(xs.begin() + 2, xs.end());
   const ConvAttrs attrs = readConvAttrs(c, spatial.size(), &wKernel);
   const auto folded = c.planner.foldedPads.find(c.node.input[0]);
   if (folded != c.planner.foldedPads.end())
      k->g = convGeometry(c, spatial, attrs, false, &folded->second.first, &folded->second.second);
   else
      k->g = convGeometry(c, spatial, attrs, false);
   Shape out = {k->N, k->Cout};
   out.insert(out.end(), k->g.out.begin(), k->g.out.end());
   k->inputs = {c.id(0), c.id(1)};
   fuseConvEpilogue(c, *k, out);
   chooseConvAlgorithm(c, *k);
   packConvWeights(c, *k);
   absorbMaxPool2x2(c, *k, out);
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

} // namespace tpcml::onnx::detail
