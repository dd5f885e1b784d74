// hushboard — single-precision matrix multiply shared by the convolution kernels and the
// streaming engines. Row-major, explicit leading dimensions, one thread (callers parallelise over
// independent problems), no allocation.
#pragma once

#include <cstdint>

namespace hb {

// C[M x N] = A[M x K] . B[K x N]  (+ C when accumulate).
void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float* C, int64_t ldc, bool accumulate);

}  // namespace hb
