// A minimal ONNX protobuf writer for the C++ tests: models assembled byte by byte (wire format;
// field numbers from onnx/onnx.proto), so that the tests need no onnx package.
#ifndef TPCML_TESTS_CPP_ONNXWRITER_H
#define TPCML_TESTS_CPP_ONNXWRITER_H

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace onnxw {

inline std::string varint(uint64_t v)
{
   std::string out;
   while (v >= 0x80) {
      out += char((v & 0x7f) | 0x80);
      v >>= 7;
   }
   out += char(v);
   return out;
}
inline std::string key(int field, int wire)
{
   return varint(uint64_t(field) << 3 | uint64_t(wire));
}
inline std::string num(int field, uint64_t v)
{
   return key(field, 0) + varint(v);
}
inline std::string bytes(int field, const std::string &payload)
{
   return key(field, 2) + varint(payload.size()) + payload;
}

/// ValueInfoProto of a float tensor [batchParam, width].
inline std::string valueInfo(const std::string &name, const std::string &batchParam, int64_t width)
{
   const std::string shape = bytes(1, bytes(2, batchParam)) + bytes(1, num(1, uint64_t(width)));
   const std::string tensorType = num(1, 1 /*float*/) + bytes(2, shape);
   return bytes(1, name) + bytes(2, bytes(1, tensorType));
}

/// ValueInfoProto of a float tensor [batchParam, dims...].
inline std::string valueInfo(const std::string &name, const std::string &batchParam, const std::vector<int64_t> &dims)
{
   std::string shape = bytes(1, bytes(2, batchParam));
   for (int64_t d : dims)
      shape += bytes(1, num(1, uint64_t(d)));
   const std::string tensorType = num(1, 1 /*float*/) + bytes(2, shape);
   return bytes(1, name) + bytes(2, bytes(1, tensorType));
}

/// NodeProto with one input and one output (attributes: append attrInts(...) to the result).
inline std::string node(const std::string &op, const std::string &in, const std::string &out, const std::string &name)
{
   return bytes(1, in) + bytes(2, out) + bytes(3, name) + bytes(4, op);
}

/// NodeProto with several inputs and one output, and its attributes (already encoded).
inline std::string node(const std::string &op, const std::vector<std::string> &in, const std::string &out,
                        const std::string &name, const std::string &attributes)
{
   std::string n;
   for (const std::string &i : in)
      n += bytes(1, i);
   return n + bytes(2, out) + bytes(3, name) + bytes(4, op) + attributes;
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

/// A float initializer (TensorProto with raw_data), as field 5 of GraphProto.
inline std::string initializer(const std::string &name, const std::vector<int64_t> &dims,
                               const std::vector<float> &values)
{
   std::string t;
   for (int64_t d : dims)
      t += num(1, uint64_t(d));
   std::string raw(values.size() * sizeof(float), '\0');
   std::memcpy(raw.data(), values.data(), raw.size());
   t += num(2, 1 /*FLOAT*/) + bytes(8, name) + bytes(9, raw);
   return bytes(5, t);
}

/// A ModelProto (IR 8, default opset `opset`) around the graph's fields.
inline std::string modelBytes(const std::string &graphFields, int opset = 17)
{
   return num(1, 8) + bytes(8, bytes(1, "") + num(2, uint64_t(opset))) + bytes(7, graphFields);
}

} // namespace onnxw

#endif // TPCML_TESTS_CPP_ONNXWRITER_H
