// BSRNN engine row kernels, portable (no ISA flags beyond the compiler's baseline).
#define HB_ARCH generic
#include "bsrnn_simd_impl.h"

namespace hb {
namespace detail {
const BsrnnRowKernels* bsrnn_row_kernels_generic() { return &generic::kBsrnnRowKernels; }
}  // namespace detail
}  // namespace hb
