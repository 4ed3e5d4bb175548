// tpcml (private) -- the engine's kernels compiled for avx512 (flags in src/CMakeLists.txt).
#define TPCML_VW 16
#define TPCML_TABLE_FN tableAvx512
#define TPCML_ISA_NAME "avx512"
#include "onnx/kernels/KernelsImpl.inl"
