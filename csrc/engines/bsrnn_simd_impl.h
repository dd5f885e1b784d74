// Per-ISA row kernels of the BSRNN engine: LayerNorm over feature rows, and the dual-path
// residual projection fused with the LayerNorm that follows it. Included by
// bsrnn_simd_generic.cpp and bsrnn_simd_avx2.cpp, each defining HB_ARCH and compiled with its
// own flags (GCC vector extensions: AVX registers with FMA on AVX2, SSE pairs otherwise).
#ifndef HB_ARCH
#error "define HB_ARCH before including bsrnn_simd_impl.h"
#endif

#include <cmath>
#include <cstdint>
#include <cstring>

#include "bsrnn_internal.h"

namespace hb {
namespace detail {
namespace HB_ARCH {
namespace {

#include "../cpu/simd_vec8.h"

typedef fv8 bv8;
inline float bsum(bv8 v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

// z = (x - mean) / sqrt(var + eps) * g + b over one row of n features (two passes).
inline void norm_row(const float* x, int64_t n, const float* g, const float* b, float eps,
                     float* z) {
  const int64_t n8 = n / 8 * 8;
  bv8 s = splat(0.f);
  float tail = 0.f;
  for (int64_t i = 0; i < n8; i += 8) s += load(x + i);
  for (int64_t i = n8; i < n; ++i) tail += x[i];
  const float mean = (bsum(s) + tail) / float(n);
  const bv8 mv = splat(mean);
  bv8 q = splat(0.f);
  tail = 0.f;
  for (int64_t i = 0; i < n8; i += 8) {
    const bv8 d = load(x + i) - mv;
    q += d * d;
  }
  for (int64_t i = n8; i < n; ++i) tail += (x[i] - mean) * (x[i] - mean);
  const float inv = 1.0f / std::sqrt((bsum(q) + tail) / float(n) + eps);
  const bv8 iv = splat(inv);
  for (int64_t i = 0; i < n8; i += 8)
    store(z + i, (load(x + i) - mv) * iv * load(g + i) + load(b + i));
  for (int64_t i = n8; i < n; ++i) z[i] = (x[i] - mean) * inv * g[i] + b[i];
}

void layer_norm_rows(const float* x, int64_t rows, int64_t n, const float* g, const float* b,
                     float eps, float* z) {
  for (int64_t r = 0; r < rows; ++r) norm_row(x + r * n, n, g, b, eps, z + r * n);
}

// x[r] += y[r] . wt + bias for a block of R rows and the 8-column strips [j0, j0 + 8 * V).
template <int R, int V>
inline void residual_block(const float* y, int64_t in, const float* wt, int64_t np,
                           const float* bias, float* x, int64_t n, int64_t j0) {
  bv8 acc[R][V];
  for (int v = 0; v < V; ++v) {
    const bv8 bv = load(bias + j0 + 8 * v);
    for (int r = 0; r < R; ++r) acc[r][v] = bv;
  }
  // R broadcasts and R * V accumulators stay in registers; each weight vector is loaded once
  // and used R times (or folded into the FMA as a memory operand)
  for (int64_t i = 0; i < in; ++i) {
    bv8 a[R];
    for (int r = 0; r < R; ++r) a[r] = splat(y[r * in + i]);
    const float* wi = wt + i * np + j0;
    for (int v = 0; v < V; ++v) {
      const bv8 w = load(wi + 8 * v);
      for (int r = 0; r < R; ++r) acc[r][v] += a[r] * w;
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) {
      const int64_t j = j0 + 8 * v;
      float* xr = x + r * n;
      if (j + 8 <= n) {
        store(xr + j, load(xr + j) + acc[r][v]);
      } else {
        for (int64_t e = 0; j + e < n; ++e) xr[j + e] += acc[r][v][e];
      }
    }
}

// x[r] += y[r] . wt + bias over all np columns (a multiple of 8) for R rows, in blocks of V
// strips of 8 columns. Blocks are as even as they can be with at most 6 strips each, so that
// every block keeps R * V >= 8 accumulators in flight (the FMA latency times its throughput) and
// narrow tails (one lone strip: one FMA chain per row, latency-bound) never occur for np > 8.
template <int R>
inline void residual_rows_r(const float* y, int64_t in, const float* wt, int64_t np,
                            const float* bias, float* x, int64_t n) {
  const int64_t strips = np / 8;
  const int64_t blocks = (strips + 5) / 6;
  int64_t j0 = 0;
  for (int64_t k = 0; k < blocks; ++k) {
    const int64_t v = (strips - j0 / 8) / (blocks - k);  // even split of what is left
    switch (v) {
      case 1: residual_block<R, 1>(y, in, wt, np, bias, x, n, j0); break;
      case 2: residual_block<R, 2>(y, in, wt, np, bias, x, n, j0); break;
      case 3: residual_block<R, 3>(y, in, wt, np, bias, x, n, j0); break;
      case 4: residual_block<R, 4>(y, in, wt, np, bias, x, n, j0); break;
      case 5: residual_block<R, 5>(y, in, wt, np, bias, x, n, j0); break;
      default: residual_block<R, 6>(y, in, wt, np, bias, x, n, j0); break;
    }
    j0 += 8 * v;
  }
}

template <int R>
inline void residual_norm_block(const float* y, int64_t in, const float* wt, int64_t np,
                                const float* bias, float* x, int64_t n, const float* g,
                                const float* b, float eps, float* z) {
  residual_rows_r<R>(y, in, wt, np, bias, x, n);
  if (g)
    for (int r = 0; r < R; ++r) norm_row(x + r * n, n, g, b, eps, z + r * n);
}

// Narrow outputs (up to 3 strips) take 4 rows a block, wider ones 2: 8 to 12 accumulators.
void residual_norm_rows(const float* y, int64_t rows, int64_t in, const float* wt, int64_t np,
                        const float* bias, float* x, int64_t n, const float* g, const float* b,
                        float eps, float* z) {
  int64_t r = 0;
  if (np <= 24) {
    for (; r + 4 <= rows; r += 4)
      residual_norm_block<4>(y + r * in, in, wt, np, bias, x + r * n, n, g, b, eps, z + r * n);
  } else {
    for (; r + 2 <= rows; r += 2)
      residual_norm_block<2>(y + r * in, in, wt, np, bias, x + r * n, n, g, b, eps, z + r * n);
  }
  for (; r < rows; ++r)
    residual_norm_block<1>(y + r * in, in, wt, np, bias, x + r * n, n, g, b, eps, z + r * n);
}

}  // namespace

const BsrnnRowKernels kBsrnnRowKernels = {layer_norm_rows, residual_norm_rows};

}  // namespace HB_ARCH
}  // namespace detail
}  // namespace hb
