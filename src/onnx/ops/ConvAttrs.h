// tpcml (private) -- what Conv, ConvTranspose and MaxPool share: their operands, their window
// attributes (read and checked once, readConvAttrs), the output geometry and the bias.
#ifndef TPCML_SRC_ONNX_OPS_CONVATTRS_H
#define TPCML_SRC_ONNX_OPS_CONVATTRS_H

#include "onnx/ops/OpSupport.h"

#include <string>
#include <vector>

namespace tpcml::onnx::detail {

/// Fails unless the node has X, W and an optional B, X and W float and both N x C x spatial.
void checkConvOperands(NodeCtx &c);

/// Checks the operands (checkConvOperands), then sets k.N, k.Cin, k.Cout and k.group of a Conv (W: Cout x
/// Cin/group x kernel) or, `transposed`, a ConvTranspose (W: Cin x Cout/group x kernel) from X and W; fails
/// when the group does not fit them.
template <class K> void readConvChannels(NodeCtx &c, K &k, bool transposed)
{
   checkConvOperands(c);
   const Shape &xs = c.shape(0), &ws = c.shape(1);
   k.N = xs[0];
   k.Cin = xs[1];
   k.group = c.attrInt("group", 1);
   const bool fits =
       k.group >= 1 && (transposed ? ws[0] == k.Cin && k.Cin % k.group == 0
                                   : k.Cin % k.group == 0 && ws[0] % k.group == 0 && ws[1] == k.Cin / k.group);
   if (!fits)
      c.fail("group " + std::to_string(k.group) + " does not fit X " + shapeString(xs) + " and W " + shapeString(ws));
   k.Cout = transposed ? ws[1] * k.group : ws[0];
}

/// The window attributes of a node over `nd` spatial dimensions.
struct ConvAttrs {
   Shape kernel, stride, dil, pads; ///< pads: the begins, then the ends
   std::string autoPad;             ///< its value and its pairing with pads: Schema.cxx
};
/// Reads kernel_shape (default: `weights`, the spatial dimensions of W, which it must equal: the
/// kernels read W with the strides of kernel_shape), strides, dilations, pads and auto_pad, every
/// list checked for its length (the input's rank) and the spec's ranges. `weights`: nullptr for
/// MaxPool (whose kernel_shape the schema requires).
ConvAttrs readConvAttrs(NodeCtx &c, std::size_t nd, const Shape *weights);

struct ConvGeometry {
   int64_t nd = 0;
   Shape in, out, kernel, stride, dil, padBegin, padEnd;
};

/// Pads, strides, dilations and output size of Conv / MaxPool (ONNX auto_pad rules) from the
/// attributes `a` (readConvAttrs). `extraBegin`/`extraEnd`: a zero Pad folded into this node
/// (rewrites/PadIntoConv.cxx). `padsBelowKernel`: MaxPool's rule that a pad be smaller than the
/// kernel (a window of padding only has no maximum).
ConvGeometry convGeometry(NodeCtx &c, const Shape &inSpatial, const ConvAttrs &a, bool ceilMode,
                          const Shape *extraBegin = nullptr, const Shape *extraEnd = nullptr,
                          bool padsBelowKernel = false);

/// Index arithmetic of the n-d fallback loops (the 2-D paths have kernels of their own).
/// idx = the row-major multi-index of the flat index `flat` in `dims`.
template <class Idx> void unravelIndex(int64_t flat, const Shape &dims, Idx &idx)
{
   for (std::size_t d = dims.size(); d-- > 0;) {
      idx[d] = flat % dims[d];
      flat /= dims[d];
   }
}

/// The tap `at * stride - padBegin + k * dil` (per axis) of a window of g, as the offset `off`
/// (strides `str`) into a tensor of spatial shape `dims`; false when it falls in the padding.
template <class Idx, class Str>
bool tapOffset(const ConvGeometry &g, const Idx &at, const Idx &k, const Shape &dims, const Str &str, int64_t &off)
{
   off = 0;
   for (std::size_t u = 0; u < dims.size(); ++u) {
      const int64_t i = at[u] * g.stride[u] - g.padBegin[u] + k[u] * g.dil[u];
      if (i < 0 || i >= dims[u])
         return false;
      off += i * str[u];
   }
   return true;
}

kernels::Window2d window2dOf(const ConvGeometry &g);
std::vector<int64_t> tapOffsets(const kernels::Window2d &w);

/// The optional bias B (input 2) of a Conv / ConvTranspose with `channels` output channels: a
/// constant goes to `bias`; a run-time one to `biasId` and `inputs`. Records that the node mixes
/// events when W or B come from the event data. Returns whether a following bias Add and
/// activation may be fused (not with a run-time B).
bool readConvBias(NodeCtx &c, int64_t channels, std::vector<float> &bias, int &biasId, std::vector<int> &inputs);
/// bias += fused (a fused bias Add after the node); bias starts at zero when empty.
void addFusedBias(std::vector<float> &bias, const std::vector<float> &fused, int64_t channels);

} // namespace tpcml::onnx::detail

#endif // TPCML_SRC_ONNX_OPS_CONVATTRS_H
