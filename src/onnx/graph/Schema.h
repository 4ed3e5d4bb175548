// tpcml (private) -- what the ONNX spec allows for each operator tpcml implements, and the
// load-time check of a whole model against it (before any planning).
//
// The table (Schema.cxx) follows the ONNX operator specs of ai.onnx opset 28 (ONNX 1.23,
// onnx/defs/*/defs.cc and old.cc); tests/python/test_onnx_spec.py cross-checks it against
// onnx.defs for every operator and version.
#ifndef TPCML_SRC_ONNX_SCHEMA_H
#define TPCML_SRC_ONNX_SCHEMA_H

#include "onnx/proto/Proto.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tpcml::onnx::detail {

/// The newest ai.onnx operator set and IR version the table follows (ONNX 1.23).
constexpr int64_t kNewestOpset = 28;
constexpr int64_t kNewestIrVersion = 14;
/// IR 3 introduced opset imports; older files are not supported.
constexpr int64_t kOldestIrVersion = 3;

/// An attribute of an operator in the operator versions [from, until) (until 0: to the newest).
struct AttrSpec {
   const char *name;
   int32_t type; ///< proto::AttributeType
   bool required;
   int64_t from, until;
};

/// Numbers of inputs and outputs from operator version `from` on (maxIn -1: unbounded).
struct Arity {
   int64_t from;
   int minIn, maxIn, minOut, maxOut;
};

struct OpSchema {
   const char *opType;
   /// Every version (since_version) of the operator in the spec, oldest first.
   std::vector<int64_t> versions;
   /// The oldest version whose semantics the engine implements (every later one is).
   int64_t firstSupported;
   std::vector<AttrSpec> attributes;
   /// Type class of each input (spec type constraints, newest version): 'F' floating point only,
   /// 'T' the same type as the other 'T' inputs, 'I' int32 or int64, 'L' int64, 'B' bool, '*' any;
   /// a trailing '+' repeats the last class (variadic inputs).
   const char *inputs;
   std::vector<Arity> arity;
};

/// The operator table, sorted by op type.
const std::vector<OpSchema> &schemaTable();
/// The schema of `opType`, or nullptr.
const OpSchema *findSchema(const std::string &opType);
/// The operator version that an import of ai.onnx opset `opset` selects: the newest version <= opset.
int64_t operatorVersion(const OpSchema &schema, int64_t opset);
/// Does attribute `spec` exist in operator version `version`?
inline bool attrExists(const AttrSpec &spec, int64_t version)
{
   return spec.from <= version && (spec.until == 0 || version < spec.until);
}
/// "FLOAT", "INTS", ... (AttributeProto.AttributeType names).
std::string attributeTypeName(int32_t type);

/// Checks a parsed model against the ONNX spec before planning: IR version, opset imports, a
/// graph, unique and existing tensor names (SSA, topological order), initializers, every node's
/// operator, version, attributes (names, types, required ones) and the input types known at load.
/// Throws InputError naming the model `name`, the node (name and op type) and the attribute.
void checkModel(const proto::Model &model, const std::string &name);

} // namespace tpcml::onnx::detail

#endif // TPCML_SRC_ONNX_SCHEMA_H
