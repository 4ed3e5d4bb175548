#include "register.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"
#include "tpcml/core/Version.h"

namespace py = pybind11;

namespace {

/// A Python exception class `tpcml._core.<name>` with the given bases, added to the module.
py::object newException(py::module_ &m, const char *name, std::initializer_list<py::handle> bases, const char *doc)
{
   const std::string qualified = std::string(py::str(m.attr("__name__"))) + "." + name;
   py::tuple b(bases.size());
   std::size_t i = 0;
   for (py::handle h : bases)
      b[i++] = py::reinterpret_borrow<py::object>(h);
   py::object cls =
       py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(qualified.c_str(), doc, b.ptr(), nullptr));
   if (!cls)
      throw py::error_already_set();
   m.attr(name) = cls;
   return cls;
}

/// The exception hierarchy: every tpcml error derives from the base `Error` (tpcml.TpcmlError) and from
/// the matching builtin, so that `except tpcml.TpcmlError` and `except ValueError` both catch a ConfigError.
/// C++ exceptions become them, carrying the same message.
void registerErrors(py::module_ &m)
{
   static py::object base = newException(m, "Error", {PyExc_RuntimeError}, "Base of every tpcml error.");
   static py::object config =
       newException(m, "ConfigError", {base, PyExc_ValueError}, "An invalid detector configuration or registry entry.");
   static py::object input =
       newException(m, "InputError", {base, PyExc_OSError}, "An input that cannot be read or does not fit.");
   static py::object usage =
       newException(m, "UsageError", {base, PyExc_ValueError}, "An invalid argument or call sequence.");
   py::register_exception_translator([](std::exception_ptr p) {
      try {
         if (p)
            std::rethrow_exception(p);
      } catch (const tpcml::ConfigError &e) {
         py::set_error(config, tpcml::validUtf8(e.what()).c_str());
      } catch (const tpcml::InputError &e) {
         py::set_error(input, tpcml::validUtf8(e.what()).c_str());
      } catch (const tpcml::UsageError &e) {
         py::set_error(usage, tpcml::validUtf8(e.what()).c_str());
      } catch (const tpcml::Error &e) {
         py::set_error(base, tpcml::validUtf8(e.what()).c_str());
      }
   });
}

} // namespace

PYBIND11_MODULE(_core, m)
{
   m.doc() = "tpcml private compiled module (use the public tpcml package instead)";
   registerErrors(m);
   tpcml::bindings::registerCore(m);
   tpcml::bindings::registerLXe(m);
   tpcml::bindings::registerPairing(m);
   tpcml::bindings::registerImaging(m);
   tpcml::bindings::registerOnnx(m);
}
