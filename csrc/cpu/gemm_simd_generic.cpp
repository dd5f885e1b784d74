// Portable GEMM microkernels (no ISA flags beyond the compiler's baseline).
#define HB_ARCH generic
#define HB_ARCH_NAME "generic"
#include "gemm_simd_impl.h"

namespace hb {
namespace detail {
const GemmKernels* gemm_kernels_generic() { return &generic::kGemmKernels; }
}  // namespace detail
}  // namespace hb
