// hushboard — BSRNN streaming engine: STFT -> band split -> dual-path RNN layers (LSTM or GRU
// over time within each band, bidirectional over the bands of a frame) -> band-wise mask MLP ->
// complex mask or complex filter over past frames -> iSTFT, all in C++, state carried across
// calls, no allocation per frame.
//
// Causal, mono-per-stream models with one stem (the speech denoisers). Each stream channel is
// an independent signal with its own state. Frames handed over together (a long block) go
// through the band split, the band path and the mask as one batch of rows; only the time-path
// RNN steps frame by frame.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hushboard/dccrn.h"  // TensorView / TensorMap
#include "hushboard/stft_stream.h"

namespace hb {

struct BsrnnConfig {
  std::vector<int64_t> bands;  // band widths in bins, summing to n_fft / 2 + 1
  int64_t feature_dim = 64;    // N
  int64_t num_layers = 6;
  int64_t hidden_size = 64;    // H, per direction
  bool gru = false;            // GRU instead of LSTM
  int64_t mask_hidden = 256;
  int64_t mask_frames = 1;     // 1: complex mask; k > 1: complex filter over k frames
  int64_t n_fft = 512, hop_length = 128;
  float eps = 1e-5f;
};

class BsrnnEngine : public StftRoundTrip {
 public:
  // weights: the names of BSRNN.engine_weights() ("window", "split.w", "layers.{j}.time_rnn.w_ih",
  // ...). A missing, misshapen or non-finite tensor is a ValueError naming it.
  BsrnnEngine(const BsrnnConfig& cfg, const TensorMap& weights, int64_t channels);
  ~BsrnnEngine() override;
  void reset() override;
  const BsrnnConfig& config() const { return cfg_; }

 protected:
  void process_frames(float* spec, int64_t k, int64_t stride) override;

 private:
  struct Impl;
  BsrnnConfig cfg_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hb
