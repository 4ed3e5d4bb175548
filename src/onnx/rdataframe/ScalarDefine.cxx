// tpcml (private) -- the compiled RDataFrame Defines of Scorer::scalars<N>().
//
// A translation unit of its own, and compiled with a larger inlining budget (src/CMakeLists.txt):
// RDataFrame reads each of the N columns through RDefine::GetValueChecked, and only when GCC
// inlines it does every column get its own virtual call site in RDefine::Update. Out of line, all
// N reads share one call site, and the branch predictors cannot tell the columns apart: the
// 13-branch MLP scoring loop ran 150-180 ns/event slower (bench/bench_inference.py, RDataFrame
// rows: 905-937 ns against 728-771 ns inlined; the same loop only reading the branches, 580 ns).
#include "onnx/rdataframe/ScalarDefine.h"

#include "tpcml/core/Error.h"

#include <array>
#include <utility>

namespace tpcml::onnx::detail {
namespace {

template <std::size_t N>
ROOT::RDF::RNode defineN(ROOT::RDF::RNode df, const std::string &name, const Scorer &s,
                         const std::vector<std::string> &cols)
{
   return df.DefineSlot(name, s.scalars<N>(), cols);
}

using Definer = ROOT::RDF::RNode (*)(ROOT::RDF::RNode, const std::string &, const Scorer &,
                                     const std::vector<std::string> &);
template <std::size_t... N> constexpr std::array<Definer, sizeof...(N)> definers(std::index_sequence<N...>)
{
   return {&defineN<N + 1>...};
}

} // namespace

ROOT::RDF::RNode defineScalarScore(ROOT::RDF::RNode df, const std::string &name, const Scorer &scorer,
                                   const std::vector<std::string> &columns)
{
   if (columns.empty() || columns.size() > kCompiledArity)
      throw UsageError("compiled scoring takes 1 to " + std::to_string(kCompiledArity) + " float columns, got " +
                       std::to_string(columns.size()));
   static constexpr auto table = definers(std::make_index_sequence<kCompiledArity>{});
   return table[columns.size() - 1](std::move(df), name, scorer, columns);
}

} // namespace tpcml::onnx::detail
