// Bindings of the LXe response engine, position corrections, NR median and accidental pairing.
// Batches are numpy arrays in, dicts of numpy arrays out; the C++ kernels run without the GIL.
#include "register.h"

#include "tpcml/pairing/AccidentalPairer.h"
#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/lxe/LXeOptics.h"
#include "tpcml/lxe/LXeResponse.h"
#include "tpcml/lxe/NRMedian.h"
#include "tpcml/lxe/PositionCorrections.h"
#include "tpcml/core/Strings.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>
#include <cstdint>

namespace py = pybind11;

namespace tpcml::bindings {

namespace {

template <class T> using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <class T> py::array_t<T> toNumpy(const std::vector<T> &v)
{
   py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
   std::copy(v.begin(), v.end(), a.mutable_data());
   return a;
}

template <class T> py::array_t<T> toNumpy2D(const std::vector<T> &v, std::size_t rows, std::size_t cols)
{
   py::array_t<T> a({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
   std::copy(v.begin(), v.end(), a.mutable_data());
   return a;
}

/// One length for all arrays of a batch call; names the first that differs.
std::size_t commonLength(std::initializer_list<std::pair<const char *, py::ssize_t>> sizes)
{
   const auto &first = *sizes.begin();
   for (const auto &s : sizes)
      if (s.second != first.second)
         throw UsageError(std::string("array '") + s.first + "' has " + std::to_string(s.second) + " entries but '" +
                          first.first + "' has " + std::to_string(first.second));
   return static_cast<std::size_t>(first.second);
}

template <class T>
std::vector<T> column(const py::dict &d, const char *name, const char *population, bool required = true,
                      std::size_t fallbackSize = 0)
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
   (void)fallbackSize;
   return std::vector<T>(a.data(), a.data() + a.shape(0));
}

IsolatedS1Table s1FromDict(const py::dict &d)
{
   IsolatedS1Table t;
   t.qS1 = column<float>(d, "qS1", "S1");
   t.wS1 = column<float>(d, "wS1", "S1");
   t.S1TBA = column<float>(d, "S1TBA", "S1");
   t.S1LargestBCQ = column<float>(d, "S1LargestBCQ", "S1");
   t.S1NPeaks = column<int>(d, "S1NPeaks", "S1");
   t.id = column<Long64_t>(d, "s1_id", "S1", false);
   t.run = column<UInt_t>(d, "run", "S1", false);
   if (t.id.empty())
      for (std::size_t i = 0; i < t.qS1.size(); ++i)
         t.id.push_back(static_cast<Long64_t>(i));
   if (t.run.empty())
      t.run.assign(t.qS1.size(), 0u);
   return t;
}

IsolatedS2Table s2FromDict(const py::dict &d)
{
   IsolatedS2Table t;
   t.qS2 = column<float>(d, "qS2", "S2");
   t.wS2 = column<float>(d, "wS2", "S2");
   t.wtenS2 = column<float>(d, "wtenS2", "S2");
   t.S2TBA = column<float>(d, "S2TBA", "S2");
   t.S2SY1 = column<float>(d, "S2SY1", "S2");
   t.S2SY2 = column<float>(d, "S2SY2", "S2");
   t.x = column<float>(d, "x", "S2");
   t.y = column<float>(d, "y", "S2");
   t.id = column<Long64_t>(d, "s2_id", "S2", false);
   t.run = column<UInt_t>(d, "run", "S2", false);
   if (t.id.empty())
      for (std::size_t i = 0; i < t.qS2.size(); ++i)
         t.id.push_back(static_cast<Long64_t>(i));
   if (t.run.empty())
      t.run.assign(t.qS2.size(), 0u);
   return t;
}

py::dict s1Dict(const S1Batch &b, std::size_t nPmt)
{
   py::dict d;
   d["qS1"] = toNumpy(b.qS1);
   d["wS1"] = toNumpy(b.wS1);
   d["S1TBA"] = toNumpy(b.S1TBA);
   d["S1LargestBCQ"] = toNumpy(b.S1LargestBCQ);
   d["S1NPeaks"] = toNumpy(b.S1NPeaks);
   d["n_pmt_hit"] = toNumpy(b.nPmtHit);
   std::vector<bool> found(b.found.begin(), b.found.end());
   py::array_t<bool> f(static_cast<py::ssize_t>(found.size()));
   std::copy(found.begin(), found.end(), f.mutable_data());
   d["found"] = f;
   if (!b.pmtArea.empty())
      d["pmt_area"] = toNumpy2D(b.pmtArea, b.size(), nPmt);
   return d;
}

py::dict s2Dict(const S2Batch &b, std::size_t nPmt)
{
   py::dict d;
   d["qS2"] = toNumpy(b.qS2);
   d["wS2"] = toNumpy(b.wS2);
   d["wtenS2"] = toNumpy(b.wtenS2);
   d["S2TBA"] = toNumpy(b.S2TBA);
   d["S2SY1"] = toNumpy(b.S2SY1);
   d["S2SY2"] = toNumpy(b.S2SY2);
   d["x"] = toNumpy(b.x);
   d["y"] = toNumpy(b.y);
   d["drift_time"] = toNumpy(b.driftTime);
   d["n_extracted"] = toNumpy(b.nElectrons);
   if (!b.pmtArea.empty())
      d["pmt_area"] = toNumpy2D(b.pmtArea, b.size(), nPmt);
   return d;
}

py::dict pairedDict(const PairedColumns &c)
{
   py::dict d;
   for (const auto &v : c.views()) {
      py::dtype dt;
      switch (v.type) {
      case 'F':
         dt = py::dtype::of<float>();
         break;
      case 'D':
         dt = py::dtype::of<double>();
         break;
      case 'I':
         dt = py::dtype::of<std::int32_t>();
         break;
      case 'i':
         dt = py::dtype::of<std::uint32_t>();
         break;
      case 'L':
         dt = py::dtype::of<std::int64_t>();
         break;
      case 'l':
         dt = py::dtype::of<std::uint64_t>();
         break;
      case 'O':
         dt = py::dtype::of<bool>();
         break;
      default:
         throw std::logic_error(std::string("pairedDict: unhandled leaf type ") + v.type);
      }
      py::array a(dt, std::vector<py::ssize_t>{static_cast<py::ssize_t>(v.size)});
      std::memcpy(a.mutable_data(), v.data, v.size * leafTypeSize(v.type));
      d[py::str(v.name)] = std::move(a);
   }
   return d;
}

} // namespace

void registerLXe(py::module_ &m)
{
   m.def(
       "hex_pmt_array",
       [](std::size_t n, double pitch) {
          const auto a = hexPmtArray(n, pitch);
          return py::make_tuple(toNumpy(a.x), toNumpy(a.y));
       },
       py::arg("n"), py::arg("pitch"), "(x, y) of the n hexagonal-grid positions nearest the axis (mm)");

   py::class_<LXeOptics>(m, "LXeOptics")
       .def(py::init<const DetectorConfig &>(), py::arg("detector"))
       .def_property_readonly("n_top", &LXeOptics::nTop)
       .def_property_readonly("n_bottom", &LXeOptics::nBottom)
       .def_property_readonly("s2_top_scale", &LXeOptics::s2TopScale)
       .def_property_readonly("top_xy",
                              [](const LXeOptics &o) { return py::make_tuple(toNumpy(o.top().x), toNumpy(o.top().y)); })
       .def_property_readonly(
           "bottom_xy", [](const LXeOptics &o) { return py::make_tuple(toNumpy(o.bottom().x), toNumpy(o.bottom().y)); })
       .def_property_readonly("top_z", [](const LXeOptics &o) { return o.top().z; })
       .def_property_readonly("bottom_z", [](const LXeOptics &o) { return o.bottom().z; })
       .def("s1_collection", py::overload_cast<double, double, double>(&LXeOptics::s1Collection, py::const_),
            py::arg("x"), py::arg("y"), py::arg("z"), "per-PMT detection probabilities of an S1 photon (top first)")
       .def("s2_collection", py::overload_cast<double, double>(&LXeOptics::s2Collection, py::const_), py::arg("x"),
            py::arg("y"), "per-PMT collection of S2 light from (x, y), top array scaled to s2_area_fraction_top")
       .def_static("fresnel_transmission", &LXeOptics::fresnelTransmission, py::arg("n1"), py::arg("n2"),
                   py::arg("cos_incidence"))
       .def_static("disc_solid_angle", &LXeOptics::discSolidAngle, py::arg("radius"), py::arg("distance"),
                   py::arg("cos_incidence"));

   py::class_<RegularGrid>(m, "RegularGrid")
       .def(py::init([](std::pair<double, double> xr, std::pair<double, double> yr, std::pair<double, double> zr,
                        const Array<float> &values) {
               if (values.ndim() != 3 && values.ndim() != 2)
                  throw UsageError("map values must be a 2-D (nx, ny) or 3-D (nx, ny, nz) array");
               RegularGrid g{xr.first,
                             xr.second,
                             yr.first,
                             yr.second,
                             zr.first,
                             zr.second,
                             static_cast<int>(values.shape(0)),
                             static_cast<int>(values.shape(1)),
                             values.ndim() == 3 ? static_cast<int>(values.shape(2)) : 1,
                             std::vector<float>(values.data(), values.data() + values.size())};
               return g;
            }),
            py::arg("x_range"), py::arg("y_range"), py::arg("z_range"), py::arg("values"))
       .def("eval", &RegularGrid::eval, py::arg("x"), py::arg("y"), py::arg("z") = 0.)
       .def_property_readonly("values", [](const RegularGrid &g) {
          return toNumpy2D(g.values, static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny),
                           static_cast<std::size_t>(g.nz));
       });

   py::class_<PositionCorrections>(m, "PositionCorrections")
       .def(py::init<const DetectorConfig &>(), py::arg("detector"))
       .def(py::init<RegularGrid, RegularGrid, double, double>(), py::arg("s1_map"), py::arg("s2_map"),
            py::arg("lifetime_us"), py::arg("drift_velocity_mm_per_us"))
       .def_property_readonly("lifetime", &PositionCorrections::lifetime)
       .def_property_readonly("drift_velocity", &PositionCorrections::driftVelocity)
       .def_property_readonly("s1_map", &PositionCorrections::s1Map)
       .def_property_readonly("s2_map", &PositionCorrections::s2Map)
       .def(
           "s1_relative",
           [](const PositionCorrections &c, const Array<double> &x, const Array<double> &y, const Array<double> &z) {
              const std::size_t n = commonLength({{"x", x.size()}, {"y", y.size()}, {"z", z.size()}});
              py::array_t<double> out(static_cast<py::ssize_t>(n));
              for (std::size_t i = 0; i < n; ++i)
                 out.mutable_data()[i] = c.s1Relative(x.data()[i], y.data()[i], z.data()[i]);
              return out;
           },
           py::arg("x"), py::arg("y"), py::arg("z"), "relative S1 light collection (mean 1 over the FV)")
       .def(
           "s2_relative",
           [](const PositionCorrections &c, const Array<double> &x, const Array<double> &y) {
              const std::size_t n = commonLength({{"x", x.size()}, {"y", y.size()}});
              py::array_t<double> out(static_cast<py::ssize_t>(n));
              for (std::size_t i = 0; i < n; ++i)
                 out.mutable_data()[i] = c.s2Relative(x.data()[i], y.data()[i]);
              return out;
           },
           py::arg("x"), py::arg("y"), "relative S2 gain (mean 1 over the FV)")
       .def(
           "apply",
           [](const PositionCorrections &c, const Array<float> &qS1, const Array<float> &qS2, const Array<float> &t,
              const Array<float> &x, const Array<float> &y) {
              const std::size_t n = commonLength({{"qS1", qS1.size()},
                                                  {"qS2", qS2.size()},
                                                  {"drift_time", t.size()},
                                                  {"x", x.size()},
                                                  {"y", y.size()}});
              Array<float> z(static_cast<py::ssize_t>(n)), s1c(static_cast<py::ssize_t>(n)),
                  s2c(static_cast<py::ssize_t>(n));
              {
                 ReleaseGil release;
                 c.apply(qS1.data(), qS2.data(), t.data(), x.data(), y.data(), z.mutable_data(), s1c.mutable_data(),
                         s2c.mutable_data(), n);
              }
              py::dict d;
              d["z"] = z;
              d["qS1c"] = s1c;
              d["qS2c"] = s2c;
              return d;
           },
           py::arg("qS1"), py::arg("qS2"), py::arg("drift_time"), py::arg("x"), py::arg("y"),
           "z, qS1c and qS2c of events (dict of float32 arrays)");

   py::class_<LXeResponse>(m, "LXeResponse")
       .def(py::init<const DetectorConfig &>(), py::arg("detector"))
       .def_property_readonly("optics", &LXeResponse::optics, py::return_value_policy::reference_internal)
       .def_property_readonly("corrections", &LXeResponse::corrections, py::return_value_policy::reference_internal)
       .def_property_readonly("n_pmt", &LXeResponse::nPmt)
       .def(
           "scintillation_s1",
           [](const LXeResponse &r, const Array<float> &x, const Array<float> &y, const Array<float> &z,
              const Array<int> &nph, const Array<float> &sf, std::uint64_t seed, unsigned threads, bool pmt) {
              const std::size_t n = commonLength({{"x", x.size()},
                                                  {"y", y.size()},
                                                  {"z", z.size()},
                                                  {"n_photons", nph.size()},
                                                  {"singlet_fraction", sf.size()}});
              S1Batch b;
              {
                 ReleaseGil release;
                 b = r.scintillationS1(x.data(), y.data(), z.data(), nph.data(), sf.data(), n, seed, threads, pmt);
              }
              return s1Dict(b, r.nPmt());
           },
           py::arg("x"), py::arg("y"), py::arg("z"), py::arg("n_photons"), py::arg("singlet_fraction"), py::arg("seed"),
           py::arg("threads") = 1, py::arg("pmt_areas") = false)
       .def(
           "dark_noise_s1",
           [](const LXeResponse &r, const Array<int> &k, std::uint64_t seed, unsigned threads, bool pmt) {
              S1Batch b;
              {
                 ReleaseGil release;
                 b = r.darkNoiseS1(k.data(), static_cast<std::size_t>(k.size()), seed, threads, pmt);
              }
              return s1Dict(b, r.nPmt());
           },
           py::arg("n_pmts"), py::arg("seed"), py::arg("threads") = 1, py::arg("pmt_areas") = false)
       .def(
           "single_electron_s1",
           [](const LXeResponse &r, const Array<float> &x, const Array<float> &y, std::uint64_t seed, unsigned threads,
              bool pmt) {
              const std::size_t n = commonLength({{"x", x.size()}, {"y", y.size()}});
              S1Batch b;
              {
                 ReleaseGil release;
                 b = r.singleElectronS1(x.data(), y.data(), n, seed, threads, pmt);
              }
              return s1Dict(b, r.nPmt());
           },
           py::arg("x"), py::arg("y"), py::arg("seed"), py::arg("threads") = 1, py::arg("pmt_areas") = false)
       .def(
           "drifted_s2",
           [](const LXeResponse &r, const Array<float> &x, const Array<float> &y, const Array<float> &t,
              const Array<int> &ne, std::uint64_t seed, unsigned threads, bool pmt) {
              const std::size_t n = commonLength(
                  {{"x", x.size()}, {"y", y.size()}, {"drift_time", t.size()}, {"n_electrons", ne.size()}});
              S2Batch b;
              {
                 ReleaseGil release;
                 b = r.driftedS2(x.data(), y.data(), t.data(), ne.data(), n, seed, threads, pmt);
              }
              return s2Dict(b, r.nPmt());
           },
           py::arg("x"), py::arg("y"), py::arg("drift_time"), py::arg("n_electrons"), py::arg("seed"),
           py::arg("threads") = 1, py::arg("pmt_areas") = false)
       .def(
           "delayed_electron_s2",
           [](const LXeResponse &r, const Array<float> &x, const Array<float> &y, const Array<int> &ne, double release,
              std::uint64_t seed, unsigned threads, bool pmt) {
              const std::size_t n = commonLength({{"x", x.size()}, {"y", y.size()}, {"n_electrons", ne.size()}});
              S2Batch b;
              {
                 ReleaseGil release_gil;
                 b = r.delayedElectronS2(x.data(), y.data(), ne.data(), release, n, seed, threads, pmt);
              }
              return s2Dict(b, r.nPmt());
           },
           py::arg("x"), py::arg("y"), py::arg("n_electrons"), py::arg("release_time_us"), py::arg("seed"),
           py::arg("threads") = 1, py::arg("pmt_areas") = false);

   py::class_<NRMedianCurve>(m, "NRMedianCurve")
       .def(py::init<std::vector<double>, std::vector<double>>(), py::arg("qS1c"), py::arg("median"))
       .def_static(
           "fit",
           [](const Array<float> &s1, const Array<float> &s2, double lo, double hi, int nBins, int nKnots) {
              const std::size_t n = commonLength({{"qS1c", s1.size()}, {"qS2c", s2.size()}});
              ReleaseGil release;
              return NRMedianCurve::fit(s1.data(), s2.data(), n, lo, hi, nBins, nKnots);
           },
           py::arg("qS1c"), py::arg("qS2c"), py::arg("s1_min"), py::arg("s1_max"), py::arg("n_bins") = 20,
           py::arg("n_knots") = 64)
       .def_static("from_file", &NRMedianCurve::fromFile, py::arg("file"), py::arg("key") = "tpcml_nr_median")
       .def("write_to", &NRMedianCurve::writeTo, py::arg("file"), py::arg("key") = "tpcml_nr_median")
       .def(
           "__call__",
           [](const NRMedianCurve &c, const Array<double> &s1) {
              py::array_t<double> out(s1.size());
              for (py::ssize_t i = 0; i < s1.size(); ++i)
                 out.mutable_data()[i] = c(s1.data()[i]);
              return out;
           },
           py::arg("qS1c"))
       .def(
           "below",
           [](const NRMedianCurve &c, const Array<float> &s1, const Array<float> &s2) {
              const std::size_t n = commonLength({{"qS1c", s1.size()}, {"qS2c", s2.size()}});
              py::array_t<bool> out(static_cast<py::ssize_t>(n));
              c.below(s1.data(), s2.data(), out.mutable_data(), n);
              return out;
           },
           py::arg("qS1c"), py::arg("qS2c"))
       .def_property_readonly("knots_x", [](const NRMedianCurve &c) { return toNumpy(c.knotsX()); })
       .def_property_readonly("knots_y", [](const NRMedianCurve &c) { return toNumpy(c.knotsY()); })
       .def_property_readonly("bin_x", [](const NRMedianCurve &c) { return toNumpy(c.binX()); })
       .def_property_readonly("bin_y", [](const NRMedianCurve &c) { return toNumpy(c.binY()); });

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
   py::class_<AccidentalPairer>(m, "AccidentalPairer")
       .def(py::init([](const py::dict &s1, const py::dict &s2, const PositionCorrections &corr, double tMin,
                        double tMax, bool withReplacement, std::uint64_t seed, float weight) {
               AccidentalPairer::Options o;
               o.driftTimeMin = tMin;
               o.driftTimeMax = tMax;
               o.withReplacement = withReplacement;
               o.seed = seed;
               o.weight = weight;
               return AccidentalPairer(s1FromDict(s1), s2FromDict(s2), corr, o);
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

} // namespace tpcml::bindings
