// tpcml (private) -- rewrite: Flatten(Transpose(X)) * W with a constant W (Keras flattening NHWC
// after NCHW convolutions): the MatMul reads X itself with the rows of W permuted, the Transpose goes.
#include "onnx/ops/MatMul.h"
#include "onnx/ops/Transpose.h"
#include "onnx/rewrites/Rewrites.h"

namespace tpcml::onnx::detail {
void absorbFlattenTranspose(NodeCtx &c, MatMulKernel &k)
{
   Planner &pl = c.planner;
   Plan &plan = *pl.plan;
   const Value &a = c.in(0);
   if (a.kind != Kind::Alias || a.shape.size() != 2 || !c.isConst(1) || k.bOff.size() != 1 || k.cId >= 0)
      return;
   const int root = a.root;
   const Value &t = plan.values[std::size_t(root)];
   auto single = [&](const std::string &name) {
      auto it = pl.consumers.find(name);
      return it != pl.consumers.end() && it->second.size() == 1 && !pl.graphOutputs.count(name);
   };
   if (t.kind != Kind::Runtime || !single(t.name) || !single(a.name))
      return;
   std::size_t step = plan.steps.size();
   for (std::size_t s = plan.steps.size(); s-- > 0;)
      if (!plan.steps[s]->outputs.empty() && plan.steps[s]->outputs[0] == root) {
         step = s;
         break;
      }
   if (step == plan.steps.size())
      return;
   const auto *tk = dynamic_cast<const TransposeKernel *>(plan.steps[step].get());
   if (!tk || tk->perm.empty() || tk->perm[0] != 0 || a.shape[0] != tk->shape[0])
      return;
   const int src = tk->inputs[0];
   const Value &x = plan.values[std::size_t(src)];
   if (x.kind != Kind::Runtime && x.kind != Kind::Input)
      return;
   // row of W for each element of X (dims 1..r, row-major): its place in the transposed order
   const Shape &xs = tk->shape, &perm = tk->perm;
   const std::size_t r = xs.size();
   Shape outDims(r), outStr(r, 1);
   for (std::size_t d = 0; d < r; ++d)
      outDims[d] = xs[std::size_t(perm[d])];
   for (std::size_t d = r - 1; d-- > 1;)
      outStr[d] = outStr[d + 1] * outDims[d + 1];
   Shape strideOfIn(r, 0); // stride of input dim perm[d] in the transposed layout is outStr[d]
   for (std::size_t d = 1; d < r; ++d)
      strideOfIn[std::size_t(perm[d])] = outStr[d];
   const int64_t F = a.shape[1];
   std::vector<float> w(std::size_t(F * k.N));
   IndexBuf idx(r);
   for (int64_t f = 0; f < F; ++f) {
      int64_t dst = 0;
      for (std::size_t d = 1; d < r; ++d)
         dst += idx[d] * strideOfIn[d];
      for (int64_t j = 0; j < k.N; ++j)
         w[std::size_t(f * k.N + j)] = constantB(c, k, dst, j);
      for (std::size_t d = r; d-- > 1;) {
         if (++idx[d] < xs[d])
            break;
         idx[d] = 0;
      }
   }
   k.bOwned = std::move(w);
   k.sBk = k.N;
   k.sBn = 1;
   k.bOff = {0};
   Value view = x;
   view.name = a.name + ":untransposed";
   view.shape = a.shape;
   view.kind = Kind::Alias;
   view.root = x.kind == Kind::Alias ? x.root : src;
   view.first = view.last = -1;
   view.offset = -1;
   k.inputs[0] = pl.addValue(std::move(view));
   plan.steps.erase(plan.steps.begin() + long(step));
}

} // namespace tpcml::onnx::detail
