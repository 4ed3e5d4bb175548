// tpcml (private) -- the compiled RDataFrame Defines of Scorer::scalars<N>() (ScalarDefine.cxx).
#ifndef TPCML_SRC_ONNX_SCALARDEFINE_H
#define TPCML_SRC_ONNX_SCALARDEFINE_H

#include "tpcml/onnx/Scorer.h"

#include <cstddef>
#include <string>
#include <vector>

namespace tpcml::onnx::detail {

/// Compiled (not jitted) scoring of up to this many float columns.
constexpr std::size_t kCompiledArity = 16;

/// df.DefineSlot(name, scorer.scalars<N>(), columns) for N = columns.size(), 1 <= N <= kCompiledArity.
ROOT::RDF::RNode defineScalarScore(ROOT::RDF::RNode df, const std::string &name, const Scorer &scorer,
                                   const std::vector<std::string> &columns);

} // namespace tpcml::onnx::detail

#endif // TPCML_SRC_ONNX_SCALARDEFINE_H
