// hushboard — DCCRN streaming engine: STFT -> complex encoder -> LSTM -> complex decoder ->
// mask (mode E) -> iSTFT, all in C++, state carried across calls, no allocation per frame.
//
// The engine runs on the STFT round trip (hb::StftRoundTrip): one hop of audio in gives one hop
// out, delayed by n_fft - 1 samples. Frames handed over together (a long block) go through the
// convolutions as one batch of columns (the encoder and decoder have no recurrence), only the
// LSTM steps frame by frame; the result is the same as one frame at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hushboard/stft_stream.h"

namespace hb {

struct DccrnConfig {
  std::vector<int64_t> channels;  // complex output channels of each encoder layer
  bool complex_rnn = true;        // complex LSTM (DCCRN-CL) or real LSTM (DCCRN-R)
  int64_t rnn_layers = 2;
  int64_t rnn_units = 256;        // as DCCRNConfig: complex LSTMs have rnn_units/2 per part
  int64_t kernel_f = 5, kernel_t = 2, stride_f = 2;
  int64_t n_fft = 512, hop_length = 100;
};

// A named float32 tensor handed to the engine (copied; the data need not outlive the call).
struct TensorView {
  std::vector<int64_t> shape;
  const float* data = nullptr;
};
using TensorMap = std::map<std::string, TensorView>;

class DccrnEngine : public StftRoundTrip {
 public:
  // weights: the names of DCCRN.engine_weights() ("window", "enc.{k}.wr", ...). A missing or
  // misshapen tensor is a ValueError naming it.
  DccrnEngine(const DccrnConfig& cfg, const TensorMap& weights, int64_t channels);
  ~DccrnEngine() override;
  void reset() override;
  const DccrnConfig& config() const { return cfg_; }

 protected:
  void process_frames(float* spec, int64_t k, int64_t stride) override;

 private:
  struct Impl;
  DccrnConfig cfg_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hb
