#include "tpcml/core/Version.h"

#include "tpcml/core/Config.h"

#include "core/BuildInfo.h"

#include <TROOT.h>

#include <dlfcn.h>

#include <filesystem>

namespace tpcml {

std::string version()
{
   return TPCML_VERSION_STRING;
}

std::string rootVersion()
{
   return gROOT ? gROOT->GetVersion() : "unknown";
}

std::string compilerVersion()
{
   return TPCML_CXX_COMPILER;
}

std::string libraryDirectory()
{
   Dl_info info{};
   // The address of any function of this library identifies the shared object it lives in.
   if (dladdr(reinterpret_cast<void *>(&libraryDirectory), &info) == 0 || info.dli_fname == nullptr)
      return {};
   std::error_code ec;
   auto path = std::filesystem::canonical(info.dli_fname, ec);
   if (ec)
      path = info.dli_fname;
   return path.parent_path().string();
}

} // namespace tpcml
