// Portable STFT kernels (no ISA flags beyond the compiler's baseline).
#define HB_ARCH generic
#define HB_ARCH_NAME "generic"
#include "stft_simd_impl.h"

namespace hb {
namespace detail {
const ArchKernels* kernels_generic() { return &generic::kKernels; }
}  // namespace detail
}  // namespace hb
