// tpcml (private) -- the latency-bound path of a dense chain: one row (one event) through every
// layer with the hidden activations kept in registers. Included by KernelsImpl.inl inside its
// anonymous namespace (once per instruction set: VW, vf, vload, vbroadcast, vact come from there);
// denseChain uses it for every row when denseRowFits.
//
// Why (issue 21, RDataFrame overhead): one event of an MLP is a chain of dependent layers, so its
// cost inside an event loop is the chain's latency, not its throughput. The generic per-layer path
// (dense + denseBlock) kept its accumulators on the stack (GCC -O2 did not unroll the loops over
// the accumulator chains), and wrote each hidden row to memory, where the next layer's scalar
// broadcasts wait for a wide store to forward: ~250 ns of latency for the PandaX-II MLP 4C
// (13-32-32-16-8-1) on a Zen 4 core. Here the accumulators live in registers (every loop over
// chains and vectors unrolled), the P chains are summed as a tree, and layer l + 1 broadcasts its
// inputs from layer l's registers (a lane permute, no store/load round trip).
//
// Results equal the per-layer path's up to the summation order (a different grouping of the same
// products), like any other blocking of the same GEMV.

/// Widest layer the register path holds, in vectors (64 floats with AVX-512, 32 with AVX2, 16 base).
constexpr int kRowVectors = 4;

typedef int32_t vlane __attribute__((vector_size(VW * 4)));

/// Lane j of v in every lane.
__attribute__((always_inline)) inline vf laneBroadcast(vf v, int j)
{
   return __builtin_shuffle(v, vlane{} + j);
}

/// acc[0] = sum of the P chains (a tree of P - 1 additions per vector).
template <int P, int NV> __attribute__((always_inline)) inline void sumChains(vf (&acc)[P][NV])
{
#pragma GCC unroll 8
   for (int p = 1; p < P; ++p)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
         acc[0][v] += acc[p][v];
}

/// Bias and activation on the summed accumulators (Relu inline, the common case).
template <int NV>
__attribute__((always_inline)) inline void rowEpilogue(const vf (&sum)[NV], const float *b,
                                                       const tpcml::onnx::kernels::Activation &act, vf (&out)[NV])
{
#pragma GCC unroll 8
   for (int v = 0; v < NV; ++v) {
      const vf s = sum[v] + vload(b + v * VW);
      if (act.kind == tpcml::onnx::kernels::ActKind::Relu)
         out[v] = s < 0.f ? vbroadcast(0.f) : s; // NaN stays NaN
      else
         out[v] = act.kind == tpcml::onnx::kernels::ActKind::None ? s : vact(s, act);
   }
}

/// The first layer: its K inputs from memory (any K), NV output vectors, P accumulator chains.
template <int NV, int P>
__attribute__((always_inline)) inline void rowLayerFromMemory(const float *__restrict x,
                                                              const tpcml::onnx::kernels::DenseLayer &L, vf (&out)[NV])
{
   vf acc[P][NV];
#pragma GCC unroll 8
   for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
         acc[p][v] = vbroadcast(0.f);
   const int64_t K = L.K, ld = L.Npad;
   const float *w = L.W;
   int64_t k = 0;
   for (; k + P <= K; k += P, w += P * ld)
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
         const vf xv = vbroadcast(x[k + p]);
#pragma GCC unroll 8
         for (int v = 0; v < NV; ++v)
            acc[p][v] += xv * vload(w + p * ld + v * VW);
      }
#pragma GCC unroll 8
   for (int p = 0; p < P; ++p) // the last K % P inputs, one per chain
      if (k + p < K) {
         const vf xv = vbroadcast(x[k + p]);
#pragma GCC unroll 8
         for (int v = 0; v < NV; ++v)
            acc[p][v] += xv * vload(w + p * ld + v * VW);
      }
   sumChains(acc);
   rowEpilogue<NV>(acc[0], L.b, L.act, out);
}

/// A later layer: its K inputs are the first K lanes of in[0..NI) (registers).
template <int NV, int P, int NI>
__attribute__((always_inline)) inline void
rowLayerFromRegisters(const vf (&in)[NI], const tpcml::onnx::kernels::DenseLayer &L, vf (&out)[NV])
{
   vf acc[P][NV];
#pragma GCC unroll 8
   for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
         acc[p][v] = vbroadcast(0.f);
   const int64_t K = L.K, ld = L.Npad;
   const float *w = L.W;
#pragma GCC unroll 4
   for (int c = 0; c < NI; ++c) {
      const vf xc = in[c];
      const int kc = int(imin(VW, K - c * VW)); // inputs in this vector
      int j = 0;
      for (; j + P <= kc; j += P, w += P * ld)
#pragma GCC unroll 8
         for (int p = 0; p < P; ++p) {
            const vf xv = laneBroadcast(xc, j + p);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
               acc[p][v] += xv * vload(w + p * ld + v * VW);
         }
      for (; j < kc; ++j, w += ld) {
         const vf xv = laneBroadcast(xc, j);
#pragma GCC unroll 8
         for (int v = 0; v < NV; ++v)
            acc[P - 1][v] += xv * vload(w + v * VW);
      }
   }
   sumChains(acc);
   rowEpilogue<NV>(acc[0], L.b, L.act, out);
}

/// Accumulator chains for NV output vectors: 16 accumulators at most (32 vector registers with
/// AVX-512, 16 with AVX2: then some live on the stack, still off the critical path).
template <int NV> constexpr int rowChains()
{
   return NV == 1 ? 8 : NV == 2 ? 4 : 2;
}

/// True when denseRow can run this chain: every layer at most kRowVectors vectors wide.
bool denseRowFits(const tpcml::onnx::kernels::DenseLayer *layers, int64_t nLayers)
{
   for (int64_t l = 0; l < nLayers; ++l)
      if (layers[l].Npad % VW != 0 || layers[l].Npad / VW > kRowVectors || layers[l].Npad / VW < 1 ||
          layers[l].N > layers[l].Npad || (l > 0 && layers[l].K > layers[l - 1].Npad))
         return false;
   return nLayers > 0;
}

/// The activations of the current layer, in registers between layers (vectors past the
/// layer's width are unused).
struct RowState {
   vf h0, h1, h2, h3;
};

template <int NV> __attribute__((always_inline)) inline void rowKeep(const vf (&r)[NV], RowState &h)
{
   h.h0 = r[0];
   if constexpr (NV > 1)
      h.h1 = r[1];
   if constexpr (NV > 2)
      h.h2 = r[2];
   if constexpr (NV > 3)
      h.h3 = r[3];
}

template <int NI, int NV>
__attribute__((always_inline)) inline void rowStep(RowState &h, const tpcml::onnx::kernels::DenseLayer &L)
{
   const vf all[4] = {h.h0, h.h1, h.h2, h.h3};
   vf in[NI];
#pragma GCC unroll 4
   for (int i = 0; i < NI; ++i)
      in[i] = all[i];
   vf r[NV];
   rowLayerFromRegisters<NV, rowChains<NV>(), NI>(in, L, r);
   rowKeep<NV>(r, h);
}

/// One row through the whole chain (denseRowFits true): y receives the last layer's N values.
void denseRow(const float *x, const tpcml::onnx::kernels::DenseLayer *layers, int64_t nLayers, float *y)
{
   RowState h{};
   int64_t hv = layers[0].Npad / VW; // vectors in h
   switch (hv) {
#define TPCML_ROW_FIRST(NV)                                                                                            \
   case NV: {                                                                                                          \
      vf r[NV];                                                                                                        \
      rowLayerFromMemory<NV, rowChains<NV>()>(x, layers[0], r);                                                        \
      rowKeep<NV>(r, h);                                                                                               \
      break;                                                                                                           \
   }
      TPCML_ROW_FIRST(1)
      TPCML_ROW_FIRST(2)
      TPCML_ROW_FIRST(3)
      TPCML_ROW_FIRST(4)
#undef TPCML_ROW_FIRST
   default:
      return; // excluded by denseRowFits
   }
   for (int64_t l = 1; l < nLayers; ++l) {
      const tpcml::onnx::kernels::DenseLayer &L = layers[l];
      const int64_t ni = (L.K + VW - 1) / VW, nv = L.Npad / VW;
      switch (ni * 8 + nv) {
#define TPCML_ROW_STEP(NI, NV)                                                                                         \
   case NI * 8 + NV:                                                                                                   \
      rowStep<NI, NV>(h, L);                                                                                           \
      break;
#define TPCML_ROW_STEPS(NI) TPCML_ROW_STEP(NI, 1) TPCML_ROW_STEP(NI, 2) TPCML_ROW_STEP(NI, 3) TPCML_ROW_STEP(NI, 4)
         TPCML_ROW_STEPS(1)
         TPCML_ROW_STEPS(2)
         TPCML_ROW_STEPS(3)
         TPCML_ROW_STEPS(4)
#undef TPCML_ROW_STEPS
#undef TPCML_ROW_STEP
      default:
         return; // excluded by denseRowFits
      }
      hv = nv;
   }
   const vf out[4] = {h.h0, h.h1, h.h2, h.h3};
   const int64_t N = layers[nLayers - 1].N;
   for (int64_t v = 0; v < hv && v * VW < N; ++v) {
      const int64_t n = imin(VW, N - v * VW);
      if (n == VW)
         vstore(y + v * VW, out[v]);
      else
         for (int64_t j = 0; j < n; ++j)
            y[v * VW + j] = out[v][j];
   }
}
