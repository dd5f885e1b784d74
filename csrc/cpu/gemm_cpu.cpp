// sgemm: blocked, packed driver over the run-time dispatched microkernels (gemm_simd_impl.h).
//
// C = A.B is computed in KC x NC blocks of B and MC x KC blocks of A, each packed into the
// microkernel's strip layout (gemm_internal.h) in thread-local buffers that only grow (no
// allocation once warmed up). Shapes the 4 x 24 register block would waste are reshaped: N <= 4
// uses a dot-product kernel over rows of A (A read once, no packing of A), and when N is much
// narrower than M the transposed product C^T = B^T.A^T is run instead.
#include <algorithm>
#include <vector>

#include "gemm_internal.h"
#include "hushboard/gemm.h"
#include "stft_internal.h"

namespace hb {
namespace detail {

const GemmKernels* active_gemm_kernels() {
#if defined(HB_HAVE_AVX2_TU)
  // follow the STFT dispatch: AVX2 when the CPU has it and SIMD is enabled
  if (active_kernels() == kernels_avx2()) return gemm_kernels_avx2();
#endif
  return gemm_kernels_generic();
}

}  // namespace detail

namespace {

using detail::kGemmMR;
using detail::kGemmNR;

constexpr int64_t kKC = 256;
constexpr int64_t kMC = 96;   // multiple of kGemmMR
constexpr int64_t kNC = 480;  // multiple of kGemmNR

float* tls_buffer(std::vector<float>& v, int64_t n) {
  if (int64_t(v.size()) < n) v.resize(size_t(n));
  return v.data();
}

// dst strip-major: for each strip of kGemmMR rows, kc x kGemmMR (rows beyond `rows` zero).
// Element (r, k) of the source is src[r * rs + k * cs].
void pack_a(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t kc, float* dst) {
  for (int64_t r0 = 0; r0 < rows; r0 += kGemmMR) {
    const int64_t nr = std::min<int64_t>(kGemmMR, rows - r0);
    for (int64_t k = 0; k < kc; ++k) {
      float* d = dst + k * kGemmMR;
      for (int64_t r = 0; r < nr; ++r) d[r] = src[(r0 + r) * rs + k * cs];
      for (int64_t r = nr; r < kGemmMR; ++r) d[r] = 0.f;
    }
    dst += kc * kGemmMR;
  }
}

// dst strip-major: for each strip of kGemmNR columns, kc x kGemmNR (columns beyond zero).
// Element (k, j) of the source is src[k * rs + j * cs].
void pack_b(const float* src, int64_t rs, int64_t cs, int64_t cols, int64_t kc, float* dst) {
  for (int64_t j0 = 0; j0 < cols; j0 += kGemmNR) {
    const int64_t nc = std::min<int64_t>(kGemmNR, cols - j0);
    for (int64_t k = 0; k < kc; ++k) {
      float* d = dst + k * kGemmNR;
      const float* s = src + k * rs + j0 * cs;
      if (cs == 1)
        for (int64_t j = 0; j < nc; ++j) d[j] = s[j];
      else
        for (int64_t j = 0; j < nc; ++j) d[j] = s[j * cs];
      for (int64_t j = nc; j < kGemmNR; ++j) d[j] = 0.f;
    }
    dst += kc * kGemmNR;
  }
}

// C'[M' x N'] (+)= A'.B' with A'(i, k) = A[i*ars + k*acs], B'(k, j) = B[k*brs + j*bcs],
// C'(i, j) = C[i*crs + j*ccs] (crs or ccs is 1).
void gemm_blocked(const detail::GemmKernels* kern, int64_t M, int64_t N, int64_t K,
                  const float* A, int64_t ars, int64_t acs, const float* B, int64_t brs,
                  int64_t bcs, float* C, int64_t crs, int64_t ccs, bool accumulate) {
  static thread_local std::vector<float> abuf, bbuf;
  float* pa = tls_buffer(abuf, kMC * kKC);
  float* pb = tls_buffer(bbuf, kKC * kNC);
  const bool direct = ccs == 1;
  float tile[kGemmMR * kGemmNR];
  for (int64_t jc = 0; jc < N; jc += kNC) {
    const int64_t nc = std::min(kNC, N - jc);
    for (int64_t pc = 0; pc < K; pc += kKC) {
      const int64_t kc = std::min(kKC, K - pc);
      const bool acc = accumulate || pc > 0;
      pack_b(B + pc * brs + jc * bcs, brs, bcs, nc, kc, pb);
      for (int64_t ic = 0; ic < M; ic += kMC) {
        const int64_t mc = std::min(kMC, M - ic);
        pack_a(A + ic * ars + pc * acs, ars, acs, mc, kc, pa);
        for (int64_t j0 = 0; j0 < nc; j0 += kGemmNR) {
          const int cols = int(std::min<int64_t>(kGemmNR, nc - j0));
          const float* bs = pb + (j0 / kGemmNR) * kc * kGemmNR;
          for (int64_t i0 = 0; i0 < mc; i0 += kGemmMR) {
            const int rows = int(std::min<int64_t>(kGemmMR, mc - i0));
            const float* as = pa + (i0 / kGemmMR) * kc * kGemmMR;
            float* c = C + (ic + i0) * crs + (jc + j0) * ccs;
            if (direct) {
              kern->micro(kc, as, bs, c, crs, rows, cols, acc, nullptr);
            } else {
              kern->micro(kc, as, bs, tile, kGemmNR, rows, cols, false, nullptr);
              for (int r = 0; r < rows; ++r)
                for (int j = 0; j < cols; ++j) {
                  float& dst = c[r * crs + j * ccs];
                  dst = acc ? dst + tile[r * kGemmNR + j] : tile[r * kGemmNR + j];
                }
            }
          }
        }
      }
    }
  }
}

}  // namespace

void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t m = 0; m < M; ++m) std::fill(C + m * ldc, C + m * ldc + N, 0.f);
    return;
  }
  const detail::GemmKernels* kern = detail::active_gemm_kernels();
  if (N <= 4) {
    static thread_local std::vector<float> btbuf;
    float* bt = tls_buffer(btbuf, N * K);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) bt[n * K + k] = B[k * ldb + n];
    kern->small_n(M, int(N), K, A, lda, bt, C, ldc, accumulate);
    return;
  }
  // padded work of the two orientations (the register block is kGemmMR x kGemmNR)
  const int64_t pad_n = (N + kGemmNR - 1) / kGemmNR * kGemmNR;
  const int64_t pad_m = (M + kGemmNR - 1) / kGemmNR * kGemmNR;
  if (N * pad_m * 4 < M * pad_n * 3) {
    // C^T = B^T . A^T: rows of the product are columns of C
    gemm_blocked(kern, N, M, K, B, 1, ldb, A, 1, lda, C, 1, ldc, accumulate);
  } else {
    gemm_blocked(kern, M, N, K, A, lda, 1, B, ldb, 1, C, ldc, 1, accumulate);
  }
}

}  // namespace hb
