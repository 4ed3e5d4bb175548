// tpcml (private) -- what every operator's planner shares: the kernel table, the attribute checks
// and the per-family registration functions that fill the operator table (OperatorTable.cxx).
#ifndef TPCML_SRC_ONNX_OPS_OPSUPPORT_H
#define TPCML_SRC_ONNX_OPS_OPSUPPORT_H

#include "onnx/graph/Graph.h"

#include <map>
#include <string>

namespace tpcml::onnx::detail {

/// The kernels of the best instruction set this CPU runs (kernels/Kernels.h).
inline const kernels::KernelTable &K()
{
   return kernels::table();
}

/// "attribute 'strides' = [0, 1]" -- how messages quote an integer-list attribute.
std::string quoted(const char *attr, const Shape &v);
/// Fails unless the list attribute `attr` (value v) has n entries.
void requireLength(NodeCtx &c, const char *attr, const Shape &v, std::size_t n, const std::string &why);
/// Fails unless every entry of the list attribute `attr` is >= lo.
void requireAtLeast(NodeCtx &c, const char *attr, const Shape &v, int64_t lo);

/// ONNX op_type -> planner. Each operator family adds its own (one file each, under ops/).
using OperatorMap = std::map<std::string, OpPlanner>;
void addElementwiseOps(OperatorMap &table);   ///< Elementwise.cxx
void addMatMulOps(OperatorMap &table);        ///< MatMul.cxx
void addConvOps(OperatorMap &table);          ///< Conv.cxx
void addConvTransposeOps(OperatorMap &table); ///< ConvTranspose.cxx
void addPoolingOps(OperatorMap &table);       ///< Pooling.cxx
void addReductionOps(OperatorMap &table);     ///< Reductions.cxx
void addNormalisationOps(OperatorMap &table); ///< Normalisation.cxx
void addTransposeOps(OperatorMap &table);     ///< Transpose.cxx
void addShapeOps(OperatorMap &table);         ///< ShapeOps.cxx
void addCastOps(OperatorMap &table);          ///< Cast.cxx
void addDataMovementOps(OperatorMap &table);  ///< DataMovement.cxx
void addPadOps(OperatorMap &table);           ///< Pad.cxx

} // namespace tpcml::onnx::detail

#endif // TPCML_SRC_ONNX_OPS_OPSUPPORT_H
