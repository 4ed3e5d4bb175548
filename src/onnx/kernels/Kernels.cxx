// tpcml (private) -- run-time choice of the kernel table (see Kernels.h).
#include "onnx/kernels/Kernels.h"

#include <cstdlib>
#include <algorithm>
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

namespace tpcml::onnx::kernels {

namespace {
constexpr int64_t kSlack = 32; // >= the widest vector (16 floats) plus one, see Window2d
}

Window2d window2d(int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                  int64_t dh, int64_t dw, int64_t padTop, int64_t padLeft)
{
   Window2d w{H, W, Ho, Wo, kh, kw, sh, sw, dh, dw, padTop, padLeft}; // the given fields, in their order
   // tap (ki, kj) of output (oh, ow) reads padded input (sh*oh + ki*dh, sw*ow + kj*dw), i.e. phase
   // ((ki*dh) % sh, (kj*dw) % sw) at (oh + ki*dh/sh, ow + kj*dw/sw)
   w.Hq = Ho + (kh - 1) * dh / sh;
   w.Wq = Wo + (kw - 1) * dw / sw;
   // the wide layout runs over Ho * Wq outputs in whole vectors: reads reach past the last
   // row by up to Wq + one vector
   w.plane = (w.Hq * w.Wq + w.Wq + kSlack + 15) / 16 * 16;
   for (int64_t b = 0; b < sw && b < Window2d::kMaxPhases; ++b) {
      // columns c with 0 <= sw*c + b - padLeft < W
      const int64_t off = b - padLeft;
      int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
      int64_t hi = W - off <= 0 ? 0 : (W - off + sw - 1) / sw;
      lo = std::min(lo, w.Wq);
      w.colLo[b] = lo;
      w.colHi[b] = std::max(lo, std::min(hi, w.Wq));
   }
   return w;
}

int64_t phaseFloats(const Window2d &w)
{
   return w.sh * w.sw * w.plane;
}

int64_t tapOffset(const Window2d &w, int64_t ki, int64_t kj)
{
   const int64_t r = ki * w.dh, c = kj * w.dw;
   return ((r % w.sh) * w.sw + c % w.sw) * w.plane + (r / w.sh) * w.Wq + c / w.sw;
}

int64_t windowWorkspace(const Window2d &w)
{
   return phaseFloats(w) + w.Ho * w.Wq + kSlack;
}

} // namespace tpcml::onnx::kernels
