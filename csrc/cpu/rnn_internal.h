// Internal interface between the RNN driver (rnn_cpu.cpp) and the per-ISA kernels
// (rnn_simd_impl.h compiled once per instruction set). Plain function pointers over raw packed
// weights only.
#pragma once

#include <cstdint>

namespace hb {
namespace detail {

// Hidden units per panel (the vector lanes).
constexpr int kRnnUnits = 8;

// Packed weights of one layer, G gates (4 LSTM: i f g o; 3 GRU: r z n). Hp = H rounded up to
// kRnnUnits, NP = Hp / kRnnUnits panels. Panel p covers units [8p, 8p+8); its gate vector is
// G*8 floats, gate g of unit 8p+j at g*8 + j (units >= H are zero padding).
//   wih: NP panels of I x G*8 (element (k, g, j) at p*I*G*8 + k*G*8 + g*8 + j) = W_ih[g*H+u, k]
//   whh: NP panels of H x G*8, likewise from W_hh
//   bx:  NP x G*8, added by the input projection (LSTM: bias; GRU: b_ih + b_hh for r and z,
//        b_in for n)
//   bhn: GRU only, NP x 8: b_hn (added to W_hn h before the scaling by r)
struct RnnPacked {
  int G;
  int64_t I, H, Hp, NP;
  const float* wih;
  const float* whh;
  const float* bx;
  const float* bhn;
  int64_t ld() const { return NP * G * kRnnUnits; }  // floats per projected row
};

// Row r of a projection input: base + (r % S) * seq + (r / S) * pos (pos may be negative).
struct RnnRows {
  const float* base;
  int64_t S, seq, pos;
};

struct RnnKernels {
  const char* name;
  // out[r * w.ld() ...] = W_ih x_r + bx (all G*8*NP floats, padding lanes 0) for r < rows.
  void (*project)(const RnnPacked& w, int64_t rows, const RnnRows& x, float* out);
  // One step for M rows: row m reads its projected gates at xp + m*w.ld(), its previous hidden
  // state at hp + m*hp_ld (H floats) and writes the new one to hn + m*hn_ld (must not overlap
  // hp); LSTM updates the cell state c + m*H in place (c unused for GRU). backward runs the
  // panels in decreasing order (alternate it between steps: the last panels are still in L1).
  void (*step)(const RnnPacked& w, int64_t M, const float* xp, const float* hp, int64_t hp_ld,
               float* hn, int64_t hn_ld, float* c, bool backward);
  // Elementwise activation (0 sigmoid, 1 tanh) as used by step (tests, accuracy).
  void (*activation)(int which, const float* x, float* y, int64_t n);
};

const RnnKernels* rnn_kernels_generic();
#if defined(HB_HAVE_AVX2_TU)
const RnnKernels* rnn_kernels_avx2();
#endif
// AVX2 + FMA when the CPU has it and SIMD is enabled, else portable (follows the STFT dispatch).
const RnnKernels* active_rnn_kernels();

}  // namespace detail
}  // namespace hb
