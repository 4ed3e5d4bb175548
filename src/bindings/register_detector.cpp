#include "register.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Units.h"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace tpcml::bindings {

void registerDetector(py::module_ &m)
{
   m.def("dimension_names", &tpcml::dimensionNames);
   m.def(
       "accepted_units", [](const std::string &dim) { return acceptedUnits(dimensionFromName(dim)); },
       py::arg("dimension"));
   m.def(
       "unit_factor",
       [](const std::string &unit, const std::string &dim) { return unitFactor(unit, dimensionFromName(dim)); },
       py::arg("unit"), py::arg("dimension"));

   py::class_<DetectorParameter>(m, "DetectorParameter")
       .def_readonly("key", &DetectorParameter::key)
       .def_property_readonly("dimension", [](const DetectorParameter &p) { return dimensionName(p.dimension); })
       .def_property_readonly("canonical_unit", [](const DetectorParameter &p) { return canonicalUnit(p.dimension); })
       .def_readonly("unit", &DetectorParameter::unit)
       .def_readonly("source", &DetectorParameter::source)
       .def_readonly("is_array", &DetectorParameter::isArray)
       .def_property_readonly("value", [](const DetectorParameter &p) -> py::object {
          switch (p.dimension) {
          case Dimension::kString:
             return py::str(p.text);
          case Dimension::kBoolean:
             return py::bool_(p.value != 0.);
          case Dimension::kCount:
             return py::int_(static_cast<long long>(p.value));
          default:
             return p.isArray ? py::cast(p.array) : py::cast(p.value);
          }
       });

   py::class_<DetectorConfig>(m, "DetectorConfig")
       .def_static("load", &DetectorConfig::load, py::arg("name_or_path"))
       .def_static("from_file", &DetectorConfig::fromFile, py::arg("path"), py::arg("schema") = "")
       .def_static("available", &DetectorConfig::available)
       .def_static("registry_directory", &DetectorConfig::registryDirectory)
       .def_property_readonly("name", &DetectorConfig::name)
       .def_property_readonly("title", &DetectorConfig::title)
       .def_property_readonly("kind", &DetectorConfig::kind)
       .def_property_readonly("file", &DetectorConfig::file)
       .def_property_readonly("references", &DetectorConfig::references)
       .def("has", &DetectorConfig::has, py::arg("key"))
       .def("get", py::overload_cast<const std::string &>(&DetectorConfig::get, py::const_), py::arg("key"))
       .def("get", py::overload_cast<const std::string &, const std::string &>(&DetectorConfig::get, py::const_),
            py::arg("key"), py::arg("unit"))
       .def("get_string", &DetectorConfig::getString, py::arg("key"))
       .def("get_int", &DetectorConfig::getInt, py::arg("key"))
       .def("get_bool", &DetectorConfig::getBool, py::arg("key"))
       .def("get_array", &DetectorConfig::getArray, py::arg("key"))
       .def("parameter", &DetectorConfig::parameter, py::arg("key"), py::return_value_policy::copy)
       .def("keys", &DetectorConfig::keys);
}

} // namespace tpcml::bindings
