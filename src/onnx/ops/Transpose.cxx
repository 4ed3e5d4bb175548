// tpcml (private) -- Transpose (tiled 2-D transposes after merging adjacent axes).
// Semantics follow the ONNX operator specification (https://onnx.ai/onnx/operators/).
#include "onnx/ops/Transpose.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tpcml::onnx::detail {
namespace {

using kernels::Activation;
using kernels::ActKind;

/// out[c * rows + r] = in[r * C + c]: a rows x C matrix with few columns, transposed.
template <int C> void deinterleaveRows(const float *__restrict in, int64_t rows, float *__restrict out)
{
   for (int64_t r = 0; r < rows; ++r)
      for (int c = 0; c < C; ++c)
         out[c * rows + r] = in[r * C + c];
}

} // namespace

void TransposeKernel::prepare()
{
   // merged groups of input dims, in output order
   std::vector<Shape> groups;
   for (std::size_t k = 0; k < perm.size(); ++k) {
      if (!groups.empty() && groups.back().back() + 1 == perm[k])
         groups.back().push_back(perm[k]);
      else
         groups.push_back({perm[k]});
   }
   auto size = [&](const Shape &g) {
      int64_t n = 1;
      for (int64_t d : g)
         n *= shape[std::size_t(d)];
      return n;
   };
   if (groups.size() == 2 && groups[0][0] > groups[1][0]) { // (A, B) -> (B, A)
      rows = size(groups[1]);
      cols = size(groups[0]);
   } else if (groups.size() == 3 && groups[0][0] == 0 && groups[1][0] > groups[2][0]) { // (N, A, B) -> (N, B, A)
      batches = size(groups[0]);
      rows = size(groups[2]);
      cols = size(groups[1]);
   }
}

void TransposeKernel::run(float *const *v, float *) const
{
   const float *x = v[inputs[0]];
   float *y = v[outputs[0]];
   if (rows == 0) {
      transposeTo(x, shape, perm, y);
      return;
   }
   constexpr int64_t T = 16;
   for (int64_t b = 0; b < batches; ++b) {
      const float *in = x + b * rows * cols;
      float *out = y + b * rows * cols;
      if (cols == 3) { // an NHWC RGB image to NCHW (the compiler vectorises the stride-3 group)
         deinterleaveRows<3>(in, rows, out);
         continue;
      }
      if (cols == 2) {
         deinterleaveRows<2>(in, rows, out);
         continue;
      }
      for (int64_t r0 = 0; r0 < rows; r0 += T)
         for (int64_t c0 = 0; c0 < cols; c0 += T) {
            const int64_t r1 = std::min(rows, r0 + T), c1 = std::min(cols, c0 + T);
            for (int64_t r = r0; r < r1; ++r)
               for (int64_t cc = c0; cc < c1; ++cc)
                  out[cc * rows + r] = in[r * cols + cc];
         }
   }
}

void opTranspose(NodeCtx &c)
{
   c.requireInputs(1, 1);
   const Shape &xs = c.shape(0);
   const int64_t r = int64_t(xs.size());
   Shape perm = c.attrInts("perm");
   if (!c.hasAttr("perm")) // the default reverses the axes; a given perm (even []) must have one entry per axis
      for (int64_t d = r; d-- > 0;)
         perm.push_back(d);
   if (int64_t(perm.size()) != r)
      c.fail(quoted("perm", perm) + " has " + std::to_string(perm.size()) + " entries for an input of rank " +
             std::to_string(r) + " " + shapeString(xs));
   std::vector<bool> seen(std::size_t(r), false);
   Shape out;
   for (int64_t &p : perm) {
      if (p < 0 || p >= r || seen[std::size_t(p)])
         c.fail(quoted("perm", perm) + " is not a permutation of 0.." + std::to_string(r - 1) +
                " (the input has rank " + std::to_string(r) + ")");
      seen[std::size_t(p)] = true;
      out.push_back(xs[std::size_t(p)]);
   }
   if (r > 0 && perm[0] != 0)
      c.mixesEvents(quoted("perm", perm) + " moves axis 0, the batch axis");
   if (moveInt64AtLoad(c, out, [&](const int64_t *x, int64_t *y) { transposeTo(x, xs, perm, y); }))
      return;
   auto k = std::make_unique<TransposeKernel>();
   k->shape = xs;
   k->perm = perm;
   k->prepare();
   emitOnInput0(c, std::move(k), out);
}

} // namespace tpcml::onnx::detail
