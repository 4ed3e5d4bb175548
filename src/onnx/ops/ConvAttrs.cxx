// tpcml (private) -- the operands, window attributes, geometry and bias shared by Conv,
// ConvTranspose and MaxPool (see ConvAttrs.h). ONNX operator specification:
// https://onnx.ai/onnx/operators/ (Conv, ConvTranspose, MaxPool: auto_pad, pads, strides, dilations).
#include "onnx/ops/ConvAttrs.h"

#include <algorithm>

namespace tpcml::onnx::detail {

void checkConvOperands(NodeCtx &c)
{
   c.requireInputs(2, 3);
   c.requireFloat(0);
   c.requireFloat(1);
   const Shape &xs = c.shape(0), &ws = c.shape(1);
   if (xs.size() < 3 || ws.size() != xs.size())
      c.fail("X " + shapeString(xs) + " and W " + shapeString(ws) + " must both be N x C x spatial");
}

ConvAttrs readConvAttrs(NodeCtx &c, std::size_t nd, const Shape *weights)
{
   ConvAttrs a;
   const std::string dims = std::to_string(nd) + " spatial dimensions of X";
   a.kernel = c.attrInts("kernel_shape", weights ? *weights : Shape{});
   a.stride = c.attrInts("strides", Shape(nd, 1));
   a.dil = c.attrInts("dilations", Shape(nd, 1));
   a.pads = c.attrInts("pads", Shape(2 * nd, 0));
   a.autoPad = c.attrString("auto_pad", "NOTSET"); // value and pads: Schema.cxx
   requireLength(c, "kernel_shape", a.kernel, nd, dims);
   requireLength(c, "strides", a.stride, nd, dims);
   requireLength(c, "dilations", a.dil, nd, dims);
   requireLength(c, "pads", a.pads, 2 * nd, "begin and end of the " + dims);
   if (weights && a.kernel != *weights)
      c.fail(quoted("kernel_shape", a.kernel) + " differs from the spatial dimensions of W " + shapeString(c.shape(1)));
   requireAtLeast(c, "kernel_shape", a.kernel, 1);
   requireAtLeast(c, "strides", a.stride, 1);
   requireAtLeast(c, "dilations", a.dil, 1);
   requireAtLeast(c, "pads", a.pads, 0);
   constexpr int64_t kHuge = int64_t(1) << 31;
   for (std::size_t d = 0; d < nd; ++d)
      if (a.kernel[d] > kHuge || a.stride[d] > kHuge || a.dil[d] > kHuge || a.pads[d] > kHuge || a.pads[d + nd] > kHuge)
         c.fail("kernel_shape/strides/dilations/pads entry beyond 2^31 in dimension " + std::to_string(d));
   return a;
}

ConvGeometry convGeometry(NodeCtx &c, const Shape &inSpatial, const ConvAttrs &a, bool ceilMode,
                          const Shape *extraBegin, const Shape *extraEnd, bool padsBelowKernel)
{
   ConvGeometry g;
   g.nd = int64_t(inSpatial.size());
   const std::size_t nd = std::size_t(g.nd);
   g.in = inSpatial;
   g.kernel = a.kernel;
   g.stride = a.stride;
   g.dil = a.dil;
   const Shape &kernel = a.kernel, &pads = a.pads;
   const std::string &autoPad = a.autoPad;
   if (padsBelowKernel && autoPad == "NOTSET")
      for (std::size_t k = 0; k < 2 * nd; ++k)
         if (pads[k] >= kernel[k % nd])
            c.fail(quoted("pads", pads) + ": entry " + std::to_string(k) + " is " + std::to_string(pads[k]) +
                   ", expected < kernel_shape[" + std::to_string(k % nd) + "] = " + std::to_string(kernel[k % nd]) +
                   " (a window over padding only has no maximum)");
   g.padBegin.assign(pads.begin(), pads.begin() + g.nd);
   g.padEnd.assign(pads.begin() + g.nd, pads.end());
   if (extraBegin && extraEnd) { // a zero Pad folded into this node (opPad)
      if (autoPad != "NOTSET" && autoPad != "VALID")
         c.fail("internal: a folded Pad meets auto_pad " + autoPad);
      if (autoPad == "VALID")
         std::fill(g.padBegin.begin(), g.padBegin.end(), 0), std::fill(g.padEnd.begin(), g.padEnd.end(), 0);
      for (std::size_t d = 0; d < nd; ++d) {
         g.padBegin[d] += (*extraBegin)[d];
         g.padEnd[d] += (*extraEnd)[d];
      }
   }
   if ((autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") &&
       std::any_of(g.dil.begin(), g.dil.end(), [](int64_t x) { return x != 1; }))
      c.fail("attribute 'auto_pad' = '" + autoPad + "' with " + quoted("dilations", g.dil) +
             " is not supported (onnxruntime refuses it for Conv and sizes MaxPool otherwise than the spec)");
   g.out.resize(nd);
   for (std::size_t d = 0; d < nd; ++d) {
      if (g.padBegin[d] > (int64_t(1) << 31) || g.padEnd[d] > (int64_t(1) << 31)) // with a folded Pad
         c.fail("kernel_shape/strides/dilations/pads entry beyond 2^31 in dimension " + std::to_string(d));
      const int64_t ext = (kernel[d] - 1) * g.dil[d] + 1;
      if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
         g.out[d] = (g.in[d] + g.stride[d] - 1) / g.stride[d];
         const int64_t total = std::max<int64_t>(0, (g.out[d] - 1) * g.stride[d] + ext - g.in[d]);
         g.padBegin[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
         g.padEnd[d] = total - g.padBegin[d];
         continue;
      }
      if (autoPad == "VALID" && !extraBegin)
         g.padBegin[d] = g.padEnd[d] = 0;
      const int64_t span = g.in[d] + g.padBegin[d] + g.padEnd[d] - ext;
      if (span < 0)
         c.fail("kernel " + shapeString(kernel) + " (dilations " + shapeString(g.dil) +
                ") is larger than the padded input " + shapeString(inSpatial));
      g.out[d] = (ceilMode ? (span + g.stride[d] - 1) / g.stride[d] : span / g.stride[d]) + 1;
      if (ceilMode && (g.out[d] - 1) * g.stride[d] >= g.in[d] + g.padBegin[d])
         --g.out[d]; // the last window must start inside the input or its left padding
   }
   if (padsBelowKernel) // MaxPool: with dilations, pads < kernel still let a window miss the input
      for (std::size_t d = 0; d < nd; ++d)
         for (int64_t o = 0; o < g.out[d]; ++o) {
            bool hits = false;
            for (int64_t k = 0; k < kernel[d] && !hits; ++k) {
               const int64_t i = o * g.stride[d] - g.padBegin[d] + k * g.dil[d];
               hits = i >= 0 && i < g.in[d];
            }
            if (!hits)
               c.fail("output " + std::to_string(o) + " along spatial dimension " + std::to_string(d) +
                      " pools padding only (kernel_shape " + shapeString(kernel) + ", dilations " + shapeString(g.dil) +
                      ", pads " + shapeString(pads) + "): it has no maximum");
         }
   return g;
}

kernels::Window2d window2dOf(const ConvGeometry &g)
{
   return kernels::window2d(g.in[0], g.in[1], g.out[0], g.out[1], g.kernel[0], g.kernel[1], g.stride[0], g.stride[1],
                            g.dil[0], g.dil[1], g.padBegin[0], g.padBegin[1]);
}

std::vector<int64_t> tapOffsets(const kernels::Window2d &w)
{
   std::vector<int64_t> off;
   for (int64_t ki = 0; ki < w.kh; ++ki)
      for (int64_t kj = 0; kj < w.kw; ++kj)
         off.push_back(kernels::tapOffset(w, ki, kj));
   return off;
}

bool readConvBias(NodeCtx &c, int64_t channels, std::vector<float> &bias, int &biasId, std::vector<int> &inputs)
{
   if (c.carriesEvents(1) || c.carriesEvents(2))
      c.mixesEvents(std::string(c.carriesEvents(1) ? "the weights W" : "the bias B") + " come from the event data");
   if (!c.has(2))
      return true;
   c.requireFloat(2);
   if (c.shape(2) != Shape{channels})
      c.fail("bias B has shape " + shapeString(c.shape(2)) + ", expected [" + std::to_string(channels) + "]");
   if (c.isConst(2)) {
      bias = c.floats(2, "bias");
      return true;
   }
   biasId = c.id(2);
   inputs.push_back(c.id(2));
   return false;
}

void addFusedBias(std::vector<float> &bias, const std::vector<float> &fused, int64_t channels)
{
   if (fused.empty())
      return;
   if (bias.empty())
      bias.assign(std::size_t(channels), 0.f);
   for (std::size_t j = 0; j < bias.size(); ++j)
      bias[j] += fused[j];
}

} // namespace tpcml::onnx::detail
