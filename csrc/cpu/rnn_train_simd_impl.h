// Per-ISA LSTM training kernels. This file is included by rnn_train_simd_generic.cpp and
// rnn_train_simd_avx2.cpp, each defining HB_ARCH (the namespace) and compiled with its own flags.
// Everything here lives in that namespace with internal linkage, so the copies share no symbol.
//
// Vectors are 8 floats (GCC vector extension: AVX registers with FMA on AVX2, pairs of SSE
// registers on the portable path). Register blocks keep at most 12 accumulators; every
// accumulator is one chain over its reduction index in increasing order, started from its
// initial value, whatever the blocking, so an element's value does not depend on M or on which
// rows share a block.
#ifndef HB_ARCH
#error "define HB_ARCH before including rnn_train_simd_impl.h"
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "rnn_train_internal.h"

namespace hb {
namespace detail {
namespace HB_ARCH {
namespace {

#include "simd_vec8.h"

constexpr int U = kRnnUnits;  // 8 lanes = 8 hidden units of one gate
constexpr int G = 4;          // LSTM gates i, f, g, o
constexpr int GU = G * U;     // floats of one panel's gate vector

// Blocks of up to RMAX rows; a remainder of one row is avoided by shrinking the block before it.
template <int RMAX>
inline int next_block(int64_t left) {
  if (left == RMAX + 1 && RMAX >= 3) return RMAX - 1;
  return int(std::min<int64_t>(left, RMAX));
}

// ---- forward step ---------------------------------------------------------------------------
// R rows x P panels from panel p0: gates += W_hh h, activations, cell and hidden update.
template <int R, int P>
inline void fwd_block(const RnnPacked& w, int64_t p0, float* const (&g)[R],
                      const float* const (&hp)[R], const float* const (&cp)[R],
                      float* const (&cn)[R], float* const (&hn)[R]) {
  const int64_t ps = w.H * GU;
  const float* __restrict wb = w.whh + p0 * ps;
  fv8 acc[R][P][G];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p)
      for (int q = 0; q < G; ++q) acc[r][p][q] = load(g[r] + (p0 + p) * GU + q * U);
  for (int64_t k = 0; k < w.H; ++k) {
    fv8 av[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) av[r] = splat(hp[r][k]);
#pragma GCC unroll 4
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int q = 0; q < G; ++q) {
        const fv8 wv = load(wb + p * ps + k * GU + q * U);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) acc[r][p][q] += av[r] * wv;
      }
  }
  lstm_activate<R, P>(acc);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
      float* gr = g[r] + (p0 + p) * GU;
      for (int q = 0; q < G; ++q) store(gr + q * U, acc[r][p][q]);
      const int64_t u0 = (p0 + p) * U;
      const fv8 c = acc[r][p][1] * load(cp[r] + u0) + acc[r][p][0] * acc[r][p][2];
      store(cn[r] + u0, c);
      acc[r][p][2] = c;
    }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
      const int64_t u0 = (p0 + p) * U;
      const int n = int(std::min<int64_t>(U, w.H - u0));
      store_n(hn[r] + u0, acc[r][p][3] * vtanh(acc[r][p][2]), n);
    }
}

template <int R, int P>
inline void fwd_rows(const RnnPacked& w, int64_t p0, int64_t m0, float* g, const float* hp,
                     int64_t hp_ld, const float* cp, float* cn, float* hn, int64_t hn_ld) {
  float* gs[R];
  const float* hs[R];
  const float* cps[R];
  float* cns[R];
  float* ns[R];
  for (int i = 0; i < R; ++i) {
    gs[i] = g + (m0 + i) * w.ld();
    hs[i] = hp + (m0 + i) * hp_ld;
    cps[i] = cp + (m0 + i) * w.Hp;
    cns[i] = cn + (m0 + i) * w.Hp;
    ns[i] = hn + (m0 + i) * hn_ld;
  }
  fwd_block<R, P>(w, p0, gs, hs, cps, cns, ns);
}

void step(const RnnPacked& w, int64_t M, float* g, const float* hp, int64_t hp_ld,
          const float* cp, float* cn, float* hn, int64_t hn_ld) {
  if (M == 1) {  // matrix-vector product: two panels at once for 8 independent chains
    int64_t p = 0;
    for (; p + 2 <= w.NP; p += 2) fwd_rows<1, 2>(w, p, 0, g, hp, hp_ld, cp, cn, hn, hn_ld);
    if (p < w.NP) fwd_rows<1, 1>(w, p, 0, g, hp, hp_ld, cp, cn, hn, hn_ld);
    return;
  }
  // panels outer: one panel of W_hh (H x 32 floats) stays in L1 while all rows pass
  for (int64_t p = 0; p < w.NP; ++p) {
    int64_t m0 = 0;
    while (m0 < M) {
      const int b = next_block<3>(M - m0);
      switch (b) {
        case 3: fwd_rows<3, 1>(w, p, m0, g, hp, hp_ld, cp, cn, hn, hn_ld); break;
        case 2: fwd_rows<2, 1>(w, p, m0, g, hp, hp_ld, cp, cn, hn, hn_ld); break;
        default: fwd_rows<1, 1>(w, p, m0, g, hp, hp_ld, cp, cn, hn, hn_ld); break;
      }
      m0 += b;
    }
  }
}

// ---- backward: gate gradients ----------------------------------------------------------------
void bwd_gates(const RnnPacked& w, int64_t M, const float* g, const float* c, const float* cp,
               const float* dy, int64_t dy_ld, const float* dh_in, int64_t dh_ld, float* dc,
               float* dg) {
  const int64_t Q = w.ld(), Hp = w.Hp;
  const fv8 one = splat(1.f);
  for (int64_t m = 0; m < M; ++m) {
    const float* gr = g + m * Q;
    float* dgr = dg + m * Q;
    for (int64_t p = 0; p < w.NP; ++p) {
      const int64_t u0 = p * U;
      const fv8 gi = load(gr + p * GU), gf = load(gr + p * GU + U);
      const fv8 gg = load(gr + p * GU + 2 * U), go = load(gr + p * GU + 3 * U);
      fv8 dh = load(dh_in + m * dh_ld + u0);
      if (dy) dh += load_n(dy + m * dy_ld + u0, int(std::min<int64_t>(U, w.H - u0)));
      const fv8 tc = vtanh(load(c + m * Hp + u0));
      const fv8 dcv = load(dc + m * Hp + u0) + dh * go * (one - tc * tc);
      store(dgr + p * GU, dcv * gg * (gi * (one - gi)));
      store(dgr + p * GU + U, dcv * load(cp + m * Hp + u0) * (gf * (one - gf)));
      store(dgr + p * GU + 2 * U, dcv * gi * (one - gg * gg));
      store(dgr + p * GU + 3 * U, dh * tc * (go * (one - go)));
      store(dc + m * Hp + u0, dcv * gf);
    }
  }
}

// ---- small GEMM: C = A . B ------------------------------------------------------------------
template <int R, int V>
inline void gemm_block(int64_t K, const float* A, int64_t lda, const float* __restrict B,
                       int64_t N, float* C, int64_t ldc) {
  fv8 acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) acc[r][v] = splat(0.f);
  for (int64_t k = 0; k < K; ++k) {
    fv8 av[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) av[r] = splat(A[r * lda + k]);
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const fv8 bv = load(B + k * N + v * U);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r][v] += av[r] * bv;
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) store(C + r * ldc + v * U, acc[r][v]);
}

template <int V>
inline void gemm_cols(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                      const float* B, float* C, int64_t ldc) {
  int64_t m0 = 0;
  while (m0 < M) {
    const int b = next_block<3>(M - m0);
    const float* a = A + m0 * lda;
    float* c = C + m0 * ldc;
    switch (b) {
      case 3: gemm_block<3, V>(K, a, lda, B, N, c, ldc); break;
      case 2: gemm_block<2, V>(K, a, lda, B, N, c, ldc); break;
      default: gemm_block<1, V>(K, a, lda, B, N, c, ldc); break;
    }
    m0 += b;
  }
}

void gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
          float* C, int64_t ldc) {
  const int64_t NV = N / U;
  // column blocks of 4 vectors outer: that slice of B (K x 32 floats) stays in L1
  for (int64_t v0 = 0; v0 < NV; v0 += 4) {
    const float* b = B + v0 * U;
    float* c = C + v0 * U;
    switch (std::min<int64_t>(4, NV - v0)) {
      case 4: gemm_cols<4>(M, N, K, A, lda, b, c, ldc); break;
      case 3: gemm_cols<3>(M, N, K, A, lda, b, c, ldc); break;
      case 2: gemm_cols<2>(M, N, K, A, lda, b, c, ldc); break;
      default: gemm_cols<1>(M, N, K, A, lda, b, c, ldc); break;
    }
  }
}

// ---- weight gradients: C += X^T A -----------------------------------------------------------
// R rows of C (n0 ..) x 32 columns (q0 ..), summed over the M rows of X and A in order.
template <int R>
inline void outer_block(int64_t M, const float* X, int64_t x_ld, const float* A, int64_t lda,
                        float* C, int64_t ldc) {
  fv8 acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < 4; ++v) acc[r][v] = load(C + r * ldc + v * U);
  for (int64_t m = 0; m < M; ++m) {
    const float* x = X + m * x_ld;
    const float* a = A + m * lda;
    fv8 xs[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) xs[r] = splat(x[r]);
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      const fv8 av = load(a + v * U);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r][v] += xs[r] * av;
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < 4; ++v) store(C + r * ldc + v * U, acc[r][v]);
}

void accum_outer(int64_t M, int64_t N, int64_t Q, const float* X, int64_t x_ld, const float* A,
                 int64_t lda, float* C) {
  if (M <= 0) return;
  // 32-column slices outer: the slice of A (M x 32 floats) stays in L1 while all n pass
  for (int64_t q0 = 0; q0 < Q; q0 += 4 * U) {
    int64_t n0 = 0;
    while (n0 < N) {
      const int b = int(std::min<int64_t>(3, N - n0));
      const float* x = X + n0;
      const float* a = A + q0;
      float* c = C + n0 * Q + q0;
      switch (b) {
        case 3: outer_block<3>(M, x, x_ld, a, lda, c, Q); break;
        case 2: outer_block<2>(M, x, x_ld, a, lda, c, Q); break;
        default: outer_block<1>(M, x, x_ld, a, lda, c, Q); break;
      }
      n0 += b;
    }
  }
}

void colsum(int64_t M, int64_t Q, const float* A, int64_t lda, float* db) {
  for (int64_t q0 = 0; q0 < Q; q0 += 4 * U) {
    fv8 acc[4];
    for (int v = 0; v < 4; ++v) acc[v] = load(db + q0 + v * U);
    for (int64_t m = 0; m < M; ++m)
      for (int v = 0; v < 4; ++v) acc[v] += load(A + m * lda + q0 + v * U);
    for (int v = 0; v < 4; ++v) store(db + q0 + v * U, acc[v]);
  }
}

}  // namespace

const LstmTrainKernels kLstmTrainKernels = {HB_ARCH_NAME, &step,        &bwd_gates,
                                            &gemm,        &accum_outer, &colsum};

}  // namespace HB_ARCH
}  // namespace detail
}  // namespace hb
