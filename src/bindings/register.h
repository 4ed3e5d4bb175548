// tpcml._core -- one register_<area> function per area; module.cpp only calls them.
#pragma once

#include <pybind11/pybind11.h>

namespace tpcml::bindings {
void registerDetector(pybind11::module_ &m);
void registerRootIO(pybind11::module_ &m);
void registerCorrections(pybind11::module_ &m);
void registerLXe(pybind11::module_ &m);
void registerOnnx(pybind11::module_ &m);
void registerOnnxSchema(pybind11::module_ &m);
void registerRaster(pybind11::module_ &m);
} // namespace tpcml::bindings
