// Helpers of the bindings for numpy arrays in and out.
#pragma once

#include "tpcml/core/Error.h"

#include <pybind11/numpy.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace tpcml::bindings {

namespace py = pybind11;

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
inline std::size_t commonLength(std::initializer_list<std::pair<const char *, py::ssize_t>> sizes)
{
   const auto &first = *sizes.begin();
   for (const auto &s : sizes)
      if (s.second != first.second)
         throw UsageError(std::string("array '") + s.first + "' has " + std::to_string(s.second) + " entries but '" +
                          first.first + "' has " + std::to_string(first.second));
   return static_cast<std::size_t>(first.second);
}

} // namespace tpcml::bindings
