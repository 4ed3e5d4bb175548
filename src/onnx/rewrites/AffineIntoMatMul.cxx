// tpcml (private) -- rewrite: a per-feature affine map x * s + o (Keras Rescaling, a folded
// normalisation) before a MatMul/Gemm with constant weights goes into those weights and the bias.
#include "onnx/ops/MatMul.h"
#include "onnx/rewrites/Rewrites.h"

namespace tpcml::onnx::detail {
namespace {

/// Whether a constant of shape `s` combined elementwise with `x` applies one value per feature
/// (x's last axis) or one value to all, without changing x's shape: foldable into a MatMul.
bool perFeatureShape(const Shape &s, const Shape &x)
{
   if (x.empty() || s.size() > x.size())
      return false;
   const int64_t n = numel(s);
   return n == 1 || (s.back() == x.back() && n == x.back());
}

/// Input k as one value per feature of x (a single value repeated), or empty when it is not such a
/// float constant.
std::vector<float> lastAxisConstant(NodeCtx &c, std::size_t k, const Shape &x)
{
   if (!c.isConst(k) || c.in(k).type != DType::Float || !perFeatureShape(c.shape(k), x))
      return {};
   const std::vector<float> &v = *c.in(k).f;
   return v.size() == 1 ? std::vector<float>(std::size_t(x.back()), v[0]) : v;
}

/// Whether `name` is read by exactly one node, a MatMul or a (transA = 0) Gemm with a constant B,
/// as its A; `through` also allows one constant per-feature Add in between (x * s + o).
bool feedsConstantMatMul(NodeCtx &c, const std::string &name, bool through, const Shape &x)
{
   const Planner &pl = c.planner;
   if (pl.graphOutputs.count(name))
      return false;
   auto it = pl.consumers.find(name);
   if (it == pl.consumers.end() || it->second.size() != 1)
      return false;
   const proto::Node &n = pl.model.proto.graph.node[it->second[0]];
   if (through && n.opType == "Add" && n.input.size() == 2 && n.output.size() == 1) {
      const std::string &other = n.input[0] == name ? n.input[1] : n.input[0];
      auto bv = pl.byName.find(other);
      if (bv == pl.byName.end())
         return false;
      // the Add must fold too (foldAffine's own test), or the Mul folded away would be lost
      const Value &o = pl.plan->values[std::size_t(bv->second)];
      if (o.kind != Kind::Constant || o.type != DType::Float || !perFeatureShape(o.shape, x))
         return false;
      return feedsConstantMatMul(c, n.output[0], false, x);
   }
   if (n.input.size() < 2 || n.input[0] != name || n.input[1] == name)
      return false;
   if (n.opType == "Gemm") {
      const proto::Attribute *ta = n.findAttribute("transA"), *beta = n.findAttribute("beta");
      if ((ta && ta->i != 0) || (beta && beta->f != 1.f))
         return false;
      if (n.input.size() > 2 && !n.input[2].empty()) {
         auto cv = pl.byName.find(n.input[2]);
         if (cv == pl.byName.end() || pl.plan->values[std::size_t(cv->second)].kind != Kind::Constant)
            return false;
      }
   } else if (n.opType != "MatMul") {
      return false;
   }
   auto bv = pl.byName.find(n.input[1]);
   if (bv == pl.byName.end())
      return false;
   const Value &b = pl.plan->values[std::size_t(bv->second)];
   return b.kind == Kind::Constant && b.type == DType::Float && b.shape.size() == 2;
}

} // namespace

bool foldAffine(NodeCtx &c, bool multiply, const Shape &out)
{
   for (std::size_t k = 0; k < 2; ++k) {
      const std::size_t xk = 1 - k;
      if (c.isConst(xk) || c.in(xk).type != DType::Float || c.shape(xk).size() < 2)
         continue;
      const Shape &xs = c.shape(xk);
      if (out != xs)
         continue;
      std::vector<float> v = lastAxisConstant(c, k, xs);
      if (v.empty())
         continue;
      const std::string &xname = c.node.input[xk];
      auto prev = c.planner.foldedAffine.find(xname);
      const bool chained = prev != c.planner.foldedAffine.end();
      if (!feedsConstantMatMul(c, c.node.output.at(0), multiply, xs))
         return false;
      std::vector<float> scale(v.size(), 1.f), offset(v.size(), 0.f);
      if (chained) {
         scale = prev->second.first;
         offset = prev->second.second;
      }
      for (std::size_t j = 0; j < v.size(); ++j) {
         if (multiply) {
            scale[j] *= v[j];
            offset[j] *= v[j];
         } else {
            offset[j] += v[j];
         }
      }
      c.planner.foldedAffine[c.node.output.at(0)] = {std::move(scale), std::move(offset)};
      c.alias(0, xk, xs);
      return true;
   }
   return false;
}

void absorbAffine(NodeCtx &c, MatMulKernel &k)
{
   auto it = c.planner.foldedAffine.find(c.node.input[0]);
   if (it == c.planner.foldedAffine.end())
      return;
   const std::vector<float> &scale = it->second.first, &offset = it->second.second;
   if (!c.isConst(1) || k.bOff.size() != 1 || int64_t(scale.size()) != k.Kd || k.cId >= 0)
      c.fail("internal: a folded per-feature scale meets a MatMul it cannot absorb");
   std::vector<double> shift(std::size_t(k.N), 0.0);
   std::vector<float> w(std::size_t(k.Kd * k.N));
   for (int64_t kk = 0; kk < k.Kd; ++kk)
      for (int64_t j = 0; j < k.N; ++j) {
         const float bkj = constantB(c, k, kk, j);
         w[std::size_t(kk * k.N + j)] = scale[std::size_t(kk)] * bkj;
         shift[std::size_t(j)] += double(offset[std::size_t(kk)]) * double(bkj);
      }
   k.bOwned = std::move(w);
   k.sBk = k.N;
   k.sBn = 1;
   k.bOff = {0};
   if (k.bias.empty())
      k.bias.assign(std::size_t(k.N), 0.f);
   for (int64_t j = 0; j < k.N; ++j)
      k.bias[std::size_t(j)] = float(double(k.bias[std::size_t(j)]) + double(k.alpha) * shift[std::size_t(j)]);
}

} // namespace tpcml::onnx::detail
