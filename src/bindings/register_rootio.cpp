#include "register.h"

#include "tpcml/AtomicFile.h"
#include "tpcml/RootIO.h"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace tpcml::bindings {

void registerRootIO(py::module_ &m)
{
   m.def("list_trees", &tpcml::listTrees, py::arg("file"), py::call_guard<py::gil_scoped_release>());
   m.def(
       "describe_tree",
       [](const std::string &file, const std::string &tree) {
          TreeSummary s;
          {
             py::gil_scoped_release release;
             s = describeTree(file, tree);
          }
          py::dict columns;
          for (const auto &c : s.columns)
             columns[py::str(c.name)] = c.type;
          py::dict out;
          out["file"] = s.file;
          out["tree"] = s.tree;
          out["entries"] = s.entries;
          out["columns"] = columns;
          return out;
       },
       py::arg("file"), py::arg("tree"));
   // The one "write to a temporary, rename when complete" mechanism, also used by Python.
   py::class_<AtomicOutput>(m, "AtomicOutput")
       .def(py::init<const std::string &>(), py::arg("final_path"))
       .def_property_readonly("final_path", &AtomicOutput::finalPath)
       .def_property_readonly("temp_path", &AtomicOutput::tempPath)
       .def_property_readonly("committed", &AtomicOutput::committed)
       .def("commit", &AtomicOutput::commit)
       .def("discard", &AtomicOutput::discard);
   m.def("require_columns", &tpcml::requireColumns, py::arg("file"), py::arg("tree"), py::arg("columns"),
         py::call_guard<py::gil_scoped_release>());
}

} // namespace tpcml::bindings
