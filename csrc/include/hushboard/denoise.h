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

}  // namespace hb
