// Bindings of src/lxe: electron lifetime and drift depth, optics, position corrections, the LXe
// response engine, the NR median.
// Batches are numpy arrays in, dicts of numpy arrays out; the C++ kernels run without the GIL.
#include "numpy.h"
#include "register.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/lxe/DriftCorrection.h"
#include "tpcml/lxe/LXeEvents.h"
#include "tpcml/lxe/LXeOptics.h"
#include "tpcml/lxe/LXeResponse.h"
#include "tpcml/lxe/NRMedian.h"
#include "tpcml/lxe/PositionCorrections.h"
#include "tpcml/lxe/Waveform.h"
#include "tpcml/pairing/EventSchema.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <cstdint>
#include <vector>

namespace py = pybind11;

namespace tpcml::bindings {

namespace {

// d[col] = toNumpy(b.col) for the schema's S1 (S2) columns.
#define TPCML_SCHEMA_S1_TO_DICT(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                 \
   TPCML_SCHEMA_IF(fromS1)(d[#col] = toNumpy(b.col);)
#define TPCML_SCHEMA_S2_TO_DICT(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                 \
   TPCML_SCHEMA_IF(fromS2)(d[#col] = toNumpy(b.col);)

/// d with the per-PMT areas of batch b (n x nPmt) when it stored them.
template <class Batch> py::dict withPmtArea(py::dict d, const Batch &b, std::size_t nPmt)
{
   if (!b.pmtArea.empty())
      d["pmt_area"] = toNumpy2D(b.pmtArea, b.size(), nPmt);
   return d;
}

/// The S1 features of a response batch under their schema names (S1Batch names its members
/// after the schema), plus the response's own columns.
py::dict s1Dict(const S1Batch &b, std::size_t nPmt)
{
   py::dict d;
   TPCML_EVENT_COLUMNS(TPCML_SCHEMA_S1_TO_DICT)
   d["n_pmt_hit"] = toNumpy(b.nPmtHit);
   std::vector<bool> found(b.found.begin(), b.found.end());
   py::array_t<bool> f(static_cast<py::ssize_t>(found.size()));
   std::copy(found.begin(), found.end(), f.mutable_data());
   d["found"] = f;
   return withPmtArea(d, b, nPmt);
}

py::dict s2Dict(const S2Batch &b, std::size_t nPmt)
{
   py::dict d;
   TPCML_EVENT_COLUMNS(TPCML_SCHEMA_S2_TO_DICT)
   d["drift_time"] = toNumpy(b.driftTime);
   d["n_extracted"] = toNumpy(b.nElectrons);
   return withPmtArea(d, b, nPmt);
}

/// Binding of a batch of electrons already at the surface: (x, y, n_electrons, a time in us, seed, threads,
/// pmt_areas) -> the batch's dict (single-electron trains as S2s, and their S1 classification).
template <class Batch, class Method, class ToDict> auto surfaceElectrons(Method method, ToDict toDict)
{
   return [method, toDict](const LXeResponse &r, const Array<float> &x, const Array<float> &y, const Array<int> &ne,
                           double timeUs, std::uint64_t seed, unsigned threads, bool pmt) {
      const std::size_t n = commonLength({{"x", x.size()}, {"y", y.size()}, {"n_electrons", ne.size()}});
      Batch b;
      {
         ReleaseGil release_gil;
         b = (r.*method)(x.data(), y.data(), ne.data(), timeUs, n, seed, threads, pmt);
      }
      return toDict(b, r.nPmt());
   };
}

#undef TPCML_SCHEMA_S1_TO_DICT
#undef TPCML_SCHEMA_S2_TO_DICT

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

void requireSameShape(const FloatArray &a, const FloatArray &b, const char *na, const char *nb)
{
   if (a.ndim() != 1 || b.ndim() != 1)
      throw std::invalid_argument(std::string("expected 1-D arrays for ") + na + " and " + nb);
   if (a.shape(0) != b.shape(0))
      throw std::invalid_argument(std::string(na) + " and " + nb + " differ in length: " + std::to_string(a.shape(0)) +
                                  " vs " + std::to_string(b.shape(0)));
}

void bindDriftCorrections(py::module_ &m)
{
   py::class_<ElectronLifetimeCorrection>(m, "ElectronLifetimeCorrection")
       .def(py::init<double>(), py::arg("lifetime_us"))
       .def_static("from_detector",
                   py::overload_cast<const DetectorConfig &>(&ElectronLifetimeCorrection::fromDetector),
                   py::arg("detector"))
       .def_static("from_detector", py::overload_cast<const std::string &>(&ElectronLifetimeCorrection::fromDetector),
                   py::arg("detector"))
       .def_property_readonly("lifetime", &ElectronLifetimeCorrection::lifetime)
       .def("survival_probability", py::vectorize(&ElectronLifetimeCorrection::survivalProbability),
            py::arg("drift_time_us"),
            "exp(-t / tau): the fraction of electrons surviving a drift time t (us); scalar or array")
       .def(
           "__call__",
           [](const ElectronLifetimeCorrection &c, const FloatArray &qS2, const FloatArray &t) {
              requireSameShape(qS2, t, "qS2", "drift_time");
              FloatArray out(qS2.shape(0));
              {
                 ReleaseGil release;
                 c.apply(qS2.data(), t.data(), out.mutable_data(), static_cast<std::size_t>(qS2.shape(0)));
              }
              return out;
           },
           py::arg("qS2"), py::arg("drift_time_us"), "Vectorised qS2 * exp(t / tau) (float32)");

   py::class_<DriftDepth>(m, "DriftDepth")
       .def(py::init<double>(), py::arg("drift_velocity_mm_per_us"))
       .def_static("from_detector", &DriftDepth::fromDetector, py::arg("detector"))
       .def_property_readonly("drift_velocity", &DriftDepth::driftVelocity)
       .def(
           "__call__",
           [](const DriftDepth &d, const FloatArray &t) {
              if (t.ndim() != 1)
                 throw std::invalid_argument("expected a 1-D drift-time array");
              FloatArray out(t.shape(0));
              {
                 ReleaseGil release;
                 d.apply(t.data(), out.mutable_data(), static_cast<std::size_t>(t.shape(0)));
              }
              return out;
           },
           py::arg("drift_time_us"));
}

void bindOptics(py::module_ &m)
{
   m.def(
       "hex_pmt_array",
       [](std::size_t n, double pitch) {
          const auto a = hexPmtArray(n, pitch);
          return py::make_tuple(toNumpy(a.x), toNumpy(a.y));
       },
       py::arg("n"), py::arg("pitch"), "(x, y) of the n hexagonal-grid positions nearest the axis (mm)");

   m.def(
       "read_pmt_table",
       [](const std::string &path) {
          const auto [top, bottom] = readPmtTable(path);
          return py::make_tuple(py::make_tuple(toNumpy(top.x), toNumpy(top.y)),
                                py::make_tuple(toNumpy(bottom.x), toNumpy(bottom.y)));
       },
       py::arg("path"), "((top x, y), (bottom x, y)) in mm from a PMT position table (docs/detector-format.md)");

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
       .def(
           "s1_map",
           [](const LXeOptics &o, double r, double z) {
              return py::make_tuple(o.s1Map().top(r, z), o.s1Map().bottom(r, z));
           },
           py::arg("r"), py::arg("z"),
           "(top, bottom): probability that an S1 photon from (r, z) reaches each array (the cached light map)")
       .def("s1_light_yield_correction", &LXeOptics::s1LightYieldCorrection, py::arg("r"), py::arg("z"),
            "factor on the model's S1 collection at (r, z) from the detector's s1_light_yield_map (1 without one)")
       .def_property_readonly("has_s1_light_yield_map", &LXeOptics::hasS1LightYieldMap)
       .def("s2_collection", py::overload_cast<double, double>(&LXeOptics::s2Collection, py::const_), py::arg("x"),
            py::arg("y"), "per-PMT collection of S2 light from (x, y), top array scaled to s2_area_fraction_top")
       .def_static("fresnel_transmission", &LXeOptics::fresnelTransmission, py::arg("n1"), py::arg("n2"),
                   py::arg("cos_incidence"))
       .def_static("disc_solid_angle", &LXeOptics::discSolidAngle, py::arg("radius"), py::arg("distance"),
                   py::arg("cos_incidence"));
}

void bindPositionCorrections(py::module_ &m)
{
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
}

void bindResponse(py::module_ &m)
{
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
       .def("electron_train_s2", surfaceElectrons<S2Batch>(&LXeResponse::electronTrainS2, s2Dict), py::arg("x"),
            py::arg("y"), py::arg("n_electrons"), py::arg("span_us"), py::arg("seed"), py::arg("threads") = 1,
            py::arg("pmt_areas") = false,
            "S2s of single-electron trains: n_electrons arrivals uniform over [0, span_us] at the surface")
       .def("electron_train_s1", surfaceElectrons<S1Batch>(&LXeResponse::electronTrainS1, s1Dict), py::arg("x"),
            py::arg("y"), py::arg("n_electrons"), py::arg("span_us"), py::arg("seed"), py::arg("threads") = 1,
            py::arg("pmt_areas") = false,
            "The same trains' light through the S1 digitisation and classification (found: taken for an S1)");
}

void bindNRMedian(py::module_ &m)
{
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
}

/// dict of numpy arrays of one signal's waveforms; `dense` adds "channels" (nChannels x nSamples).
py::dict waveformDict(const SignalWaveforms &w, std::size_t nChannels, bool dense)
{
   py::dict d;
   d["origin"] = w.origin;
   d["dt"] = w.dt;
   d["channel_area"] = toNumpy(w.channelArea);
   d["channel_pe"] = toNumpy(w.channelPe);
   d["sum"] = toNumpy(w.sum);
   d["sum_top"] = toNumpy(w.sumTop);
   d["sum_bottom"] = toNumpy(w.sumBottom);
   std::vector<int> pc;
   std::vector<std::int64_t> ps;
   std::vector<std::int32_t> pl;
   for (const auto &p : w.pulses) {
      pc.push_back(p.channel);
      ps.push_back(p.start);
      pl.push_back(p.length);
   }
   d["pulse_channel"] = toNumpy(pc);
   d["pulse_start"] = toNumpy(ps);
   d["pulse_length"] = toNumpy(pl);
   d["pulse_data"] = toNumpy(w.pulseData);
   if (dense) {
      std::vector<float> all(nChannels * w.sum.size(), 0.f);
      for (const auto &p : w.pulses)
         std::copy_n(w.pulseData.begin() + static_cast<std::ptrdiff_t>(p.offset), p.length,
                     all.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(p.channel) * w.sum.size() +
                                                               static_cast<std::size_t>(p.start)));
      d["channels"] = toNumpy2D(all, nChannels, w.sum.size());
   }
   std::vector<std::int64_t> start, end;
   std::vector<float> area, areaTop, timeMax, width50, rise, rise1090;
   std::vector<int> nCh, tight, type;
   for (const auto &p : w.peaks) {
      start.push_back(p.start);
      end.push_back(p.end);
      area.push_back(p.area);
      areaTop.push_back(p.areaTop);
      timeMax.push_back(p.timeMax);
      width50.push_back(p.width50);
      rise.push_back(p.riseTime);
      rise1090.push_back(p.riseTime1090);
      nCh.push_back(p.nChannels);
      tight.push_back(p.tightCoincidence);
      type.push_back(static_cast<int>(p.type));
   }
   py::dict peaks;
   peaks["start"] = toNumpy(start);
   peaks["end"] = toNumpy(end);
   peaks["area"] = toNumpy(area);
   peaks["area_top"] = toNumpy(areaTop);
   peaks["time_max"] = toNumpy(timeMax);
   peaks["width50"] = toNumpy(width50);
   peaks["rise_time"] = toNumpy(rise);
   peaks["rise_time_10_90"] = toNumpy(rise1090);
   peaks["n_channels"] = toNumpy(nCh);
   peaks["tight_coincidence"] = toNumpy(tight);
   peaks["type"] = toNumpy(type);
   d["peaks"] = peaks;
   d["largest_s1"] = w.largestS1;
   d["largest_s2"] = w.largestS2;
   return d;
}

WaveformMode waveformMode(const std::string &mode)
{
   if (mode == "channels")
      return WaveformMode::kChannels;
   if (mode == "summed")
      return WaveformMode::kSummed;
   throw UsageError("waveform mode '" + mode + "' is unknown; expected 'channels' or 'summed'");
}

S2Path s2Path(const std::string &path)
{
   if (path == "binned")
      return S2Path::kBinned;
   if (path == "photons")
      return S2Path::kPhotons;
   if (path == "photons_channels")
      return S2Path::kPhotonsChannels;
   throw UsageError("S2 path '" + path + "' is unknown; expected 'binned', 'photons' or 'photons_channels'");
}

void bindWaveforms(py::module_ &m)
{
   py::class_<WaveformParams>(
       m, "WaveformParams", "Pulse-simulation and peak-finder parameters (defaults and sources: tpcml/lxe/Waveform.h)")
       .def(py::init<>())
       .def_static("from_detector", &WaveformParams::fromDetector, py::arg("detector"))
       .def_readwrite("p_dpe", &WaveformParams::pDpe)
       .def_readwrite("spe_resolution", &WaveformParams::speResolution)
       .def_readwrite("transit_time_spread_fwhm", &WaveformParams::transitTimeSpreadFwhm)
       .def_readwrite("gain", &WaveformParams::gain)
       .def_readwrite("sampling_period", &WaveformParams::samplingPeriod)
       .def_readwrite("adc_to_electrons", &WaveformParams::adcToElectrons)
       .def_readwrite("digitizer_bits", &WaveformParams::digitizerBits)
       .def_readwrite("reference_baseline", &WaveformParams::referenceBaseline)
       .def_readwrite("baseline_noise", &WaveformParams::baselineNoise)
       .def_readwrite("zle_threshold", &WaveformParams::zleThreshold)
       .def_readwrite("zle_pre_samples", &WaveformParams::zlePreSamples)
       .def_readwrite("zle_post_samples", &WaveformParams::zlePostSamples)
       .def_readwrite("time_rounding", &WaveformParams::timeRounding)
       .def_readwrite("hit_threshold", &WaveformParams::hitThreshold)
       .def_readwrite("gap_threshold", &WaveformParams::gapThreshold)
       .def_readwrite("left_extension", &WaveformParams::leftExtension)
       .def_readwrite("right_extension", &WaveformParams::rightExtension)
       .def_readwrite("tight_coincidence_window", &WaveformParams::tightCoincidenceWindow)
       .def_readwrite("s1_coincidence_level", &WaveformParams::s1CoincidenceLevel)
       .def_readwrite("s1_max_rise_time", &WaveformParams::s1MaxRiseTime)
       .def_readwrite("s1_max_rise_time_large", &WaveformParams::s1MaxRiseTimeLarge)
       .def_readwrite("s1_large_area", &WaveformParams::s1LargeArea)
       .def_readwrite("s2_min_channels", &WaveformParams::s2MinChannels)
       .def_property(
           "spe_template", [](const WaveformParams &p) { return toNumpy(p.speTemplate.current); },
           [](WaveformParams &p, std::vector<double> v) { p.speTemplate.current = std::move(v); },
           "single-PE current per bin (normalised by the simulator)")
       .def_property(
           "spe_template_t0", [](const WaveformParams &p) { return p.speTemplate.t0; },
           [](WaveformParams &p, double v) { p.speTemplate.t0 = v; }, "ns, start of the first template bin")
       .def_property(
           "spe_template_step", [](const WaveformParams &p) { return p.speTemplate.step; },
           [](WaveformParams &p, double v) { p.speTemplate.step = v; }, "ns per template bin")
       .def("validate", &WaveformParams::validate);

   py::class_<WaveformSimulator>(m, "WaveformSimulator",
                                 "Digitised PMT waveforms, ZLE, summed waveforms and peaks of one S1 or S2")
       .def(py::init<std::size_t, std::size_t, WaveformParams>(), py::arg("n_top"), py::arg("n_bottom"),
            py::arg_v("params", WaveformParams(), "WaveformParams()"))
       .def(py::init<const DetectorConfig &>(), py::arg("detector"))
       .def(
           "simulate",
           [](const WaveformSimulator &s, const Array<int> &ch, const Array<float> &t, std::uint64_t seed,
              std::uint64_t index, bool dense, const std::string &mode) {
              const std::size_t n = commonLength({{"channel", ch.size()}, {"time", t.size()}});
              const WaveformMode wm = waveformMode(mode);
              SignalWaveforms w;
              {
                 ReleaseGil release;
                 w = s.simulate(ch.data(), t.data(), n, seed, index, wm);
              }
              return waveformDict(w, s.nChannels(), dense);
           },
           py::arg("channel"), py::arg("time"), py::arg("seed"), py::arg("index") = 0, py::arg("dense") = false,
           py::arg("mode") = "channels",
           "one signal: detected photons (channel, time ns); random stream (seed, index); mode 'channels' (every "
           "channel digitised) or 'summed' (fast path for S2s, no per-channel pulses)")
       .def(
           "simulate_batch",
           [](const WaveformSimulator &s, const Array<int> &ch, const Array<float> &t, const Array<std::int64_t> &off,
              std::uint64_t seed, unsigned threads, bool dense, const std::string &mode) {
              const WaveformMode wm = waveformMode(mode);
              commonLength({{"channel", ch.size()}, {"time", t.size()}});
              if (off.size() < 1 || off.data()[off.size() - 1] != ch.size())
                 throw UsageError("offsets must have n_signals + 1 entries ending at the photon count " +
                                  std::to_string(ch.size()));
              std::vector<SignalWaveforms> ws;
              {
                 ReleaseGil release;
                 ws = s.simulateBatch(ch.data(), t.data(), off.data(), static_cast<std::size_t>(off.size() - 1), seed,
                                      threads, wm);
              }
              py::list out;
              for (const auto &w : ws)
                 out.append(waveformDict(w, s.nChannels(), dense));
              return out;
           },
           py::arg("channel"), py::arg("time"), py::arg("offsets"), py::arg("seed"), py::arg("threads") = 1,
           py::arg("dense") = false, py::arg("mode") = "channels",
           "signal i: photons offsets[i]:offsets[i+1], stream (seed, i)")
       .def(
           "simulate_electroluminescence",
           [](const WaveformSimulator &s, const Array<double> &te, double mu, double elTime, const Array<double> &prob,
              std::uint64_t seed, std::uint64_t index, const std::string &path, bool dense) {
              if (static_cast<std::size_t>(prob.size()) != s.nChannels())
                 throw UsageError("channel_prob has " + std::to_string(prob.size()) +
                                  " entries; expected one per channel (" + std::to_string(s.nChannels()) + ")");
              const S2Path p = s2Path(path);
              SignalWaveforms w;
              {
                 ReleaseGil release;
                 w = s.simulateElectroluminescence(te.data(), static_cast<std::size_t>(te.size()), mu, elTime,
                                                   prob.data(), seed, index, p);
              }
              return waveformDict(w, s.nChannels(), dense);
           },
           py::arg("electron_time"), py::arg("photons_per_electron"), py::arg("el_time"), py::arg("channel_prob"),
           py::arg("seed"), py::arg("index") = 0, py::arg("path") = "binned", py::arg("dense") = false,
           "S2 of electrons reaching the surface at electron_time (ns): Poisson(photons_per_electron) photons each, "
           "uniform over el_time ns, channels by channel_prob; path 'binned' (fast), 'photons' or 'photons_channels'")
       .def_property_readonly("params", &WaveformSimulator::params)
       .def_property_readonly("n_channels", &WaveformSimulator::nChannels)
       .def_property_readonly("n_top", &WaveformSimulator::nTop)
       .def_property_readonly("adc_per_pe", &WaveformSimulator::adcPerPe);

   py::class_<ScintillationTiming>(m, "ScintillationTiming",
                                   "ER/NR singlet/triplet emission times of LXe (LUX / NEST v2: tpcml/lxe/Waveform.h)")
       .def(py::init<>())
       .def_readwrite("tau_singlet", &ScintillationTiming::tauSinglet)
       .def_readwrite("tau_triplet", &ScintillationTiming::tauTriplet)
       .def("singlet_fraction", &ScintillationTiming::singletFraction, py::arg("is_nr"), py::arg("energy_kev"),
            py::arg("exciton") = true)
       .def_readwrite("nr_ratio_scale", &ScintillationTiming::nrRatioScale)
       .def_readwrite("nr_ratio_power", &ScintillationTiming::nrRatioPower)
       .def_readwrite("er_exciton_ratio_scale", &ScintillationTiming::erExcitonRatioScale)
       .def("recombination_time", &ScintillationTiming::recombinationTime, py::arg("energy_kev"),
            py::arg("field_v_per_cm"))
       .def_readwrite("er_recombination_ratio_scale", &ScintillationTiming::erRecombinationRatioScale)
       .def_readwrite("er_ratio_power", &ScintillationTiming::erRatioPower)
       .def_readwrite("recombination_time_scale", &ScintillationTiming::recombinationTimeScale)
       .def("validate", &ScintillationTiming::validate)
       .def_readwrite("recombination_field_coefficient", &ScintillationTiming::recombinationFieldCoefficient)
       .def_readwrite("recombination_time_offset", &ScintillationTiming::recombinationTimeOffset)
       .def_readwrite("recombination_time_slope", &ScintillationTiming::recombinationTimeSlope)
       .def_readwrite("max_recombination_time", &ScintillationTiming::maxRecombinationTime)
       .def(
           "emission_times",
           [](const ScintillationTiming &st, bool isNR, double energy, double field, std::size_t nEx, std::size_t nRec,
              std::uint64_t seed, std::uint64_t index) {
              py::array_t<float> out(static_cast<py::ssize_t>(nEx + nRec));
              st.emissionTimes(isNR, energy, field, nEx, nRec, seed, index, out.mutable_data());
              return out;
           },
           py::arg("is_nr"), py::arg("energy_kev"), py::arg("field_v_per_cm"), py::arg("n_excitons"),
           py::arg("n_recombined"), py::arg("seed"), py::arg("index") = 0,
           "emission times (ns) of n_excitons exciton photons then n_recombined recombination photons");
}

py::array_t<bool> toBool(const std::vector<std::uint8_t> &v)
{
   py::array_t<bool> a(static_cast<py::ssize_t>(v.size()));
   std::transform(v.begin(), v.end(), a.mutable_data(), [](std::uint8_t u) { return u != 0; });
   return a;
}

/// Columns of an LXe event batch under the events-tree names (docs: tpcml/lxe/LXeEvents.h), one row per
/// generated event, with the masks kept / triggered / has_s1 / has_s2 and the pmt_waveforms rows.
py::dict eventDict(const LXeEventBatch &b)
{
   py::dict d;
   const std::size_t n = b.size();
   d["kept"] = toBool(b.kept);
   d["triggered"] = toBool(b.triggered);
   d["has_s1"] = toBool(b.hasS1);
   d["has_s2"] = toBool(b.hasS2);
   const std::pair<const char *, const std::vector<float> *> floats[] = {{"s1_area", &b.s1Area},
                                                                         {"s1_area_top", &b.s1AreaTop},
                                                                         {"s2_area", &b.s2Area},
                                                                         {"s2_area_top", &b.s2AreaTop},
                                                                         {"s1_width50", &b.s1Width50},
                                                                         {"s1_rise_time", &b.s1RiseTime},
                                                                         {"s2_width50", &b.s2Width50},
                                                                         {"s2_rise_time", &b.s2RiseTime},
                                                                         {"x", &b.x},
                                                                         {"y", &b.y},
                                                                         {"drift_time", &b.driftTime},
                                                                         {"z", &b.z},
                                                                         {"cS1", &b.cS1},
                                                                         {"cS2", &b.cS2},
                                                                         {"cS2_bottom", &b.cS2Bottom},
                                                                         {"s1_waveform_dt", &b.s1WaveformDt},
                                                                         {"s2_waveform_dt", &b.s2WaveformDt},
                                                                         {"s1_waveform_t0", &b.s1WaveformT0},
                                                                         {"s2_waveform_t0", &b.s2WaveformT0}};
   for (const auto &[name, v] : floats)
      d[name] = toNumpy(*v);
   d["s1_n_channels"] = toNumpy(b.s1NChannels);
   d["n_peaks"] = toNumpy(b.nPeaks);
   d["s1_pmt_area"] = toNumpy2D(b.s1PmtArea, n, b.nPmt);
   d["s2_pmt_area"] = toNumpy2D(b.s2PmtArea, n, b.nPmt);
   const std::pair<const char *, const std::vector<float> *> waves[] = {{"s1_waveform", &b.s1Waveform},
                                                                        {"s1_waveform_top", &b.s1WaveformTop},
                                                                        {"s1_waveform_bottom", &b.s1WaveformBottom},
                                                                        {"s2_waveform", &b.s2Waveform},
                                                                        {"s2_waveform_top", &b.s2WaveformTop},
                                                                        {"s2_waveform_bottom", &b.s2WaveformBottom}};
   for (const auto &[name, v] : waves)
      d[name] = toNumpy2D(*v, n, b.nSamples);
   const std::size_t r = b.pmtWaveforms.size();
   std::vector<std::uint64_t> event(r);
   std::vector<int> signal(r), channel(r);
   std::vector<float> t0(r), dt(r), samples(r * b.nSamples);
   for (std::size_t k = 0; k < r; ++k) {
      const auto &row = b.pmtWaveforms[k];
      event[k] = row.event;
      signal[k] = row.signal;
      channel[k] = row.channel;
      t0[k] = row.t0;
      dt[k] = row.dt;
      std::copy(row.samples.begin(), row.samples.end(), samples.begin() + static_cast<std::ptrdiff_t>(k * b.nSamples));
   }
   py::dict w;
   w["event"] = toNumpy(event);
   w["signal"] = toNumpy(signal);
   w["channel"] = toNumpy(channel);
   w["t0"] = toNumpy(t0);
   w["dt"] = toNumpy(dt);
   w["samples"] = toNumpy2D(samples, r, b.nSamples);
   d["pmt_waveforms"] = w;
   return d;
}

void bindEvents(py::module_ &m)
{
   py::class_<LXeEventSimulator>(m, "LXeEventSimulator",
                                 "Full LXe TPC events: per-PMT S1/S2 areas, peak waveforms, corrected areas, position "
                                 "(tpcml/lxe/LXeEvents.h)")
       .def(py::init<const DetectorConfig &>(), py::arg("detector"))
       .def_property_readonly("response", &LXeEventSimulator::response, py::return_value_policy::reference_internal)
       .def_property_readonly("waveforms", &LXeEventSimulator::waveforms, py::return_value_policy::reference_internal)
       .def_property_readonly("n_pmt", &LXeEventSimulator::nPmt)
       .def(
           "simulate",
           [](const LXeEventSimulator &sim, const Array<float> &x, const Array<float> &y, const Array<float> &z,
              const Array<float> &t, const Array<int> &nph, const Array<int> &ne, const Array<int> &recoil,
              const Array<float> &energy, const std::optional<Array<int>> &nex, std::uint64_t seed, unsigned threads,
              std::size_t pmtWaveformEvents, int samples, double fastThreshold, const std::string &path,
              std::uint64_t firstIndex) {
              const std::size_t n = commonLength({{"x", x.size()},
                                                  {"y", y.size()},
                                                  {"z", z.size()},
                                                  {"drift_time", t.size()},
                                                  {"n_photons", nph.size()},
                                                  {"n_electrons", ne.size()},
                                                  {"recoil", recoil.size()},
                                                  {"energy", energy.size()}});
              if (nex && static_cast<std::size_t>(nex->size()) != n)
                 throw UsageError("n_excitons has " + std::to_string(nex->size()) + " entries; expected " +
                                  std::to_string(n));
              LXeEventInput in;
              in.x = x.data();
              in.y = y.data();
              in.z = z.data();
              in.driftTime = t.data();
              in.nPhotons = nph.data();
              in.nElectrons = ne.data();
              in.recoil = recoil.data();
              in.energy = energy.data();
              in.nExcitons = nex ? nex->data() : nullptr;
              LXeEventOptions opt;
              opt.pmtWaveformEvents = pmtWaveformEvents;
              opt.waveformSamples = samples;
              opt.s2FastThreshold = fastThreshold;
              opt.firstIndex = firstIndex;
              if (path != "auto") {
                 opt.forceS2Path = true;
                 opt.s2Path = s2Path(path);
              }
              LXeEventBatch b;
              {
                 ReleaseGil release;
                 b = sim.simulate(in, n, seed, threads, opt);
              }
              return eventDict(b);
           },
           py::arg("x"), py::arg("y"), py::arg("z"), py::arg("drift_time"), py::arg("n_photons"),
           py::arg("n_electrons"), py::arg("recoil"), py::arg("energy"), py::arg("n_excitons") = py::none(),
           py::arg("seed") = 0, py::arg("threads") = 1, py::arg("pmt_waveform_events") = 0,
           py::arg("waveform_samples") = 200, py::arg("s2_fast_threshold") = 1000.0, py::arg("s2_path") = "auto",
           py::arg("first_index") = 0,
           "n events (one row each, 'kept' marks triggered events with an S1 and an S2); s2_path 'auto' (binned "
           "above s2_fast_threshold expected photons), 'binned', 'photons' or 'photons_channels'; event i draws from "
           "the streams of index first_index + i (batches of "
           "one run give the same events as one call)");
}

} // namespace

void registerLXe(py::module_ &m)
{
   for (auto bind : {bindDriftCorrections, bindOptics, bindPositionCorrections, bindResponse, bindNRMedian,
                     bindWaveforms, bindEvents})
      bind(m);
}

} // namespace tpcml::bindings
