// hushboard — streaming STFT / iSTFT with state in C++. No allocation after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hushboard/fx.h"
#include "hushboard/stft.h"

namespace hb {

// Samples in, completed frames out. With p.center the stream starts with n_fft/2 zeros, so its
// frames are those of the offline stft(x, center=True, pad_mode='constant'); without, those of
// stft(x, center=False). p.pad_mode is ignored (the future cannot be reflected).
class StftStreamer {
 public:
  StftStreamer(const StftParams& p, const float* window, int64_t channels);
  ~StftStreamer();
  int64_t channels() const { return channels_; }
  int64_t n_bins() const;
  const StftParams& params() const { return p_; }
  // Frames that push() of n more samples will complete.
  int64_t frames_for(int64_t n_samples) const;
  // x: (channels, n) row stride x_stride; out: (channels, n_bins, out_stride[, 2]) receiving
  // frames_for(n) frames at columns col0.. . Magnitude output has no trailing 2.
  void push(const float* x, int64_t n, int64_t x_stride, float* out, int64_t out_stride,
            int64_t col0 = 0);
  void reset();

 private:
  StftParams p_;
  std::vector<float> window_;
  int64_t channels_, cap_, fill_ = 0;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Frames in, hop samples out per frame. Output sample e is the offline istft output sample
// e - latency_samples() (zeros before), latency = n_fft/2 with p.center, else 0.
class IstftStreamer {
 public:
  IstftStreamer(const StftParams& p, const float* window, int64_t channels);
  ~IstftStreamer();
  int64_t channels() const { return channels_; }
  int64_t latency_samples() const { return p_.center ? p_.n_fft / 2 : 0; }
  const StftParams& params() const { return p_; }
  // spec: (channels, n_bins, in_stride, 2) holding k frames at columns col0..; out: (channels,
  // k*hop) with row stride out_stride.
  void push(const float* spec, int64_t k, int64_t in_stride, float* out, int64_t out_stride,
            int64_t col0 = 0);
  void reset();

 private:
  void emit_and_shift(float* acc, int64_t acc_len, float* o, int64_t count) const;
  StftParams p_;
  std::vector<float> window_;
  std::vector<double> inv_head_, inv_steady_;
  int64_t channels_;
  int64_t emitted_ = 0;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Samples in, the same number of samples out: analysis, a per-frame hook, synthesis. With the
// identity hook the output is the input delayed by latency_samples() = n_fft - 1 (to float
// rounding), for any block size. Subclasses override process_frames to edit the spectrum.
class StftRoundTrip : public Effect {
 public:
  StftRoundTrip(const StftParams& p, const float* window, int64_t channels);
  ~StftRoundTrip() override;
  int64_t latency_samples() const override { return p_.n_fft - 1; }
  int64_t channels() const override { return channels_; }
  int64_t n_bins() const { return n_bins_; }
  const StftParams& params() const { return p_; }
  // x, y: (channels, n) with row strides; y may not alias x.
  void process(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n) override;
  void reset() override;

 protected:
  // spec: (channels, n_bins, stride, 2), k frames at columns 0..k-1; edit in place.
  virtual void process_frames(float* spec, int64_t k, int64_t stride) {}

 private:
  StftParams p_;
  int64_t channels_, chunk_frames_, n_bins_, preroll_;
  StftStreamer ana_;
  IstftStreamer syn_;
  std::vector<float> frames_, fifo_;
  int64_t fifo_fill_ = 0;
};

}  // namespace hb
