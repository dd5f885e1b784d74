// Classic spectral denoisers on the streaming STFT round trip.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "hushboard/denoise.h"

namespace hb {
namespace {

std::vector<float> periodic_hann(int64_t n) {
  std::vector<float> w(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) w[size_t(i)] = float(0.5 - 0.5 * std::cos(2.0 * M_PI * double(i) / double(n)));
  return w;
}

// The round trip every spectral denoiser runs on (centred, complex spectrum).
StftParams spectral_round_trip(double sample_rate, int64_t n_fft, int64_t hop_length) {
  HB_CHECK(std::isfinite(sample_rate) && sample_rate >= 8000 && sample_rate <= 192000,
           "sample_rate must be in [8000, 192000] Hz (got " + std::to_string(sample_rate) + ")");
  StftParams q;
  q.n_fft = n_fft;
  q.hop_length = hop_length;
  q.center = true;
  q.pad_mode = PadMode::Constant;
  q.kind = SpecKind::Complex;
  return q;
}

StftParams round_trip_params(const WienerParams& p) {
  HB_CHECK(p.dd_alpha >= 0 && p.dd_alpha < 1, "dd_alpha must be in [0, 1)");
  HB_CHECK(p.noise_time_const_s > 0 && p.min_window_s > 0, "time constants must be > 0");
  HB_CHECK(p.presence_threshold > 1, "presence_threshold must be > 1");
  HB_CHECK(std::isfinite(p.gain_floor_db) && p.gain_floor_db <= 0,
           "gain_floor_db must be <= 0 (got " + std::to_string(p.gain_floor_db) + ")");
  return spectral_round_trip(p.sample_rate, p.n_fft, p.hop_length);
}

float per_frame_alpha(double time_const_s, double sample_rate, int64_t hop) {
  return float(std::exp(-double(hop) / (sample_rate * time_const_s)));
}

}  // namespace

WienerDenoiser::WienerDenoiser(const WienerParams& p, int64_t channels)
    : StftRoundTrip(round_trip_params(p), periodic_hann(p.n_fft).data(), channels), wp_(p) {
  const int64_t nb = n_bins();
  a_s_ = per_frame_alpha(0.036, p.sample_rate, p.hop_length);
  a_d_ = per_frame_alpha(p.noise_time_const_s, p.sample_rate, p.hop_length);
  a_p_ = per_frame_alpha(0.005, p.sample_rate, p.hop_length);
  min_frames_ = std::max<int64_t>(1, int64_t(std::ceil(p.min_window_s * p.sample_rate / double(p.hop_length))));
  for (auto* v : {&smooth_, &smin_, &stmp_, &presence_, &noise_, &prev_clean_})
    v->assign(size_t(channels * nb), 0.0f);
  frame_count_.assign(size_t(channels), 0);
  set_gain_floor_db(p.gain_floor_db);
}

void WienerDenoiser::set_gain_floor_db(double db) {
  HB_CHECK(std::isfinite(db) && db <= 0, "gain_floor_db must be <= 0 (got " + std::to_string(db) + ")");
  wp_.gain_floor_db = db;
  gain_floor_.store(float(std::pow(10.0, db / 20.0)));
}

void WienerDenoiser::reset() {
  StftRoundTrip::reset();
  for (auto* v : {&smooth_, &smin_, &stmp_, &presence_, &noise_, &prev_clean_})
    std::fill(v->begin(), v->end(), 0.0f);
  std::fill(frame_count_.begin(), frame_count_.end(), 0);
}

void WienerDenoiser::process_frames(float* spec, int64_t k, int64_t stride) {
  const int64_t nb = n_bins(), C = channels();
  const float floor_gain = gain_floor_.load(), dd = float(wp_.dd_alpha);
  const float delta = float(wp_.presence_threshold), eps = 1e-20f;
  for (int64_t c = 0; c < C; ++c) {
    float* S = smooth_.data() + c * nb;
    float* Smin = smin_.data() + c * nb;
    float* Stmp = stmp_.data() + c * nb;
    float* pres = presence_.data() + c * nb;
    float* noise = noise_.data() + c * nb;
    float* prev = prev_clean_.data() + c * nb;
    for (int64_t j = 0; j < k; ++j) {
      int64_t& count = frame_count_[size_t(c)];
      const bool first = count == 0;
      const bool restart = !first && count % min_frames_ == 0;
      auto bin = [&](int64_t b) { return spec + 2 * ((c * nb + b) * stride + j); };
      auto power = [&](int64_t b) {
        const float* q = bin(b < 0 ? -b : (b >= nb ? 2 * (nb - 1) - b : b));
        return q[0] * q[0] + q[1] * q[1];
      };
      for (int64_t b = 0; b < nb; ++b) {
        float* q = bin(b);
        const float P = q[0] * q[0] + q[1] * q[1];
        const float Pf = 0.25f * power(b - 1) + 0.5f * P + 0.25f * power(b + 1);
        if (first) {
          S[b] = Smin[b] = Stmp[b] = Pf;
          noise[b] = P;
          pres[b] = 0.0f;
        } else {
          S[b] = a_s_ * S[b] + (1.0f - a_s_) * Pf;
          Smin[b] = std::min(Smin[b], S[b]);
          Stmp[b] = std::min(Stmp[b], S[b]);
          if (restart) {
            Smin[b] = std::min(Stmp[b], S[b]);
            Stmp[b] = S[b];
          }
          const float present = S[b] > delta * Smin[b] ? 1.0f : 0.0f;
          pres[b] = a_p_ * pres[b] + (1.0f - a_p_) * present;
          const float ad = a_d_ + (1.0f - a_d_) * pres[b];
          noise[b] = ad * noise[b] + (1.0f - ad) * P;
        }
        const float n = std::max(noise[b], eps);
        const float gamma = P / n;
        const float xi = dd * prev[b] / n + (1.0f - dd) * std::max(gamma - 1.0f, 0.0f);
        const float g = std::max(xi / (1.0f + xi), floor_gain);
        q[0] *= g;
        q[1] *= g;
        prev[b] = g * g * P;
      }
      ++count;
    }
  }
}

}  // namespace hb

namespace hb {
namespace {

StftParams gate_round_trip_params(const GateParams& p) {
  HB_CHECK(std::isfinite(p.n_std) && p.n_std >= 0, "n_std must be >= 0");
  HB_CHECK(std::isfinite(p.attenuation_db) && p.attenuation_db <= 0, "attenuation_db must be <= 0");
  HB_CHECK(std::isfinite(p.freq_smooth_hz) && p.freq_smooth_hz >= 0, "freq_smooth_hz must be >= 0");
  HB_CHECK(std::isfinite(p.time_smooth_ms) && p.time_smooth_ms >= 0, "time_smooth_ms must be >= 0");
  HB_CHECK(std::isfinite(p.learn_ms) && p.learn_ms > 0, "learn_ms must be > 0");
  return spectral_round_trip(p.sample_rate, p.n_fft, p.hop_length);
}

}  // namespace

SpectralGate::SpectralGate(const GateParams& p, int64_t channels)
    : StftRoundTrip(gate_round_trip_params(p), periodic_hann(p.n_fft).data(), channels), gp_(p) {
  const int64_t nb = n_bins();
  const double frames_per_s = p.sample_rate / double(p.hop_length);
  learn_frames_ = std::max<int64_t>(1, int64_t(std::ceil(p.learn_ms / 1000.0 * frames_per_s)));
  smooth_bins_ = int64_t(std::floor(p.freq_smooth_hz / (p.sample_rate / double(p.n_fft))));
  a_t_ = p.time_smooth_ms > 0 ? per_frame_alpha(p.time_smooth_ms / 1000.0, p.sample_rate, p.hop_length) : 0.0f;
  for (auto* v : {&mean_, &m2_, &stddev_, &mask_, &soft_})
    v->assign(size_t(channels * nb), 0.0f);
  level_.assign(size_t(nb), 0.0f);
  seen_.assign(size_t(channels), 0);
  set_n_std(p.n_std);
  set_attenuation_db(p.attenuation_db);
  reset();
}

void SpectralGate::set_n_std(double n_std) {
  HB_CHECK(std::isfinite(n_std) && n_std >= 0, "n_std must be >= 0 (got " + std::to_string(n_std) + ")");
  gp_.n_std = n_std;
  n_std_.store(float(n_std));
}

void SpectralGate::set_attenuation_db(double db) {
  HB_CHECK(std::isfinite(db) && db <= 0, "attenuation_db must be <= 0 (got " + std::to_string(db) + ")");
  gp_.attenuation_db = db;
  floor_.store(float(std::pow(10.0, db / 20.0)));
}

void SpectralGate::set_profile(const float* mean_db, const float* std_db) {
  const int64_t nb = n_bins();
  for (int64_t c = 0; c < channels(); ++c)
    for (int64_t b = 0; b < nb; ++b) {
      HB_CHECK(std::isfinite(mean_db[b]) && std::isfinite(std_db[b]) && std_db[b] >= 0,
               "noise profile must be finite with std >= 0");
      mean_[size_t(c * nb + b)] = mean_db[b];
      stddev_[size_t(c * nb + b)] = std_db[b];
    }
  has_profile_ = true;
  std::fill(seen_.begin(), seen_.end(), learn_frames_);
}

void SpectralGate::reset() {
  StftRoundTrip::reset();
  std::fill(soft_.begin(), soft_.end(), 1.0f);  // start open
  if (!has_profile_) {
    std::fill(mean_.begin(), mean_.end(), 0.0f);
    std::fill(m2_.begin(), m2_.end(), 0.0f);
    std::fill(stddev_.begin(), stddev_.end(), 0.0f);
    std::fill(seen_.begin(), seen_.end(), 0);
  }
}

void SpectralGate::process_frames(float* spec, int64_t k, int64_t stride) {
  const int64_t nb = n_bins(), C = channels(), w = smooth_bins_;
  const float n_std = n_std_.load(), floor_gain = floor_.load();
  for (int64_t c = 0; c < C; ++c) {
    float* mean = mean_.data() + c * nb;
    float* m2 = m2_.data() + c * nb;
    float* sd = stddev_.data() + c * nb;
    float* mask = mask_.data() + c * nb;
    float* soft = soft_.data() + c * nb;
    for (int64_t j = 0; j < k; ++j) {
      auto bin = [&](int64_t b) { return spec + 2 * ((c * nb + b) * stride + j); };
      for (int64_t b = 0; b < nb; ++b) {
        const float* q = bin(b);
        level_[size_t(b)] = 10.0f * std::log10(q[0] * q[0] + q[1] * q[1] + 1e-20f);
      }
      int64_t& seen = seen_[size_t(c)];
      if (seen < learn_frames_) {  // learning: Welford's running mean and variance; pass audio
        ++seen;
        for (int64_t b = 0; b < nb; ++b) {
          const float d = level_[size_t(b)] - mean[b];
          mean[b] += d / float(seen);
          m2[b] += d * (level_[size_t(b)] - mean[b]);
          if (seen == learn_frames_) sd[b] = std::sqrt(m2[b] / float(std::max<int64_t>(seen - 1, 1)));
        }
        continue;
      }
      for (int64_t b = 0; b < nb; ++b) mask[b] = level_[size_t(b)] > mean[b] + n_std * sd[b] ? 1.0f : 0.0f;
      // box smoothing across +-w bins (running sum), then one-pole smoothing over time
      float run = 0;
      for (int64_t b = 0; b <= std::min(w, nb - 1); ++b) run += mask[b];
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t lo = std::max<int64_t>(0, b - w), hi = std::min<int64_t>(nb - 1, b + w);
        const float m = run / float(hi - lo + 1);
        if (b + w + 1 < nb) run += mask[b + w + 1];
        if (b - w >= 0) run -= mask[b - w];
        soft[b] = m >= soft[b] ? m : a_t_ * soft[b] + (1.0f - a_t_) * m;  // opens at once, closes smoothly
        const float g = floor_gain + (1.0f - floor_gain) * soft[b];
        float* q = bin(b);
        q[0] *= g;
        q[1] *= g;
      }
    }
  }
}

}  // namespace hb
