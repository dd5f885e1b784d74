// AVX2 + FMA STFT kernels; this file alone is compiled with -mavx2 -mfma and is only called after
// the CPU reports both features at run time.
#define HB_ARCH avx2
#define HB_ARCH_NAME "avx2-fma"
#include "stft_simd_impl.h"

namespace hb {
namespace detail {
const ArchKernels* kernels_avx2() { return &avx2::kKernels; }
}  // namespace detail
}  // namespace hb
