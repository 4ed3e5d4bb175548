// tpcml (private) -- rewrite: runs of consecutive per-event dense layers (an MLP at batch <= 4),
// each the only reader of the one before, become one DenseChain step (run on the finished plan).
#include "onnx/ops/MatMul.h"

#include <algorithm>

namespace tpcml::onnx::detail {
void fuseDenseChains(Plan &plan)
{
   std::vector<int> uses(plan.values.size(), 0); // steps reading a value (or an alias of it), graph outputs
   for (const auto &step : plan.steps)
      for (int id : step->inputs)
         ++uses[std::size_t(plan.root(id))];
   for (int id : plan.outputs)
      ++uses[std::size_t(plan.root(id))];
   const auto dense = [&](std::size_t s) { return dynamic_cast<const DenseKernel *>(plan.steps[s].get()); };
   std::vector<std::unique_ptr<Kernel>> steps;
   for (std::size_t s = 0; s < plan.steps.size();) {
      std::size_t e = s + 1; // [s, e): a chain, each layer the only reader of the one before
      if (dense(s))
         while (e < plan.steps.size() && dense(e) && dense(e)->M == dense(s)->M &&
                dense(e)->inputs[0] == dense(e - 1)->outputs[0] && uses[std::size_t(dense(e - 1)->outputs[0])] == 1)
            ++e;
      if (e - s < 2) {
         steps.push_back(std::move(plan.steps[s++]));
         continue;
      }
      auto chain = std::make_unique<DenseChainKernel>();
      for (std::size_t k = s; k < e; ++k) {
         const DenseKernel &d = *dense(k);
         chain->params.insert(chain->params.end(), d.W.begin(), d.W.end());
         chain->params.insert(chain->params.end(), d.b.begin(), d.b.end());
         chain->layers.push_back({d.Kd, d.N, d.Npad, nullptr, nullptr, d.act});
         chain->node += (k > s ? "+" : "") + d.node;
         if (k + 1 < e)
            chain->wsRow = std::max(chain->wsRow, d.Npad);
      }
      const float *at = chain->params.data(); // params no longer grows: point the layers into it
      for (kernels::DenseLayer &L : chain->layers) {
         L.W = at;
         L.b = at + L.K * L.Npad;
         at = L.b + L.Npad;
      }
      chain->op = "DenseChain";
      chain->M = dense(s)->M;
      chain->ldy = dense(e - 1)->N;
      chain->workspace = std::size_t(2 * chain->wsRow);
      chain->inputs = dense(s)->inputs;
      chain->outputs = dense(e - 1)->outputs;
      steps.push_back(std::move(chain));
      s = e;
   }
   plan.steps = std::move(steps);
}

} // namespace tpcml::onnx::detail
