// Portable LSTM training kernels (no ISA flags beyond the compiler's baseline).
#define HB_ARCH generic
#define HB_ARCH_NAME "generic"
#include "rnn_train_simd_impl.h"

namespace hb {
namespace detail {
const LstmTrainKernels* lstm_train_kernels_generic() { return &generic::kLstmTrainKernels; }
}  // namespace detail
}  // namespace hb
