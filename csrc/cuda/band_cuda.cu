// hushboard — BSRNN band split and band-wise mask MLP as grouped CUDA kernels over unequal
// bands (float32), same semantics as the CPU plans (hushboard/band.h).
//
// Design
//   * One launch for all bands: grid = (row tiles of kRows rows, K bands). A block reads its
//     band's offset and width from the arguments, so unequal bands cost no padding and no
//     per-band launches (PyTorch's form is a Python loop of LayerNorm + Linear per band).
//   * Split: the block stages its kRows x d_k input slice in shared memory, takes the per-row
//     LayerNorm statistics (two-pass, float32), normalises in place, then every thread owns
//     output features n (strided by the block size) for all kRows rows: each weight load feeds
//     kRows FMAs. The weight is passed transposed, (D, N), so a warp's loads are coalesced.
//   * Mask: LayerNorm of the band's N features per row, the first layer into shared memory
//     (tanh), then the second layer: a thread owns output bin i of the band and computes both
//     its value row and (GLU) its gate row, so the GLU needs no second pass. w1 is passed as
//     (K, N, Hm) and w2 as (Hm, m*Dout), transposed for coalesced loads.
//   * Dot products are summed in chunks of kChunk terms, then over chunks (two levels).
//
// The block bodies are __host__ __device__ templates over a context, as in stft_cuda.cu, so the
// *_emulated entry points run the same code on the host (see emu.h).
#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common.cuh"
#include "hushboard/common.h"
#include "hushboard/cuda.h"

namespace hb {
namespace cuda_band {

using namespace cuda_common;

constexpr int kRows = 8;       // rows per block
constexpr int kThreads = 128;  // block size
constexpr int kChunk = 32;     // terms per partial sum
constexpr int kMaxBands = 512;
constexpr size_t kSmemMax = 48 * 1024;

HB_HD float sigmoidf(float v) { return 1.0f / (1.0f + expf(-v)); }

struct SplitArgs {
  const float* x;         // S rows, row stride ldx
  const float* gamma;     // (D)
  const float* beta;      // (D)
  const float* weight_t;  // (D, N)
  const float* bias;      // (K, N)
  float* y;               // (S, K, N)
  int64_t S, ldx;
  int K, N, dmax;
  float eps;
  int off[kMaxBands + 1];  // band offsets, off[K] = D
};

struct MaskArgs {
  const float* x;      // (S, K, N)
  const float* gamma;  // (K, N)
  const float* beta;
  const float* w1_t;   // (K, N, Hm)
  const float* b1;     // (K, Hm)
  const float* w2_t;   // (Hm, m*Dout)
  const float* b2;     // (m*Dout)
  float* y;            // S rows, row stride ldy
  int64_t S, ldy;
  int K, N, H, glu, dout;
  float eps;
  int off[kMaxBands + 1];  // output offsets p_k, off[K] = Dout
};

// Per-row LayerNorm of z[r*d + j] (rows < nr) in place, with gamma/beta[j]; stats: 2*kRows floats.
template <class Ctx>
HB_HD void layer_norm_rows(float* z, float* stats, int nr, int d, const float* gamma,
                           const float* beta, float eps, Ctx& c) {
  for (int r = c.tx; r < nr; r += kThreads) {
    const float* zr = z + r * d;
    float sum = 0.0f;
    for (int j = 0; j < d; ++j) sum += zr[j];
    const float mean = sum / float(d);
    float sq = 0.0f;
    for (int j = 0; j < d; ++j) {
      const float e = zr[j] - mean;
      sq = fmaf(e, e, sq);
    }
    stats[2 * r] = mean;
    stats[2 * r + 1] = 1.0f / sqrtf(sq / float(d) + eps);
  }
  c.sync();
  for (int i = c.tx; i < nr * d; i += kThreads) {
    const int r = i / d, j = i % d;
    z[i] = (z[i] - stats[2 * r]) * stats[2 * r + 1] * ldf(gamma + j) + ldf(beta + j);
  }
  c.sync();
}

// acc[r] = sum_j w[j * wstride] * z[r * d + j] for the rows r < nr (two-level sum).
HB_HD void dot_rows(const float* w, int64_t wstride, const float* z, int d, int nr,
                    float* acc) {
  for (int r = 0; r < kRows; ++r) acc[r] = 0.0f;
  for (int j0 = 0; j0 < d; j0 += kChunk) {
    const int j1 = j0 + kChunk < d ? j0 + kChunk : d;
    float part[kRows];
    for (int r = 0; r < kRows; ++r) part[r] = 0.0f;
    for (int j = j0; j < j1; ++j) {
      const float wj = ldf(w + int64_t(j) * wstride);
      for (int r = 0; r < kRows; ++r)
        if (r < nr) part[r] = fmaf(wj, z[r * d + j], part[r]);
    }
    for (int r = 0; r < kRows; ++r) acc[r] += part[r];
  }
}

template <class Ctx>
HB_HD void split_block(const SplitArgs& a, Ctx& c) {
  const int k = c.by;
  const int o = a.off[k], d = a.off[k + 1] - a.off[k];
  float* z = c.smem;                 // [kRows][d]
  float* stats = z + kRows * a.dmax;  // [kRows][2]
  const int64_t s0 = int64_t(c.bx) * kRows;
  const int nr = a.S - s0 < kRows ? int(a.S - s0) : kRows;
  for (int i = c.tx; i < nr * d; i += kThreads) {
    const int r = i / d, j = i % d;
    z[i] = ldf(a.x + (s0 + r) * a.ldx + o + j);
  }
  c.sync();
  layer_norm_rows(z, stats, nr, d, a.gamma + o, a.beta + o, a.eps, c);
  for (int n = c.tx; n < a.N; n += kThreads) {
    float acc[kRows];
    dot_rows(a.weight_t + int64_t(o) * a.N + n, a.N, z, d, nr, acc);
    const float bn = ldf(a.bias + int64_t(k) * a.N + n);
    for (int r = 0; r < kRows; ++r)
      if (r < nr) a.y[((s0 + r) * a.K + k) * a.N + n] = acc[r] + bn;
  }
}

template <class Ctx>
HB_HD void mask_block(const MaskArgs& a, Ctx& c) {
  const int k = c.by;
  const int m = a.glu ? 2 : 1;
  const int p = a.off[k], d = a.off[k + 1] - a.off[k];
  float* z = c.smem;             // [kRows][N]
  float* u = z + kRows * a.N;    // [kRows][H]
  float* stats = u + kRows * a.H;
  const int64_t s0 = int64_t(c.bx) * kRows;
  const int nr = a.S - s0 < kRows ? int(a.S - s0) : kRows;
  for (int i = c.tx; i < nr * a.N; i += kThreads) {
    const int r = i / a.N, j = i % a.N;
    z[i] = ldf(a.x + ((s0 + r) * a.K + k) * a.N + j);
  }
  c.sync();
  layer_norm_rows(z, stats, nr, a.N, a.gamma + int64_t(k) * a.N, a.beta + int64_t(k) * a.N,
                  a.eps, c);
  for (int h = c.tx; h < a.H; h += kThreads) {
    float acc[kRows];
    dot_rows(a.w1_t + int64_t(k) * a.N * a.H + h, a.H, z, a.N, nr, acc);
    const float bh = ldf(a.b1 + int64_t(k) * a.H + h);
    for (int r = 0; r < kRows; ++r)
      if (r < nr) u[r * a.H + h] = tanhf(acc[r] + bh);
  }
  c.sync();
  const int64_t ld2 = int64_t(m) * a.dout;
  for (int i = c.tx; i < d; i += kThreads) {
    const int64_t vrow = int64_t(m) * p + i;  // value row; the gate row is d after it
    float v[kRows];
    dot_rows(a.w2_t + vrow, ld2, u, a.H, nr, v);
    const float bv = ldf(a.b2 + vrow);
    if (a.glu) {
      float g[kRows];
      dot_rows(a.w2_t + vrow + d, ld2, u, a.H, nr, g);
      const float bg = ldf(a.b2 + vrow + d);
      for (int r = 0; r < kRows; ++r)
        if (r < nr) a.y[(s0 + r) * a.ldy + p + i] = (v[r] + bv) * sigmoidf(g[r] + bg);
    } else {
      for (int r = 0; r < kRows; ++r)
        if (r < nr) a.y[(s0 + r) * a.ldy + p + i] = tanhf(v[r] + bv);
    }
  }
}

__global__ void __launch_bounds__(kThreads) band_split_kernel(const SplitArgs a) {
  extern __shared__ float hb_band_smem[];
  auto c = device_ctx(hb_band_smem);
  split_block(a, c);
}

__global__ void __launch_bounds__(kThreads) band_mask_kernel(const MaskArgs a) {
  extern __shared__ float hb_band_smem[];
  auto c = device_ctx(hb_band_smem);
  mask_block(a, c);
}

// ---- host side ----------------------------------------------------------------------------------
// Fills off[0..K] from the widths; returns the largest width.
inline int band_offsets(const int64_t* dims, int64_t K, int* off, const char* what) {
  HB_CHECK(K >= 1 && K <= kMaxBands, std::string(what) + ": the number of bands must be in [1, " +
                                         std::to_string(kMaxBands) + "] (got " +
                                         std::to_string(K) + ")");
  int64_t total = 0, dmax = 0;
  off[0] = 0;
  for (int64_t k = 0; k < K; ++k) {
    HB_CHECK(dims[k] >= 1, std::string(what) + ": band widths must be >= 1");
    total += dims[k];
    if (dims[k] > dmax) dmax = dims[k];
    HB_CHECK(total <= 0x7fffffff, std::string(what) + ": bands too wide");
    off[k + 1] = int(total);
  }
  return int(dmax);
}

inline SplitArgs make_split(const int64_t* dims, int64_t K, int64_t N, const float* gamma,
                            const float* beta, const float* weight_t, const float* bias,
                            float eps, const float* x, int64_t S, int64_t ldx, float* y,
                            size_t* smem) {
  SplitArgs a{};
  a.dmax = band_offsets(dims, K, a.off, "band_split");
  HB_CHECK(N >= 1 && N <= 0x7fffffff, "band_split: N must be >= 1");
  HB_CHECK(S >= 0, "band_split: S must be >= 0");
  HB_CHECK(ldx >= a.off[K], "band_split: the row stride must be >= D");
  HB_CHECK(eps >= 0.0f && std::isfinite(eps), "eps must be finite and >= 0");
  *smem = (size_t(kRows) * size_t(a.dmax) + 2 * kRows) * sizeof(float);
  HB_CHECK(*smem <= kSmemMax, "band_split: a band of " + std::to_string(a.dmax) +
                                  " features is too wide for the CUDA kernel");
  HB_CHECK((S + kRows - 1) / kRows <= 0x7fffffff, "band_split: too many rows");
  a.x = x;
  a.gamma = gamma;
  a.beta = beta;
  a.weight_t = weight_t;
  a.bias = bias;
  a.y = y;
  a.S = S;
  a.ldx = ldx;
  a.K = int(K);
  a.N = int(N);
  a.eps = eps;
  return a;
}

inline MaskArgs make_mask(const int64_t* out_dims, int64_t K, int64_t N, int64_t H, bool glu,
                          const float* gamma, const float* beta, const float* w1_t,
                          const float* b1, const float* w2_t, const float* b2, float eps,
                          const float* x, int64_t S, float* y, int64_t ldy, size_t* smem) {
  MaskArgs a{};
  band_offsets(out_dims, K, a.off, "band_mask");
  HB_CHECK(N >= 1 && H >= 1 && N <= 0x7fffffff && H <= 0x7fffffff,
           "band_mask: N and the hidden width must be >= 1");
  HB_CHECK(S >= 0, "band_mask: S must be >= 0");
  HB_CHECK(ldy >= a.off[K], "band_mask: the row stride must be >= Dout");
  HB_CHECK(eps >= 0.0f && std::isfinite(eps), "eps must be finite and >= 0");
  *smem = (size_t(kRows) * size_t(N + H) + 2 * kRows) * sizeof(float);
  HB_CHECK(*smem <= kSmemMax, "band_mask: N + hidden too large for the CUDA kernel");
  HB_CHECK((S + kRows - 1) / kRows <= 0x7fffffff, "band_mask: too many rows");
  a.x = x;
  a.gamma = gamma;
  a.beta = beta;
  a.w1_t = w1_t;
  a.b1 = b1;
  a.w2_t = w2_t;
  a.b2 = b2;
  a.y = y;
  a.S = S;
  a.ldy = ldy;
  a.K = int(K);
  a.N = int(N);
  a.H = int(H);
  a.glu = glu ? 1 : 0;
  a.dout = a.off[K];
  a.eps = eps;
  return a;
}

template <class Args, class Body>
void emulate(const Args& a, int64_t S, int K, size_t smem, const Body& body) {
  const int tiles = int((S + kRows - 1) / kRows);
  emu::launch(emu::Dim3{tiles, K, 1}, emu::Dim3{kThreads, 1, 1}, smem,
              [&](const emu::Thread& t) {
                auto c = emu_ctx<float>(t);
                body(a, c);
              });
}

}  // namespace cuda_band

void band_split_cuda(const int64_t* band_dims, int64_t K, int64_t N, const float* gamma,
                     const float* beta, const float* weight_t, const float* bias, float eps,
                     const float* x, int64_t S, int64_t ldx, float* y, void* stream) {
  using namespace cuda_band;
  size_t smem = 0;
  const SplitArgs a =
      make_split(band_dims, K, N, gamma, beta, weight_t, bias, eps, x, S, ldx, y, &smem);
  if (S == 0) return;
  const dim3 grid(unsigned((S + kRows - 1) / kRows), unsigned(K));
  band_split_kernel<<<grid, kThreads, smem, static_cast<cudaStream_t>(stream)>>>(a);
  check_cuda(cudaGetLastError(), "band_split_cuda kernel launch");
}

void band_mask_cuda(const int64_t* out_dims, int64_t K, int64_t N, int64_t hidden, bool glu,
                    const float* gamma, const float* beta, const float* w1_t, const float* b1,
                    const float* w2_t, const float* b2, float eps, const float* x, int64_t S,
                    float* y, int64_t ldy, void* stream) {
  using namespace cuda_band;
  size_t smem = 0;
  const MaskArgs a = make_mask(out_dims, K, N, hidden, glu, gamma, beta, w1_t, b1, w2_t, b2,
                               eps, x, S, y, ldy, &smem);
  if (S == 0) return;
  const dim3 grid(unsigned((S + kRows - 1) / kRows), unsigned(K));
  band_mask_kernel<<<grid, kThreads, smem, static_cast<cudaStream_t>(stream)>>>(a);
  check_cuda(cudaGetLastError(), "band_mask_cuda kernel launch");
}

void band_split_cuda_emulated(const int64_t* band_dims, int64_t K, int64_t N, const float* gamma,
                              const float* beta, const float* weight_t, const float* bias,
                              float eps, const float* x, int64_t S, int64_t ldx, float* y) {
  using namespace cuda_band;
  size_t smem = 0;
  const SplitArgs a =
      make_split(band_dims, K, N, gamma, beta, weight_t, bias, eps, x, S, ldx, y, &smem);
  if (S == 0) return;
  emulate(a, S, int(K), smem,
          [](const SplitArgs& args, EmuCtx<float>& c) { split_block(args, c); });
}

void band_mask_cuda_emulated(const int64_t* out_dims, int64_t K, int64_t N, int64_t hidden,
                             bool glu, const float* gamma, const float* beta, const float* w1_t,
                             const float* b1, const float* w2_t, const float* b2, float eps,
                             const float* x, int64_t S, float* y, int64_t ldy) {
  using namespace cuda_band;
  size_t smem = 0;
  const MaskArgs a = make_mask(out_dims, K, N, hidden, glu, gamma, beta, w1_t, b1, w2_t, b2,
                               eps, x, S, y, ldy, &smem);
  if (S == 0) return;
  emulate(a, S, int(K), smem,
          [](const MaskArgs& args, EmuCtx<float>& c) { mask_block(args, c); });
}

}  // namespace hb
