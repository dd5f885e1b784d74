// Per-ISA LSTM / GRU kernels. This file is included by rnn_simd_generic.cpp and
// rnn_simd_avx2.cpp, each defining HB_ARCH (the namespace) and compiled with its own flags.
// Everything here lives in that namespace with internal linkage, so the copies share no symbol.
//
// Vectors are 8 floats (GCC vector extension: AVX registers with FMA on AVX2, pairs of SSE
// registers on the portable path); the lanes are 8 hidden units of one gate (rnn_internal.h).
// A block of R rows x P panels keeps R*P*G accumulators in registers; per k it loads P*G weight
// vectors and broadcasts h[k] (or x[k]) of R rows. Every accumulator is a single chain over k in
// increasing order started from its initial value, whatever R and P, so an element's value does
// not depend on the blocking.
#ifndef HB_ARCH
#error "define HB_ARCH before including rnn_simd_impl.h"
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "rnn_internal.h"

namespace hb {
namespace detail {
namespace HB_ARCH {
namespace {

#include "simd_vec8.h"

constexpr int U = kRnnUnits;

// acc[r][p][g] += sum_k a[r][k] * w[p*pstride + k*G*U + g*U + lane], k = 0 .. K-1 in order.
// With R*P*G accumulators, the operands of one k must fit the remaining registers (16 on AVX2):
// R broadcasts then one weight vector at a time when R <= G (LSTM, 3 rows: 12 + 3 + 1), else the
// G weight vectors of a panel then one broadcast at a time (GRU, 4 rows: 12 + 3 + 1).
template <int G, int R, int P>
inline void mac(fv8 (&acc)[R][P][G], int64_t K, const float* const (&a)[R],
                const float* __restrict w, int64_t pstride) {
  for (int64_t k = 0; k < K; ++k) {
    if constexpr (R <= G) {
      fv8 av[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) av[r] = splat(a[r][k]);
#pragma GCC unroll 4
      for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
        for (int g = 0; g < G; ++g) {
          const fv8 wv = load(w + p * pstride + k * (G * U) + g * U);
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) acc[r][p][g] += av[r] * wv;
        }
      }
    } else {
#pragma GCC unroll 4
      for (int p = 0; p < P; ++p) {
        fv8 wv[G];
#pragma GCC unroll 4
        for (int g = 0; g < G; ++g) wv[g] = load(w + p * pstride + k * (G * U) + g * U);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const fv8 av = splat(a[r][k]);
#pragma GCC unroll 4
          for (int g = 0; g < G; ++g) acc[r][p][g] += av * wv[g];
        }
      }
    }
  }
}

// ---- input projection -------------------------------------------------------------------------
template <int G, int R>
void project_block(const RnnPacked& w, int64_t p, const float* const (&x)[R],
                   float* const (&out)[R]) {
  const int64_t ps = w.I * G * U;
  fv8 acc[R][1][G];
  for (int g = 0; g < G; ++g) {
    const fv8 b = load(w.bx + p * G * U + g * U);
    for (int r = 0; r < R; ++r) acc[r][0][g] = b;
  }
  mac<G, R, 1>(acc, w.I, x, w.wih + p * ps, ps);
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) store(out[r] + p * G * U + g * U, acc[r][0][g]);
}

// Row-block sizes: blocks of RMAX rows; a remainder of one row is avoided by shrinking the block
// before it (RMAX+1 rows -> (RMAX-1) + 2). Single rows only when M == 1.
template <int RMAX>
inline int next_block(int64_t left) {
  if (left == RMAX + 1 && RMAX >= 3) return RMAX - 1;
  return int(std::min<int64_t>(left, RMAX));
}

template <int G>
void project_g(const RnnPacked& w, int64_t rows, const RnnRows& xr, float* out) {
  constexpr int RMAX = G == 4 ? 3 : 4;
  const int64_t ld = w.ld();
  auto xrow = [&](int64_t r) { return xr.base + (r % xr.S) * xr.seq + (r / xr.S) * xr.pos; };
  // panels outer: one panel of W_ih (I x G*8 floats) stays in L1 while all rows pass
  for (int64_t p = 0; p < w.NP; ++p) {
    int64_t r0 = 0;
    while (r0 < rows) {
      const int b = next_block<RMAX>(rows - r0);
#define HB_PROJ(R)                                                                  \
  {                                                                                 \
    const float* xs[R];                                                             \
    float* os[R];                                                                   \
    for (int i = 0; i < R; ++i) {                                                   \
      xs[i] = xrow(r0 + i);                                                         \
      os[i] = out + (r0 + i) * ld;                                                  \
    }                                                                               \
    project_block<G, R>(w, p, xs, os);                                              \
  }
      switch (b) {
        case 4: HB_PROJ(4) break;  // GRU only (RMAX 4)
        case 3: HB_PROJ(3) break;
        case 2: HB_PROJ(2) break;
        default: HB_PROJ(1) break;
      }
#undef HB_PROJ
      r0 += b;
    }
  }
}

void project(const RnnPacked& w, int64_t rows, const RnnRows& x, float* out) {
  if (w.G == 4)
    project_g<4>(w, rows, x, out);
  else
    project_g<3>(w, rows, x, out);
}

// ---- recurrent step with fused gates ---------------------------------------------------------
// R rows x P panels starting at panel p0.
template <int R, int P>
void lstm_block(const RnnPacked& w, int64_t p0, const float* const (&xp)[R],
                const float* const (&hp)[R], float* const (&hn)[R], float* const (&c)[R]) {
  constexpr int G = 4;
  const int64_t ps = w.H * G * U;
  fv8 acc[R][P][G];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p)
      for (int g = 0; g < G; ++g) acc[r][p][g] = load(xp[r] + (p0 + p) * G * U + g * U);
  mac<G, R, P>(acc, w.H, hp, w.whh + p0 * ps, ps);
  lstm_activate<R, P>(acc);
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    const int64_t u0 = (p0 + p) * U;
    const int n = int(std::min<int64_t>(U, w.H - u0));
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const fv8 cn = acc[r][p][1] * load_n(c[r] + u0, n) + acc[r][p][0] * acc[r][p][2];
      store_n(c[r] + u0, cn, n);
      acc[r][p][2] = cn;
    }
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    const int64_t u0 = (p0 + p) * U;
    const int n = int(std::min<int64_t>(U, w.H - u0));
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) store_n(hn[r] + u0, acc[r][p][3] * vtanh(acc[r][p][2]), n);
  }
}

template <int R, int P>
void gru_block(const RnnPacked& w, int64_t p0, const float* const (&xp)[R],
               const float* const (&hp)[R], float* const (&hn)[R]) {
  constexpr int G = 3;
  const int64_t ps = w.H * G * U;
  fv8 acc[R][P][G];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) {
      acc[r][p][0] = load(xp[r] + (p0 + p) * G * U);
      acc[r][p][1] = load(xp[r] + (p0 + p) * G * U + U);
      acc[r][p][2] = load(w.bhn + (p0 + p) * U);
    }
  mac<G, R, P>(acc, w.H, hp, w.whh + p0 * ps, ps);
  // activations in stages over all R*P groups (as lstm_block)
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
      acc[r][p][0] = vsigmoid(acc[r][p][0]);
      acc[r][p][1] = vsigmoid(acc[r][p][1]);
    }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
      acc[r][p][2] = vtanh(load(xp[r] + (p0 + p) * G * U + 2 * U) + acc[r][p][0] * acc[r][p][2]);
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    const int64_t u0 = (p0 + p) * U;
    const int n = int(std::min<int64_t>(U, w.H - u0));
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const fv8 ng = acc[r][p][2];
      store_n(hn[r] + u0, ng + acc[r][p][1] * (load_n(hp[r] + u0, n) - ng), n);
    }
  }
}

template <int G, int R, int P>
inline void step_block(const RnnPacked& w, int64_t p0, int64_t m0, const float* xp,
                       const float* hp, int64_t hp_ld, float* hn, int64_t hn_ld, float* c) {
  const float* xs[R];
  const float* hs[R];
  float* ns[R];
  float* cs[R];
  for (int i = 0; i < R; ++i) {
    xs[i] = xp + (m0 + i) * w.ld();
    hs[i] = hp + (m0 + i) * hp_ld;
    ns[i] = hn + (m0 + i) * hn_ld;
    cs[i] = c ? c + (m0 + i) * w.H : nullptr;
  }
  if constexpr (G == 4)
    lstm_block<R, P>(w, p0, xs, hs, ns, cs);
  else
    gru_block<R, P>(w, p0, xs, hs, ns);
}

// Panels run in increasing order, or decreasing with backward: alternating the direction from
// one step to the next finds the panels used last (still in L1) first. The order does not
// change any value.
template <int G>
void step_g(const RnnPacked& w, int64_t M, const float* xp, const float* hp, int64_t hp_ld,
            float* hn, int64_t hn_ld, float* c, bool backward) {
  if (M == 1) {
    // matrix-vector product: several panels at once for 8..9 independent FMA chains
    constexpr int PMAX = G == 4 ? 2 : 3;
    const int64_t nfull = w.NP / PMAX, nb = nfull + w.NP % PMAX;
    for (int64_t i = 0; i < nb; ++i) {
      const int64_t b = backward ? nb - 1 - i : i;
      if (b < nfull)
        step_block<G, 1, PMAX>(w, b * PMAX, 0, xp, hp, hp_ld, hn, hn_ld, c);
      else
        step_block<G, 1, 1>(w, nfull * PMAX + (b - nfull), 0, xp, hp, hp_ld, hn, hn_ld, c);
    }
    return;
  }
  constexpr int RMAX = G == 4 ? 3 : 4;
  // panels outer: one panel of W_hh (H x G*8 floats) stays in L1 while all rows pass
  for (int64_t i = 0; i < w.NP; ++i) {
    const int64_t p0 = backward ? w.NP - 1 - i : i;
    int64_t m0 = 0;
    while (m0 < M) {
      const int b = next_block<RMAX>(M - m0);
      switch (b) {
        case 4: step_block<G, (G == 3 ? 4 : 3), 1>(w, p0, m0, xp, hp, hp_ld, hn, hn_ld, c); break;
        case 3: step_block<G, 3, 1>(w, p0, m0, xp, hp, hp_ld, hn, hn_ld, c); break;
        case 2: step_block<G, 2, 1>(w, p0, m0, xp, hp, hp_ld, hn, hn_ld, c); break;
        default: step_block<G, 1, 1>(w, p0, m0, xp, hp, hp_ld, hn, hn_ld, c); break;
      }
      m0 += b;
    }
  }
}

void step(const RnnPacked& w, int64_t M, const float* xp, const float* hp, int64_t hp_ld,
          float* hn, int64_t hn_ld, float* c, bool backward) {
  if (w.G == 4)
    step_g<4>(w, M, xp, hp, hp_ld, hn, hn_ld, c, backward);
  else
    step_g<3>(w, M, xp, hp, hp_ld, hn, hn_ld, c, backward);
}

void activation(int which, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += U) {
    const int m = int(std::min<int64_t>(U, n - i));
    const fv8 v = load_n(x + i, m);
    store_n(y + i, which == 0 ? vsigmoid(v) : vtanh(v), m);
  }
}

}  // namespace

const RnnKernels kRnnKernels = {HB_ARCH_NAME, &project, &step, &activation};

}  // namespace HB_ARCH
}  // namespace detail
}  // namespace hb
