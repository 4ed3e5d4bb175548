#include "register.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace tpcml::bindings {

void registerRootIO(py::module_ &m)
{
   m.def("list_trees", &tpcml::listTrees, py::arg("file"), py::call_guard<ReleaseGil>());
   m.def(
       "describe_tree",
       [](const std::string &file, const std::string &tree) {
          TreeSummary s;
          {
             ReleaseGil release;
             s = describeTree(file, tree);
          }
          py::dict columns;
          for (const auto &c : s.columns)
             columns[py::str(c.name)] = c.type;
          py::dict out;
          out["file"] = s.file;
          out["tree"] = s.tree;
          out["format"] = s.format; // "TTree" or "RNTuple"
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
   // The one "never overwrite an input" rule of every door (tpcml::requireDistinctOutput).
   m.def("require_distinct_output", &tpcml::requireDistinctOutput, py::arg("output"), py::arg("inputs"),
         py::arg("option") = "--output",
         "Raises UsageError when `output` is the same file as one of `inputs` (same path, symbolic or hard link, "
         "another spelling), before any work.");
   m.def("available_memory", &tpcml::availableMemory, "bytes of memory the system can still give (0: unknown)");
   m.def(
       "write_tree_file",
       [](const std::string &path, const py::dict &trees, const py::dict &named, const py::dict &parameters,
          long long autoFlush) {
          TreeFileContents contents;
          contents.autoFlush = autoFlush;
          std::vector<py::array> keep; // contiguous copies stay alive until written
          for (const auto &[tname, tcols] : trees) {
             std::vector<ColumnView> views;
             for (const auto &[cname, cvalue] : tcols.cast<py::dict>()) {
                const std::string name = cname.cast<std::string>();
                auto arr = py::array::ensure(cvalue, py::array::c_style);
                if (!arr || arr.ndim() != 1)
                   throw UsageError("column '" + name + "' of tree '" + tname.cast<std::string>() +
                                    "' must be a one-dimensional numeric array");
                const char kind = arr.dtype().kind();
                const auto size = static_cast<std::size_t>(arr.itemsize());
                char type = 0;
                if (kind == 'f')
                   type = size == 4 ? 'F' : size == 8 ? 'D' : 0;
                else if (kind == 'b')
                   type = 'O';
                else if (kind == 'i')
                   type = size == 1 ? 'B' : size == 2 ? 'S' : size == 4 ? 'I' : 'L';
                else if (kind == 'u')
                   type = size == 1 ? 'b' : size == 2 ? 's' : size == 4 ? 'i' : 'l';
                if (type == 0)
                   throw UsageError("column '" + name + "' of tree '" + tname.cast<std::string>() + "' has dtype " +
                                    py::str(arr.dtype()).cast<std::string>() +
                                    ": expected float32/64, (u)int8-64 or bool");
                views.push_back({name, type, arr.data(), static_cast<std::size_t>(arr.size())});
                keep.push_back(std::move(arr));
             }
             contents.trees.emplace_back(tname.cast<std::string>(), std::move(views));
          }
          for (const auto &[k, v] : named)
             contents.named.emplace_back(k.cast<std::string>(), v.cast<std::string>());
          for (const auto &[k, v] : parameters)
             contents.parameters.emplace_back(k.cast<std::string>(), v.cast<double>());
          ReleaseGil release;
          writeTreeFile(path, contents);
       },
       py::arg("path"), py::arg("trees"), py::arg("named") = py::dict(), py::arg("parameters") = py::dict(),
       py::arg("auto_flush") = 0,
       "Write {tree: {column: 1-d array}} plus TNamed and TParameter<double> objects to a new ROOT file "
       "(compiled writer, no jitting).");
   m.def("read_parameter", &tpcml::readParameter, py::arg("file"), py::arg("key"), py::arg("fallback"),
         "value of the TParameter<double> `key` in `file`, or `fallback` when absent", py::call_guard<ReleaseGil>());
   m.def("require_columns",
         static_cast<void (*)(const std::string &, const std::string &, const std::vector<std::string> &)>(
             &tpcml::requireColumns),
         py::arg("file"), py::arg("tree"), py::arg("columns"), py::call_guard<ReleaseGil>());
}

} // namespace tpcml::bindings
