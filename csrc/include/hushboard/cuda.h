// hushboard — CUDA entry points. The header needs no CUDA include: streams travel as void*
// (a cudaStream_t). In a build without CUDA these functions exist and throw / report absence.
#pragma once

#include <cstdint>
#include <string>

#include "hushboard/complex_conv.h"
#include "hushboard/stft.h"

namespace hb {

bool cuda_compiled();          // built with HUSHBOARD_CUDA
std::string cuda_archs();      // e.g. "80;86;89;90" ("" when not compiled)
int cuda_device_count();       // 0 when not compiled, no driver, or no device
std::string cuda_device_name(int device);

// Fused STFT on the GPU; same semantics and layouts as stft_forward_cpu (float32 only).
// All pointers are device pointers; work is queued on `stream`.
void stft_forward_cuda(const float* x, int64_t batch, int64_t length, const float* window,
                       float* out, const StftParams& p, void* stream);
// Fused iSTFT on the GPU; same semantics as istft_forward_cpu (complex or compressed input).
// NOLA is checked by the caller on the host.
void istft_forward_cuda(const float* spec, int64_t batch, int64_t n_frames, const float* window,
                        float* out, int64_t length, const StftParams& p, void* stream);

// Fused complex convolution (transposed=false: weights (Cout, Cin, kF, kT)) or transposed
// convolution (weights (Cin, Cout, kF, kT)) on the GPU; same semantics and layouts as
// complex_conv2d_forward_cpu / complex_conv_transpose2d_forward_cpu (float32; br / bi may be
// null). x: (B, 2*Cin, F, T), y: (B, 2*Cout, Fo, To), device pointers, queued on `stream`.
void complex_conv_forward_cuda(bool transposed, const float* x, int64_t B, int64_t F, int64_t T,
                               const float* wr, const float* wi, const float* br,
                               const float* bi, float* y, const ComplexConvParams& p,
                               void* stream);

// BSRNN band split / band mask (hushboard/band.h semantics) on the GPU, all bands in one launch.
// band_dims / out_dims: K host integers. The weights come transposed for coalesced loads:
// split weight_t (D, N) = weight.T; mask w1_t (K, N, Hm) = w1.transpose(1, 2), w2_t
// (Hm, m*Dout) = w2.T. Other layouts as BandSplitPlan / BandMaskPlan (float32, device pointers).
void band_split_cuda(const int64_t* band_dims, int64_t K, int64_t N, const float* gamma,
                     const float* beta, const float* weight_t, const float* bias, float eps,
                     const float* x, int64_t S, int64_t ldx, float* y, void* stream);
void band_mask_cuda(const int64_t* out_dims, int64_t K, int64_t N, int64_t hidden, bool glu,
                    const float* gamma, const float* beta, const float* w1_t, const float* b1,
                    const float* w2_t, const float* b2, float eps, const float* x, int64_t S,
                    float* y, int64_t ldy, void* stream);

// LSTM (gru=false: gates i, f, g, o; c0 / c_n used) or GRU (gates r, z, n; b_hh required)
// recurrence of one layer and one direction over S sequences of L positions (hushboard/rnn.h
// semantics). gx: (S, L, G*H) input projections W_ih x + bias (LSTM: b_ih + b_hh; GRU: b_ih),
// w_t: (H, G*H) = W_hh^T, h0 / c0: (S, H) or null (zeros), y: (S, L, H), h_n / c_n: (S, H).
// Device pointers, float32, queued on `stream`. One persistent block per 4 sequences.
void rnn_forward_cuda(bool gru, const float* gx, const float* w_t, const float* b_hh,
                      const float* h0, const float* c0, int64_t S, int64_t L, int64_t H,
                      bool reverse, float* y, float* h_n, float* c_n, void* stream);

// ---- host emulation (tests without a GPU) ----------------------------------------------------
// The CUDA kernels' block bodies run on the host by a grid emulator (one OS thread per CUDA
// thread, see csrc/cuda/emu.h), on host pointers. smem_limit is the per-block shared memory the
// emulated device allows; grid_y_limit / grid_z_limit cap the grid so that the kernels' strided
// loops over the batch are exercised. Only in a CUDA build (they throw otherwise).
void stft_forward_cuda_emulated(const float* x, int64_t batch, int64_t length, const float* window,
                                float* out, const StftParams& p, int64_t smem_limit,
                                int grid_y_limit);
void istft_forward_cuda_emulated(const float* spec, int64_t batch, int64_t n_frames,
                                 const float* window, float* out, int64_t length,
                                 const StftParams& p, int64_t smem_limit, int grid_y_limit);
void complex_conv_forward_cuda_emulated(bool transposed, const float* x, int64_t B, int64_t F,
                                        int64_t T, const float* wr, const float* wi,
                                        const float* br, const float* bi, float* y,
                                        const ComplexConvParams& p, int grid_z_limit);

void band_split_cuda_emulated(const int64_t* band_dims, int64_t K, int64_t N, const float* gamma,
                              const float* beta, const float* weight_t, const float* bias,
                              float eps, const float* x, int64_t S, int64_t ldx, float* y);
void band_mask_cuda_emulated(const int64_t* out_dims, int64_t K, int64_t N, int64_t hidden,
                             bool glu, const float* gamma, const float* beta, const float* w1_t,
                             const float* b1, const float* w2_t, const float* b2, float eps,
                             const float* x, int64_t S, float* y, int64_t ldy);

void rnn_forward_cuda_emulated(bool gru, const float* gx, const float* w_t, const float* b_hh,
                               const float* h0, const float* c0, int64_t S, int64_t L, int64_t H,
                               bool reverse, float* y, float* h_n, float* c_n,
                               int64_t smem_limit);

}  // namespace hb
