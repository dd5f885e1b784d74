// Internal to the BSRNN engine: its per-ISA row kernels (bsrnn_simd_impl.h, compiled portable
// and with AVX2/FMA), chosen at run time like the other kernels.
#pragma once

#include <cstdint>

namespace hb {
namespace detail {

struct BsrnnRowKernels {
  // z = LayerNorm(x) over n features, rows rows (contiguous).
  void (*layer_norm)(const float* x, int64_t rows, int64_t n, const float* g, const float* b,
                     float eps, float* z);
  // x (rows, n) += y (rows, in) . wt + bias, wt (in, np) with np = n rounded up to 8 (zero
  // padded columns), bias (np); then, when g is not null, z = LayerNorm(x) with g, b.
  void (*residual_norm)(const float* y, int64_t rows, int64_t in, const float* wt, int64_t np,
                        const float* bias, float* x, int64_t n, const float* g, const float* b,
                        float eps, float* z);
};

const BsrnnRowKernels* bsrnn_row_kernels_generic();
#if defined(HB_HAVE_AVX2_TU)
const BsrnnRowKernels* bsrnn_row_kernels_avx2();
#endif
// AVX2 when the CPU has it and SIMD is enabled (the STFT dispatch), else portable.
const BsrnnRowKernels* active_bsrnn_row_kernels();

}  // namespace detail
}  // namespace hb
