#include "register.h"

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
   m.def("require_columns", &tpcml::requireColumns, py::arg("file"), py::arg("tree"), py::arg("columns"),
         py::call_guard<py::gil_scoped_release>());
}

} // namespace tpcml::bindings
