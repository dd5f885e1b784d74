// Internal interface between the GEMM / complex-convolution drivers (gemm_cpu.cpp,
// complex_conv_cpu.cpp) and the per-ISA microkernels (gemm_simd_impl.h compiled once per
// instruction set). Plain function pointers over raw packed panels only.
#pragma once

#include <cstdint>

namespace hb {
namespace detail {

// Register block of the microkernel: kGemmMR rows of C by kGemmNR columns.
constexpr int kGemmMR = 4;
constexpr int kGemmNR = 24;

// Packed panels (both zero padded to full width):
//   A strip: kc x kGemmMR, element (r, k) at a[k * kGemmMR + r]
//   B strip: kc x kGemmNR, element (k, j) at b[k * kGemmNR + j]
// micro computes the rows x cols tile T = A.B (rows <= kGemmMR, cols <= kGemmNR) and stores it
// to C (row stride ldc): C = T, or C += T when accumulate. When c2 is not null the same tile is
// stored to c2 too (same ldc, same mode).
typedef void (*GemmMicroFn)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                            int rows, int cols, bool accumulate, float* c2);

// Small-N product: C[M x N] (+)= A[M x K] . B where bt holds B transposed (N x K, contiguous),
// N in 1..4, A row-major with row stride lda.
typedef void (*GemmSmallNFn)(int64_t M, int N, int64_t K, const float* A, int64_t lda,
                             const float* bt, float* C, int64_t ldc, bool accumulate);

// Indirect microkernel (no packed B): row k of the B strip is the nv*8 floats (any alignment)
// at b + boff[k]. A as for micro; rows 4..7 (nv == 1 only, rows <= 8) come from the next strip
// at a + astride. rows <= 4 for nv 2 and 3. Always accumulates: C += T (and c2 += T when not
// null), cols <= nv*8 columns stored.
typedef void (*GemmMicroIndFn)(int64_t kc, const float* a, int64_t astride, int rows,
                               const float* b, const int64_t* boff, int nv, float* c,
                               int64_t ldc, int cols, float* c2);

// Transposed indirect microkernel: T[r][j] = sum_k x[xoff[k] + r] * w[k * wld + j] for
// r < rows (<= 4), j < nv*8 (nv 1..3), added to c[j * ldc + r] for j < cols (and to c2).
typedef void (*GemmMicroTrFn)(int64_t kc, const float* x, const int64_t* xoff, int rows,
                              const float* w, int64_t wld, int nv, float* c, int64_t ldc,
                              int cols, float* c2);

struct GemmKernels {
  const char* name;
  GemmMicroFn micro;
  GemmSmallNFn small_n;
  GemmMicroIndFn micro_ind;
  GemmMicroTrFn micro_tr;
};

const GemmKernels* gemm_kernels_generic();
#if defined(HB_HAVE_AVX2_TU)
const GemmKernels* gemm_kernels_avx2();
#endif
// The kernels matching the STFT dispatch (portable when set_simd_enabled(false)).
const GemmKernels* active_gemm_kernels();

}  // namespace detail
}  // namespace hb
