// Test helper: what the ConvTranspose/depthwise tests need beyond OnnxBytes.h's protobuf writer (field numbers
// from onnx/onnx.proto): tensors of any rank, integer attributes, initializers, nodes with attributes.
#ifndef TPCML_TESTS_CPP_ONNXWRITER_H
#define TPCML_TESTS_CPP_ONNXWRITER_H

#include "OnnxBytes.h"

#include <cstdint>
#include <string>
#include <vector>

namespace onnxw {

using namespace tpcml::test::onnxbytes;

/// ValueInfoProto of a float tensor [batchParam, dims...].
inline std::string valueInfo(const std::string &name, const std::string &batchParam, const std::vector<int64_t> &dims)
{
   std::string shape = bytes(1, bytes(2, batchParam));
   for (int64_t d : dims)
      shape += bytes(1, num(1, uint64_t(d)));
   const std::string tensorType = num(1, 1 /*float*/) + bytes(2, shape);
   return bytes(1, name) + bytes(2, bytes(1, tensorType));
}

/// NodeProto with several inputs, one output and its attributes (already encoded: attrInts, attrInt).
inline std::string node(const std::string &op, const std::vector<std::string> &in, const std::string &out,
                        const std::string &name, const std::string &attributes)
{
   return nodeN(op, in, {out}, name) + attributes;
}

/// A node's INTS attribute (field 5 of NodeProto).
inline std::string attrInts(const std::string &name, const std::vector<int64_t> &values)
{
   std::string a = bytes(1, name) + num(20, 7 /*INTS*/);
   for (int64_t v : values)
      a += num(8, uint64_t(v));
   return bytes(5, a);
}
/// A node's INT attribute.
inline std::string attrInt(const std::string &name, int64_t value)
{
   return bytes(5, bytes(1, name) + num(20, 2 /*INT*/) + num(3, uint64_t(value)));
}

/// A float initializer (field 5 of GraphProto).
inline std::string initializer(const std::string &name, const std::vector<int64_t> &dims,
                               const std::vector<float> &values)
{
   return bytes(5, floatTensor(name, dims, values));
}

} // namespace onnxw

#endif // TPCML_TESTS_CPP_ONNXWRITER_H
