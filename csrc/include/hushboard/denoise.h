// hushboard — classic spectral denoisers as native streaming effects on the STFT round trip.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "hushboard/stft_stream.h"

namespace hb {

struct WienerParams {
  double sample_rate = 16000;
  int64_t n_fft = 512;
  int64_t hop_length = 128;
  double gain_floor_db = -20.0;     // lowest gain applied to a bin
  double dd_alpha = 0.98;           // decision-directed smoothing of the a-priori SNR
  double noise_time_const_s = 0.2;  // MCRA noise PSD smoothing where speech is absent
  double min_window_s = 1.0;        // minimum-statistics search window
  double presence_threshold = 5.0;  // S / S_min above this: speech present (MCRA delta)
};

// Wiener-gain denoiser: noise PSD tracked by MCRA (minima-controlled recursive averaging with
// a minimum-statistics search window), decision-directed a-priori SNR, gain floor. Hann
// analysis/synthesis, latency n_fft - 1.
class WienerDenoiser : public StftRoundTrip {
 public:
  WienerDenoiser(const WienerParams& p, int64_t channels);
  void reset() override;
  // Takes effect at the next frame (gains change smoothly through the overlap-add).
  void set_gain_floor_db(double db);
  const WienerParams& wiener_params() const { return wp_; }

 protected:
  void process_frames(float* spec, int64_t k, int64_t stride) override;

 private:
  WienerParams wp_;
  std::atomic<float> gain_floor_{0.1f};
  float a_s_, a_d_, a_p_;
  int64_t min_frames_;
  // per channel x bin state
  std::vector<float> smooth_, smin_, stmp_, presence_, noise_, prev_clean_;
  std::vector<int64_t> frame_count_;
};

struct GateParams {
  double sample_rate = 16000;
  int64_t n_fft = 512;
  int64_t hop_length = 128;
  double n_std = 1.5;             // threshold: noise mean + n_std * noise std (dB per bin)
  double attenuation_db = -24.0;  // gain of gated bins (<= 0)
  double freq_smooth_hz = 60.0;   // mask smoothing across frequency (half width)
  double time_smooth_ms = 40.0;   // mask release time (opens at once, closes with this constant)
  double learn_ms = 500.0;        // without a profile: learn the noise from the first learn_ms
};

// Spectral gate: per-bin noise statistics of the level in dB (from a given profile, or learned
// from the start of the stream, during which audio passes unchanged); bins below
// mean + n_std * std are attenuated to attenuation_db; the 0/1 mask is smoothed across
// frequency, and over time it opens at once and closes with a release time constant. Hann analysis/synthesis, latency n_fft - 1.
class SpectralGate : public StftRoundTrip {
 public:
  SpectralGate(const GateParams& p, int64_t channels);
  // mean_db, std_db: n_bins values (one profile for every channel); replaces learning.
  void set_profile(const float* mean_db, const float* std_db);
  void set_n_std(double n_std);
  void set_attenuation_db(double db);
  void reset() override;

 protected:
  void process_frames(float* spec, int64_t k, int64_t stride) override;

 private:
  GateParams gp_;
  std::atomic<float> n_std_{1.5f}, floor_{0.06f};
  bool has_profile_ = false;
  int64_t learn_frames_, smooth_bins_;
  float a_t_;
  std::vector<float> mean_, m2_, stddev_, mask_, soft_, level_;  // per channel x bin
  std::vector<int64_t> seen_;                                     // frames learned per channel
};

}  // namespace hb
