// Per-ISA band-split / band-mask kernels. Included by band_cpu.cpp (portable) and
// band_simd_avx2.cpp (-mavx2 -mfma), each defining HB_ARCH (the namespace) and HB_ARCH_NAME.
// Everything lives in that namespace with internal linkage, so the copies share no symbol.
//
// Two register-blocked kernels serve the matrix products (GCC vector extensions: AVX registers
// with FMA on AVX2, pairs of SSE registers on the portable path): a broadcast form, C[r, :] =
// init + sum_k a[r, k] * B[k, :] with the outputs as the SIMD lanes (band split, the mask's first
// layer), and a dot form with the reduction over the lanes (the mask's second layer: few outputs,
// long sums). In both, every output is summed in the same order whatever the register block, so
// a row's result does not depend on S or on the rows computed with it.
#ifndef HB_ARCH
#error "define HB_ARCH before including band_simd_impl.h"
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "band_internal.h"

namespace hb {
namespace detail {
namespace HB_ARCH {
namespace {

#include "simd_vec8.h"

typedef fv8 bv8;
typedef iv8 bi8;

inline float hsum(bv8 v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

// pairwise sums within 128-bit halves (vhaddps): {a0+a1, a2+a3, b0+b1, b2+b3, a4+a5, ...}
inline bv8 hadd(bv8 a, bv8 b) {
  return __builtin_shuffle(a, b, bi8{0, 2, 8, 10, 4, 6, 12, 14}) +
         __builtin_shuffle(a, b, bi8{1, 3, 9, 11, 5, 7, 13, 15});
}
// lane i = hsum(v[i]) for eight vectors at once, bit for bit (same additions, same order)
inline bv8 hsum8(const bv8* v) {
  const bv8 x = hadd(hadd(v[0], v[1]), hadd(v[2], v[3]));
  const bv8 y = hadd(hadd(v[4], v[5]), hadd(v[6], v[7]));
  return __builtin_shuffle(x, y, bi8{0, 1, 2, 3, 8, 9, 10, 11}) +
         __builtin_shuffle(x, y, bi8{4, 5, 6, 7, 12, 13, 14, 15});
}

template <bv8 (*Fn)(bv8)>
void map_n(const float* x, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) store(y + i, Fn(load(x + i)));
  if (i < n) {
    float t[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    std::memcpy(t, x + i, size_t(n - i) * sizeof(float));
    store(t, Fn(load(t)));
    std::memcpy(y + i, t, size_t(n - i) * sizeof(float));
  }
}
void tanh_n(const float* x, int64_t n, float* y) { map_n<vtanh>(x, n, y); }
void sigmoid_n(const float* x, int64_t n, float* y) { map_n<vsigmoid>(x, n, y); }

// ---- LayerNorm of one segment of n floats (two passes, biased variance) -------------------------
inline void layer_norm(const float* x, int64_t n, const float* g, const float* b, float eps,
                       float* z) {
  int64_t j = 0;
  bv8 s = splat(0.f);
  for (; j + 8 <= n; j += 8) s += load(x + j);
  float sum = hsum(s);
  for (; j < n; ++j) sum += x[j];
  const float mean = sum / float(n);
  const bv8 mv = splat(mean);
  bv8 q = splat(0.f);
  for (j = 0; j + 8 <= n; j += 8) {
    const bv8 dv = load(x + j) - mv;
    q += dv * dv;
  }
  float sq = hsum(q);
  for (; j < n; ++j) sq += (x[j] - mean) * (x[j] - mean);
  const float rstd = 1.f / std::sqrt(sq / float(n) + eps);
  const bv8 rv = splat(rstd);
  for (j = 0; j + 8 <= n; j += 8) store(z + j, (load(x + j) - mv) * rv * load(g + j) + load(b + j));
  for (; j < n; ++j) z[j] = (x[j] - mean) * rstd * g[j] + b[j];
}

// ---- broadcast-form product (outputs are the lanes) ---------------------------------------------
// For strips s < NS (each 8*NV columns: B packed strip-major, strip s at b + s * sstride, row k
// of a strip at k * 8*NV), rows r < R:
//   c[r*ldc + s*8*NV + j] = act(init[s*8*NV + j] + sum_{k<kc} a[r*lda + k] * B_s[k, j])
// for j < cols (cols < 8*NV only with NS = 1). Every output is init plus its kc products added
// in order of k, whatever R and NS are: a row's result does not depend on its block. Several
// strips per call give few-row blocks enough independent FMA chains to hide the FMA latency.
template <int R, int NV, int NS, bool TANH>
void block(int64_t kc, const float* __restrict a, int64_t lda, const float* __restrict b,
           int64_t sstride, const float* __restrict init, float* __restrict c, int64_t ldc,
           int cols) {
  constexpr int W = 8 * NV;
  bv8 acc[R][NS][NV];
  for (int s = 0; s < NS; ++s)
    for (int v = 0; v < NV; ++v) {
      const bv8 iv = load(init + s * W + 8 * v);
      for (int r = 0; r < R; ++r) acc[r][s][v] = iv;
    }
  for (int64_t k = 0; k < kc; ++k) {
    bv8 bv[NS][NV];
    if (R == 1)
      for (int s = 0; s < NS; ++s) __builtin_prefetch(b + s * sstride + (k + 16) * W);
    for (int s = 0; s < NS; ++s)
      for (int v = 0; v < NV; ++v) bv[s][v] = load(b + s * sstride + k * W + 8 * v);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const bv8 av = splat(a[r * lda + k]);
      for (int s = 0; s < NS; ++s)
        for (int v = 0; v < NV; ++v) acc[r][s][v] += av * bv[s][v];
    }
  }
  if (TANH)
    for (int r = 0; r < R; ++r)
      for (int s = 0; s < NS; ++s)
        for (int v = 0; v < NV; ++v) acc[r][s][v] = vtanh(acc[r][s][v]);
  if (NS > 1 || cols == W) {
    for (int r = 0; r < R; ++r)
      for (int s = 0; s < NS; ++s)
        for (int v = 0; v < NV; ++v) store(c + r * ldc + s * W + 8 * v, acc[r][s][v]);
    return;
  }
  for (int r = 0; r < R; ++r) {
    float t[W];
    for (int v = 0; v < NV; ++v) store(t + 8 * v, acc[r][0][v]);
    std::memcpy(c + r * ldc, t, size_t(cols) * sizeof(float));
  }
}

template <bool TANH>
void block_rc(int rows, int nv, int64_t kc, const float* a, int64_t lda, const float* b,
              const float* init, float* c, int64_t ldc, int cols) {
#define HB_BLOCK(R, NV) block<R, NV, 1, TANH>(kc, a, lda, b, 0, init, c, ldc, cols)
#define HB_BLOCK_NV(R)               \
  switch (nv) {                      \
    case 1: HB_BLOCK(R, 1); break;   \
    case 2: HB_BLOCK(R, 2); break;   \
    default: HB_BLOCK(R, 3); break;  \
  }
  switch (rows) {
    case 4: HB_BLOCK_NV(4) break;
    case 3: HB_BLOCK_NV(3) break;
    case 2: HB_BLOCK_NV(2) break;
    default: HB_BLOCK_NV(1) break;
  }
#undef HB_BLOCK_NV
#undef HB_BLOCK
}

// The cn rows of a chunk through one product: c (row stride ldc) = act(init + a . B), a with
// row stride lda, B (kc x width, width a multiple of 8) packed in column strips of 24 (the last
// one 8 or 16 wide), strip j0 contiguous at b + j0 * kc (band_pack_strips). Whole 4-row blocks
// run strips outer (a strip stays in L1 across the chunk); the 1..3 leftover rows (all of them
// when streaming one frame) take two or three full strips per call. Columns >= stored are not
// written.
template <bool TANH>
void chunk_product(int64_t cn, int64_t kc, const float* a, int64_t lda, const float* b,
                   int64_t width, int64_t stored, const float* init, float* c, int64_t ldc) {
  const int64_t full = cn / kBandRows * kBandRows;
  for (int64_t j0 = 0; full > 0 && j0 < width; j0 += 24) {
    const int nv = int(std::min<int64_t>(3, (width - j0) / 8));
    const int cols = int(std::min<int64_t>(8 * nv, stored - j0));
    if (cols <= 0) break;
    for (int64_t r0 = 0; r0 < full; r0 += kBandRows)
      block_rc<TANH>(int(kBandRows), nv, kc, a + r0 * lda, lda, b + j0 * kc, init + j0,
                     c + r0 * ldc + j0, ldc, cols);
  }
  const int rem = int(cn - full);
  if (rem == 0) return;
  a += full * lda;
  c += full * ldc;
  const int64_t whole = std::min(width, stored);  // columns in full, fully stored strips
  int64_t j0 = 0;
  if (rem == 1) {
    for (; j0 + 72 <= whole; j0 += 72)
      block<1, 3, 3, TANH>(kc, a, lda, b + j0 * kc, 24 * kc, init + j0, c + j0, ldc, 72);
  }
  if (rem <= 2) {
    for (; j0 + 48 <= whole; j0 += 48) {
      if (rem == 1)
        block<1, 3, 2, TANH>(kc, a, lda, b + j0 * kc, 24 * kc, init + j0, c + j0, ldc, 48);
      else
        block<2, 3, 2, TANH>(kc, a, lda, b + j0 * kc, 24 * kc, init + j0, c + j0, ldc, 48);
    }
  }
  for (; j0 < width; j0 += 24) {
    const int nv = int(std::min<int64_t>(3, (width - j0) / 8));
    const int cols = int(std::min<int64_t>(8 * nv, stored - j0));
    if (cols <= 0) break;
    block_rc<TANH>(rem, nv, kc, a, lda, b + j0 * kc, init + j0, c + j0, ldc, cols);
  }
}

// ---- dot-form product (the reduction runs over the lanes) -------------------------------------
// For rows r < R and outputs o < O: c[r*ldc + o] = init[o] + hsum(sum over 8-wide chunks i of
// a[r*lda + 8i ..] * w[o*ldw + 8i ..]), n8 chunks (a and w rows zero padded to 8*n8). The
// summation order of an output does not depend on R or O. Used for the band mask's second layer,
// a long reduction (Hm) into few outputs per band: lanes over outputs would leave one frame with
// one or two FMA chains per band, latency bound.
template <int R, int O>
void dot_block(int64_t n8, const float* __restrict a, int64_t lda, const float* __restrict w,
               int64_t ldw, const float* __restrict init, float* __restrict c, int64_t ldc) {
  bv8 acc[R][O];
  for (int r = 0; r < R; ++r)
    for (int o = 0; o < O; ++o) acc[r][o] = splat(0.f);
  for (int64_t i = 0; i < n8; ++i) {
    bv8 av[R];
    for (int r = 0; r < R; ++r) av[r] = load(a + r * lda + 8 * i);
    for (int o = 0; o < O; ++o) {
      const bv8 wv = load(w + o * ldw + 8 * i);
      for (int r = 0; r < R; ++r) acc[r][o] += av[r] * wv;
    }
  }
  constexpr int NG = (R * O + 7) / 8;  // reduce eight accumulators per step (hsum8)
  bv8 flat[NG * 8];
  for (int i = 0; i < NG * 8; ++i) flat[i] = i < R * O ? acc[i / O][i % O] : splat(0.f);
  float sums[NG * 8];
  for (int g = 0; g < NG; ++g) store(sums + 8 * g, hsum8(flat + 8 * g));
  for (int r = 0; r < R; ++r)
    for (int o = 0; o < O; ++o) c[r * ldc + o] = init[o] + sums[r * O + o];
}

// rows x nout outputs: blocks of up to 3 rows and as many outputs as leave the accumulators,
// the rows and one weight vector in registers (12 + 3 + 1)
void dot_rows(int64_t rows, int64_t nout, int64_t n8, const float* a, int64_t lda,
              const float* w, int64_t ldw, const float* init, float* c, int64_t ldc) {
  for (int64_t r0 = 0; r0 < rows; r0 += 3) {
    const int R = int(std::min<int64_t>(3, rows - r0));
    const int omax = R == 1 ? 8 : R == 2 ? 6 : 4;
    const float* ar = a + r0 * lda;
    float* cr = c + r0 * ldc;
    for (int64_t o0 = 0; o0 < nout; o0 += omax) {
      const int O = int(std::min<int64_t>(omax, nout - o0));
      const float* wo = w + o0 * ldw;
#define HB_DOT(RR, OO) dot_block<RR, OO>(n8, ar, lda, wo, ldw, init + o0, cr + o0, ldc)
      switch (R * 16 + O) {
        case 0x11: HB_DOT(1, 1); break;
        case 0x12: HB_DOT(1, 2); break;
        case 0x13: HB_DOT(1, 3); break;
        case 0x14: HB_DOT(1, 4); break;
        case 0x15: HB_DOT(1, 5); break;
        case 0x16: HB_DOT(1, 6); break;
        case 0x17: HB_DOT(1, 7); break;
        case 0x18: HB_DOT(1, 8); break;
        case 0x21: HB_DOT(2, 1); break;
        case 0x22: HB_DOT(2, 2); break;
        case 0x23: HB_DOT(2, 3); break;
        case 0x24: HB_DOT(2, 4); break;
        case 0x25: HB_DOT(2, 5); break;
        case 0x26: HB_DOT(2, 6); break;
        case 0x31: HB_DOT(3, 1); break;
        case 0x32: HB_DOT(3, 2); break;
        case 0x33: HB_DOT(3, 3); break;
        default: HB_DOT(3, 4); break;
      }
#undef HB_DOT
    }
  }
}

// ---- band split -------------------------------------------------------------------------------
void split_rows(const BandSplitView& v, const float* x, int64_t S, int64_t ldx, float* y,
                float* scratch) {
  float* z = scratch;  // chunk x zld: the chunk's normalised rows, bands at their offsets
  const int64_t KN = v.K * v.N;
  for (int64_t c0 = 0; c0 < S; c0 += kBandChunk) {
    const int64_t cn = std::min(kBandChunk, S - c0);
    for (int64_t r = 0; r < cn; ++r) {  // rows in order: the input streams sequentially
      const float* xr = x + (c0 + r) * ldx;
      float* zr = z + r * v.zld;
      for (int64_t k = 0; k < v.K; ++k) {
        const int64_t o = v.offs[k];
        layer_norm(xr + o, v.dims[k], v.gamma + o, v.beta + o, v.eps, zr + o);
      }
    }
    for (int64_t k = 0; k < v.K; ++k) {
      const int64_t o = v.offs[k];
      chunk_product<false>(cn, v.dims[k], z + o, v.zld, v.wt + o * v.Np, v.Np, v.N,
                           v.bias + k * v.Np, y + c0 * KN + k * v.N, KN);
    }
  }
}

// ---- band mask --------------------------------------------------------------------------------
// y[j] = v[j] * sigmoid(v[d + j]) (glu) or tanh(v[j]), j < d
void mask_out(const float* vrow, int64_t d, bool glu, float* y) {
  int64_t j = 0;
  if (glu) {
    for (; j + 8 <= d; j += 8) store(y + j, load(vrow + j) * vsigmoid(load(vrow + d + j)));
  } else {
    for (; j + 8 <= d; j += 8) store(y + j, vtanh(load(vrow + j)));
  }
  if (j == d) return;
  const size_t t = size_t(d - j) * sizeof(float);
  float a[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  float g[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  std::memcpy(a, vrow + j, t);
  if (glu) {
    std::memcpy(g, vrow + d + j, t);
    store(a, load(a) * vsigmoid(load(g)));
  } else {
    store(a, vtanh(load(a)));
  }
  std::memcpy(y + j, a, t);
}

void mask_rows(const BandMaskView& v, const float* x, int64_t S, float* y, int64_t ldy,
               float* scratch) {
  float* z = scratch;                   // chunk x Np: normalised band inputs
  float* u = z + kBandChunk * v.Np;     // chunk x Hp: hidden layer
  float* vv = u + kBandChunk * v.Hp;    // chunk x vld: second layer
  const int64_t KN = v.K * v.N;
  for (int64_t c0 = 0; c0 < S; c0 += kBandChunk) {
    const int64_t cn = std::min(kBandChunk, S - c0);
    for (int64_t k = 0; k < v.K; ++k) {
      for (int64_t r = 0; r < cn; ++r)
        layer_norm(x + (c0 + r) * KN + k * v.N, v.N, v.gamma + k * v.N, v.beta + k * v.N,
                   v.eps, z + r * v.Np);
      chunk_product<true>(cn, v.N, z, v.Np, v.w1t + k * v.N * v.Hp, v.Hp, v.Hp, v.b1 + k * v.Hp,
                          u, v.Hp);
      dot_rows(cn, v.m * v.dims[k], v.Hp / 8, u, v.Hp, v.w2 + v.m * v.offs[k] * v.Hp, v.Hp,
               v.b2 + v.m * v.offs[k], vv, v.vld);
      for (int64_t r = 0; r < cn; ++r)
        mask_out(vv + r * v.vld, v.dims[k], v.glu, y + (c0 + r) * ldy + v.offs[k]);
    }
  }
}

}  // namespace

const BandKernels kBandKernels = {HB_ARCH_NAME, &split_rows, &mask_rows, &tanh_n, &sigmoid_n};

}  // namespace HB_ARCH
}  // namespace detail
}  // namespace hb
