// Per-ISA GEMM microkernels. This file is included by gemm_simd_generic.cpp and
// gemm_simd_avx2.cpp, each defining HB_ARCH (the namespace) and compiled with its own flags.
// Everything here lives in that namespace with internal linkage, so the copies share no symbol.
//
// The microkernel keeps a kGemmMR x kGemmNR (4 x 24) tile of C in registers: twelve 8-float
// vectors (GCC vector extension: AVX registers with FMA on AVX2, pairs of SSE registers on the
// portable path), fed per k by three vector loads of the packed B strip and four broadcasts of
// the packed A strip.
#ifndef HB_ARCH
#error "define HB_ARCH before including gemm_simd_impl.h"
#endif

#include <cstdint>
#include <cstring>

#include "gemm_internal.h"

namespace hb {
namespace detail {
namespace HB_ARCH {
namespace {

#include "simd_vec8.h"

typedef fv8 gv8;
inline gv8 gsplat(float a) { return splat(a); }
inline gv8 gload(const float* p) { return load(p); }
inline void gstore(float* p, gv8 v) { store(p, v); }

template <int R>
void micro_rows(int64_t kc, const float* __restrict a, const float* __restrict b, float* c,
                int64_t ldc, int cols, bool accumulate, float* c2) {
  gv8 acc[R][3];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = acc[r][2] = gsplat(0.f);
  for (int64_t k = 0; k < kc; ++k) {
    const gv8 b0 = gload(b), b1 = gload(b + 8), b2 = gload(b + 16);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const gv8 av = gsplat(a[r]);
      acc[r][0] += av * b0;
      acc[r][1] += av * b1;
      acc[r][2] += av * b2;
    }
    a += kGemmMR;
    b += kGemmNR;
  }
  float* outs[2] = {c, c2};
  if (cols == kGemmNR) {
    for (float* o : outs) {
      if (!o) continue;
      for (int r = 0; r < R; ++r) {
        float* p = o + r * ldc;
        if (accumulate) {
          gstore(p, gload(p) + acc[r][0]);
          gstore(p + 8, gload(p + 8) + acc[r][1]);
          gstore(p + 16, gload(p + 16) + acc[r][2]);
        } else {
          gstore(p, acc[r][0]);
          gstore(p + 8, acc[r][1]);
          gstore(p + 16, acc[r][2]);
        }
      }
    }
    return;
  }
  float tile[R][kGemmNR];
  for (int r = 0; r < R; ++r) {
    gstore(tile[r], acc[r][0]);
    gstore(tile[r] + 8, acc[r][1]);
    gstore(tile[r] + 16, acc[r][2]);
  }
  for (float* o : outs) {
    if (!o) continue;
    for (int r = 0; r < R; ++r) {
      float* p = o + r * ldc;
      if (accumulate)
        for (int j = 0; j < cols; ++j) p[j] += tile[r][j];
      else
        for (int j = 0; j < cols; ++j) p[j] = tile[r][j];
    }
  }
}

void micro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int rows,
           int cols, bool accumulate, float* c2) {
  switch (rows) {
    case 4: micro_rows<4>(kc, a, b, c, ldc, cols, accumulate, c2); break;
    case 3: micro_rows<3>(kc, a, b, c, ldc, cols, accumulate, c2); break;
    case 2: micro_rows<2>(kc, a, b, c, ldc, cols, accumulate, c2); break;
    default: micro_rows<1>(kc, a, b, c, ldc, cols, accumulate, c2); break;
  }
}

// Indirect microkernel (complex convolution): B row k is the NV*8 floats at b + boff[k].
template <int R, int NV>
void micro_ind_t(int64_t kc, const float* __restrict a, int64_t astride,
                 const float* __restrict b, const int64_t* __restrict boff, float* c,
                 int64_t ldc, int cols, float* c2) {
  gv8 acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = gsplat(0.f);
  const float* a1 = a + astride;
  for (int64_t k = 0; k < kc; ++k) {
    const float* bp = b + boff[k];
    gv8 bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = gload(bp + 8 * v);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const gv8 av = gsplat(r < kGemmMR ? a[r] : a1[r - kGemmMR]);
      for (int v = 0; v < NV; ++v) acc[r][v] += av * bv[v];
    }
    a += kGemmMR;
    a1 += kGemmMR;
  }
  float* outs[2] = {c, c2};
  if (cols == NV * 8) {
    for (float* o : outs) {
      if (!o) continue;
      for (int r = 0; r < R; ++r) {
        float* p = o + r * ldc;
        for (int v = 0; v < NV; ++v) gstore(p + 8 * v, gload(p + 8 * v) + acc[r][v]);
      }
    }
    return;
  }
  for (float* o : outs) {
    if (!o) continue;
    for (int r = 0; r < R; ++r) {
      float tr[NV * 8];
      for (int v = 0; v < NV; ++v) gstore(tr + 8 * v, acc[r][v]);
      float* p = o + r * ldc;
      for (int j = 0; j < cols; ++j) p[j] += tr[j];
    }
  }
}

// Transposed indirect kernel (few output columns, many output rows): lanes run over rows of C
// (output channels), the R <= 4 columns of C come from broadcasts of x[xoff[k] + r].
template <int R, int NV>
void micro_tr_t(int64_t kc, const float* __restrict x, const int64_t* __restrict xoff,
                const float* __restrict w, int64_t wld, float* c, int64_t ldc, int cols,
                float* c2) {
  gv8 acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = gsplat(0.f);
  for (int64_t k = 0; k < kc; ++k) {
    const float* xp = x + xoff[k];
    gv8 wv[NV];
    for (int v = 0; v < NV; ++v) wv[v] = gload(w + 8 * v);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const gv8 xv = gsplat(xp[r]);
      for (int v = 0; v < NV; ++v) acc[r][v] += xv * wv[v];
    }
    w += wld;
  }
  float t[R][NV * 8];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) gstore(t[r] + 8 * v, acc[r][v]);
  float* outs[2] = {c, c2};
  for (float* o : outs) {
    if (!o) continue;
    for (int j = 0; j < cols; ++j)
      for (int r = 0; r < R; ++r) o[j * ldc + r] += t[r][j];
  }
}

void micro_tr(int64_t kc, const float* x, const int64_t* xoff, int rows, const float* w,
              int64_t wld, int nv, float* c, int64_t ldc, int cols, float* c2) {
#define HB_TR(R, NV) micro_tr_t<R, NV>(kc, x, xoff, w, wld, c, ldc, cols, c2)
#define HB_TR_NV(R)                \
  switch (nv) {                    \
    case 1: HB_TR(R, 1); break;    \
    case 2: HB_TR(R, 2); break;    \
    default: HB_TR(R, 3); break;   \
  }
  switch (rows) {
    case 4: HB_TR_NV(4) break;
    case 3: HB_TR_NV(3) break;
    case 2: HB_TR_NV(2) break;
    default: HB_TR_NV(1) break;
  }
#undef HB_TR_NV
#undef HB_TR
}

void micro_ind(int64_t kc, const float* a, int64_t astride, int rows, const float* b,
               const int64_t* boff, int nv, float* c, int64_t ldc, int cols, float* c2) {
#define HB_IND(R, NV) micro_ind_t<R, NV>(kc, a, astride, b, boff, c, ldc, cols, c2)
  if (nv == 1) {
    switch (rows) {
      case 8: HB_IND(8, 1); break;
      case 7: HB_IND(7, 1); break;
      case 6: HB_IND(6, 1); break;
      case 5: HB_IND(5, 1); break;
      case 4: HB_IND(4, 1); break;
      case 3: HB_IND(3, 1); break;
      case 2: HB_IND(2, 1); break;
      default: HB_IND(1, 1); break;
    }
  } else if (nv == 2) {
    switch (rows) {
      case 4: HB_IND(4, 2); break;
      case 3: HB_IND(3, 2); break;
      case 2: HB_IND(2, 2); break;
      default: HB_IND(1, 2); break;
    }
  } else {
    switch (rows) {
      case 4: HB_IND(4, 3); break;
      case 3: HB_IND(3, 3); break;
      case 2: HB_IND(2, 3); break;
      default: HB_IND(1, 3); break;
    }
  }
#undef HB_IND
}

inline float hsum(gv8 v) {
  float s = 0.f;
  for (int i = 0; i < 8; ++i) s += v[i];
  return s;
}

// Two rows of A against N (1..4) columns of B at a time: up to eight independent FMA chains.
template <int N>
void small_n_cols(int64_t M, int64_t K, const float* A, int64_t lda, const float* bt, float* C,
                  int64_t ldc, bool accumulate) {
  const int64_t K8 = K & ~int64_t(7);
  int64_t m = 0;
  for (; m + 2 <= M; m += 2) {
    const float* a0 = A + m * lda;
    const float* a1 = a0 + lda;
    gv8 s0[N], s1[N];
    for (int n = 0; n < N; ++n) s0[n] = s1[n] = gsplat(0.f);
    for (int64_t k = 0; k < K8; k += 8) {
      const gv8 x0 = gload(a0 + k), x1 = gload(a1 + k);
      for (int n = 0; n < N; ++n) {
        const gv8 bv = gload(bt + n * K + k);
        s0[n] += x0 * bv;
        s1[n] += x1 * bv;
      }
    }
    for (int n = 0; n < N; ++n) {
      float r0 = hsum(s0[n]), r1 = hsum(s1[n]);
      for (int64_t k = K8; k < K; ++k) {
        r0 += a0[k] * bt[n * K + k];
        r1 += a1[k] * bt[n * K + k];
      }
      float* c0 = C + m * ldc + n;
      float* c1 = c0 + ldc;
      if (accumulate) {
        *c0 += r0;
        *c1 += r1;
      } else {
        *c0 = r0;
        *c1 = r1;
      }
    }
  }
  for (; m < M; ++m) {
    const float* a0 = A + m * lda;
    gv8 s0[N];
    for (int n = 0; n < N; ++n) s0[n] = gsplat(0.f);
    for (int64_t k = 0; k < K8; k += 8) {
      const gv8 x0 = gload(a0 + k);
      for (int n = 0; n < N; ++n) s0[n] += x0 * gload(bt + n * K + k);
    }
    for (int n = 0; n < N; ++n) {
      float r0 = hsum(s0[n]);
      for (int64_t k = K8; k < K; ++k) r0 += a0[k] * bt[n * K + k];
      float* c0 = C + m * ldc + n;
      *c0 = accumulate ? *c0 + r0 : r0;
    }
  }
}

void small_n(int64_t M, int N, int64_t K, const float* A, int64_t lda, const float* bt, float* C,
             int64_t ldc, bool accumulate) {
  switch (N) {
    case 1: small_n_cols<1>(M, K, A, lda, bt, C, ldc, accumulate); break;
    case 2: small_n_cols<2>(M, K, A, lda, bt, C, ldc, accumulate); break;
    case 3: small_n_cols<3>(M, K, A, lda, bt, C, ldc, accumulate); break;
    default: small_n_cols<4>(M, K, A, lda, bt, C, ldc, accumulate); break;
  }
}

}  // namespace

const GemmKernels kGemmKernels = {HB_ARCH_NAME, &micro, &small_n, &micro_ind, &micro_tr};

}  // namespace HB_ARCH
}  // namespace detail
}  // namespace hb
