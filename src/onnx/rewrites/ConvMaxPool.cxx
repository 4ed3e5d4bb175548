// tpcml (private) -- rewrite: a 2 x 2 / stride 2 MaxPool that alone reads a 2-D Conv is pooled by
// the Conv itself, per event, from its GEMM's rows (ops/Conv.cxx, ConvKernel::fusePool).
#include "onnx/rewrites/Rewrites.h"

namespace tpcml::onnx::detail {
int64_t pool2x2Reader(NodeCtx &c, const std::string &name)
{
   const Planner &pl = c.planner;
   if (pl.graphOutputs.count(name))
      return -1;
   auto it = pl.consumers.find(name);
   if (it == pl.consumers.end() || it->second.size() != 1)
      return -1;
   const proto::Node &n = pl.model.proto.graph.node[it->second[0]];
   if (n.opType != "MaxPool" || n.input.size() != 1 || n.output.size() > 1)
      return -1;
   auto ints = [&](const char *a, Shape fallback) {
      const proto::Attribute *p = n.findAttribute(a);
      return p ? p->ints : fallback;
   };
   auto intv = [&](const char *a) {
      const proto::Attribute *p = n.findAttribute(a);
      return p ? p->i : int64_t(0);
   };
   const proto::Attribute *ap = n.findAttribute("auto_pad");
   const bool fits = ints("kernel_shape", {}) == Shape{2, 2} && ints("strides", {1, 1}) == Shape{2, 2} &&
                     ints("pads", {0, 0, 0, 0}) == Shape{0, 0, 0, 0} && ints("dilations", {1, 1}) == Shape{1, 1} &&
                     intv("ceil_mode") == 0 && intv("storage_order") == 0 &&
                     (!ap || ap->s.empty() || ap->s == "NOTSET" || ap->s == "VALID");
   return fits ? int64_t(it->second[0]) : -1;
}

} // namespace tpcml::onnx::detail
