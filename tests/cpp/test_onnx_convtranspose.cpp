// ConvTranspose against a naive reference: the phase path (one GEMM per output phase) and the column path
// (GEMM + col2im) in 1-D and 2-D -- the planner picks by a cost model; the cases below cover both (which one
// each takes is noted) -- and the scatter path in 3-D: strides, asymmetric pads, output_padding,
// dilations, groups, kernels smaller than the stride. And depthwise Conv on small and large planes.
#include "tpcml/onnx/Model.h"

#include "OnnxWriter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace onnxw;

struct Case {
   std::string label;
   int64_t cin, cout, group;
   std::vector<int64_t> in, kernel, stride, dil, pads, outPad; // spatial; pads: begins then ends
};

int64_t product(const std::vector<int64_t> &v)
{
   int64_t p = 1;
   for (int64_t x : v)
      p *= x;
   return p;
}

std::vector<int64_t> outShape(const Case &c)
{
   std::vector<int64_t> out;
   const std::size_t nd = c.in.size();
   for (std::size_t d = 0; d < nd; ++d)
      out.push_back(c.stride[d] * (c.in[d] - 1) + c.outPad[d] + (c.kernel[d] - 1) * c.dil[d] + 1 - c.pads[d] -
                    c.pads[nd + d]);
   return out;
}

/// The reference: every input value scattered through the kernel, in double precision.
std::vector<float> reference(const Case &c, int64_t n, const std::vector<float> &x, const std::vector<float> &w,
                             const std::vector<float> &b)
{
   const std::size_t nd = c.in.size();
   const std::vector<int64_t> out = outShape(c);
   const int64_t inSize = product(c.in), outSize = product(out), kSize = product(c.kernel);
   const int64_t cig = c.cin / c.group, cog = c.cout / c.group;
   std::vector<double> y(std::size_t(n * c.cout * outSize));
   for (int64_t e = 0; e < n; ++e)
      for (int64_t oc = 0; oc < c.cout; ++oc)
         for (int64_t o = 0; o < outSize; ++o)
            y[std::size_t((e * c.cout + oc) * outSize + o)] = b[std::size_t(oc)];
   std::vector<int64_t> iIdx(nd), kIdx(nd);
   for (int64_t e = 0; e < n; ++e)
      for (int64_t ci = 0; ci < c.cin; ++ci)
         for (int64_t i = 0; i < inSize; ++i)
            for (int64_t kf = 0; kf < kSize; ++kf) {
               for (int64_t r = i, d = int64_t(nd) - 1; d >= 0; --d) {
                  iIdx[std::size_t(d)] = r % c.in[std::size_t(d)];
                  r /= c.in[std::size_t(d)];
               }
               for (int64_t r = kf, d = int64_t(nd) - 1; d >= 0; --d) {
                  kIdx[std::size_t(d)] = r % c.kernel[std::size_t(d)];
                  r /= c.kernel[std::size_t(d)];
               }
               int64_t off = 0;
               bool inside = true;
               for (std::size_t d = 0; d < nd; ++d) {
                  const int64_t o = iIdx[d] * c.stride[d] - c.pads[d] + kIdx[d] * c.dil[d];
                  inside = inside && o >= 0 && o < out[d];
                  off = off * out[d] + o;
               }
               if (!inside)
                  continue;
               const int64_t g = ci / cig;
               for (int64_t oc = 0; oc < cog; ++oc)
                  y[std::size_t((e * c.cout + g * cog + oc) * outSize + off)] +=
                      double(x[std::size_t((e * c.cin + ci) * inSize + i)]) *
                      double(w[std::size_t((ci * cog + oc) * kSize + kf)]);
            }
   return {y.begin(), y.end()};
}

/// Runs n events of x through `net` in sessions of `batch` events and compares with `want`.
void expectRun(const std::shared_ptr<const tpcml::onnx::Model> &net, int64_t batch, int64_t n,
               const std::vector<float> &x, const std::vector<float> &want)
{
   tpcml::onnx::Session session(net, batch);
   std::vector<float> y(want.size(), std::nanf(""));
   const float *in[] = {x.data()};
   float *out[] = {y.data()};
   session.run(in, out, n);
   for (std::size_t k = 0; k < y.size(); ++k)
      ASSERT_NEAR(y[k], want[k], 1e-5 * (1.0 + std::abs(want[k]))) << "batch " << batch << ", value " << k;
}

void check(const Case &c)
{
   SCOPED_TRACE(c.label);
   std::mt19937 rng(7);
   std::uniform_real_distribution<float> u(-1.f, 1.f);
   const int64_t n = 3, cog = c.cout / c.group;
   std::vector<float> x(std::size_t(n * c.cin * product(c.in))), w(std::size_t(c.cin * cog * product(c.kernel))),
       b(std::size_t(c.cout));
   for (auto *v : {&x, &w, &b})
      for (float &f : *v)
         f = u(rng);
   std::vector<int64_t> xDims = {c.cin}, wDims = {c.cin, cog}, yDims = {c.cout};
   xDims.insert(xDims.end(), c.in.begin(), c.in.end());
   wDims.insert(wDims.end(), c.kernel.begin(), c.kernel.end());
   const std::vector<int64_t> out = outShape(c);
   yDims.insert(yDims.end(), out.begin(), out.end());
   const std::string attrs = attrInts("kernel_shape", c.kernel) + attrInts("strides", c.stride) +
                             attrInts("dilations", c.dil) + attrInts("pads", c.pads) +
                             attrInts("output_padding", c.outPad) + attrInt("group", c.group);
   const std::string graph = bytes(1, node("ConvTranspose", {"x", "w", "b"}, "y", "up", attrs)) +
                             initializer("w", wDims, w) + initializer("b", {c.cout}, b) +
                             bytes(11, valueInfo("x", "N", xDims)) + bytes(12, valueInfo("y", "N", yDims));
   const auto net = tpcml::onnx::Model::fromBytes(model(graph), c.label);
   const std::vector<float> want = reference(c, n, x, w, b);
   for (int64_t batch : {int64_t(1), n}) // per event and the whole batch
      expectRun(net, batch, n, x, want);
}

} // namespace

TEST(OnnxConvTranspose, MatchesTheNaiveReference2d)
{
   check({"unit stride", 3, 4, 1, {5, 6}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0, 0}});
   check({"strides, asymmetric pads, output_padding", 3, 5, 1, {4, 5}, {3, 4}, {2, 3}, {1, 1}, {1, 0, 2, 1}, {1, 2}});
   check({"dilations and groups", 4, 6, 2, {5, 4}, {3, 2}, {2, 2}, {2, 1}, {0, 1, 1, 0}, {1, 0}});
   check({"kernel smaller than the stride (gaps keep the bias)",
          2,
          3,
          1,
          {3, 4},
          {2, 2},
          {3, 3},
          {1, 1},
          {0, 0, 0, 0},
          {2, 1}});
   check({"stride 2, kernel 3 (the conv-VAE decoder)", 8, 4, 1, {7, 7}, {3, 3}, {2, 2}, {1, 1}, {0, 0, 0, 0}, {0, 0}});
   check({"depthwise", 3, 3, 3, {4, 4}, {3, 3}, {2, 1}, {1, 2}, {1, 1, 0, 2}, {1, 0}});
}

TEST(OnnxConvTranspose, ColumnPathMatchesTheNaiveReference)
{ // few output channels per group: the column path
   check({"one output channel, stride 3", 16, 1, 1, {9, 9}, {3, 3}, {3, 3}, {1, 1}, {0, 0, 0, 0}, {0, 0}});
   check({"groups, mixed strides", 8, 2, 2, {10, 9}, {3, 3}, {1, 2}, {1, 1}, {1, 1, 1, 0}, {0, 1}});
   check({"unit stride, padded", 32, 2, 1, {12, 12}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0, 0}});
   check({"1-D, dilated", 8, 1, 1, {20}, {5}, {1}, {2}, {2, 1}, {0}});
}

TEST(OnnxConvTranspose, PhasePathWithGroupsAndDilations)
{ // many output channels: the phase path
   check({"groups", 8, 24, 2, {6, 5}, {3, 3}, {2, 2}, {1, 1}, {1, 0, 0, 1}, {1, 1}});
   check({"kernel 4, dilated columns", 6, 16, 1, {8, 8}, {4, 4}, {2, 2}, {1, 2}, {1, 2, 0, 1}, {0, 1}});
}

TEST(OnnxConvTranspose, MatchesTheNaiveReference1dAnd3d)
{
   check({"1-D", 2, 3, 1, {7}, {3}, {2}, {1}, {1, 1}, {1}});
   check({"3-D (scatter path)", 2, 2, 1, {3, 3, 2}, {2, 2, 2}, {2, 1, 2}, {1, 1, 1}, {0, 0, 1, 1, 0, 0}, {1, 0, 0}});
}

namespace {

/// A depthwise Conv (group = channels, constant W and B) against a direct loop: the small-plane path
/// (kernels::depthwiseChannels, output planes up to 64 pixels) and the per-plane path.
void checkDepthwise(int64_t channels, int64_t h, int64_t w, int64_t k, int64_t s, int64_t d,
                    const std::vector<int64_t> &pads)
{
   SCOPED_TRACE(std::to_string(channels) + " channels " + std::to_string(h) + " x " + std::to_string(w));
   std::mt19937 rng(11);
   std::uniform_real_distribution<float> u(-1.f, 1.f);
   const int64_t n = 2;
   const int64_t ho = (h + pads[0] + pads[2] - d * (k - 1) - 1) / s + 1;
   const int64_t wo = (w + pads[1] + pads[3] - d * (k - 1) - 1) / s + 1;
   std::vector<float> x(std::size_t(n * channels * h * w)), wt(std::size_t(channels * k * k));
   std::vector<float> b(static_cast<std::size_t>(channels));
   for (auto *v : {&x, &wt, &b})
      for (float &f : *v)
         f = u(rng);
   const std::string attrs = attrInts("kernel_shape", {k, k}) + attrInts("strides", {s, s}) +
                             attrInts("dilations", {d, d}) + attrInts("pads", pads) + attrInt("group", channels);
   const std::string graph = bytes(1, node("Conv", {"x", "w", "b"}, "y", "dw", attrs)) +
                             initializer("w", {channels, 1, k, k}, wt) + initializer("b", {channels}, b) +
                             bytes(11, valueInfo("x", "N", {channels, h, w})) +
                             bytes(12, valueInfo("y", "N", {channels, ho, wo}));
   const auto net = tpcml::onnx::Model::fromBytes(model(graph), "depthwise");
   std::vector<float> want(std::size_t(n * channels * ho * wo));
   for (int64_t e = 0; e < n; ++e)
      for (int64_t c = 0; c < channels; ++c)
         for (int64_t oh = 0; oh < ho; ++oh)
            for (int64_t ow = 0; ow < wo; ++ow) {
               double acc = b[std::size_t(c)];
               for (int64_t i = 0; i < k; ++i)
                  for (int64_t j = 0; j < k; ++j) {
                     const int64_t ih = oh * s - pads[0] + i * d, iw = ow * s - pads[1] + j * d;
                     if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                        acc += double(wt[std::size_t((c * k + i) * k + j)]) *
                               double(x[std::size_t(((e * channels + c) * h + ih) * w + iw)]);
                  }
               want[std::size_t(((e * channels + c) * ho + oh) * wo + ow)] = float(acc);
            }
   expectRun(net, n, n, x, want);
}

} // namespace

TEST(OnnxDepthwise, MatchesTheNaiveReferenceOnSmallAndLargePlanes)
{
   checkDepthwise(20, 4, 4, 5, 1, 1, {2, 2, 2, 2});   // 4 x 4 planes, 20 channels (a partial vector)
   checkDepthwise(72, 11, 11, 5, 2, 1, {1, 1, 2, 2}); // stride 2, asymmetric pads, 4 blocks of 16 + a tail
   checkDepthwise(3, 9, 7, 3, 1, 2, {0, 1, 2, 0});    // dilation 2
   checkDepthwise(5, 12, 12, 3, 1, 1, {1, 1, 1, 1});  // 144 output pixels: the per-plane path
}
