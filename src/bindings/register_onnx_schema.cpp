// tpcml._core.onnx_schema_table(): the ONNX operator table of the engine's load-time spec check
// (src/onnx/Schema.cxx), for the cross-check against onnx.defs in tests/python/test_onnx_spec.py.
#include "register.h"

#include "../onnx/Schema.h"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace tpcml::bindings {

void registerOnnxSchema(py::module_ &m)
{
   using namespace tpcml::onnx::detail;
   m.def(
       "onnx_schema_table",
       [] {
          py::list out;
          for (const OpSchema &s : schemaTable()) {
             py::list attrs, arity;
             for (const AttrSpec &a : s.attributes)
                attrs.append(py::make_tuple(a.name, attributeTypeName(a.type), a.required, a.from, a.until));
             for (const Arity &a : s.arity)
                arity.append(py::make_tuple(a.from, a.minIn, a.maxIn, a.minOut, a.maxOut));
             py::dict d;
             d["op_type"] = s.opType;
             d["versions"] = s.versions;
             d["first_supported"] = s.firstSupported;
             d["attributes"] = attrs;
             d["inputs"] = s.inputs;
             d["arity"] = arity;
             out.append(d);
          }
          return out;
       },
       "The engine's ONNX operator table: versions, first supported version, attributes "
       "(name, type, required, from, until), input type classes and input/output counts.");
   m.attr("onnx_newest_opset") = kNewestOpset;
   m.attr("onnx_ir_versions") = py::make_tuple(kOldestIrVersion, kNewestIrVersion);
}

} // namespace tpcml::bindings
