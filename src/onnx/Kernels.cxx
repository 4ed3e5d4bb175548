// tpcml (private) -- run-time choice of the kernel table (see Kernels.h).
#include "Kernels.h"

#include <cstdlib>
#include <cstring>

namespace tpcml::onnx::kernels {

const KernelTable &table()
{
   static const KernelTable chosen = [] {
      const char *forced = std::getenv("TPCML_ISA");
      __builtin_cpu_init();
      const bool avx512 = __builtin_cpu_supports("avx512f");
      const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
      if (forced && std::strcmp(forced, "base") == 0)
         return tableBase();
      if (forced && std::strcmp(forced, "avx2") == 0 && avx2)
         return tableAvx2();
      if (avx512 && !(forced && std::strcmp(forced, "avx2") == 0))
         return tableAvx512();
      if (avx2)
         return tableAvx2();
      return tableBase();
   }();
   return chosen;
}

} // namespace tpcml::onnx::kernels
