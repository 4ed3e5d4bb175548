// tpcml._core -- one register_<folder> function per C++ folder (core, lxe, pairing, imaging, onnx);
// module.cpp only calls them.
#pragma once

#include "tpcml/core/RootIO.h"

#include <pybind11/pybind11.h>

namespace tpcml::bindings {

/// Releases the GIL for C++ work. ROOT's messages first go to ROOT's own handler (stderr):
/// PyROOT's handler calls into Python, which without the GIL is a segfault (a Snapshot
/// warning on an RNTuple input crashed score_files). Members are built in order and
/// destroyed in reverse: the handler is swapped with the GIL held, and restored after.
struct ReleaseGil {
   tpcml::RootMessagesToStderr messages;
   pybind11::gil_scoped_release release;
};

void registerCore(pybind11::module_ &m);
void registerLXe(pybind11::module_ &m);
void registerPairing(pybind11::module_ &m);
void registerOnnx(pybind11::module_ &m);
void registerImaging(pybind11::module_ &m);
} // namespace tpcml::bindings
