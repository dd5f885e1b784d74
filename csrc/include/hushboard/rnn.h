// hushboard — one LSTM / GRU layer over S independent sequences, fused gates (float32).
//
// Semantics are torch's (nn.LSTM / nn.GRU, one layer, one direction):
//   LSTM, gates i, f, g, o (rows [0,H), [H,2H), [2H,3H), [3H,4H) of w_ih / w_hh / bias):
//     i = sig(.), f = sig(.), g = tanh(.), o = sig(.) of  W_ih x + W_hh h + bias
//     c' = f*c + i*g,  h' = o*tanh(c')            (bias = torch's b_ih + b_hh)
//   GRU, gates r, z, n:
//     r = sig(W_ir x + b_ir + W_hr h + b_hr),  z = sig(W_iz x + b_iz + W_hz h + b_hz)
//     n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),  h' = (1-z)*n + z*h
// y(s, l) is h after position l; reverse walks l = L-1 .. 0 (y keeps the original positions).
//
// How forward() runs: the weights are packed once into panels of 8 hidden units x all gates
// (the gate pre-activations of 8 units are the lanes of G vectors). The input projections
// W_ih x + bias of a chunk of positions (all S sequences) are computed first (register-blocked
// products against the packed W_ih); then each step multiplies the previous h rows by the packed
// W_hh (broadcast h[k], FMA into the gate vectors, several panels or rows at once so that 8 to
// 12 independent accumulator chains hide the FMA latency; one row is a matrix-vector product)
// and applies the activations and the state update to the panel's accumulators before moving
// on (no pass over a 4H gate buffer). Every output element is one FMA chain in
// a fixed order, so a sequence's result does not depend on S, on the chunking, or on how the
// sequences are split over threads (bit for bit).
//
// Activations: vectorised float32 sigmoid 1 / (1 + exp(-x)) (Cephes-style exp: x = n ln2 + r,
// degree-6 polynomial, 2^n added to the exponent bits) and tanh (Eigen's rational x P(x^2) /
// Q(x^2) on x clamped to +-7.9; x itself for |x| < 4e-4). Max error measured against double
// precision on a dense sweep of [-100, 100] plus tiny values (tests/ops/test_rnn.py):
// sigmoid 1.5e-7 relative (both paths); tanh 2.7e-7 relative with AVX2 + FMA, 3.3e-7 portable.
//
// The run-time ISA dispatch follows the other kernels: AVX2 + FMA when the CPU has it and
// set_simd_enabled(true), else the portable path.
#pragma once

#include <cstdint>
#include <memory>

namespace hb {

namespace detail {
struct RnnWeights;
}

// x element (s, l, i) at x[s*x_seq + l*x_pos + i]; y element (s, l, j) at y[s*y_seq + l*y_pos + j].
class LstmPlan {
 public:
  // w_ih (4H, I), w_hh (4H, H), bias (4H): copied and packed (the pointers need not outlive
  // the plan). Throws hb::ValueError for non-positive sizes or non-finite weights.
  LstmPlan(int64_t input_size, int64_t hidden, const float* w_ih, const float* w_hh,
           const float* bias);
  ~LstmPlan();
  LstmPlan(LstmPlan&&) noexcept;
  LstmPlan& operator=(LstmPlan&&) noexcept;

  int64_t input_size() const;
  int64_t hidden_size() const;
  // Scratch floats forward() needs; monotone in S and L (a workspace for the largest call serves
  // every smaller one). Any alignment.
  int64_t workspace_floats(int64_t S, int64_t L) const;
  // Whole layer over S sequences of length L. h, c: (S, H) contiguous, in: initial state, out:
  // final state. No allocation; one thread. S == 0 or L == 0 is a no-op. y must not overlap h
  // or c; it may be x itself (I == H, same strides: each position is read before it is
  // written), not otherwise overlap it.
  void forward(const float* x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos, bool reverse,
               float* h, float* c, float* y, int64_t y_seq, int64_t y_pos, float* workspace) const;
  // Convenience for offline use: allocates its workspaces and splits the sequences over up to
  // n_threads threads of hb's pool (same result as forward(), bit for bit).
  void forward_threaded(const float* x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos,
                        bool reverse, float* h, float* c, float* y, int64_t y_seq, int64_t y_pos,
                        int n_threads) const;

 private:
  std::unique_ptr<detail::RnnWeights> w_;
};

class GruPlan {
 public:
  // w_ih (3H, I), w_hh (3H, H), b_ih (3H), b_hh (3H): copied and packed.
  GruPlan(int64_t input_size, int64_t hidden, const float* w_ih, const float* w_hh,
          const float* b_ih, const float* b_hh);
  ~GruPlan();
  GruPlan(GruPlan&&) noexcept;
  GruPlan& operator=(GruPlan&&) noexcept;

  int64_t input_size() const;
  int64_t hidden_size() const;
  int64_t workspace_floats(int64_t S, int64_t L) const;
  // h: (S, H) contiguous, in: initial state, out: final state.
  void forward(const float* x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos, bool reverse,
               float* h, float* y, int64_t y_seq, int64_t y_pos, float* workspace) const;
  void forward_threaded(const float* x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos,
                        bool reverse, float* h, float* y, int64_t y_seq, int64_t y_pos,
                        int n_threads) const;

 private:
  std::unique_ptr<detail::RnnWeights> w_;
};

// The vectorised activations of the active SIMD path, elementwise over n floats (for tests and
// accuracy measurements): which = 0 sigmoid, 1 tanh.
void rnn_activation(int which, const float* x, float* y, int64_t n);

}  // namespace hb
