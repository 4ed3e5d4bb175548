// tpcml (private) -- the engine's kernels compiled for avx2 (flags in src/CMakeLists.txt).
#define TPCML_VW 8
#define TPCML_TABLE_FN tableAvx2
#define TPCML_ISA_NAME "avx2"
#include "onnx/kernels/KernelsImpl.inl"
