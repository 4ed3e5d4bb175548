// tpcml._core's ONNX bindings: OnnxModel (the C++ engine for numpy batches: the same Model/Session
// the RDataFrame functor and tpcml-infer use), the engine benchmark, score_files (tpcml-infer's
// job function), and the operator table of the load-time spec check (onnx_schema_table, for the
// cross-check against onnx.defs in tests/python/test_onnx_spec.py).
#include "register.h"

#include "onnx/graph/Schema.h"

#include "tpcml/core/Error.h"
#include "tpcml/onnx/Model.h"
#include "tpcml/onnx/Scorer.h"

#include <pybind11/numpy.h>
#include <algorithm>
#include <chrono>
#include <ctime>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace tpcml::bindings {
namespace {

using tpcml::onnx::Model;
using tpcml::onnx::TensorInfo;

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

py::list describe(const std::vector<TensorInfo> &infos)
{
   py::list out;
   for (const TensorInfo &t : infos) {
      py::dict d;
      d["name"] = t.name;
      d["shape"] = t.shape;
      d["event_size"] = t.eventSize;
      out.append(d);
   }
   return out;
}

std::string shapeText(const std::vector<int64_t> &s)
{
   std::string out = "(";
   for (std::size_t k = 0; k < s.size(); ++k)
      out += (k ? ", " : "") + (s[k] < 0 ? std::string("N") : std::to_string(s[k]));
   return out + (s.size() == 1 ? ",)" : ")");
}

/// Number of events in `arr` for model input `info`; throws UsageError on a shape mismatch.
int64_t eventsIn(const Model &m, const TensorInfo &info, const FloatArray &arr)
{
   std::vector<int64_t> shape(arr.shape(), arr.shape() + arr.ndim());
   const auto expected = [&]() {
      return "model '" + m.name() + "' input '" + info.name + "' expects shape " + shapeText(info.shape) + ", got " +
             shapeText(shape);
   };
   if (m.batched()) {
      if (shape.size() != info.shape.size() || !std::equal(shape.begin() + 1, shape.end(), info.shape.begin() + 1))
         throw UsageError(expected());
      return shape[0];
   }
   if (shape == info.shape)
      return 1;
   if (shape.size() == info.shape.size() + 1 && std::equal(shape.begin() + 1, shape.end(), info.shape.begin()))
      return shape[0];
   throw UsageError(expected());
}

py::list runModel(const std::shared_ptr<const Model> &model, const py::object &inputs, int64_t maxBatch)
{
   const Model &m = *model;
   std::vector<FloatArray> arrays;
   if (py::isinstance<py::dict>(inputs)) {
      const py::dict d = inputs.cast<py::dict>();
      for (const TensorInfo &t : m.inputs()) {
         if (!d.contains(t.name))
            throw UsageError("model '" + m.name() + "' needs input '" + t.name + "', not given");
         arrays.push_back(FloatArray::ensure(d[py::str(t.name)]));
      }
   } else if (py::isinstance<py::list>(inputs) || py::isinstance<py::tuple>(inputs)) {
      for (const py::handle h : inputs)
         arrays.push_back(FloatArray::ensure(h));
   } else {
      arrays.push_back(FloatArray::ensure(inputs));
   }
   if (arrays.size() != m.inputs().size())
      throw UsageError("model '" + m.name() + "' has " + std::to_string(m.inputs().size()) + " inputs, got " +
                       std::to_string(arrays.size()) + " arrays");
   int64_t n = -1;
   std::vector<const float *> in;
   for (std::size_t k = 0; k < arrays.size(); ++k) {
      if (!arrays[k])
         throw UsageError("input " + std::to_string(k) + " is not convertible to a float32 array");
      const int64_t nk = eventsIn(m, m.inputs()[k], arrays[k]);
      if (n >= 0 && nk != n)
         throw UsageError("model '" + m.name() + "': inputs hold different numbers of events (" + std::to_string(n) +
                          " and " + std::to_string(nk) + ")");
      n = nk;
      in.push_back(arrays[k].data());
   }
   if (arrays.empty())
      n = 1; // a graph of constants
   py::list result;
   std::vector<float *> out;
   for (std::size_t j = 0; j < m.outputs().size(); ++j) {
      const TensorInfo &t = m.outputs()[j];
      std::vector<py::ssize_t> shape;
      if (m.batched()) { // the planned shape (a graph that mixes events may move the batch axis)
         for (int64_t d : m.outputShape(j, n))
            shape.push_back(py::ssize_t(d));
      } else {
         if (!arrays.empty() &&
             std::vector<int64_t>(arrays[0].shape(), arrays[0].shape() + arrays[0].ndim()) != m.inputs()[0].shape)
            shape.push_back(n);
         shape.insert(shape.end(), t.shape.begin(), t.shape.end());
      }
      FloatArray a(shape);
      out.push_back(a.mutable_data());
      result.append(a);
   }
   {
      ReleaseGil release;
      tpcml::onnx::Session session(model, maxBatch);
      session.run(in.data(), out.data(), n);
   }
   return result;
}

/// Best time per event (ns) of the engine alone (no Python in the loop): best of `repeats` passes
/// over nEvents random events, in batches of `batch` (1: the single-event path, Session::score).
/// `cpuTime`: the calling thread's CPU time instead of wall time (shared, loaded machines).
double benchmarkEngine(const std::shared_ptr<Model> &model, int64_t batch, int64_t nEvents, int repeats, bool cpuTime)
{
   const Model &mdl = *model;
   std::vector<std::vector<float>> in(mdl.inputs().size()), out(mdl.outputs().size());
   std::vector<const float *> ip;
   std::vector<float *> op;
   uint32_t state = 12345u;
   for (std::size_t k = 0; k < in.size(); ++k) {
      in[k].resize(std::size_t(nEvents * mdl.inputs()[k].eventSize));
      for (float &x : in[k]) {
         state = state * 1664525u + 1013904223u;
         x = float(state >> 8) / float(1u << 24);
      }
      ip.push_back(in[k].data());
   }
   for (std::size_t k = 0; k < out.size(); ++k) {
      out[k].resize(std::size_t(nEvents * mdl.outputs()[k].eventSize));
      op.push_back(out[k].data());
   }
   ReleaseGil release;
   tpcml::onnx::Session session(model, batch);
   const bool single = batch == 1 && in.size() == 1;
   const int64_t stride = in.empty() ? 0 : mdl.inputs()[0].eventSize;
   double best = 1e300;
   volatile float sink = 0.f;
   const auto now = [cpuTime] {
      if (!cpuTime)
         return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch()).count();
      timespec ts{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return 1e9 * double(ts.tv_sec) + double(ts.tv_nsec);
   };
   for (int r = 0; r < repeats + 1; ++r) { // first pass warms up (plans, arena)
      const double t0 = now();
      if (single) {
         for (int64_t e = 0; e < nEvents; ++e)
            sink = sink + session.score(ip[0] + e * stride);
      } else {
         session.run(ip.data(), op.data(), nEvents);
      }
      const double ns = now() - t0;
      if (r > 0)
         best = std::min(best, ns / double(nEvents));
   }
   return best;
}

void registerModel(py::module_ &m)
{
   py::class_<Model, std::shared_ptr<Model>>(m, "OnnxModel",
                                             "An ONNX model loaded by the tpcml C++ engine (tpcml::onnx::Model).")
       .def(py::init([](const py::bytes &data, const std::string &name) {
               std::string bytes = data;
               ReleaseGil release;
               return std::const_pointer_cast<Model>(Model::fromBytes(bytes, name.empty() ? "<bytes>" : name));
            }),
            py::arg("data"), py::arg("name") = "")
       .def(py::init([](const std::string &path) {
               ReleaseGil release;
               return std::const_pointer_cast<Model>(Model::load(path));
            }),
            py::arg("path"))
       .def_property_readonly("name", &Model::name)
       .def_property_readonly("inputs", [](const Model &self) { return describe(self.inputs()); })
       .def_property_readonly("outputs", [](const Model &self) { return describe(self.outputs()); })
       .def_property_readonly("batched", &Model::batched)
       .def_property_readonly("metadata", &Model::metadata)
       .def_property_readonly("input_columns", &Model::inputColumns)
       .def_property_readonly("node_count", &Model::nodeCount)
       .def_property_readonly("step_count", &Model::stepCount)
       .def_property_readonly("opset", &Model::opset)
       .def_property_readonly("event_mixing", &Model::eventMixing,
                              "Empty when events stay independent; else the node that mixes them (run as one batch)")
       .def(
           "run",
           [](const std::shared_ptr<Model> &self, const py::object &inputs, int64_t maxBatch) {
              return runModel(self, inputs, maxBatch);
           },
           py::arg("inputs"), py::arg("max_batch") = 64,
           "Runs the model: inputs is an array, a list of arrays or a dict by input name (float32, "
           "batch first); returns the list of outputs.");
}

void registerBenchmark(py::module_ &m)
{
   m.def("onnx_benchmark", &benchmarkEngine, py::arg("model"), py::arg("batch"), py::arg("n_events"),
         py::arg("repeats") = 5, py::arg("cpu_time") = false,
         "Best time per event (ns) of the C++ engine alone over random inputs (wall time, or the calling "
         "thread's CPU time with cpu_time=True).");
}

void registerScoreFiles(py::module_ &m)
{
   m.def(
       "score_files",
       [](const std::vector<std::string> &files, const std::string &tree, const std::string &output,
          const std::string &model, const std::vector<std::string> &columns, const std::string &name, long long threads,
          const std::string &format, bool progress, bool allowDetectorMismatch,
          const std::vector<std::string> &commandLine) {
          if (threads < 1 || threads > 1024) // checked here: a negative int is no pybind11 overload error
             throw tpcml::UsageError("threads must be in [1, 1024], got " + std::to_string(threads));
          const tpcml::onnx::ScoreFilesJob job{files,
                                               tree,
                                               output,
                                               model,
                                               columns,
                                               name,
                                               unsigned(threads),
                                               commandLine,
                                               format,
                                               progress,
                                               allowDetectorMismatch};
          tpcml::onnx::ScoreFilesSummary s;
          {
             ReleaseGil release;
             s = tpcml::onnx::scoreFiles(job); // tpcml-infer's job function
          }
          py::dict out;
          out["entries"] = s.entries;
          out["columns"] = s.columns;
          out["output_column"] = s.outputColumn;
          out["seconds"] = s.seconds;
          out["output"] = output;
          return out;
       },
       py::arg("files"), py::arg("tree"), py::arg("output"), py::arg("model"), py::arg("columns"), py::arg("name"),
       py::arg("threads"), py::arg("format") = "ttree", py::arg("progress") = true,
       py::arg("allow_detector_mismatch") = false, py::arg("command_line") = std::vector<std::string>{});
}

void registerSchemaTable(py::module_ &m)
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

} // namespace

void registerOnnx(py::module_ &m)
{
   registerModel(m);
   registerBenchmark(m);
   registerScoreFiles(m);
   m.def("onnx_supported_operators", &tpcml::onnx::supportedOperators);
   m.def("onnx_isa", &Model::isa, "instruction set of the engine's kernels (avx512, avx2, base)");
   registerSchemaTable(m);
}

} // namespace tpcml::bindings
