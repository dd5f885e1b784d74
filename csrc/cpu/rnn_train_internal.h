// Internal interface between the LSTM training driver (rnn_train_cpu.cpp) and its per-ISA
// kernels (rnn_train_simd_impl.h compiled once per instruction set). Plain function pointers
// over raw buffers only.
//
// Layouts (Q = w.ld() = NP * 32 "packed gate" columns, Hp = NP * 8; see rnn_internal.h):
//   gate rows: Q floats, gate g of unit u = 8p + j at p*32 + g*8 + j (units >= H: padding);
//   cell-state rows: Hp floats (padding lanes 0).
#pragma once

#include <cstdint>

#include "rnn_internal.h"

namespace hb {
namespace detail {

struct LstmTrainKernels {
  const char* name;
  // One forward step for M rows. g (row m at g + m*w.ld()): in, the projected pre-activations
  // W_ih x + bias; out, the activated gates i, f, g, o. hp: previous h (row ld hp_ld, H floats);
  // cp / cn: previous / new cell state (row ld Hp, all Hp lanes); hn: new h (row ld hn_ld, H
  // floats written).
  void (*step)(const RnnPacked& w, int64_t M, float* g, const float* hp, int64_t hp_ld,
               const float* cp, float* cn, float* hn, int64_t hn_ld);
  // Gate gradients of one step for M rows (pre-activation gradients, packed like g, ld Q):
  //   dh = dy (row ld dy_ld, H floats; null: 0) + dh_in (row ld dh_ld, Hp floats),
  //   dc (row ld Hp, in: from the later step, out: to the earlier one),
  //   g, c, cp: activated gates, cell state after and before the step (as forward wrote them).
  void (*bwd_gates)(const RnnPacked& w, int64_t M, const float* g, const float* c,
                    const float* cp, const float* dy, int64_t dy_ld, const float* dh_in,
                    int64_t dh_ld, float* dc, float* dg);
  // C[M x N] = A[M x K] . B[K x N]: B row-major with row stride N, N a multiple of 8; A row
  // stride lda, C row stride ldc. Each element one chain over k in increasing order.
  void (*gemm)(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
               float* C, int64_t ldc);
  // C[N x Q] += sum_m X[m][n] * A[m][q] (m in increasing order): X rows at X + m*x_ld (N
  // floats), A rows at A + m*lda; Q a multiple of 32, C row stride Q.
  void (*accum_outer)(int64_t M, int64_t N, int64_t Q, const float* X, int64_t x_ld,
                      const float* A, int64_t lda, float* C);
  // db[q] += sum_m A[m][q] (m in increasing order), Q a multiple of 32.
  void (*colsum)(int64_t M, int64_t Q, const float* A, int64_t lda, float* db);
};

const LstmTrainKernels* lstm_train_kernels_generic();
#if defined(HB_HAVE_AVX2_TU)
const LstmTrainKernels* lstm_train_kernels_avx2();
#endif

}  // namespace detail
}  // namespace hb
