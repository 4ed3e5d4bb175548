// tpcml -- exception hierarchy. Messages name the file, key, branch or value at
// fault and what was expected, so that the user can fix the input at once.
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_ERROR_H
#define TPCML_ERROR_H

#include <stdexcept>
#include <string>

namespace tpcml {

/// Base of all tpcml errors.
class Error : public std::runtime_error {
public:
   explicit Error(const std::string &what) : std::runtime_error(what) {}
};

/// A configuration file (detector TOML, model metadata) is malformed or invalid.
class ConfigError : public Error {
public:
   explicit ConfigError(const std::string &what) : Error(what) {}
};

/// An input file, tree or branch is missing, unreadable or of the wrong type.
class InputError : public Error {
public:
   explicit InputError(const std::string &what) : Error(what) {}
};

/// A command-line or function argument is invalid.
class UsageError : public Error {
public:
   explicit UsageError(const std::string &what) : Error(what) {}
};

} // namespace tpcml

#endif // TPCML_ERROR_H
