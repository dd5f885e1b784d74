// Portable LSTM / GRU kernels (no ISA flags beyond the compiler's baseline).
#define HB_ARCH generic
#define HB_ARCH_NAME "generic"
#include "rnn_simd_impl.h"

namespace hb {
namespace detail {
const RnnKernels* rnn_kernels_generic() { return &generic::kRnnKernels; }
}  // namespace detail
}  // namespace hb
