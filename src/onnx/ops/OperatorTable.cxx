// tpcml (private) -- the operator table: every operator family's planners, by ONNX op_type.
#include "onnx/ops/OpSupport.h"
namespace tpcml::onnx::detail {

std::string quoted(const char *attr, const Shape &v)
{
   return std::string("attribute '") + attr + "' = " + shapeString(v);
}

void requireLength(NodeCtx &c, const char *attr, const Shape &v, std::size_t n, const std::string &why)
{
   if (v.size() != n)
      c.fail(quoted(attr, v) + " has " + std::to_string(v.size()) + " entries, expected " + std::to_string(n) + " (" +
             why + ")");
}

void requireAtLeast(NodeCtx &c, const char *attr, const Shape &v, int64_t lo)
{
   for (std::size_t k = 0; k < v.size(); ++k)
      if (v[k] < lo)
         c.fail(quoted(attr, v) + ": entry " + std::to_string(k) + " is " + std::to_string(v[k]) +
                ", expected >= " + std::to_string(lo));
}

const std::map<std::string, OpPlanner> &operatorTable()
{
   static const std::map<std::string, OpPlanner> table = {
#define TPCML_ONNX_PLANNER(opType) {#opType, op##opType},
       TPCML_ONNX_OPERATORS(TPCML_ONNX_PLANNER)
#undef TPCML_ONNX_PLANNER
   };
   return table;
}

} // namespace tpcml::onnx::detail
