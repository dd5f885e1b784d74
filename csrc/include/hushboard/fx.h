// hushboard — native audio effects: the streaming interface every C++ effect implements.
#pragma once

#include <cstdint>

namespace hb {

// A streaming effect: process() takes n samples per channel and returns exactly n, delayed by
// latency_samples(); the output does not depend on how the input is split into calls. State
// lives in the object; process() neither allocates nor blocks.
class Effect {
 public:
  virtual ~Effect() = default;
  virtual int64_t channels() const = 0;
  virtual int64_t latency_samples() const = 0;
  // x, y: (channels, n) with row strides; y may not alias x.
  virtual void process(const float* x, int64_t x_stride, float* y, int64_t y_stride,
                       int64_t n) = 0;
  virtual void reset() = 0;
};

}  // namespace hb
