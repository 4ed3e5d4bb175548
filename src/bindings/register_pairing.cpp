// Bindings of src/pairing: the events schema and accidental S1/S2 pairing (numpy dicts in and out).
#include "numpy.h"
#include "register.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Strings.h"
#include "tpcml/pairing/AccidentalPairer.h"
#include "tpcml/pairing/EventSchema.h"
#include "tpcml/pairing/PairFile.h"

#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <cstring>

namespace py = pybind11;

namespace tpcml::bindings {

namespace {

template <class T>
std::vector<T> numpyColumn(const py::dict &d, const char *name, const char *population, bool required = true)
{
   if (!d.contains(name)) {
      if (!required)
         return {};
      std::vector<std::string> keys;
      for (const auto &kv : d)
         keys.push_back(py::str(kv.first));
      throw UsageError(std::string("isolated ") + population + " column '" + name + "' is missing" +
                       didYouMean(name, keys) + "; columns given: " + (keys.empty() ? "none" : join(keys)));
   }
   Array<T> a = py::cast<Array<T>>(d[name]);
   if (a.ndim() != 1)
      throw UsageError(std::string("isolated ") + population + " column '" + name + "' must be 1-D");
   return std::vector<T>(a.data(), a.data() + a.shape(0));
}

/// An isolated-signal table from a dict of arrays: the schema's columns, and the id and run when
/// given (else the entry number / 0).
template <class Table> Table tableFromDict(const py::dict &d)
{
   Table t;
   t.forEachColumn([&](const char *name, auto &column) {
      using T = typename std::decay_t<decltype(column)>::value_type;
      column = numpyColumn<T>(d, name, Table::kPopulation);
   });
   t.id = numpyColumn<Long64_t>(d, Table::kIdBranch, Table::kPopulation, false);
   t.run = numpyColumn<UInt_t>(d, "run", Table::kPopulation, false);
   if (t.id.empty())
      for (std::size_t i = 0; i < t.size(); ++i)
         t.id.push_back(static_cast<Long64_t>(i));
   if (t.run.empty())
      t.run.assign(t.size(), 0u);
   return t;
}

/// numpy dtype of a ROOT leaf type code (ColumnView).
py::dtype dtypeOf(char leaf)
{
   switch (leaf) {
   case 'F':
      return py::dtype::of<float>();
   case 'D':
      return py::dtype::of<double>();
   case 'I':
      return py::dtype::of<std::int32_t>();
   case 'i':
      return py::dtype::of<std::uint32_t>();
   case 'L':
      return py::dtype::of<std::int64_t>();
   case 'l':
      return py::dtype::of<std::uint64_t>();
   case 'O':
      return py::dtype::of<bool>();
   default:
      throw std::logic_error(std::string("dtypeOf: unhandled leaf type ") + leaf);
   }
}

py::dict pairedDict(const PairedColumns &c)
{
   py::dict d;
   for (const auto &v : c.views()) {
      py::array a(dtypeOf(v.type), std::vector<py::ssize_t>{static_cast<py::ssize_t>(v.size)});
      std::memcpy(a.mutable_data(), v.data, v.size * leafTypeSize(v.type));
      d[py::str(v.name)] = std::move(a);
   }
   return d;
}

py::tuple names(const std::vector<std::string> &v)
{
   return py::tuple(py::cast(v));
}

/// The events schema (tpcml/pairing/EventSchema.h) as module constants.
void bindSchema(py::module_ &m)
{
   m.attr("EVENT_COLUMNS") = names(eventColumnNames());
   m.attr("FEATURES") = names(featureNames());
   m.attr("S1_COLUMNS") = names(isolatedS1Columns());
   m.attr("S2_COLUMNS") = names(isolatedS2Columns());
   py::dict dtypes;
   for (const auto &c : kEventColumns)
      dtypes[c.name] = dtypeOf(c.leaf);
   m.attr("EVENT_DTYPES") = dtypes;
}

void bindRates(py::module_ &m)
{
   m.def("accidental_count", &accidentalCount, py::arg("rate_s1_hz"), py::arg("rate_s2_hz"), py::arg("window_us"),
         py::arg("live_time_s"), py::arg("efficiency") = 1.,
         "Expected accidental events n_acc = r1 r2 dt_w T eps (P2-DNN Eq. 2.1)");

   m.def(
       "isolated_rates",
       [](const std::string &file, std::size_t nS1, std::size_t nS2, double liveTimeS, double efficiency) {
          const auto r = isolatedRates(file, nS1, nS2, liveTimeS, efficiency);
          py::dict d;
          d["s1_hz"] = r.s1Hz;
          d["s2_hz"] = r.s2Hz;
          d["live_time_s"] = r.liveTimeS;
          d["efficiency"] = r.efficiency;
          d["known"] = r.known();
          return d;
       },
       py::arg("file"), py::arg("n_s1"), py::arg("n_s2"), py::arg("live_time_s") = -1., py::arg("efficiency") = -1.,
       "Rates for Eq. 2.1 as tpcml-pair takes them: user live time -> N / T; else the stored "
       "tpcml_isolated_s*_rate, else N / tpcml_livetime");
}

void bindPairer(py::module_ &m)
{
   py::class_<AccidentalPairer>(m, "AccidentalPairer")
       .def(py::init([](const py::dict &s1, const py::dict &s2, const PositionCorrections &corr, double tMin,
                        double tMax, bool withReplacement, std::uint64_t seed, float weight) {
               AccidentalPairer::Options o;
               o.driftTimeMin = tMin;
               o.driftTimeMax = tMax;
               o.withReplacement = withReplacement;
               o.seed = seed;
               o.weight = weight;
               return AccidentalPairer(tableFromDict<IsolatedS1Table>(s1), tableFromDict<IsolatedS2Table>(s2), corr, o);
            }),
            py::arg("s1"), py::arg("s2"), py::arg("corrections"), py::arg("drift_time_min"), py::arg("drift_time_max"),
            py::arg("with_replacement") = true, py::arg("seed") = 0, py::arg("weight") = 1.f)
       .def("set_nr_median", &AccidentalPairer::setNRMedian, py::arg("curve"))
       .def("set_drift_time_histogram", &AccidentalPairer::setDriftTimeHistogram, py::arg("edges"), py::arg("contents"))
       .def("set_weight", &AccidentalPairer::setWeight, py::arg("weight"))
       .def_property_readonly("max_pairs", &AccidentalPairer::maxPairs)
       .def_property_readonly("n_s1", &AccidentalPairer::nS1)
       .def_property_readonly("n_s2", &AccidentalPairer::nS2)
       .def_property_readonly("weight", [](const AccidentalPairer &p) { return p.options().weight; })
       .def_static("column_names", &AccidentalPairer::columnNames)
       .def(
           "pair",
           [](const AccidentalPairer &p, long long nPairs, ULong64_t first, long long threads) {
              if (nPairs < 0)
                 throw UsageError("n must be >= 0, got " + std::to_string(nPairs));
              if (threads < 0 || threads > 1024)
                 throw UsageError("threads must be in [0, 1024] (0: all cores), got " + std::to_string(threads));
              const auto n = static_cast<std::size_t>(nPairs);
              double perPair = 0.;
              for (const ColumnView &v : PairedColumns().views())
                 perPair += double(leafTypeSize(v.type));
              // the C++ columns and their numpy copies
              requireMemory(2. * perPair * double(n), "pairing " + std::to_string(n) + " accidental events (n)");
              PairedColumns c;
              {
                 ReleaseGil release;
                 c = p.pair(first, n, unsigned(threads));
              }
              return pairedDict(c);
           },
           py::arg("n"), py::arg("first") = 0, py::arg("threads") = 1,
           "accidental events first .. first + n - 1 as a dict of numpy arrays (events schema)");
}

/// The pairing job (tpcml::pairFile) on isolated signals read by the caller (dicts of arrays).
void bindPairFile(py::module_ &m)
{
   m.def(
       "pair_file",
       [](const py::dict &s1, const py::dict &s2, const std::string &input, const std::string &output,
          unsigned long long n, std::uint64_t seed, const std::string &detector, unsigned threads, bool withReplacement,
          const std::string &nrMedian, std::optional<std::pair<double, double>> window, double liveTimeS,
          double efficiency, const std::vector<std::pair<std::string, std::string>> &provenance, const py::object &log,
          const std::string &format, bool allowDetectorMismatch, const std::vector<std::string> &commandLine,
          bool progress) {
          PairJob job;
          job.input = input;
          job.output = output;
          job.n = n;
          job.seed = seed;
          job.detector = detector;
          job.threads = threads;
          job.withReplacement = withReplacement;
          job.nrMedian = nrMedian;
          if (window) {
             job.hasDriftWindow = true;
             std::tie(job.driftTimeMin, job.driftTimeMax) = *window;
          }
          job.liveTimeS = liveTimeS;
          job.efficiency = efficiency;
          job.provenance = provenance;
          job.format = format;
          job.allowDetectorMismatch = allowDetectorMismatch;
          job.commandLine = commandLine;
          job.progress = progress;
          if (!log.is_none())
             job.log = [log](const std::string &msg) {
                py::gil_scoped_acquire gil;
                log(msg);
             };
          const IsolatedS1Table t1 = tableFromDict<IsolatedS1Table>(s1);
          const IsolatedS2Table t2 = tableFromDict<IsolatedS2Table>(s2);
          PairSummary r;
          {
             ReleaseGil release;
             r = pairFile(job, t1, t2);
          }
          py::dict d;
          d["n_pairs"] = r.nPairs;
          d["n_s1"] = r.nS1;
          d["n_s2"] = r.nS2;
          d["drift_window"] = py::make_tuple(r.driftTimeMin, r.driftTimeMax);
          d["n_acc"] = r.nAcc >= 0. ? py::object(py::float_(r.nAcc)) : py::object(py::none());
          d["weight"] = r.weight;
          return d;
       },
       py::arg("s1"), py::arg("s2"), py::arg("input"), py::arg("output"), py::arg("n"), py::arg("seed") = 0,
       py::arg("detector") = "pandax2", py::arg("threads") = 1, py::arg("with_replacement") = true,
       py::arg("nr_median") = "", py::arg("drift_window") = py::none(), py::arg("live_time_s") = -1.,
       py::arg("efficiency") = -1., py::arg("provenance") = std::vector<std::pair<std::string, std::string>>{},
       py::arg("log") = py::none(), py::arg("format") = "ttree", py::arg("allow_detector_mismatch") = false,
       py::arg("command_line") = std::vector<std::string>{}, py::arg("progress") = true,
       "tpcml::pairFile on isolated S1/S2 columns already read from `input`: pairs n accidental events and writes "
       "them to `output` (events tree, detector, provenance, tpcml_n_acc); returns a summary dict");
}

} // namespace

void registerPairing(py::module_ &m)
{
   for (auto bind : {bindSchema, bindRates, bindPairer, bindPairFile})
      bind(m);
}

} // namespace tpcml::bindings
