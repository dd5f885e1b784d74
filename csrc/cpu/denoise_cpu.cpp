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

StftParams round_trip_params(const WienerParams& p) {
  HB_CHECK(std::isfinite(p.sample_rate) && p.sample_rate >= 8000 && p.sample_rate <= 192000,
           "sample_rate must be in [8000, 192000] Hz (got " + std::to_string(p.sample_rate) + ")");
  HB_CHECK(p.dd_alpha >= 0 && p.dd_alpha < 1, "dd_alpha must be in [0, 1)");
  HB_CHECK(p.noise_time_const_s > 0 && p.min_window_s > 0, "time constants must be > 0");
  HB_CHECK(p.presence_threshold > 1, "presence_threshold must be > 1");
  HB_CHECK(std::isfinite(p.gain_floor_db) && p.gain_floor_db <= 0,
           "gain_floor_db must be <= 0 (got " + std::to_string(p.gain_floor_db) + ")");
  StftParams q;
  q.n_fft = p.n_fft;
  q.hop_length = p.hop_length;
  q.center = true;
  q.pad_mode = PadMode::Constant;
  q.kind = SpecKind::Complex;
  return q;
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
