// tpcml (private) -- what every operator's planner shares: the kernel table, the attribute checks
// and the list of operators and their planners that fills the operator table (OperatorTable.cxx).
#ifndef TPCML_SRC_ONNX_OPS_OPSUPPORT_H
#define TPCML_SRC_ONNX_OPS_OPSUPPORT_H

#include "onnx/graph/Graph.h"

#include <memory>
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

/// Emits kernel k reading input 0 and writing output 0 (shape out): the wiring of one-input kernels.
inline void emitOnInput0(NodeCtx &c, std::unique_ptr<Kernel> k, const Shape &out)
{
   k->inputs = {c.id(0)};
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

/// Data movement on int64 data (shape subgraphs, known at load time) runs at load time: when input 0
/// is int64, writes output 0 (shape `out`) as a constant made by `move(in, out)` -- the kernel's own
/// template on int64_t -- and returns true; on float data returns false and the planner emits its kernel.
template <typename Move> bool moveInt64AtLoad(NodeCtx &c, const Shape &out, Move move)
{
   if (c.in(0).type != DType::Int64)
      return false;
   const std::vector<int64_t> x = c.ints(0, "data");
   std::vector<int64_t> y(std::size_t(numel(out)));
   move(x.data(), y.data());
   c.constantI(0, out, std::move(y));
   return true;
}

/// The float kernel of a data-movement op: `move(in, out)` from input 0 to output 0.
template <typename Move> struct MoveKernel : Kernel {
   explicit MoveKernel(Move m) : move(std::move(m)) {}
   Move move;
   void run(float *const *v, float *) const override { move(v[inputs[0]], v[outputs[0]]); }
};

/// Plans a data-movement op whose output 0 (shape `out`) is `move(in, out)` of input 0, `move` generic
/// over the element type (it owns what it reads: the kernel keeps it): at load time on int64 data
/// (moveInt64AtLoad), else as a MoveKernel.
template <typename Move> void emitMove(NodeCtx &c, const Shape &out, Move move)
{
   if (!moveInt64AtLoad(c, out, move))
      emitOnInput0(c, std::make_unique<MoveKernel<Move>>(std::move(move)), out);
}

/// Every ONNX op_type tpcml plans, by the family file (ops/) that defines its planner `op<op_type>`;
/// OperatorTable.cxx builds the operator table from this list.
// clang-format off
#define TPCML_ONNX_OPERATORS(X)                                                                        \
   /* Cast.cxx */ X(Cast)                                                                              \
   /* Conv.cxx */ X(Conv)                                                                              \
   /* ConvTranspose.cxx */ X(ConvTranspose)                                                            \
   /* DataMovement.cxx */ X(Concat) X(Gather) X(Slice)                                                 \
   /* Elementwise.cxx */ X(Add) X(Clip) X(Div) X(Elu) X(Exp) X(LeakyRelu) X(Mul)                       \
      X(Relu) X(Selu) X(Sigmoid) X(Sub) X(Tanh)                                                        \
   /* MatMul.cxx */ X(Gemm) X(MatMul)                                                                  \
   /* Normalisation.cxx */ X(BatchNormalization) X(Softmax)                                            \
   /* Pad.cxx */ X(Pad)                                                                                \
   /* Pooling.cxx */ X(MaxPool)                                                                        \
   /* Reductions.cxx */ X(GlobalAveragePool) X(GlobalMaxPool) X(ReduceMax) X(ReduceMean) X(ReduceSum)  \
   /* ShapeOps.cxx */ X(Constant) X(Dropout) X(Flatten) X(Identity)                                    \
      X(Reshape) X(Shape) X(Squeeze) X(Unsqueeze)                                                      \
   /* Transpose.cxx */ X(Transpose)
// clang-format on

#define TPCML_ONNX_DECLARE_PLANNER(opType) void op##opType(NodeCtx &c);
TPCML_ONNX_OPERATORS(TPCML_ONNX_DECLARE_PLANNER)
#undef TPCML_ONNX_DECLARE_PLANNER

} // namespace tpcml::onnx::detail

#endif // TPCML_SRC_ONNX_OPS_OPSUPPORT_H
