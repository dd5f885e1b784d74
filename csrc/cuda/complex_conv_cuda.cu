// hushboard — fused complex 2-D convolution / transposed convolution CUDA kernels (float32),
// same semantics and layouts as the CPU kernels (hushboard/complex_conv.h).
//
// Design
//   * Direct convolution, gather form for both ops: every output position gathers the input
//     taps it depends on (for the transposed op: the taps with (fo + crop - kf*dF) divisible by
//     the stride), so every output element is written once, without atomics.
//   * One thread = one output position (fo, to) of one batch item x kCoPer output channels;
//     a block = kPos positions (threadIdx.x, consecutive along T, so the input loads of a warp
//     are coalesced) x kGroups channel groups (threadIdx.y): kCoTile = kGroups*kCoPer output
//     channels. Every input tap (Xr, Xi) is read once per thread and used for the kCoPer
//     channels' real and imaginary outputs (4 FMAs each): one read of the input, both output
//     halves, instead of the four real convolutions' four reads.
//   * The block's weights for a chunk of input channels sit in shared memory as (Wr, Wi)
//     float2 pairs, [co_local][ci_local][kf][kt]; all threads of a warp read the same pair
//     (a broadcast). ci_chunk is chosen on the host so the tile fits kSmemTarget bytes.
//   * grid = (position tiles, channel tiles, batch); batches past the grid's z size loop.
//   * Accumulation in float32 FMAs in the 4-multiplication form (real = Wr.Xr - Wi.Xi,
//     imag = Wr.Xi + Wi.Xr), summed per input channel and then over channels (two levels), so
//     the error stays within the CPU kernels' blocked GEMM sums.
//
// The block body is a __host__ __device__ template over a context, as in stft_cuda.cu, so
// complex_conv_forward_cuda_emulated runs the same code on the host (see emu.h).
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common.cuh"
#include "hushboard/common.h"
#include "hushboard/complex_conv.h"
#include "hushboard/cuda.h"

namespace hb {
namespace cuda_cconv {

using namespace cuda_common;

constexpr int kPos = 64;     // output positions per block (blockDim.x)
constexpr int kGroups = 4;   // channel groups per block (blockDim.y)
constexpr int kCoPer = 4;    // output channels per thread
constexpr int kCoTile = kGroups * kCoPer;
constexpr int kThreads = kPos * kGroups;
constexpr size_t kSmemTarget = 32 * 1024;
constexpr size_t kSmemMax = 48 * 1024;  // no opt-in needed
constexpr int kMaxGridZ = 65535;

struct ConvArgs {
  const float* x;   // (B, 2*Cin, F, T)
  const float* wr;  // conv (Cout, Cin, kF, kT); transposed (Cin, Cout, kF, kT)
  const float* wi;
  const float* br;  // (Cout,) or null
  const float* bi;
  float* y;         // (B, 2*Cout, Fo, To)
  int64_t B, F, T, Fo, To;
  int cin, cout, kf, kt, sf, st, df, dt;
  int64_t lo_f, lo_t;  // conv: zero padding before; transposed: amount cropped at the start
  int ci_chunk;
  int transposed;
};

// Input row of output row `o` through tap k, or -1 when the tap reads padding / no input.
HB_HD int64_t tap_index(int64_t o, int k, int s, int d, int64_t lo, int64_t n, int transposed) {
  if (!transposed) {
    const int64_t i = o * s - lo + int64_t(k) * d;
    return (i >= 0 && i < n) ? i : -1;
  }
  const int64_t num = o + lo - int64_t(k) * d;
  if (num < 0 || num % s != 0) return -1;
  const int64_t i = num / s;
  return i < n ? i : -1;
}

template <class Ctx>
HB_HD void conv_block(const ConvArgs& a, Ctx& c) {
  const int K = a.kf * a.kt;
  const int tile = a.ci_chunk * K;  // weight pairs per output channel and chunk
  float2* sw = c.smem;              // [kCoTile][ci_chunk][K]
  const int tid = c.ty * kPos + c.tx;
  const int64_t P = a.Fo * a.To;
  const int64_t pos = int64_t(c.bx) * kPos + c.tx;
  const bool active = pos < P;
  const int64_t fo = active ? pos / a.To : 0;
  const int64_t to = active ? pos % a.To : 0;
  const int co_block = c.by * kCoTile;
  const int co_first = co_block + c.ty * kCoPer;
  const int64_t plane = a.F * a.T;
  const int64_t out_plane = P;
  for (int64_t b = c.bz; b < a.B; b += c.gdz) {
    float re[kCoPer], im[kCoPer];
    for (int j = 0; j < kCoPer; ++j) re[j] = im[j] = 0.0f;
    const float* xr_b = a.x + b * 2 * a.cin * plane;
    const float* xi_b = xr_b + int64_t(a.cin) * plane;
    for (int ci0 = 0; ci0 < a.cin; ci0 += a.ci_chunk) {
      const int nci = a.cin - ci0 < a.ci_chunk ? a.cin - ci0 : a.ci_chunk;
      c.sync();  // the previous chunk's weights are no longer read
      for (int i = tid; i < kCoTile * tile; i += kThreads) {
        const int k = i % K;
        const int ci_l = (i / K) % a.ci_chunk;
        const int co = co_block + i / tile;
        float2 w = make_float2(0.0f, 0.0f);
        if (co < a.cout && ci_l < nci) {
          const int ci = ci0 + ci_l;
          const int64_t idx = a.transposed ? (int64_t(ci) * a.cout + co) * K + k
                                           : (int64_t(co) * a.cin + ci) * K + k;
          w = make_float2(ldf(a.wr + idx), ldf(a.wi + idx));
        }
        sw[i] = w;
      }
      c.sync();
      if (active) {
        for (int ci_l = 0; ci_l < nci; ++ci_l) {
          const float* xr_c = xr_b + int64_t(ci0 + ci_l) * plane;
          const float* xi_c = xi_b + int64_t(ci0 + ci_l) * plane;
          const float2* wc = sw + (c.ty * kCoPer * a.ci_chunk + ci_l) * K;
          // two-level sum (taps of one channel, then channels): float32 error grows with
          // max(taps, channels) instead of their product
          float pre[kCoPer], pim[kCoPer];
          for (int j = 0; j < kCoPer; ++j) pre[j] = pim[j] = 0.0f;
          for (int kf = 0; kf < a.kf; ++kf) {
            const int64_t fi = tap_index(fo, kf, a.sf, a.df, a.lo_f, a.F, a.transposed);
            if (fi < 0) continue;
            for (int kt = 0; kt < a.kt; ++kt) {
              const int64_t ti = tap_index(to, kt, a.st, a.dt, a.lo_t, a.T, a.transposed);
              if (ti < 0) continue;
              const float xr = ldf(xr_c + fi * a.T + ti);
              const float xi = ldf(xi_c + fi * a.T + ti);
              const float2* wk = wc + kf * a.kt + kt;
              for (int j = 0; j < kCoPer; ++j) {
                const float2 w = wk[j * tile];
                pre[j] = fmaf(w.x, xr, pre[j]);
                pre[j] = fmaf(-w.y, xi, pre[j]);
                pim[j] = fmaf(w.x, xi, pim[j]);
                pim[j] = fmaf(w.y, xr, pim[j]);
              }
            }
          }
          for (int j = 0; j < kCoPer; ++j) {
            re[j] += pre[j];
            im[j] += pim[j];
          }
        }
      }
    }
    if (active) {
      float* yr = a.y + b * 2 * int64_t(a.cout) * out_plane;
      float* yi = yr + int64_t(a.cout) * out_plane;
      for (int j = 0; j < kCoPer; ++j) {
        const int co = co_first + j;
        if (co >= a.cout) break;
        yr[int64_t(co) * out_plane + pos] = re[j] + (a.br != nullptr ? ldf(a.br + co) : 0.0f);
        yi[int64_t(co) * out_plane + pos] = im[j] + (a.bi != nullptr ? ldf(a.bi + co) : 0.0f);
      }
    }
  }
}

__global__ void __launch_bounds__(kThreads) complex_conv_kernel(const ConvArgs a) {
  extern __shared__ float2 hb_cconv_smem[];
  auto c = device_ctx(hb_cconv_smem);
  conv_block(a, c);
}

// ---- host side ----------------------------------------------------------------------------------
struct Plan {
  ConvArgs args;
  int grid_x, grid_y;
  size_t smem_bytes;
};

inline Plan make_plan(bool transposed, const float* x, int64_t B, int64_t F, int64_t T,
                      const float* wr, const float* wi, const float* br, const float* bi,
                      float* y, const ComplexConvParams& p) {
  complex_conv_check_params(p, transposed);
  HB_CHECK(B >= 0, "batch must be >= 0 (got " + std::to_string(B) + ")");
  HB_CHECK(F >= 1 && T >= 1, "input F and T must be >= 1");
  const int64_t Fo = complex_conv_out_f(p, transposed, F);
  const int64_t To = complex_conv_out_t(p, transposed, T);
  HB_CHECK(Fo >= 1 && To >= 1, "output size must be positive (got (" + std::to_string(Fo) +
                                   ", " + std::to_string(To) + "))");
  HB_CHECK(p.in_channels <= 0x7fffffff && p.out_channels <= 0x7fffffff &&
               p.kernel_f * p.kernel_t <= 0x7fffffff,
           "complex_conv_forward_cuda: channels or kernel too large");
  const int64_t K = p.kernel_f * p.kernel_t;
  const size_t per_ci = size_t(kCoTile) * size_t(K) * sizeof(float2);
  HB_CHECK(per_ci <= kSmemMax, "complex_conv_forward_cuda: the kernel (" +
                                   std::to_string(p.kernel_f) + "x" +
                                   std::to_string(p.kernel_t) +
                                   ") is too large for the CUDA kernel");
  int64_t chunk = int64_t(kSmemTarget / per_ci);
  if (chunk < 1) chunk = 1;
  if (chunk > p.in_channels) chunk = p.in_channels;
  const int64_t tiles = (Fo * To + kPos - 1) / kPos;
  const int64_t ctiles = (p.out_channels + kCoTile - 1) / kCoTile;
  HB_CHECK(tiles <= 0x7fffffff && ctiles <= 65535, "complex_conv_forward_cuda: input too large");
  Plan L{};
  ConvArgs& a = L.args;
  a.x = x;
  a.wr = wr;
  a.wi = wi;
  a.br = br;
  a.bi = bi;
  a.y = y;
  a.B = B;
  a.F = F;
  a.T = T;
  a.Fo = Fo;
  a.To = To;
  a.cin = int(p.in_channels);
  a.cout = int(p.out_channels);
  a.kf = int(p.kernel_f);
  a.kt = int(p.kernel_t);
  a.sf = int(p.stride_f);
  a.st = int(p.stride_t);
  a.df = int(p.dilation_f);
  a.dt = int(p.dilation_t);
  a.lo_f = p.pad_f_low;
  a.lo_t = p.pad_t_low;
  a.ci_chunk = int(chunk);
  a.transposed = transposed ? 1 : 0;
  L.grid_x = int(tiles);
  L.grid_y = int(ctiles);
  L.smem_bytes = size_t(chunk) * per_ci;
  return L;
}

}  // namespace cuda_cconv

void complex_conv_forward_cuda(bool transposed, const float* x, int64_t B, int64_t F, int64_t T,
                               const float* wr, const float* wi, const float* br,
                               const float* bi, float* y, const ComplexConvParams& p,
                               void* stream) {
  using namespace cuda_cconv;
  const Plan L = make_plan(transposed, x, B, F, T, wr, wi, br, bi, y, p);
  if (B == 0) return;
  HB_CHECK(x != nullptr && wr != nullptr && wi != nullptr && y != nullptr,
           "complex_conv_forward_cuda: null pointer");
  const dim3 grid(unsigned(L.grid_x), unsigned(L.grid_y),
                  unsigned(B < kMaxGridZ ? B : kMaxGridZ));
  complex_conv_kernel<<<grid, dim3(kPos, kGroups), L.smem_bytes,
                        static_cast<cudaStream_t>(stream)>>>(L.args);
  check_cuda(cudaGetLastError(), "complex_conv_forward_cuda kernel launch");
}

void complex_conv_forward_cuda_emulated(bool transposed, const float* x, int64_t B, int64_t F,
                                        int64_t T, const float* wr, const float* wi,
                                        const float* br, const float* bi, float* y,
                                        const ComplexConvParams& p, int grid_z_limit) {
  using namespace cuda_cconv;
  HB_CHECK(grid_z_limit >= 1, "grid_z_limit must be >= 1");
  const Plan L = make_plan(transposed, x, B, F, T, wr, wi, br, bi, y, p);
  if (B == 0) return;
  const int gz = int(B < grid_z_limit ? B : grid_z_limit);
  emu::launch(emu::Dim3{L.grid_x, L.grid_y, gz}, emu::Dim3{kPos, kGroups, 1}, L.smem_bytes,
              [&](const emu::Thread& t) {
                auto c = emu_ctx<float2>(t);
                conv_block(L.args, c);
              });
}

}  // namespace hb
