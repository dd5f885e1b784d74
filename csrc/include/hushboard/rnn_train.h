// hushboard — one LSTM layer for training: forward that saves what backward needs, and backward
// (float32, torch's nn.LSTM semantics, one layer, one direction per call; see rnn.h).
//
//   gates i, f, g, o (rows [0,H), [H,2H), [2H,3H), [3H,4H) of w_ih / w_hh / bias),
//   c' = f*c + i*g,  h' = o*tanh(c')   (bias = torch's b_ih + b_hh)
// y(s, l) is h after position l; reverse walks l = L-1 .. 0 (y keeps the original positions).
//
// How it runs. The S sequences are cut into chunks that depend on S only (never on the thread
// count); chunks run on hb's worker pool. Forward, per chunk: the input projections W_ih x + bias
// of a few steps are written straight into the saved buffer, then each step adds W_hh h (packed
// panels of 8 units x 4 gates, as LstmPlan), applies the activations and writes the activated
// gates back over the pre-activations, the new cell state into the saved buffer and h into y.
// Backward, per chunk, walking the steps in reverse: the elementwise part gives the gate
// gradients dG_t (M x 4H) from dy_t + dh, dc and the saved gates and cell states; one small GEMM
// dG_t . [W_hh | W_ih] gives dh_{t-1} and dx_t; dG_t^T [x_t | h_{t-1}] and the column sums of
// dG_t accumulate into the chunk's own dW_ih, dW_hh, dbias, which are summed over the chunks in
// chunk order at the end. Every element is a fixed-order chain, so results are identical for any
// thread count (bit for bit), and a sequence's y, dx, dh0, dc0 do not depend on the others.
//
// AVX2 + FMA when the CPU has it and set_simd_enabled(true), else the portable path (the same
// run-time dispatch as the other kernels); activations are those of rnn.h.
#pragma once

#include <cstdint>
#include <memory>

namespace hb {

namespace detail {
struct LstmTrainWeights;
}

// x element (s, l, i) at x[s*x_seq + l*x_pos + i]; likewise y, dy, dx with their own strides
// (unit stride along the last axis). h0, c0, hT, cT, dhT, dcT, dh0, dc0: (S, H) contiguous.
class LstmTrainPlan {
 public:
  // w_ih (4H, I), w_hh (4H, H), bias (4H): copied and packed (the pointers need not outlive
  // the plan). Non-finite weights are allowed (they propagate, as in torch).
  LstmTrainPlan(int64_t input_size, int64_t hidden, const float* w_ih, const float* w_hh,
                const float* bias);
  ~LstmTrainPlan();
  LstmTrainPlan(LstmTrainPlan&&) noexcept;
  LstmTrainPlan& operator=(LstmTrainPlan&&) noexcept;

  int64_t input_size() const;
  int64_t hidden_size() const;

  // Floats of the buffer forward_train fills and backward reads (activated gates and cell
  // state of every step and sequence).
  int64_t saved_floats(int64_t S, int64_t L) const;
  // Scratch floats forward_train / backward need (any alignment; contents need not survive).
  int64_t forward_workspace_floats(int64_t S) const;
  int64_t backward_workspace_floats(int64_t S) const;

  // h0, c0 may be null (zeros). Writes y, hT, cT and saved. No allocation; up to n_threads
  // threads of hb's pool (same result for any n_threads). S == 0 or L == 0: hT = h0, cT = c0.
  void forward_train(const float* x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos,
                     bool reverse, const float* h0, const float* c0, float* y, int64_t y_seq,
                     int64_t y_pos, float* hT, float* cT, float* saved, float* workspace,
                     int n_threads) const;

  // x, h0, y, saved: as given to / produced by forward_train (same reverse). dy, dhT, dcT may
  // be null (zero). Writes dx, dh0, dc0 and dw_ih (4H, I), dw_hh (4H, H), dbias (4H): the
  // weight gradients summed over sequences and steps (overwritten, not accumulated into).
  // dh0, dc0, dx may be null (not written); the rest of the work is the same either way.
  void backward(const float* x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos,
                bool reverse, const float* h0, const float* y, int64_t y_seq, int64_t y_pos,
                const float* saved, const float* dy, int64_t dy_seq, int64_t dy_pos,
                const float* dhT, const float* dcT, float* dx, int64_t dx_seq, int64_t dx_pos,
                float* dw_ih, float* dw_hh, float* dbias, float* dh0, float* dc0,
                float* workspace, int n_threads) const;

 private:
  std::unique_ptr<detail::LstmTrainWeights> w_;
};

}  // namespace hb
