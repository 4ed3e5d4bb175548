// tpcml (private) -- the graph rewrites the planner applies while it plans the operators: each
// folds a node into its neighbour, so that the run-time plan has fewer steps and fewer passes
// over memory. One file per rewrite; the operator planners call them (ops/).
#ifndef TPCML_SRC_ONNX_REWRITES_REWRITES_H
#define TPCML_SRC_ONNX_REWRITES_REWRITES_H

#include "onnx/graph/Graph.h"

#include <string>

namespace tpcml::onnx::detail {

struct MatMulKernel;

// --- AffineIntoMatMul.cxx: x * s + o with per-feature constants (Keras Rescaling) before a MatMul
/// x * s (`multiply`) or x + o with a per-feature constant, on its way into a MatMul with constant
/// weights: recorded in Planner::foldedAffine for the MatMul to fold into its weights and bias (no
/// run-time step). Returns false (nothing done) when the node does not qualify.
bool foldAffine(NodeCtx &c, bool multiply, const Shape &out);
/// Folds a per-feature affine map recorded for A (foldAffine) into the constant B and the bias.
void absorbAffine(NodeCtx &c, MatMulKernel &k);

// --- FlattenTransposeIntoMatMul.cxx
/// Flatten(Transpose(X)) * W with a constant W (Keras flattening NHWC after NCHW convolutions):
/// the MatMul reads X itself with the rows of W permuted, and the Transpose step goes.
void absorbFlattenTranspose(NodeCtx &c, MatMulKernel &k);

// --- ConvMaxPool.cxx
/// The index of the node reading `name` when it is its only reader and a MaxPool with a 2 x 2
/// kernel, stride 2, no padding, no dilation, floor mode and no Indices output (kernels'
/// maxPool2x2), which the Conv producing `name` then absorbs; -1 otherwise.
int64_t pool2x2Reader(NodeCtx &c, const std::string &name);

// --- PadIntoConv.cxx
/// A zero Pad (input shape `in`, output `out`, `begin` pads, possibly negative) of the spatial
/// dims of an N x C x H x W tensor read only by Convs (as their X) becomes extra pads of those
/// Convs (Planner::foldedPads): the Pad output aliases its input, no copy is made.
bool foldPadIntoConvs(NodeCtx &c, const Shape &in, const Shape &out, const Shape &begin);

// --- DenseChains.cxx: fuseDenseChains (declared in graph/Graph.h, run by the planner on the plan)

} // namespace tpcml::onnx::detail

#endif // TPCML_SRC_ONNX_REWRITES_REWRITES_H
