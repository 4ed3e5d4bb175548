// Test helper: ONNX models assembled byte by byte (protobuf wire format; field numbers from onnx/onnx.proto), so
// that the C++ tests need no Python or model files.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace tpcml::test::onnxbytes {

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

/// NodeProto with one input and one output.
inline std::string node(const std::string &op, const std::string &in, const std::string &out, const std::string &name)
{
   return bytes(1, in) + bytes(2, out) + bytes(3, name) + bytes(4, op);
}

/// NodeProto with any number of inputs and outputs.
inline std::string nodeN(const std::string &op, const std::vector<std::string> &in, const std::vector<std::string> &out,
                         const std::string &name)
{
   std::string n;
   for (const auto &i : in)
      n += bytes(1, i);
   for (const auto &o : out)
      n += bytes(2, o);
   return n + bytes(3, name) + bytes(4, op);
}

/// TensorProto of floats (an initializer), little-endian raw_data.
inline std::string floatTensor(const std::string &name, const std::vector<int64_t> &dims,
                               const std::vector<float> &values)
{
   std::string t;
   for (int64_t d : dims)
      t += num(1, uint64_t(d));
   t += num(2, 1 /*float*/) + bytes(8, name);
   std::string raw(values.size() * sizeof(float), '\0');
   std::memcpy(raw.data(), values.data(), raw.size());
   return t + bytes(9, raw);
}

/// ModelProto (ir_version 8, opset 17) of a graph's fields, with metadata_props.
inline std::string model(const std::string &graphFields, const std::map<std::string, std::string> &metadata = {})
{
   std::string m = num(1, 8) + bytes(8, bytes(1, "") + num(2, 17)) + bytes(7, graphFields + bytes(2, "g"));
   for (const auto &[k, v] : metadata)
      m += bytes(14, bytes(1, k) + bytes(2, v));
   return m;
}

} // namespace tpcml::test::onnxbytes
