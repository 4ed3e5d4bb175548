// tpcml (private) -- the engine's kernels compiled for base (flags in src/CMakeLists.txt).
#define TPCML_VW 4
#define TPCML_TABLE_FN tableBase
#define TPCML_ISA_NAME "base"
#include "onnx/kernels/KernelsImpl.inl"
