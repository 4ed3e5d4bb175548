// tpcml (private) -- ONNX protobuf reader (see Proto.h). Wire format:
// https://protobuf.dev/programming-guides/encoding/ ; field numbers: onnx/onnx.proto.
#include "onnx/proto/Proto.h"

#include <cstring>
#include <limits>

namespace tpcml::onnx::proto {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

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
   uint32_t fixed32()
   {
      if (m_end - m_p < 4)
         fail("truncated fixed32");
      uint32_t v;
      std::memcpy(&v, m_p, 4);
      m_p += 4;
      return v;
   }
   uint64_t fixed64()
   {
      if (m_end - m_p < 8)
         fail("truncated fixed64");
      uint64_t v;
      std::memcpy(&v, m_p, 8);
      m_p += 8;
      return v;
   }
   float f32()
   {
      const uint32_t bits = fixed32();
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
   }
   double f64()
   {
      const uint64_t bits = fixed64();
      double d;
      std::memcpy(&d, &bits, 8);
      return d;
   }
   void skip(uint32_t wire)
   {
      switch (wire) {
      case kVarint:
         varint();
         break;
      case kFixed64:
         fixed64();
         break;
      case kLengthDelimited:
         sub(m_message);
         break;
      case kFixed32:
         fixed32();
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

int64_t asInt64(uint64_t v)
{
   int64_t s;
   std::memcpy(&s, &v, 8);
   return s;
}
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
         r.expect(w, kLengthDelimited, "TensorProto.name");
         t.name = r.text();
         break;
      case 9:
         r.expect(w, kLengthDelimited, "TensorProto.raw_data");
         t.rawData = r.bytes();
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
      r.expect(w, kLengthDelimited, "TensorShapeProto.dim");
      Reader d = r.sub("TensorShapeProto.Dimension");
      Dim dim;
      uint32_t df, dw;
      while (d.key(df, dw)) {
         if (df == 1) {
            d.expect(dw, kVarint, "Dimension.dim_value");
            dim.hasValue = true;
            dim.value = asInt64(d.varint());
         } else if (df == 2) {
            d.expect(dw, kLengthDelimited, "Dimension.dim_param");
            dim.param = d.text();
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
         r.expect(w, kLengthDelimited, "ValueInfoProto.name");
         vi.name = r.text();
      } else if (f == 2) {
         r.expect(w, kLengthDelimited, "ValueInfoProto.type");
         Reader type = r.sub("TypeProto");
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
                  tensor.expect(xw, kLengthDelimited, "TypeProto.Tensor.shape");
                  parseShape(tensor.sub("TensorShapeProto"), vi);
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
         r.expect(w, kLengthDelimited, "AttributeProto.name");
         a.name = r.text();
         break;
      case 2:
         r.expect(w, kFixed32, "AttributeProto.f");
         a.f = r.f32();
         break;
      case 3:
         r.expect(w, kVarint, "AttributeProto.i");
         a.i = asInt64(r.varint());
         break;
      case 4:
         r.expect(w, kLengthDelimited, "AttributeProto.s");
         a.s = r.bytes();
         break;
      case 5:
         r.expect(w, kLengthDelimited, "AttributeProto.t");
         a.t = parseTensor(r.sub("AttributeProto.t"));
         a.hasTensor = true;
         break;
      case 7:
         r.repeated(w, kFixed32, a.floats, readF32, "AttributeProto.floats");
         break;
      case 8:
         r.repeated(w, kVarint, a.ints, readVarint, "AttributeProto.ints");
         break;
      case 9:
         r.expect(w, kLengthDelimited, "AttributeProto.strings");
         a.strings.push_back(r.bytes());
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
         r.expect(w, kLengthDelimited, "NodeProto.input");
         n.input.push_back(r.text());
         break;
      case 2:
         r.expect(w, kLengthDelimited, "NodeProto.output");
         n.output.push_back(r.text());
         break;
      case 3:
         r.expect(w, kLengthDelimited, "NodeProto.name");
         n.name = r.text();
         break;
      case 4:
         r.expect(w, kLengthDelimited, "NodeProto.op_type");
         n.opType = r.text();
         break;
      case 5:
         r.expect(w, kLengthDelimited, "NodeProto.attribute");
         n.attribute.push_back(parseAttribute(r.sub("AttributeProto")));
         break;
      case 7:
         r.expect(w, kLengthDelimited, "NodeProto.domain");
         n.domain = r.text();
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
         r.expect(w, kLengthDelimited, "GraphProto.node");
         g.node.push_back(parseNode(r.sub("NodeProto")));
         break;
      case 2:
         r.expect(w, kLengthDelimited, "GraphProto.name");
         g.name = r.text();
         break;
      case 5:
         r.expect(w, kLengthDelimited, "GraphProto.initializer");
         g.initializer.push_back(parseTensor(r.sub("TensorProto")));
         break;
      case 11:
         r.expect(w, kLengthDelimited, "GraphProto.input");
         g.input.push_back(parseValueInfo(r.sub("ValueInfoProto")));
         break;
      case 12:
         r.expect(w, kLengthDelimited, "GraphProto.output");
         g.output.push_back(parseValueInfo(r.sub("ValueInfoProto")));
         break;
      case 13:
         r.expect(w, kLengthDelimited, "GraphProto.value_info");
         g.valueInfo.push_back(parseValueInfo(r.sub("ValueInfoProto")));
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
   case kFloat:
      return raw && t.floatData.empty() ? convert<T>(fromRaw<float>(t.rawData, n, "float"), n, t.name, "raw_data")
                                        : convert<T>(t.floatData, n, t.name, "float_data");
   case kDouble:
      return raw && t.doubleData.empty() ? convert<T>(fromRaw<double>(t.rawData, n, "double"), n, t.name, "raw_data")
                                         : convert<T>(t.doubleData, n, t.name, "double_data");
   case kInt64:
      return raw && t.int64Data.empty() ? convert<T>(fromRaw<int64_t>(t.rawData, n, "int64"), n, t.name, "raw_data")
                                        : convert<T>(t.int64Data, n, t.name, "int64_data");
   case kInt32:
      return raw && t.int32Data.empty() ? convert<T>(fromRaw<int32_t>(t.rawData, n, "int32"), n, t.name, "raw_data")
                                        : convert<T>(t.int32Data, n, t.name, "int32_data");
   case kUInt64:
      return raw && t.uint64Data.empty() ? convert<T>(fromRaw<uint64_t>(t.rawData, n, "uint64"), n, t.name, "raw_data")
                                         : convert<T>(t.uint64Data, n, t.name, "uint64_data");
   case kUInt32:
      return raw && t.uint64Data.empty() ? convert<T>(fromRaw<uint32_t>(t.rawData, n, "uint32"), n, t.name, "raw_data")
                                         : convert<T>(t.uint64Data, n, t.name, "uint64_data");
   case kInt8:
      return raw && t.int32Data.empty() ? convert<T>(fromRaw<int8_t>(t.rawData, n, "int8"), n, t.name, "raw_data")
                                        : convert<T>(t.int32Data, n, t.name, "int32_data");
   case kUInt8:
   case kBool:
      return raw && t.int32Data.empty() ? convert<T>(fromRaw<uint8_t>(t.rawData, n, "uint8"), n, t.name, "raw_data")
                                        : convert<T>(t.int32Data, n, t.name, "int32_data");
   case kInt16:
      return raw && t.int32Data.empty() ? convert<T>(fromRaw<int16_t>(t.rawData, n, "int16"), n, t.name, "raw_data")
                                        : convert<T>(t.int32Data, n, t.name, "int32_data");
   case kUInt16:
      return raw && t.int32Data.empty() ? convert<T>(fromRaw<uint16_t>(t.rawData, n, "uint16"), n, t.name, "raw_data")
                                        : convert<T>(t.int32Data, n, t.name, "int32_data");
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
   static const char *names[] = {"undefined", "float",  "uint8",     "int8",       "uint16",  "int16",
                                 "int32",     "int64",  "string",    "bool",       "float16", "double",
                                 "uint32",    "uint64", "complex64", "complex128", "bfloat16"};
   if (type >= 0 && type < int32_t(sizeof(names) / sizeof(names[0])))
      return names[type];
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
   case kFloat:
      field = "float_data";
      bytes = 4;
      break;
   case kDouble:
      field = "double_data";
      bytes = 8;
      break;
   case kInt64:
      field = "int64_data";
      bytes = 8;
      break;
   case kUInt32:
   case kUInt64:
      field = "uint64_data";
      bytes = dataType == kUInt32 ? 4 : 8;
      break;
   case kInt32:
      field = "int32_data";
      bytes = 4;
      break;
   case kInt8:
   case kUInt8:
   case kBool:
      field = "int32_data";
      bytes = 1;
      break;
   case kInt16:
   case kUInt16:
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
         r.expect(w, kVarint, "ModelProto.ir_version");
         m.irVersion = asInt64(r.varint());
         break;
      case 2:
         r.expect(w, kLengthDelimited, "ModelProto.producer_name");
         m.producerName = r.text();
         break;
      case 3:
         r.expect(w, kLengthDelimited, "ModelProto.producer_version");
         m.producerVersion = r.text();
         break;
      case 7:
         r.expect(w, kLengthDelimited, "ModelProto.graph");
         m.graph = parseGraph(r.sub("GraphProto"));
         m.hasGraph = true;
         break;
      case 8: {
         r.expect(w, kLengthDelimited, "ModelProto.opset_import");
         Reader o = r.sub("OperatorSetIdProto");
         OpsetId id;
         uint32_t of, ow;
         while (o.key(of, ow)) {
            if (of == 1) {
               o.expect(ow, kLengthDelimited, "OperatorSetIdProto.domain");
               id.domain = o.text();
            } else if (of == 2) {
               o.expect(ow, kVarint, "OperatorSetIdProto.version");
               id.version = asInt64(o.varint());
            } else {
               o.skip(ow);
            }
         }
         m.opsetImport.push_back(std::move(id));
         break;
      }
      case 14: {
         r.expect(w, kLengthDelimited, "ModelProto.metadata_props");
         Reader e = r.sub("StringStringEntryProto");
         std::pair<std::string, std::string> kv;
         uint32_t ef, ew;
         while (e.key(ef, ew)) {
            if (ef == 1) {
               e.expect(ew, kLengthDelimited, "StringStringEntryProto.key");
               kv.first = e.text();
            } else if (ef == 2) {
               e.expect(ew, kLengthDelimited, "StringStringEntryProto.value");
               kv.second = e.text();
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
