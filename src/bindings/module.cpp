#include "register.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"
#include "tpcml/core/Version.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m)
{
   m.doc() = "tpcml private compiled module (use the public tpcml package instead)";
   // C++ exceptions become Python exceptions carrying the same message.
   static py::exception<tpcml::Error> baseError(m, "Error", PyExc_RuntimeError);
   static py::exception<tpcml::ConfigError> configError(m, "ConfigError", PyExc_ValueError);
   static py::exception<tpcml::InputError> inputError(m, "InputError", PyExc_OSError);
   static py::exception<tpcml::UsageError> usageError(m, "UsageError", PyExc_ValueError);
   py::register_exception_translator([](std::exception_ptr p) {
      try {
         if (p)
            std::rethrow_exception(p);
      } catch (const tpcml::ConfigError &e) {
         py::set_error(configError, tpcml::validUtf8(e.what()).c_str());
      } catch (const tpcml::InputError &e) {
         py::set_error(inputError, tpcml::validUtf8(e.what()).c_str());
      } catch (const tpcml::UsageError &e) {
         py::set_error(usageError, tpcml::validUtf8(e.what()).c_str());
      } catch (const tpcml::Error &e) {
         py::set_error(baseError, tpcml::validUtf8(e.what()).c_str());
      }
   });

   m.def("version", &tpcml::version, "tpcml C++ library version");
   m.def("root_version", &tpcml::rootVersion, "ROOT version the library runs against");
   m.def("compiler_version", &tpcml::compilerVersion, "compiler the library was built with");
   m.def("library_directory", &tpcml::libraryDirectory, "directory holding libtpcml");

   tpcml::bindings::registerDetector(m);
   tpcml::bindings::registerRootIO(m);
   tpcml::bindings::registerCorrections(m);
   tpcml::bindings::registerLXe(m);
   tpcml::bindings::registerRaster(m);
   tpcml::bindings::registerOnnx(m);
   tpcml::bindings::registerOnnxSchema(m);
}
