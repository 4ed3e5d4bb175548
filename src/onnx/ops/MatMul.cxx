// tpcml (private) -- MatMul and Gemm: the dense kernel for a few rows, else the packed GEMM.
// Semantics follow the ONNX operator specification (https://onnx.ai/onnx/operators/).
#include "onnx/ops/MatMul.h"
#include "onnx/rewrites/Rewrites.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tpcml::onnx::detail {
namespace {

using kernels::Activation;
using kernels::ActKind;

/// Emits a planned MatMul/Gemm: the dense kernel for a few rows and constant weights, else the
/// GEMM, with a constant B packed once at plan time when the GEMM is tall enough to use it.
void emitMatMul(NodeCtx &c, std::unique_ptr<MatMulKernel> k, const Shape &out)
{
   absorbFlattenTranspose(c, *k);
   absorbAffine(c, *k);
   const bool constB = c.isConst(1) && k->bOff.size() == 1;
   if (constB && k->M <= 4 && k->cId < 0 && k->alpha == 1.f) {
      auto d = std::make_unique<DenseKernel>();
      d->M = k->M;
      d->Kd = k->Kd;
      d->N = k->N;
      d->Npad = (k->N + 15) / 16 * 16;
      d->W.assign(std::size_t(d->Kd * d->Npad), 0.f);
      for (int64_t kk = 0; kk < d->Kd; ++kk)
         for (int64_t j = 0; j < d->N; ++j)
            d->W[std::size_t(kk * d->Npad + j)] = constantB(c, *k, kk, j);
      d->b.assign(std::size_t(d->Npad), 0.f);
      for (std::size_t j = 0; j < k->bias.size(); ++j)
         d->b[j] = k->bias[j];
      d->act = k->act;
      d->inputs = {k->inputs[0]};
      d->outputs = {c.runtime(0, out)};
      c.emit(std::move(d));
      return;
   }
   if (constB && k->M > 4) {
      const float *b = k->bOwned.empty() ? c.in(1).f->data() + k->bOff[0] : k->bOwned.data();
      k->bPacked.resize(K().gemmPackedBSize(k->Kd, k->N));
      K().gemmPackB(b, k->Kd, k->N, k->sBk, k->sBn, k->bPacked.data());
   }
   k->workspace = K().gemmWorkspace(k->M, k->N, k->Kd);
   k->outputs = {c.runtime(0, out)};
   c.emit(std::move(k));
}

} // namespace

void opMatMul(NodeCtx &c)
{
   c.requireInputs(2, 2);
   c.requireFloat(0);
   c.requireFloat(1);
   Shape a = c.shape(0), b = c.shape(1);
   if (a.empty() || b.empty())
      c.fail("operands must have rank >= 1");
   const bool aVec = a.size() == 1, bVec = b.size() == 1;
   if (aVec)
      a.insert(a.begin(), 1);
   if (bVec)
      b.push_back(1);
   const int64_t M = a[a.size() - 2], Kd = a.back(), N = b.back();
   if (b[b.size() - 2] != Kd)
      c.fail("inner dimensions differ: " + shapeString(c.shape(0)) + " x " + shapeString(c.shape(1)));
   const Shape aBatch(a.begin(), a.end() - 2), bBatch(b.begin(), b.end() - 2);
   Shape batch;
   BroadcastLoop unused;
   if (!BroadcastLoop::make(aBatch, bBatch, batch, unused))
      c.fail("batch dimensions " + shapeString(aBatch) + " and " + shapeString(bBatch) + " do not broadcast");
   Shape out = batch;
   if (!aVec)
      out.push_back(M);
   if (!bVec)
      out.push_back(N);
   if (c.carriesEvents(0) && (aVec || c.shape(0).size() < out.size()))
      c.mixesEvents("A " + shapeString(c.shape(0)) + " x B " + shapeString(c.shape(1)) +
                    " contracts or broadcasts the batch axis of A");
   if (c.carriesEvents(1) && (c.shape(1).size() <= 2 || c.shape(1).size() < out.size()))
      c.mixesEvents("A " + shapeString(c.shape(0)) + " x B " + shapeString(c.shape(1)) +
                    " contracts or broadcasts the batch axis of B");
   auto k = std::make_unique<MatMulKernel>();
   k->M = M;
   k->N = N;
   k->Kd = Kd;
   k->sAm = Kd;
   k->sAk = 1;
   k->sBk = N;
   k->sBn = 1;
   // batch offsets (broadcast); a 2-D B shared by all batch matrices of A: one tall GEMM
   const int64_t nb = numel(batch);
   if (bBatch.empty() || numel(bBatch) == 1) {
      if (numel(aBatch) == nb) {
         k->M = M * nb;
         k->aOff = {0};
         k->bOff = {0};
      }
   }
   if (k->aOff.empty()) {
      const std::size_t r = batch.size();
      Shape ea(r, 1), eb(r, 1);
      std::copy(aBatch.begin(), aBatch.end(), ea.begin() + long(r - aBatch.size()));
      std::copy(bBatch.begin(), bBatch.end(), eb.begin() + long(r - bBatch.size()));
      const Shape sa = stridesOf(ea), sb = stridesOf(eb), so = stridesOf(batch);
      for (int64_t i = 0; i < nb; ++i) {
         int64_t rem = i, oa = 0, ob = 0;
         for (std::size_t d = 0; d < r; ++d) {
            const int64_t idx = rem / so[d];
            rem %= so[d];
            oa += (ea[d] == 1 ? 0 : idx) * sa[d];
            ob += (eb[d] == 1 ? 0 : idx) * sb[d];
         }
         k->aOff.push_back(oa * M * Kd);
         k->bOff.push_back(ob * Kd * N);
      }
   }
   const Planner::Epilogue e = c.planner.fuse(c.node, int64_t(out.size()), int64_t(out.size()) - 1, N);
   c.renameOutput(0, e.outName);
   k->bias = e.bias;
   k->act = e.act;
   k->inputs = {c.id(0), c.id(1)};
   emitMatMul(c, std::move(k), out);
}

void opGemm(NodeCtx &c)
{
   c.requireInputs(2, 3);
   c.requireFloat(0);
   c.requireFloat(1);
   const Shape &a = c.shape(0), &b = c.shape(1);
   if (a.size() != 2 || b.size() != 2)
      c.fail("A and B must be matrices, got " + shapeString(a) + " and " + shapeString(b));
   const bool tA = c.attrInt("transA", 0) != 0, tB = c.attrInt("transB", 0) != 0;
   if (c.carriesEvents(0) && tA)
      c.mixesEvents("transA = 1 contracts the batch axis of A");
   if (c.carriesEvents(1))
      c.mixesEvents("B comes from the event data (its batch axis is contracted or spread over rows)");
   if (c.carriesEvents(2) && c.shape(2).size() != 2)
      c.mixesEvents("C " + shapeString(c.shape(2)) + " from the event data broadcasts over the rows of A");
   const int64_t M = tA ? a[1] : a[0], Kd = tA ? a[0] : a[1];
   const int64_t Kb = tB ? b[1] : b[0], N = tB ? b[0] : b[1];
   if (Kd != Kb)
      c.fail("inner dimensions differ: " + shapeString(a) + (tA ? "^T" : "") + " x " + shapeString(b) +
             (tB ? "^T" : ""));
   auto k = std::make_unique<MatMulKernel>();
   k->M = M;
   k->N = N;
   k->Kd = Kd;
   k->sAm = tA ? 1 : a[1];
   k->sAk = tA ? a[1] : 1;
   k->sBk = tB ? 1 : b[1];
   k->sBn = tB ? b[1] : 1;
   k->alpha = c.attrFloat("alpha", 1.f);
   k->beta = c.attrFloat("beta", 1.f);
   k->aOff = {0};
   k->bOff = {0};
   k->inputs = {c.id(0), c.id(1)};
   bool cAsBias = false;
   if (c.has(2)) {
      c.requireFloat(2);
      const Shape &cs = c.shape(2);
      Shape out;
      BroadcastLoop loop;
      if (!BroadcastLoop::make(cs, {M, N}, out, loop) || out != Shape{M, N})
         c.fail("C of shape " + shapeString(cs) + " does not broadcast to " + shapeString({M, N}));
      if (c.isConst(2) && k->beta == 1.f && numel(cs) == N && (cs.empty() ? N == 1 : cs.back() == N)) {
         k->bias = c.floats(2, "bias");
         cAsBias = true;
      } else {
         // Y = beta * C first: iterate [M, N] with C's (broadcast) strides
         BroadcastLoop l2;
         Shape ce(2, 1);
         for (std::size_t j = 0; j < cs.size(); ++j)
            ce[2 - cs.size() + j] = cs[j];
         const Shape cst = stridesOf(ce);
         l2.dims = {M, N};
         l2.strideA = {ce[0] == 1 ? 0 : cst[0], ce[1] == 1 ? 0 : cst[1]};
         l2.strideB = {0, 0};
         k->cLoop = l2;
         k->cId = c.id(2);
         k->inputs.push_back(c.id(2));
      }
   }
   if (k->cId < 0) {
      const Planner::Epilogue e = c.planner.fuse(c.node, 2, 1, N);
      c.renameOutput(0, e.outName);
      if (!e.bias.empty()) {
         if (cAsBias)
            for (int64_t j = 0; j < N; ++j)
               k->bias[std::size_t(j)] += e.bias[std::size_t(j)];
         else
            k->bias = e.bias;
      }
      k->act = e.act;
   }
   if (!k->bias.empty() && int64_t(k->bias.size()) != N)
      k->bias.assign(std::size_t(N), k->bias[0]);
   emitMatMul(c, std::move(k), {M, N});
}

float constantB(NodeCtx &c, const MatMulKernel &k, int64_t kk, int64_t j)
{
   const float *b = k.bOwned.empty() ? c.in(1).f->data() + k.bOff[0] : k.bOwned.data();
   return b[kk * k.sBk + j * k.sBn];
}

} // namespace tpcml::onnx::detail
