// Bindings of src/core: version, units, the detector registry, ROOT I/O and atomic output.
#include "register.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/Provenance.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Units.h"
#include "tpcml/core/Version.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace tpcml::bindings {

namespace {

void bindVersion(py::module_ &m)
{
   m.def("version", &tpcml::version, "tpcml C++ library version");
   m.def("root_version", &tpcml::rootVersion, "ROOT version the library runs against");
   m.def("compiler_version", &tpcml::compilerVersion, "compiler the library was built with");
   m.def("library_directory", &tpcml::libraryDirectory, "directory holding libtpcml");
}

void bindUnits(py::module_ &m)
{
   m.def("dimension_names", &tpcml::dimensionNames);
   m.def(
       "accepted_units", [](const std::string &dim) { return acceptedUnits(dimensionFromName(dim)); },
       py::arg("dimension"));
   m.def(
       "unit_factor",
       [](const std::string &unit, const std::string &dim) { return unitFactor(unit, dimensionFromName(dim)); },
       py::arg("unit"), py::arg("dimension"));
}

void bindDetector(py::module_ &m)
{
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
       .def_static("from_file", &DetectorConfig::fromFile, py::arg("path"), py::arg("schema") = "", py::arg("run") = "")
       .def_static("available", &DetectorConfig::available)
       .def_static("registry_directory", &DetectorConfig::registryDirectory)
       .def_property_readonly("name", &DetectorConfig::name)
       .def_property_readonly("title", &DetectorConfig::title)
       .def_property_readonly("kind", &DetectorConfig::kind)
       .def_property_readonly("file", &DetectorConfig::file)
       .def_property_readonly("references", &DetectorConfig::references)
       .def_property_readonly("run", &DetectorConfig::run)
       .def_property_readonly("runs", &DetectorConfig::runs)
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

/// write_tree_file: {tree: {column: 1-d array, or 2-d (entries, k) for a fixed-length array of k per entry}} plus
/// TNamed and TParameter<double> objects, written by the compiled writer (tpcml::writeTreeFile).
void writeTreeFileFromDicts(const std::string &path, const py::dict &trees, const py::dict &named,
                            const py::dict &parameters, long long autoFlush, const std::string &format)
{
   TreeFileContents contents;
   contents.autoFlush = autoFlush;
   contents.format = format;
   std::vector<py::array> keep; // contiguous copies stay alive until written
   for (const auto &[tname, tcols] : trees) {
      std::vector<ColumnView> views;
      for (const auto &[cname, cvalue] : tcols.cast<py::dict>()) {
         const std::string name = cname.cast<std::string>();
         auto arr = py::array::ensure(cvalue, py::array::c_style);
         const std::string where = "column '" + name + "' of tree '" + tname.cast<std::string>() + "'";
         if (!arr)
            throw UsageError(where + " must be a numeric array");
         if (arr.ndim() != 1 && arr.ndim() != 2) {
            std::string shape;
            for (py::ssize_t d = 0; d < arr.ndim(); ++d)
               shape += (d ? ", " : "") + std::to_string(arr.shape(d));
            throw UsageError(where + " has shape (" + shape +
                             "): expected one value per entry (1-d) or a fixed-length array per entry (2-d: entries "
                             "x values)");
         }
         if (arr.ndim() == 2 && arr.shape(1) == 0)
            throw UsageError(where + " has shape (" + std::to_string(arr.shape(0)) +
                             ", 0): a fixed-length array column needs at least one value per entry");
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
                             py::str(arr.dtype()).cast<std::string>() + ": expected float32/64, (u)int8-64 or bool");
         const auto entries = static_cast<std::size_t>(arr.shape(0));
         const auto width = arr.ndim() == 2 ? static_cast<std::size_t>(arr.shape(1)) : 0;
         views.push_back({name, type, arr.data(), entries, width});
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
}

void bindRootIO(py::module_ &m)
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
          py::dict columns, lengths;
          for (const auto &c : s.columns) {
             columns[py::str(c.name)] = c.type;
             if (c.length > 0)
                lengths[py::str(c.name)] = c.length;
          }
          py::dict out;
          out["file"] = s.file;
          out["tree"] = s.tree;
          out["format"] = s.format; // "TTree" or "RNTuple"
          out["entries"] = s.entries;
          out["columns"] = columns;
          out["lengths"] = lengths; // values per entry of the fixed-length array columns
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
   m.def("write_tree_file", &writeTreeFileFromDicts, py::arg("path"), py::arg("trees"), py::arg("named") = py::dict(),
         py::arg("parameters") = py::dict(), py::arg("auto_flush") = 0, py::arg("format") = "ttree",
         "Write {tree: {column: 1-d array or 2-d (entries, k) fixed-length arrays}} plus TNamed and TParameter<double> "
         "objects to a new ROOT file "
         "(compiled writer, no jitting).");
   // The file contract (tpcml/core/Provenance.h): one provenance schema and one metadata writer for C++ and Python.
   m.def("provenance_keys", &tpcml::provenanceKeys, "the keys every tpcml_provenance object has");
   m.def("provenance_json", &tpcml::provenanceJson, py::arg("command_line"), py::arg("inputs"),
         py::arg("extra") = std::vector<std::pair<std::string, std::string>>{},
         "the tpcml_provenance JSON object (tpcml::provenanceJson); `extra`: (key, JSON value) pairs");
   m.def("sha256_file", &tpcml::sha256File, py::arg("path"), py::call_guard<ReleaseGil>());
   m.def("model_json", &tpcml::modelJson, py::arg("path"), py::arg("metadata") = std::map<std::string, std::string>{},
         py::arg("sha256") = "", "the tpcml_model JSON object: path, sha256, metadata", py::call_guard<ReleaseGil>());
   m.def("read_detector", &tpcml::readDetector, py::arg("file"), "title of tpcml_detector ('' when absent)",
         py::call_guard<ReleaseGil>());
   m.def(
       "check_detector",
       [](const std::vector<std::string> &files, const std::string &modelDetector, const std::string &modelName,
          bool allowMismatch) { return tpcml::checkDetector(files, modelDetector, modelName, allowMismatch); },
       py::arg("files"), py::arg("model_detector"), py::arg("model_name"), py::arg("allow_mismatch"),
       "the files' detector tag after refusing a mismatch (tpcml::checkDetector)", py::call_guard<ReleaseGil>());
   m.def(
       "write_output_metadata",
       [](const std::string &path, const std::string &detector, const std::string &provenance, const std::string &model,
          const std::vector<std::string> &carryFrom) {
          OutputMetadata meta{detector, provenance, model, carryFrom};
          ReleaseGil release;
          writeOutputMetadata(path, meta);
       },
       py::arg("path"), py::arg("detector") = "", py::arg("provenance") = "", py::arg("model") = "",
       py::arg("carry_from") = std::vector<std::string>{},
       "add tpcml_detector, tpcml_provenance, tpcml_model and the first tpcml_nr_median of `carry_from` to a file");
   m.def("read_parameter", &tpcml::readParameter, py::arg("file"), py::arg("key"), py::arg("fallback"),
         "value of the TParameter<double> `key` in `file`, or `fallback` when absent", py::call_guard<ReleaseGil>());
   m.def("require_columns",
         static_cast<void (*)(const std::string &, const std::string &, const std::vector<std::string> &)>(
             &tpcml::requireColumns),
         py::arg("file"), py::arg("tree"), py::arg("columns"), py::call_guard<ReleaseGil>());
}

} // namespace

void registerCore(py::module_ &m)
{
   for (auto bind : {bindVersion, bindUnits, bindDetector, bindRootIO})
      bind(m);
}

} // namespace tpcml::bindings
