// tpcml -- version and build information.
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_VERSION_H
#define TPCML_VERSION_H

#include <string>

namespace tpcml {

/// tpcml version, e.g. "0.1.0".
std::string version();
/// ROOT version tpcml runs against (from gROOT), e.g. "6.40/00".
std::string rootVersion();
/// Compiler tpcml was built with, e.g. "GNU 12.2.0".
std::string compilerVersion();
/// Directory holding libtpcml (found at run time, so it works when relocated).
std::string libraryDirectory();

} // namespace tpcml

#endif // TPCML_VERSION_H
