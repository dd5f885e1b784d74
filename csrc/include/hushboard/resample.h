// hushboard — streaming polyphase resampling, and an effect run at another sample rate.
#pragma once

#include <cstdint>
#include <vector>

#include "hushboard/fx.h"

namespace hb {

// Rational polyphase resampler (in_rate -> out_rate, ratio reduced to up/down), Kaiser-windowed
// sinc low-pass at 0.9 x the lower Nyquist frequency, about 80 dB of stop-band attenuation.
// Streaming: push() may be called with any number of samples; the output does not depend on
// how the input is split. No allocation after construction (input is taken in chunks).
class Resampler {
 public:
  Resampler(int64_t in_rate, int64_t out_rate, int64_t channels);
  int64_t channels() const { return channels_; }
  int64_t up() const { return up_; }
  int64_t down() const { return down_; }
  // Outputs that push() of n more input samples will produce.
  int64_t outputs_for(int64_t n) const;
  // x: (channels, n) with row stride; y: (channels, outputs_for(n)) with row stride.
  void push(const float* x, int64_t x_stride, int64_t n, float* y, int64_t y_stride);
  void reset();
  // Group delay of the filter, in output samples.
  double delay_out() const { return double(up_ * taps_ - 1) / (2.0 * double(down_)); }

 private:
  int64_t channels_, up_, down_, taps_;
  std::vector<float> h_;     // [phase][tap]
  std::vector<float> hist_;  // per channel: taps-1 past inputs + one chunk
  int64_t chunk_;
  int64_t n_in_ = 0, j_out_ = 0;
};

// Runs an inner effect at inner_rate inside a stream at outer_rate: resample in, effect,
// resample out, and a small FIFO so that every call returns as many samples as it was given.
// Latency (rounded to whole samples): both filters' group delays + the inner latency scaled to
// the outer rate + the FIFO pre-roll.
class ResampledEffect : public Effect {
 public:
  ResampledEffect(Effect* inner, int64_t outer_rate, int64_t inner_rate, int64_t max_block = 4096);
  int64_t channels() const override { return inner_->channels(); }
  int64_t latency_samples() const override { return latency_; }
  void process(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n) override;
  void reset() override;

 private:
  Effect* inner_;
  Resampler down_, up_;
  int64_t max_block_, preroll_, latency_, fifo_fill_ = 0, fifo_cap_;
  std::vector<float> a_, b_, fifo_;
};

}  // namespace hb
