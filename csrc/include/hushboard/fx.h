// hushboard — native audio effects: the streaming interface every C++ effect implements.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

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

// Effects in series, one C++ loop: no Python between them. The chain does not own its effects
// (the Python objects that do keep them alive). Blocks are processed in slices of at most
// max_block samples through two preallocated buffers, so process() never allocates.
class EffectChain : public Effect {
 public:
  EffectChain(int64_t channels, int64_t max_block = 1024);
  void append(Effect* fx);  // throws ValueError on a channel-count mismatch
  int64_t size() const { return int64_t(effects_.size()); }
  int64_t channels() const override { return channels_; }
  int64_t latency_samples() const override;
  void process(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n) override;
  void reset() override;

 private:
  int64_t channels_, max_block_;
  std::vector<Effect*> effects_;
  std::vector<float> a_, b_;
};

// Gain in decibels; a new value ramps linearly over one block (no zipper noise).
class Gain : public Effect {
 public:
  Gain(double gain_db, int64_t channels);
  void set_gain_db(double gain_db);
  double gain_db() const { return gain_db_; }
  int64_t channels() const override { return channels_; }
  int64_t latency_samples() const override { return 0; }
  void process(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n) override;
  void reset() override;

 private:
  int64_t channels_;
  double gain_db_;
  std::atomic<float> target_{1.0f};
  float current_ = 1.0f;
};

}  // namespace hb
