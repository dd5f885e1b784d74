// BSRNN engine row kernels, AVX2 + FMA (this file alone is compiled with -mavx2 -mfma and only
// called after the CPU reports both features).
#define HB_ARCH avx2
#include "bsrnn_simd_impl.h"

namespace hb {
namespace detail {
const BsrnnRowKernels* bsrnn_row_kernels_avx2() { return &avx2::kBsrnnRowKernels; }
}  // namespace detail
}  // namespace hb
