// tpcml (private) -- rewrite: a zero Pad of H and W read only by Convs (tf2onnx's explicit padding
// before strided convolutions) becomes extra pads of those Convs; the Pad output aliases its input.
#include "onnx/rewrites/Rewrites.h"

namespace tpcml::onnx::detail {
bool foldPadIntoConvs(NodeCtx &c, const Shape &in, const Shape &out, const Shape &beginPads)
{
   if (in.size() != 4 || c.isConst(0))
      return false;
   if (beginPads[0] != 0 || beginPads[1] != 0 || out[0] != in[0] || out[1] != in[1])
      return false;
   Shape begin(2), end(2);
   for (std::size_t d = 0; d < 2; ++d) {
      begin[d] = beginPads[d + 2];
      end[d] = out[d + 2] - in[d + 2] - begin[d];
      if (begin[d] < 0 || end[d] < 0)
         return false;
   }
   const std::string &name = c.node.output.at(0);
   if (c.planner.graphOutputs.count(name))
      return false;
   auto it = c.planner.consumers.find(name);
   if (it == c.planner.consumers.end() || it->second.empty())
      return false;
   const auto &nodes = c.planner.model.proto.graph.node;
   for (std::size_t ci : it->second) {
      const proto::Node &n = nodes[ci];
      if (n.opType != "Conv" || n.input.empty() || n.input[0] != name)
         return false;
      for (std::size_t j = 1; j < n.input.size(); ++j)
         if (n.input[j] == name)
            return false;
      const proto::Attribute *ap = n.findAttribute("auto_pad");
      if (ap && ap->s != "NOTSET" && ap->s != "VALID" && !ap->s.empty())
         return false;
   }
   c.planner.foldedPads[name] = {begin, end};
   c.alias(0, 0, in);
   return true;
}

} // namespace tpcml::onnx::detail
