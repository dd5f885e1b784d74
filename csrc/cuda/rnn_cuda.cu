// hushboard — LSTM / GRU recurrence on the GPU (float32), one layer and one direction over S
// independent sequences, torch's semantics (hushboard/rnn.h). BSRNN uses it for both paths:
// the time path (S = batch x bands sequences of L frames) and the band path (S = batch x frames
// sequences of K bands, run forward and reverse).
//
// Design
//   * The input projections gx = x W_ih^T + bias of every position are one GEMM, done before
//     (by the caller: cuBLAS through torch); this kernel runs only the recurrence.
//   * Persistent kernel: one block owns kSeq sequences for all L steps; thread j owns hidden
//     unit j (blockDim = H rounded up to a warp). Per step it computes the unit's G gate
//     pre-activations for the block's sequences (a column of W_hh times the shared h rows), applies
//     the activations and the state update in registers (the LSTM cell state never leaves
//     them), and writes h' to the other half of a double-buffered h in shared memory: one
//     barrier per step, no gate buffer in memory.
//   * W_hh^T (H x G*H, unit-major rows so a warp reads consecutive words) is copied into shared
//     memory once when it fits (H <= 119 for the LSTM on an H100's 227 KiB); otherwise it is
//     read through the read-only cache (L2-resident across steps).
//   * Recurrent sums run in chunks of kChunk terms, then over chunks (two levels).
//
// The block body is a __host__ __device__ template over a context, as in stft_cuda.cu, so
// rnn_forward_cuda_emulated runs the same code on the host (see emu.h).
#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common.cuh"
#include "hushboard/common.h"
#include "hushboard/cuda.h"

namespace hb {
namespace cuda_rnn {

using namespace cuda_common;

constexpr int kSeq = 4;       // sequences per block
constexpr int kChunk = 32;    // terms per partial sum
constexpr int kMaxHidden = 512;
constexpr int kMaxGates = 4;

HB_HD float sigm(float v) { return 1.0f / (1.0f + expf(-v)); }

struct RnnArgs {
  const float* gx;    // (S, L, G*H): W_ih x + (LSTM: b_ih + b_hh; GRU: b_ih)
  const float* w_t;   // (H, G*H) = W_hh^T
  const float* b_hh;  // GRU: (G*H); LSTM: null
  const float* h0;    // (S, H) or null (zeros)
  const float* c0;    // LSTM: (S, H) or null
  float* y;           // (S, L, H)
  float* h_n;         // (S, H)
  float* c_n;         // LSTM: (S, H)
  int64_t S, L;
  int H, G, gru, reverse, w_in_smem;
};

template <class Ctx>
HB_HD void rnn_block(const RnnArgs& a, Ctx& c) {
  const int H = a.H, G = a.G, GH = a.G * a.H;
  float* smem = c.smem;
  const float* W = a.w_t;
  float* hbuf = smem;  // [2][kSeq][H]
  if (a.w_in_smem) {
    float* ws = smem + 2 * kSeq * H;
    for (int i = c.tx; i < H * GH; i += c.bdx) ws[i] = ldf(a.w_t + i);
    W = ws;
  }
  const int j = c.tx;
  const bool unit = j < H;
  const int64_t s0 = int64_t(c.bx) * kSeq;
  const int nr = a.S - s0 < kSeq ? int(a.S - s0) : kSeq;
  float cell[kSeq];
  for (int r = 0; r < kSeq; ++r) {
    cell[r] = 0.0f;
    if (unit && r < nr) {
      hbuf[r * H + j] = a.h0 != nullptr ? ldf(a.h0 + (s0 + r) * H + j) : 0.0f;
      if (!a.gru && a.c0 != nullptr) cell[r] = ldf(a.c0 + (s0 + r) * H + j);
    }
  }
  c.sync();
  int cur = 0;
  for (int64_t l = 0; l < a.L; ++l) {
    const int64_t pos = a.reverse ? a.L - 1 - l : l;
    const float* hp = hbuf + cur * kSeq * H;
    float* hn = hbuf + (cur ^ 1) * kSeq * H;
    if (unit) {
      float acc[kMaxGates][kSeq];
      for (int g = 0; g < kMaxGates; ++g)
        for (int r = 0; r < kSeq; ++r) acc[g][r] = 0.0f;
      for (int k0 = 0; k0 < H; k0 += kChunk) {
        const int k1 = k0 + kChunk < H ? k0 + kChunk : H;
        float part[kMaxGates][kSeq];
        for (int g = 0; g < kMaxGates; ++g)
          for (int r = 0; r < kSeq; ++r) part[g][r] = 0.0f;
        for (int k = k0; k < k1; ++k) {
          float w[kMaxGates];
          for (int g = 0; g < kMaxGates; ++g)
            w[g] = g < G ? W[int64_t(k) * GH + g * H + j] : 0.0f;
          for (int r = 0; r < kSeq; ++r) {
            if (r < nr) {
              const float hk = hp[r * H + k];
              for (int g = 0; g < kMaxGates; ++g) part[g][r] = fmaf(w[g], hk, part[g][r]);
            }
          }
        }
        for (int g = 0; g < kMaxGates; ++g)
          for (int r = 0; r < kSeq; ++r) acc[g][r] += part[g][r];
      }
      // fixed trip counts (guarded): the per-sequence arrays stay in registers
      for (int r = 0; r < kSeq; ++r) {
        if (r >= nr) continue;
        const float* gr = a.gx + ((s0 + r) * a.L + pos) * GH;
        float h;
        if (!a.gru) {
          const float i_g = sigm(ldf(gr + j) + acc[0][r]);
          const float f_g = sigm(ldf(gr + H + j) + acc[1][r]);
          const float g_g = tanhf(ldf(gr + 2 * H + j) + acc[2][r]);
          const float o_g = sigm(ldf(gr + 3 * H + j) + acc[3][r]);
          cell[r] = fmaf(f_g, cell[r], i_g * g_g);
          h = o_g * tanhf(cell[r]);
        } else {
          const float r_g = sigm(ldf(gr + j) + acc[0][r] + ldf(a.b_hh + j));
          const float z_g = sigm(ldf(gr + H + j) + acc[1][r] + ldf(a.b_hh + H + j));
          const float n_g = tanhf(ldf(gr + 2 * H + j) + r_g * (acc[2][r] + ldf(a.b_hh + 2 * H + j)));
          h = (1.0f - z_g) * n_g + z_g * hp[r * H + j];
        }
        hn[r * H + j] = h;
        a.y[((s0 + r) * a.L + pos) * H + j] = h;
      }
    }
    c.sync();  // h' complete before the next step reads it (and h is not overwritten early)
    cur ^= 1;
  }
  if (unit) {
    const float* hp = hbuf + cur * kSeq * H;
    for (int r = 0; r < kSeq; ++r) {
      if (r >= nr) continue;
      a.h_n[(s0 + r) * H + j] = hp[r * H + j];
      if (!a.gru) a.c_n[(s0 + r) * H + j] = cell[r];
    }
  }
}

__global__ void __launch_bounds__(kMaxHidden) rnn_kernel(const RnnArgs a) {
  extern __shared__ float hb_rnn_smem[];
  auto c = device_ctx(hb_rnn_smem);
  rnn_block(a, c);
}

// ---- host side ----------------------------------------------------------------------------------
struct Launch {
  RnnArgs args;
  int blocks, threads;
  size_t smem;
};

inline Launch make_launch(bool gru, const float* gx, const float* w_t, const float* b_hh,
                          const float* h0, const float* c0, int64_t S, int64_t L, int64_t H,
                          bool reverse, float* y, float* h_n, float* c_n, int64_t smem_limit) {
  HB_CHECK(H >= 1 && H <= kMaxHidden, "hidden size must be in [1, " +
                                          std::to_string(kMaxHidden) +
                                          "] for the CUDA RNN (got " + std::to_string(H) + ")");
  HB_CHECK(S >= 0 && L >= 0, "S and L must be >= 0");
  HB_CHECK((S + kSeq - 1) / kSeq <= 0x7fffffff, "too many sequences");
  HB_CHECK(!gru || b_hh != nullptr, "gru: b_hh is required");
  Launch L_{};
  RnnArgs& a = L_.args;
  a.gx = gx;
  a.w_t = w_t;
  a.b_hh = gru ? b_hh : nullptr;
  a.h0 = h0;
  a.c0 = gru ? nullptr : c0;
  a.y = y;
  a.h_n = h_n;
  a.c_n = gru ? nullptr : c_n;
  a.S = S;
  a.L = L;
  a.H = int(H);
  a.G = gru ? 3 : 4;
  a.gru = gru ? 1 : 0;
  a.reverse = reverse ? 1 : 0;
  const size_t hbytes = size_t(2 * kSeq) * size_t(H) * sizeof(float);
  const size_t wbytes = size_t(H) * size_t(a.G) * size_t(H) * sizeof(float);
  HB_CHECK(int64_t(hbytes) <= smem_limit, "the CUDA RNN needs more shared memory than allowed");
  a.w_in_smem = int64_t(hbytes + wbytes) <= smem_limit ? 1 : 0;
  L_.smem = a.w_in_smem ? hbytes + wbytes : hbytes;
  L_.blocks = int((S + kSeq - 1) / kSeq);
  L_.threads = int((H + 31) / 32 * 32);
  return L_;
}

}  // namespace cuda_rnn

void rnn_forward_cuda(bool gru, const float* gx, const float* w_t, const float* b_hh,
                      const float* h0, const float* c0, int64_t S, int64_t L, int64_t H,
                      bool reverse, float* y, float* h_n, float* c_n, void* stream) {
  using namespace cuda_rnn;
  int dev = 0, optin = 0;
  check_cuda(cudaGetDevice(&dev), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev),
             "cudaDeviceGetAttribute");
  const Launch Lc = make_launch(gru, gx, w_t, b_hh, h0, c0, S, L, H, reverse, y, h_n, c_n, optin);
  if (S == 0) return;
  const cudaStream_t st = static_cast<cudaStream_t>(stream);
  if (L == 0) {  // no steps: the final state is the initial one
    const size_t bytes = size_t(S) * size_t(H) * sizeof(float);
    if (h0 != nullptr)
      check_cuda(cudaMemcpyAsync(h_n, h0, bytes, cudaMemcpyDeviceToDevice, st), "copy h0");
    else
      check_cuda(cudaMemsetAsync(h_n, 0, bytes, st), "zero h_n");
    if (!gru) {
      if (c0 != nullptr)
        check_cuda(cudaMemcpyAsync(c_n, c0, bytes, cudaMemcpyDeviceToDevice, st), "copy c0");
      else
        check_cuda(cudaMemsetAsync(c_n, 0, bytes, st), "zero c_n");
    }
    return;
  }
  if (Lc.smem > 48 * 1024)
    check_cuda(cudaFuncSetAttribute(rnn_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    int(Lc.smem)),
               "cudaFuncSetAttribute");
  rnn_kernel<<<Lc.blocks, Lc.threads, Lc.smem, st>>>(Lc.args);
  check_cuda(cudaGetLastError(), "rnn_forward_cuda kernel launch");
}

void rnn_forward_cuda_emulated(bool gru, const float* gx, const float* w_t, const float* b_hh,
                               const float* h0, const float* c0, int64_t S, int64_t L, int64_t H,
                               bool reverse, float* y, float* h_n, float* c_n,
                               int64_t smem_limit) {
  using namespace cuda_rnn;
  const Launch Lc =
      make_launch(gru, gx, w_t, b_hh, h0, c0, S, L, H, reverse, y, h_n, c_n, smem_limit);
  if (S == 0) return;
  HB_CHECK(L >= 1, "rnn_forward_cuda_emulated: L must be >= 1");
  emu::launch(emu::Dim3{Lc.blocks, 1, 1}, emu::Dim3{Lc.threads, 1, 1}, Lc.smem,
              [&](const emu::Thread& t) {
                auto c = emu_ctx<float>(t);
                rnn_block(Lc.args, c);
              });
}

}  // namespace hb
