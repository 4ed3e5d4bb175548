// tpcml -- the exit status of a door (executable, macro): one rule for all.
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_GUARDED_H
#define TPCML_GUARDED_H

#include "tpcml/core/Error.h"

#include <exception>
#include <iostream>
#include <string>

namespace tpcml {

/// Runs `body` (returning the status, 0 on success) and turns exceptions into the status of a
/// door: a UsageError (bad argument) is 2, any other std::exception (tpcml's InputError and
/// ConfigError, ROOT's own, e.g. RDataFrame's std::invalid_argument on a missing file) is 1;
/// each prints one line "NAME: error: message" on stderr.
///   int my_macro(...) { return tpcml::runGuarded("my_macro", [&] { ...; return 0; }); }
template <class Body> int runGuarded(const std::string &name, Body &&body)
{
   try {
      return body();
   } catch (const UsageError &e) {
      std::cerr << name << ": error: " << e.what() << "\n";
      return 2;
   } catch (const std::exception &e) {
      std::cerr << name << ": error: " << e.what() << "\n";
      return 1;
   }
}

} // namespace tpcml

#endif // TPCML_GUARDED_H
