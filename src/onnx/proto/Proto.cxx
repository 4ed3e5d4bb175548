// tpcml (private) -- ONNX protobuf reader (see Proto.h). Wire format:
// https://protobuf.dev/programming-guides/encoding/ ; field numbers: onnx/onnx.proto.
#include "onnx/proto/Proto.h"

#include <cstring>
#include <limits>

namespace tpcml::onnx::proto {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

int64_t asInt64(uint64_t v)
{
   int64_t s;
   std::memcpy(&s, &v, 8);
   return s;
}

/// A bounded view of protobuf bytes. Every read checks the bytes left.
class Reader {
public:
   Reader(const uint8_t *begin, const uint8_t *end, const char *message, const uint8_t *origin)
       : m_p(begin), m_end(end), m_message(message), m_origin(origin)
   {
   }
   bool done() const { return m_p >= m_end; }

   [[noreturn]] void fail(const std::string &what) const
   {
      throw ParseError("malformed ONNX protobuf in " + std::string(m_message) + " at byte " +
                       std::to_string(m_p - m_origin) + ": " + what);
   }

   uint64_t varint()
   {
      uint64_t value = 0;
      for (int shift = 0; shift < 64; shift += 7) {
         if (m_p >= m_end)
            fail("truncated varint");
         const uint8_t byte = *m_p++;
         value |= uint64_t(byte & 0x7f) << shift;
         if (!(byte & 0x80))
            return value;
      }
      fail("varint longer than 10 bytes");
   }
   /// Reads a field key; returns false at the end of the message.
   bool key(uint32_t &field, uint32_t &wire)
   {
      if (done())
         return false;
      const uint64_t k = varint();
      field = uint32_t(k >> 3);
      wire = uint32_t(k & 7);
      if (field == 0)
         fail("field number 0");
      return true;
   }
   Reader sub(const char *message)
   {
      const uint64_t n = varint();
      if (n > uint64_t(m_end - m_p))
         fail("length " + std::to_string(n) + " exceeds the " + std::to_string(m_end - m_p) + " bytes left");
      Reader r(m_p, m_p + n, message, m_origin);
      m_p += n;
      return r;
   }
   std::string bytes()
   {
      Reader r = sub(m_message);
      return std::string(reinterpret_cast<const char *>(r.m_p), std::size_t(r.m_end - r.m_p));
   }
   /// A protobuf `string` field: must be valid UTF-8 (protobuf language guide).
   std::string text()
   {
      std::string s = bytes();
      std::size_t k = 0;
      while (k < s.size()) {
         const auto c = static_cast<unsigned char>(s[k]);
         const int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : -1;
         if (extra < 0 || k + std::size_t(extra) >= s.size() + (extra == 0 ? 1 : 0))
            fail("string field is not valid UTF-8 (unsupported: tpcml reads names as UTF-8)");
         for (int e = 1; e <= extra; ++e)
            if ((static_cast<unsigned char>(s[k + std::size_t(e)]) >> 6) != 0x2)
               fail("string field is not valid UTF-8 (unsupported: tpcml reads names as UTF-8)");
         k += std::size_t(extra) + 1;
      }
      return s;
   }
   /// A little-endian fixed-width value (fixed32, fixed64, float, double): its bytes as they are.
   template <typename U> U fixed()
   {
      if (m_end - m_p < std::ptrdiff_t(sizeof(U)))
         fail(sizeof(U) == 4 ? "truncated fixed32" : "truncated fixed64");
      U v;
      std::memcpy(&v, m_p, sizeof(U));
      m_p += sizeof(U);
      return v;
   }
   float f32() { return fixed<float>(); }
   double f64() { return fixed<double>(); }
   void skip(uint32_t wire)
   {
      switch (wire) {
      case kVarint:
         varint();
         break;
      case kFixed64:
         fixed<uint64_t>();
         break;
      case kLengthDelimited:
         sub(m_message);
         break;
      case kFixed32:
         fixed<uint32_t>();
         break;
      default:
         fail("unsupported wire type " + std::to_string(wire));
      }
   }
   void expect(uint32_t wire, uint32_t want, const char *field) const
   {
      if (wire != want)
         fail(std::string("field '") + field + "' has wire type " + std::to_string(wire) + ", expected " +
              std::to_string(want));
   }
   /// The string / bytes / embedded message / int64 of the field `field` (checked wire type).
   std::string text(uint32_t wire, const char *field)
   {
      expect(wire, kLengthDelimited, field);
      return text();
   }
   std::string bytes(uint32_t wire, const char *field)
   {
      expect(wire, kLengthDelimited, field);
      return bytes();
   }
   Reader sub(uint32_t wire, const char *field, const char *message)
   {
      expect(wire, kLengthDelimited, field);
      return sub(message);
   }
   int64_t int64(uint32_t wire, const char *field)
   {
      expect(wire, kVarint, field);
      return asInt64(varint());
   }

   /// Repeated scalar field, packed (wire type 2) or not.
   template <typename T, typename Read>
   void repeated(uint32_t wire, uint32_t scalarWire, std::vector<T> &out, Read read, const char *field)
   {
      if (wire == kLengthDelimited) {
         Reader r = sub(m_message);
         while (!r.done())
            out.push_back(T(read(r)));
      } else {
         expect(wire, scalarWire, field);
         out.push_back(T(read(*this)));
      }
   }

   const uint8_t *m_p, *m_end;
   const char *m_message;
   const uint8_t *m_origin;
};

auto readVarint = [](Reader &r) { return asInt64(r.varint()); };
auto readF32 = [](Reader &r) { return r.f32(); };
auto readF64 = [](Reader &r) { return r.f64(); };
auto readU64 = [](Reader &r) { return r.varint(); };

Tensor parseTensor(Reader r)
{
   Tensor t;
   uint32_t f, w;
   while (r.key(f, w)) {
      switch (f) {
      case 1:
         r.repeated(w, kVarint, t.dims, readVarint, "TensorProto.dims");
         break;
      case 2:
         r.expect(w, kVarint, "TensorProto.data_type");
         t.dataType = int32_t(r.varint());
         t.hasDataType = true;
         break;
      case 4:
         r.repeated(w, kFixed32, t.floatData, readF32, "TensorProto.float_data");
         break;
      case 5:
         r.repeated(w, kVarint, t.int32Data, readVarint, "TensorProto.int32_data");
         break;
      case 7:
         r.repeated(w, kVarint, t.int64Data, readVarint, "TensorProto.int64_data");
         break;
      case 8:
         t.name = r.text(w, "TensorProto.name");
         break;
      case 9:
         t.rawData = r.bytes(w, "TensorProto.raw_data");
         break;
      case 10:
         r.repeated(w, kFixed64, t.doubleData, readF64, "TensorProto.double_data");
         break;
      case 11:
         r.repeated(w, kVarint, t.uint64Data, readU64, "TensorProto.uint64_data");
         break;
      case 13: // external_data
         t.external = true;
         r.skip(w);
         break;
      case 14: // data_location: 1 = EXTERNAL
         r.expect(w, kVarint, "TensorProto.data_location");
         if (r.varint() == 1)
            t.external = true;
         break;
      default:
         r.skip(w);
      }
   }
   return t;
}

void parseShape(Reader r, ValueInfo &vi)
{
   vi.hasShape = true;
   uint32_t f, w;
   while (r.key(f, w)) {
      if (f != 1) {
         r.skip(w);
         continue;
      }
      Reader d = r.sub(w, "TensorShapeProto.dim", "TensorShapeProto.Dimension");
      Dim dim;
      uint32_t df, dw;
      while (d.key(df, dw)) {
         if (df == 1) {
            dim.value = d.int64(dw, "Dimension.dim_value");
            dim.hasValue = true;
         } else if (df == 2) {
            dim.param = d.text(dw, "Dimension.dim_param");
         } else {
            d.skip(dw);
         }
      }
      vi.shape.push_back(std::move(dim));
   }
}

ValueInfo parseValueInfo(Reader r)
{
   ValueInfo vi;
   uint32_t f, w;
   while (r.key(f, w)) {
      if (f == 1) {
         vi.name = r.text(w, "ValueInfoProto.name");
      } else if (f == 2) {
         Reader type = r.sub(w, "ValueInfoProto.type", "TypeProto");
         uint32_t tf, tw;
         while (type.key(tf, tw)) {
            if (tf != 1) { // only tensor_type; sequence/map/optional stay !isTensor
               type.skip(tw);
               continue;
            }
            type.expect(tw, kLengthDelimited, "TypeProto.tensor_type");
            vi.isTensor = true;
            Reader tensor = type.sub("TypeProto.Tensor");
            uint32_t xf, xw;
            while (tensor.key(xf, xw)) {
               if (xf == 1) {
                  tensor.expect(xw, kVarint, "TypeProto.Tensor.elem_type");
                  vi.elemType = int32_t(tensor.varint());
               } else if (xf == 2) {
                  parseShape(tensor.sub(xw, "TypeProto.Tensor.shape", "TensorShapeProto"), vi);
               } else {
                  tensor.skip(xw);
               }
            }
         }
      } else {
         r.skip(w);
      }
   }
   return vi;
}

Attribute parseAttribute(Reader r)
{
   Attribute a;
   uint32_t f, w;
   while (r.key(f, w)) {
      if (f < 32)
         a.present |= 1u << f;
      switch (f) {
      case 1:
         a.name = r.text(w, "AttributeProto.name");
         break;
      case 2:
         r.expect(w, kFixed32, "AttributeProto.f");
         a.f = r.f32();
         break;
      case 3:
         a.i = r.int64(w, "AttributeProto.i");
         break;
      case 4:
         a.s = r.bytes(w, "AttributeProto.s");
         break;
      case 5:
         a.t = parseTensor(r.sub(w, "AttributeProto.t", "AttributeProto.t"));
         a.hasTensor = true;
         break;
      case 7:
         r.repeated(w, kFixed32, a.floats, readF32, "AttributeProto.floats");
         break;
      case 8:
         r.repeated(w, kVarint, a.ints, readVarint, "AttributeProto.ints");
         break;
      case 9:
         a.strings.push_back(r.bytes(w, "AttributeProto.strings"));
         break;
      case 20:
         r.expect(w, kVarint, "AttributeProto.type");
         a.type = int32_t(r.varint());
         break;
      default:
         r.skip(w); // graphs, sparse tensors, type protos, doc strings
      }
   }
   return a;
}

Node parseNode(Reader r)
{
   Node n;
   uint32_t f, w;
   while (r.key(f, w)) {
      switch (f) {
      case 1:
         n.input.push_back(r.text(w, "NodeProto.input"));
         break;
      case 2:
         n.output.push_back(r.text(w, "NodeProto.output"));
         break;
      case 3:
         n.name = r.text(w, "NodeProto.name");
         break;
      case 4:
         n.opType = r.text(w, "NodeProto.op_type");
         break;
      case 5:
         n.attribute.push_back(parseAttribute(r.sub(w, "NodeProto.attribute", "AttributeProto")));
         break;
      case 7:
         n.domain = r.text(w, "NodeProto.domain");
         break;
      default:
         r.skip(w);
      }
   }
   return n;
}

Graph parseGraph(Reader r)
{
   Graph g;
   uint32_t f, w;
   while (r.key(f, w)) {
      switch (f) {
      case 1:
         g.node.push_back(parseNode(r.sub(w, "GraphProto.node", "NodeProto")));
         break;
      case 2:
         g.name = r.text(w, "GraphProto.name");
         break;
      case 5:
         g.initializer.push_back(parseTensor(r.sub(w, "GraphProto.initializer", "TensorProto")));
         break;
      case 11:
         g.input.push_back(parseValueInfo(r.sub(w, "GraphProto.input", "ValueInfoProto")));
         break;
      case 12:
         g.output.push_back(parseValueInfo(r.sub(w, "GraphProto.output", "ValueInfoProto")));
         break;
      case 13:
         g.valueInfo.push_back(parseValueInfo(r.sub(w, "GraphProto.value_info", "ValueInfoProto")));
         break;
      case 15:
         g.hasSparseInitializer = true;
         r.skip(w);
         break;
      default:
         r.skip(w);
      }
   }
   return g;
}

/// The TensorProto data types whose values convert directly: the type, the C++ type of a value in
/// raw_data and its name in messages, the Tensor member and onnx.proto field of the typed values.
/// (float16 keeps its bits in int32_data or 2-byte raw_data and converts through halfToFloat.)
#define TPCML_ONNX_INTEGER_AND_FLOAT_TYPES(X)                                                                          \
   X(kFloat, float, "float", floatData, "float_data")                                                                  \
   X(kDouble, double, "double", doubleData, "double_data")                                                             \
   X(kInt64, int64_t, "int64", int64Data, "int64_data")                                                                \
   X(kInt32, int32_t, "int32", int32Data, "int32_data")                                                                \
   X(kUInt64, uint64_t, "uint64", uint64Data, "uint64_data")                                                           \
   X(kUInt32, uint32_t, "uint32", uint64Data, "uint64_data")                                                           \
   X(kInt8, int8_t, "int8", int32Data, "int32_data")                                                                   \
   X(kUInt8, uint8_t, "uint8", int32Data, "int32_data")                                                                \
   X(kBool, uint8_t, "uint8", int32Data, "int32_data")                                                                 \
   X(kInt16, int16_t, "int16", int32Data, "int32_data")                                                                \
   X(kUInt16, uint16_t, "uint16", int32Data, "int32_data")

template <typename T> std::vector<T> fromRaw(const std::string &raw, int64_t n, const char *type)
{
   if (raw.size() != std::size_t(n) * sizeof(T))
      throw ParseError("tensor raw_data holds " + std::to_string(raw.size()) + " bytes, expected " + std::to_string(n) +
                       " " + type + " values (" + std::to_string(std::size_t(n) * sizeof(T)) + " bytes)");
   std::vector<T> v(static_cast<std::size_t>(n));
   if (n)
      std::memcpy(v.data(), raw.data(), raw.size());
   return v;
}

template <typename Out, typename In>
std::vector<Out> convert(const std::vector<In> &in, int64_t n, const std::string &name, const char *field)
{
   if (in.size() != std::size_t(n))
      throw ParseError("tensor '" + name + "' has " + std::to_string(in.size()) + " values in " + field +
                       ", its dims say " + std::to_string(n));
   return std::vector<Out>(in.begin(), in.end());
}

float halfToFloat(uint16_t h)
{
   const uint32_t sign = uint32_t(h & 0x8000) << 16;
   uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
   if (exp == 0) {
      if (mant == 0) {
         bits = sign;
      } else { // subnormal half -> normal float
         exp = 127 - 15 + 1;
         while (!(mant & 0x400)) {
            mant <<= 1;
            --exp;
         }
         bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
      }
   } else if (exp == 31) {
      bits = sign | 0x7f800000u | (mant << 13);
   } else {
      bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
   }
   float f;
   std::memcpy(&f, &bits, 4);
   return f;
}

/// Converts any numeric tensor to T (float or int64).
template <typename T> std::vector<T> numericValues(const Tensor &t)
{
   t.check();
   const int64_t n = t.numel();
   const bool raw = !t.rawData.empty() || n == 0;
   switch (t.dataType) {
#define TPCML_ONNX_VALUES(type, Raw, rawName, member, field)                                                           \
   case type:                                                                                                          \
      return raw && t.member.empty() ? convert<T>(fromRaw<Raw>(t.rawData, n, rawName), n, t.name, "raw_data")          \
                                     : convert<T>(t.member, n, t.name, field);
      TPCML_ONNX_INTEGER_AND_FLOAT_TYPES(TPCML_ONNX_VALUES)
#undef TPCML_ONNX_VALUES
   case kFloat16: {
      std::vector<uint16_t> bits = raw && t.int32Data.empty() ? fromRaw<uint16_t>(t.rawData, n, "float16")
                                                              : convert<uint16_t>(t.int32Data, n, t.name, "int32_data");
      std::vector<T> out(bits.size());
      for (std::size_t k = 0; k < bits.size(); ++k)
         out[k] = T(halfToFloat(bits[k]));
      return out;
   }
   default:
      throw ParseError("tensor '" + t.name + "' has data type " + dataTypeName(t.dataType) +
                       ", which tpcml cannot convert to numbers");
   }
}

} // namespace

std::string dataTypeName(int32_t type)
{
   switch (type) {
#define TPCML_ONNX_NAME(enumerator, value, name)                                                                       \
   case enumerator:                                                                                                    \
      return name;
      TPCML_ONNX_DATA_TYPES(TPCML_ONNX_NAME)
#undef TPCML_ONNX_NAME
   }
   return "type#" + std::to_string(type);
}

void Tensor::check() const
{
   if (external)
      throw ParseError("tensor '" + name + "' keeps its data in an external file, which tpcml does not read");
   // onnx.proto, TensorProto: each data type keeps its values in one typed field, or in raw_data
   const char *field = nullptr;
   std::size_t bytes = 0; // per value in raw_data
   switch (dataType) {
#define TPCML_ONNX_FIELD(type, Raw, rawName, member, typedField)                                                       \
   case type:                                                                                                          \
      field = typedField;                                                                                              \
      bytes = sizeof(Raw);                                                                                             \
      break;
      TPCML_ONNX_INTEGER_AND_FLOAT_TYPES(TPCML_ONNX_FIELD)
#undef TPCML_ONNX_FIELD
   case kFloat16:
      field = "int32_data";
      bytes = 2;
      break;
   default:
      throw ParseError("tensor '" + name + "' has data type " + dataTypeName(dataType) +
                       (hasDataType ? "" : " (no data_type field)") + ", which tpcml cannot convert to numbers");
   }
   const std::pair<const char *, std::size_t> typed[] = {{"float_data", floatData.size()},
                                                         {"int32_data", int32Data.size()},
                                                         {"int64_data", int64Data.size()},
                                                         {"double_data", doubleData.size()},
                                                         {"uint64_data", uint64Data.size()}};
   for (const auto &[other, count] : typed) {
      if (!count)
         continue;
      if (std::strcmp(other, field) != 0)
         throw ParseError("tensor '" + name + "' of data type " + dataTypeName(dataType) + " holds values in " + other +
                          "; the ONNX spec keeps them in " + field + " or raw_data");
      if (!rawData.empty())
         throw ParseError("tensor '" + name + "' holds values in both raw_data and " + other +
                          " (the ONNX spec allows one of them)");
   }
   const int64_t n = numel();
   std::size_t count = 0;
   for (const auto &entry : typed)
      count += entry.second;
   if (!rawData.empty() || (count == 0 && n > 0)) {
      if (rawData.size() != std::size_t(n) * bytes)
         throw ParseError("tensor '" + name + "' has " + std::to_string(rawData.size()) +
                          " bytes of raw_data, expected " + std::to_string(n) + " " + dataTypeName(dataType) +
                          " values (" + std::to_string(std::size_t(n) * bytes) + " bytes) for its dims");
   } else if (count != std::size_t(n)) {
      throw ParseError("tensor '" + name + "' has " + std::to_string(count) + " values in " + field + ", expected " +
                       std::to_string(n) + " for its dims");
   }
}

int64_t Tensor::numel() const
{
   int64_t n = 1;
   for (int64_t d : dims) {
      if (d < 0)
         throw ParseError("tensor '" + name + "' has a negative dimension " + std::to_string(d));
      if (d != 0 && n > std::numeric_limits<int64_t>::max() / 4 / d)
         throw ParseError("tensor '" + name + "' is too large");
      n *= d;
   }
   return n;
}

std::vector<float> Tensor::toFloat() const
{
   return numericValues<float>(*this);
}

std::vector<int64_t> Tensor::toInt64() const
{
   if (dataType == kFloat || dataType == kDouble || dataType == kFloat16)
      throw ParseError("tensor '" + name + "' holds " + dataTypeName(dataType) + " values where integers are expected");
   return numericValues<int64_t>(*this);
}

const Attribute *Node::findAttribute(const std::string &attrName) const
{
   for (const Attribute &a : attribute)
      if (a.name == attrName)
         return &a;
   return nullptr;
}

Model parseModel(const void *data, std::size_t size)
{
   const auto *begin = static_cast<const uint8_t *>(data);
   Reader r(begin, begin + size, "ModelProto", begin);
   Model m;
   uint32_t f, w;
   while (r.key(f, w)) {
      switch (f) {
      case 1:
         m.irVersion = r.int64(w, "ModelProto.ir_version");
         break;
      case 2:
         m.producerName = r.text(w, "ModelProto.producer_name");
         break;
      case 3:
         m.producerVersion = r.text(w, "ModelProto.producer_version");
         break;
      case 7:
         m.graph = parseGraph(r.sub(w, "ModelProto.graph", "GraphProto"));
         m.hasGraph = true;
         break;
      case 8: {
         Reader o = r.sub(w, "ModelProto.opset_import", "OperatorSetIdProto");
         OpsetId id;
         uint32_t of, ow;
         while (o.key(of, ow)) {
            if (of == 1) {
               id.domain = o.text(ow, "OperatorSetIdProto.domain");
            } else if (of == 2) {
               id.version = o.int64(ow, "OperatorSetIdProto.version");
            } else {
               o.skip(ow);
            }
         }
         m.opsetImport.push_back(std::move(id));
         break;
      }
      case 14: {
         Reader e = r.sub(w, "ModelProto.metadata_props", "StringStringEntryProto");
         std::pair<std::string, std::string> kv;
         uint32_t ef, ew;
         while (e.key(ef, ew)) {
            if (ef == 1) {
               kv.first = e.text(ew, "StringStringEntryProto.key");
            } else if (ef == 2) {
               kv.second = e.text(ew, "StringStringEntryProto.value");
            } else {
               e.skip(ew);
            }
         }
         m.metadata.push_back(std::move(kv));
         break;
      }
      default:
         r.skip(w);
      }
   }
   return m;
}

} // namespace tpcml::onnx::proto
