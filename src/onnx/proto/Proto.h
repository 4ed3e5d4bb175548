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

/// TensorProto.DataType values (onnx.proto).
enum DataType : int32_t {
   kUndefined = 0,
   kFloat = 1,
   kUInt8 = 2,
   kInt8 = 3,
   kUInt16 = 4,
   kInt16 = 5,
   kInt32 = 6,
   kInt64 = 7,
   kString = 8,
   kBool = 9,
   kFloat16 = 10,
   kDouble = 11,
   kUInt32 = 12,
   kUInt64 = 13,
};
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

enum AttributeType : int32_t {
   kAttrUndefined = 0,
   kAttrFloat = 1,
   kAttrInt = 2,
   kAttrString = 3,
   kAttrTensor = 4,
   kAttrGraph = 5,
   kAttrFloats = 6,
   kAttrInts = 7,
   kAttrStrings = 8,
   kAttrTensors = 9,
   kAttrGraphs = 10,
   kAttrSparseTensor = 11,
   kAttrSparseTensors = 12,
   kAttrTypeProto = 13,
   kAttrTypeProtos = 14,
};

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
