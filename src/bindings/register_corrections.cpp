#include "register.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/lxe/DriftCorrection.h"

#include <pybind11/numpy.h>

#include <stdexcept>

namespace py = pybind11;

namespace tpcml::bindings {

namespace {
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

void requireSameShape(const FloatArray &a, const FloatArray &b, const char *na, const char *nb)
{
   if (a.ndim() != 1 || b.ndim() != 1)
      throw std::invalid_argument(std::string("expected 1-D arrays for ") + na + " and " + nb);
   if (a.shape(0) != b.shape(0))
      throw std::invalid_argument(std::string(na) + " and " + nb + " differ in length: " + std::to_string(a.shape(0)) +
                                  " vs " + std::to_string(b.shape(0)));
}
} // namespace

void registerCorrections(py::module_ &m)
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
            py::arg("drift_time_us"), "exp(-t / tau): the fraction of electrons surviving a drift time t (us); scalar or array")
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

} // namespace tpcml::bindings
