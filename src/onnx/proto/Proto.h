// tpcml (private) -- a minimal, bounds-checked reader of the ONNX protobuf format.
//
// ONNX files are protobuf messages (onnx/onnx.proto, field numbers quoted below). tpcml
// reads the subset an inference engine needs -- the model's opsets, metadata, graph, nodes,
// attributes, initializers and the value infos of inputs and outputs -- and skips every
// other field by its wire type. Every length and count is checked against the bytes left,
// so truncated or corrupted files raise ParseError, never read out of bounds (fuzzed by
// python tools/onnx_fuzz.py and tests/python/test_onnx_fuzz.py, docs/onnx-fuzzing.md).
// What the spec allows beyond the wire format is checked in Schema.cxx.
#ifndef TPCML_SRC_ONNX_PROTO_H
#define TPCML_SRC_ONNX_PROTO_H

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tpcml::onnx::proto {

/// A malformed protobuf stream; what() says which message and byte offset.
class ParseError : public std::runtime_error {
public:
   explicit ParseError(const std::string &what) : std::runtime_error(what) {}
};

/// TensorProto.DataType values (onnx.proto): X(enumerator, value, readable name).
// clang-format off
#define TPCML_ONNX_DATA_TYPES(X)                                                                           \
   X(kUndefined, 0, "undefined")   X(kFloat, 1, "float")           X(kUInt8, 2, "uint8")                   \
   X(kInt8, 3, "int8")             X(kUInt16, 4, "uint16")         X(kInt16, 5, "int16")                   \
   X(kInt32, 6, "int32")           X(kInt64, 7, "int64")           X(kString, 8, "string")                 \
   X(kBool, 9, "bool")             X(kFloat16, 10, "float16")      X(kDouble, 11, "double")                \
   X(kUInt32, 12, "uint32")        X(kUInt64, 13, "uint64")        X(kComplex64, 14, "complex64")          \
   X(kComplex128, 15, "complex128") X(kBFloat16, 16, "bfloat16")
// clang-format on
#define TPCML_ONNX_ENUMERATOR(enumerator, value, ...) enumerator = value,
enum DataType : int32_t { TPCML_ONNX_DATA_TYPES(TPCML_ONNX_ENUMERATOR) };
/// Readable name of a DataType ("float", "int64", ...).
std::string dataTypeName(int32_t type);

struct Tensor {
   std::string name;
   std::vector<int64_t> dims;
   int32_t dataType = kUndefined;
   std::vector<float> floatData;
   std::vector<int32_t> int32Data; ///< also holds bool, int8/16, uint8/16, float16 bits
   std::vector<int64_t> int64Data;
   std::vector<double> doubleData;
   std::vector<uint64_t> uint64Data;
   std::string rawData;
   bool external = false; ///< data_location == EXTERNAL or external_data present
   bool hasDataType = false;
   /// Number of elements (product of dims, checked for overflow); throws ParseError.
   int64_t numel() const;
   /// Checks that the data is in one place only (raw_data or the typed field of dataType, never
   /// both, never another typed field) and that its size matches dims; throws ParseError.
   void check() const;
   /// Values converted to float / int64 (numeric types only); throws ParseError on a
   /// size mismatch between dims and data, or on an unsupported type.
   std::vector<float> toFloat() const;
   std::vector<int64_t> toInt64() const;
};

/// AttributeProto.AttributeType values (onnx.proto): X(enumerator, value, name in onnx.proto, number of
/// the AttributeProto field that holds a value of the type).
// clang-format off
#define TPCML_ONNX_ATTRIBUTE_TYPES(X)                                                                      \
   X(kAttrUndefined, 0, "UNDEFINED", -1)          X(kAttrFloat, 1, "FLOAT", 2)                              \
   X(kAttrInt, 2, "INT", 3)                       X(kAttrString, 3, "STRING", 4)                            \
   X(kAttrTensor, 4, "TENSOR", 5)                 X(kAttrGraph, 5, "GRAPH", 6)                              \
   X(kAttrFloats, 6, "FLOATS", 7)                 X(kAttrInts, 7, "INTS", 8)                                \
   X(kAttrStrings, 8, "STRINGS", 9)               X(kAttrTensors, 9, "TENSORS", 10)                         \
   X(kAttrGraphs, 10, "GRAPHS", 11)               X(kAttrSparseTensor, 11, "SPARSE_TENSOR", 22)             \
   X(kAttrSparseTensors, 12, "SPARSE_TENSORS", 23) X(kAttrTypeProto, 13, "TYPE_PROTO", 14)                  \
   X(kAttrTypeProtos, 14, "TYPE_PROTOS", 15)
// clang-format on
enum AttributeType : int32_t { TPCML_ONNX_ATTRIBUTE_TYPES(TPCML_ONNX_ENUMERATOR) };
#undef TPCML_ONNX_ENUMERATOR

struct Attribute {
   std::string name;
   int32_t type = kAttrUndefined;
   float f = 0.f;
   int64_t i = 0;
   std::string s;
   Tensor t;
   bool hasTensor = false;
   std::vector<float> floats;
   std::vector<int64_t> ints;
   std::vector<std::string> strings;
   /// Bit f set when field number f (< 32) of the AttributeProto was present in the file.
   uint32_t present = 0;
};

struct Dim {
   bool hasValue = false;
   int64_t value = 0;
   std::string param;
};

struct ValueInfo {
   std::string name;
   bool isTensor = false; ///< TypeProto.tensor_type present (not a sequence, map, optional)
   int32_t elemType = kUndefined;
   bool hasShape = false;
   std::vector<Dim> shape;
};

struct Node {
   std::vector<std::string> input, output;
   std::string name, opType, domain;
   std::vector<Attribute> attribute;
   const Attribute *findAttribute(const std::string &attrName) const;
};

struct Graph {
   std::string name;
   std::vector<Node> node;
   std::vector<Tensor> initializer;
   std::vector<ValueInfo> input, output, valueInfo;
   bool hasSparseInitializer = false;
};

struct OpsetId {
   std::string domain;
   int64_t version = 0;
};

struct Model {
   int64_t irVersion = 0;
   std::vector<OpsetId> opsetImport;
   std::string producerName, producerVersion;
   bool hasGraph = false;
   Graph graph;
   std::vector<std::pair<std::string, std::string>> metadata;
};

/// Parses a serialised ModelProto. Throws ParseError on malformed input.
Model parseModel(const void *data, std::size_t size);

} // namespace tpcml::onnx::proto

#endif // TPCML_SRC_ONNX_PROTO_H
