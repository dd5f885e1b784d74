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

// The network between the spectrum and the masks: band split -> dual-path layers -> one mask
// MLP per stem, for any BSRNN (causal or not, several stems, several audio channels modelled
// jointly). Feature rows are BSRNN.features(): per frame the bins, then the channels, then real
// and imaginary; mask rows likewise with the filter taps before real/imaginary.
struct BsrnnNetConfig {
  std::vector<int64_t> bands;   // band widths in bins
  int64_t audio_channels = 1;
  int64_t feature_dim = 64, num_layers = 6, hidden_size = 64, mask_hidden = 256;
  int64_t mask_frames = 1, stems = 1;
  bool gru = false;
  bool causal = true;           // unidirectional time path (state can be carried)
  float eps = 1e-5f;
};

class BsrnnNetwork {
 public:
  // weights: the names of BSRNN.engine_weights() (no "window" needed). ValueError naming a
  // missing, misshapen or non-finite tensor.
  BsrnnNetwork(const BsrnnNetConfig& cfg, const TensorMap& weights);
  ~BsrnnNetwork();
  const BsrnnNetConfig& config() const { return cfg_; }
  int64_t in_features() const;   // D = bins * channels * 2
  int64_t out_features() const;  // per stem: bins * channels * mask_frames * 2
  // Floats of carried time-path state per stream (causal models).
  int64_t state_floats() const;
  // Sizes the buffers for up to B streams of T frames (forward() grows them otherwise).
  void reserve(int64_t B, int64_t T);
  // x: (B, T, D) feature rows; y: (stems, B, T, Dout) mask rows. state: null to start every
  // stream from zeros, or (B, state_floats()) carried in and out (causal models only). One
  // thread; allocates only when (B, T) exceed what was reserved.
  void forward(const float* x, int64_t B, int64_t T, float* y, float* state);

 private:
  struct Impl;
  BsrnnNetConfig cfg_;
  std::unique_ptr<Impl> impl_;
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
