// tpcml (private) -- shapes and shape-generic data movement (broadcasting, transpose,
// slice, gather, concat) shared by the run-time float kernels and the load-time folding
// of int64 shape subgraphs.
#ifndef TPCML_SRC_ONNX_TENSOR_H
#define TPCML_SRC_ONNX_TENSOR_H

#include <cstdint>
#include <string>
#include <vector>

namespace tpcml::onnx::detail {

using Shape = std::vector<int64_t>;

inline int64_t numel(const Shape &s)
{
   int64_t n = 1;
   for (int64_t d : s)
      n *= d;
   return n;
}

inline std::string shapeString(const Shape &s)
{
   std::string out = "[";
   for (std::size_t k = 0; k < s.size(); ++k)
      out += (k ? ", " : "") + std::to_string(s[k]);
   return out + "]";
}

/// Row-major strides of a shape.
inline Shape stridesOf(const Shape &s)
{
   Shape st(s.size(), 1);
   for (std::size_t k = s.size(); k-- > 1;)
      st[k - 1] = st[k] * s[k];
   return st;
}

/// Index scratch for odometer loops: on the stack up to rank 16 (no heap allocation at run
/// time), on the heap beyond.
class IndexBuf {
public:
   explicit IndexBuf(std::size_t rank)
   {
      if (rank > kStack)
         m_heap.assign(rank, 0);
      m_p = rank > kStack ? m_heap.data() : m_stack;
   }
   IndexBuf(const IndexBuf &) = delete;
   IndexBuf &operator=(const IndexBuf &) = delete;
   int64_t &operator[](std::size_t k) { return m_p[k]; }
   int64_t operator[](std::size_t k) const { return m_p[k]; }

private:
   static constexpr std::size_t kStack = 16;
   int64_t m_stack[kStack] = {};
   std::vector<int64_t> m_heap;
   int64_t *m_p;
};

/// A plan for iterating one output of a broadcast binary operation: dimensions collapsed
/// where both operands behave alike, innermost dimension last.
struct BroadcastLoop {
   Shape dims;             ///< collapsed output dims
   Shape strideA, strideB; ///< element strides of A and B per collapsed dim (0: broadcast)
   static bool make(const Shape &a, const Shape &b, Shape &out, BroadcastLoop &loop);
};

inline bool BroadcastLoop::make(const Shape &a, const Shape &b, Shape &out, BroadcastLoop &loop)
{
   const std::size_t r = a.size() > b.size() ? a.size() : b.size();
   Shape ea(r, 1), eb(r, 1);
   for (std::size_t k = 0; k < a.size(); ++k)
      ea[r - a.size() + k] = a[k];
   for (std::size_t k = 0; k < b.size(); ++k)
      eb[r - b.size() + k] = b[k];
   out.assign(r, 1);
   for (std::size_t k = 0; k < r; ++k) {
      if (ea[k] == eb[k] || eb[k] == 1)
         out[k] = ea[k];
      else if (ea[k] == 1)
         out[k] = eb[k];
      else
         return false;
   }
   const Shape sa = stridesOf(ea), sb = stridesOf(eb);
   loop = BroadcastLoop{};
   for (std::size_t k = 0; k < r; ++k) {
      if (out[k] == 1)
         continue; // size-1 dims do not move
      const int64_t ta = ea[k] == 1 ? 0 : sa[k], tb = eb[k] == 1 ? 0 : sb[k];
      if (!loop.dims.empty()) {
         const std::size_t l = loop.dims.size() - 1;
         // merge with the previous dim when both operands continue contiguously (or both broadcast)
         const bool contA = (ta == 0 && loop.strideA[l] == 0) || (ta != 0 && loop.strideA[l] == ta * out[k]);
         const bool contB = (tb == 0 && loop.strideB[l] == 0) || (tb != 0 && loop.strideB[l] == tb * out[k]);
         if (contA && contB) {
            loop.dims[l] *= out[k];
            loop.strideA[l] = ta;
            loop.strideB[l] = tb;
            continue;
         }
      }
      loop.dims.push_back(out[k]);
      loop.strideA.push_back(ta);
      loop.strideB.push_back(tb);
   }
   if (loop.dims.empty()) {
      loop.dims = {1};
      loop.strideA = {0};
      loop.strideB = {0};
   }
   return true;
}

/// Walks a BroadcastLoop one innermost run at a time: run(offA, offB, offOut, inner, ia, ib) for the
/// run of `inner` outputs at offOut, reading a from offA in steps of ia and b from offB in steps of ib.
template <typename F> void forEachRun(const BroadcastLoop &loop, F run)
{
   const std::size_t r = loop.dims.size();
   const int64_t inner = loop.dims[r - 1], ia = loop.strideA[r - 1], ib = loop.strideB[r - 1];
   int64_t outer = 1;
   for (std::size_t k = 0; k + 1 < r; ++k)
      outer *= loop.dims[k];
   if (outer == 0 || inner == 0)
      return;
   IndexBuf idx(r);
   int64_t offA = 0, offB = 0;
   for (int64_t o = 0; o < outer; ++o) {
      run(offA, offB, o * inner, inner, ia, ib);
      for (std::size_t k = r - 1; k-- > 0;) { // odometer over the outer dims
         offA += loop.strideA[k];
         offB += loop.strideB[k];
         if (++idx[k] < loop.dims[k])
            break;
         offA -= loop.strideA[k] * loop.dims[k];
         offB -= loop.strideB[k] * loop.dims[k];
         idx[k] = 0;
      }
   }
}

/// out[...] = f(a[...], b[...]) over a BroadcastLoop.
template <typename T, typename F> void broadcastApply(const BroadcastLoop &loop, const T *a, const T *b, T *out, F f)
{
   forEachRun(loop, [&](int64_t offA, int64_t offB, int64_t offOut, int64_t inner, int64_t ia, int64_t ib) {
      const T *pa = a + offA, *pb = b + offB;
      T *po = out + offOut;
      if (ia == 1 && ib == 1)
         for (int64_t j = 0; j < inner; ++j)
            po[j] = f(pa[j], pb[j]);
      else if (ia == 1 && ib == 0)
         for (int64_t j = 0; j < inner; ++j)
            po[j] = f(pa[j], pb[0]);
      else if (ia == 0 && ib == 1)
         for (int64_t j = 0; j < inner; ++j)
            po[j] = f(pa[0], pb[j]);
      else
         for (int64_t j = 0; j < inner; ++j)
            po[j] = f(pa[j * ia], pb[j * ib]);
   });
}

/// Row-major element strides of shape s into st.
inline void rowMajorStrides(const Shape &s, IndexBuf &st)
{
   for (std::size_t k = s.size(), acc = 1; k-- > 0;) {
      st[k] = int64_t(acc);
      acc *= std::size_t(s[k]);
   }
}

/// The strided walk of transpose and slice: out (n elements, shape dims of rank r, row-major) takes
/// out[i...] = in[off + sum_k i_k * stride[k]]; the last axis runs as a plain loop.
template <typename T, typename Dims>
void stridedCopy(const T *in, int64_t off, const Dims &dims, const IndexBuf &stride, std::size_t r, int64_t n, T *out)
{
   if (n == 0)
      return;
   if (r == 0) {
      out[0] = in[0];
      return;
   }
   IndexBuf idx(r);
   const int64_t inner = dims[r - 1], is = stride[r - 1];
   for (int64_t o = 0; o < n; o += inner) {
      for (int64_t j = 0; j < inner; ++j)
         out[o + j] = in[off + j * is];
      for (std::size_t k = r - 1; k-- > 0;) {
         off += stride[k];
         if (++idx[k] < dims[k])
            break;
         off -= stride[k] * dims[k];
         idx[k] = 0;
      }
   }
}

/// Transposes `in` (shape s) by perm into out.
template <typename T> void transposeTo(const T *in, const Shape &s, const Shape &perm, T *out)
{
   const std::size_t r = s.size();
   IndexBuf st(r), outDims(r), inStride(r);
   rowMajorStrides(s, st);
   for (std::size_t k = 0; k < r; ++k) {
      outDims[k] = s[std::size_t(perm[k])];
      inStride[k] = st[std::size_t(perm[k])];
   }
   stridedCopy(in, 0, outDims, inStride, r, numel(s), out);
}

/// Strided slice: out[i...] = in[start + i*step ...], out shape given.
template <typename T>
void sliceTo(const T *in, const Shape &s, const Shape &start, const Shape &step, const Shape &outShape, T *out)
{
   const std::size_t r = s.size();
   IndexBuf st(r), jump(r);
   rowMajorStrides(s, st);
   int64_t base = 0;
   for (std::size_t k = 0; k < r; ++k) {
      base += start[k] * st[k];
      jump[k] = step[k] * st[k];
   }
   stridedCopy(in, base, outShape, jump, r, numel(outShape), out);
}

/// Gather along axis with already normalised (non-negative) indices.
template <typename T>
void gatherTo(const T *in, const Shape &s, int64_t axis, const std::vector<int64_t> &indices, T *out)
{
   int64_t outer = 1, inner = 1;
   for (int64_t k = 0; k < axis; ++k)
      outer *= s[k];
   for (std::size_t k = std::size_t(axis) + 1; k < s.size(); ++k)
      inner *= s[k];
   const int64_t n = int64_t(indices.size()), a = s[axis];
   for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < n; ++j) {
         const T *src = in + (o * a + indices[j]) * inner;
         T *dst = out + (o * n + j) * inner;
         for (int64_t q = 0; q < inner; ++q)
            dst[q] = src[q];
      }
}

/// Concatenates along axis.
template <typename T>
void concatTo(const std::vector<const T *> &ins, const std::vector<Shape> &shapes, int64_t axis, T *out)
{
   int64_t outer = 1;
   for (int64_t k = 0; k < axis; ++k)
      outer *= shapes[0][k];
   std::vector<int64_t> block(ins.size());
   int64_t total = 0;
   for (std::size_t i = 0; i < ins.size(); ++i) {
      block[i] = 1;
      for (std::size_t k = std::size_t(axis); k < shapes[i].size(); ++k)
         block[i] *= shapes[i][k];
      total += block[i];
   }
   for (int64_t o = 0; o < outer; ++o) {
      T *dst = out + o * total;
      for (std::size_t i = 0; i < ins.size(); ++i) {
         const T *src = ins[i] + o * block[i];
         for (int64_t q = 0; q < block[i]; ++q)
            dst[q] = src[q];
         dst += block[i];
      }
   }
}

} // namespace tpcml::onnx::detail

#endif // TPCML_SRC_ONNX_TENSOR_H
