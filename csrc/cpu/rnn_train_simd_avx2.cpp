// AVX2 + FMA LSTM training kernels; this file alone is compiled with -mavx2 -mfma and is only
// called after the CPU reports both features at run time.
#define HB_ARCH avx2
#define HB_ARCH_NAME "avx2-fma"
#include "rnn_train_simd_impl.h"

namespace hb {
namespace detail {
const LstmTrainKernels* lstm_train_kernels_avx2() { return &avx2::kLstmTrainKernels; }
}  // namespace detail
}  // namespace hb
