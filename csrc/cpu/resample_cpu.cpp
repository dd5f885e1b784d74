// Streaming polyphase resampler and ResampledEffect.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>

#include "hushboard/common.h"
#include "hushboard/resample.h"

namespace hb {
namespace {

double bessel_i0(double x) {
  double sum = 1.0, term = 1.0;
  for (int k = 1; k < 50; ++k) {
    term *= (x / (2.0 * k)) * (x / (2.0 * k));
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

}  // namespace

Resampler::Resampler(int64_t in_rate, int64_t out_rate, int64_t channels) : channels_(channels) {
  HB_CHECK(in_rate > 0 && out_rate > 0, "sample rates must be positive integers (got " +
                                            std::to_string(in_rate) + ", " + std::to_string(out_rate) + ")");
  HB_CHECK(channels >= 1, "channels must be >= 1");
  const int64_t g = std::gcd(in_rate, out_rate);
  up_ = out_rate / g;
  down_ = in_rate / g;
  HB_CHECK(up_ <= 4096 && down_ <= 4096,
           "the rate ratio " + std::to_string(out_rate) + "/" + std::to_string(in_rate) +
               " reduces to " + std::to_string(up_) + "/" + std::to_string(down_) +
               ": too fine-grained (at most 4096 phases)");
  taps_ = 2 * int64_t(std::ceil(12.0 * std::max(1.0, double(down_) / double(up_))));
  const int64_t len = up_ * taps_;
  const double fc = 0.9 * 0.5 / double(std::max(up_, down_));  // cycles per upsampled sample
  const double beta = 8.0, centre = double(len - 1) / 2.0;
  std::vector<double> proto(static_cast<size_t>(len));
  for (int64_t i = 0; i < len; ++i) {
    const double t = double(i) - centre;
    const double sinc = t == 0 ? 1.0 : std::sin(2 * M_PI * fc * t) / (2 * M_PI * fc * t);
    const double r = 2.0 * double(i) / double(len - 1) - 1.0;
    const double w = bessel_i0(beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / bessel_i0(beta);
    proto[size_t(i)] = double(up_) * 2.0 * fc * sinc * w;
  }
  h_.assign(size_t(len), 0.0f);
  for (int64_t ph = 0; ph < up_; ++ph)
    for (int64_t k = 0; k < taps_; ++k) h_[size_t(ph * taps_ + k)] = float(proto[size_t(ph + k * up_)]);
  chunk_ = 1024;
  hist_.assign(size_t(channels * (taps_ - 1 + chunk_)), 0.0f);
}

void Resampler::reset() {
  std::fill(hist_.begin(), hist_.end(), 0.0f);
  n_in_ = 0;
  j_out_ = 0;
}

int64_t Resampler::outputs_for(int64_t n) const {
  // output j needs input floor(j * down / up) < n_in + n
  const int64_t total = n_in_ + n;
  if (total <= 0) return 0;
  const int64_t last = ((total - 1) * up_ + up_ - 1) / down_;  // largest j with j*down/up <= total-1
  return std::max<int64_t>(0, last + 1 - j_out_);
}

void Resampler::push(const float* x, int64_t x_stride, int64_t n, float* y, int64_t y_stride) {
  const int64_t K = taps_, row = K - 1 + chunk_;
  int64_t pos = 0, written = 0;
  while (pos < n) {
    const int64_t m = std::min(chunk_, n - pos);
    // the history row holds inputs [n_in - (K-1), n_in + m)
    for (int64_t c = 0; c < channels_; ++c)
      std::memcpy(hist_.data() + c * row + (K - 1), x + c * x_stride + pos, sizeof(float) * size_t(m));
    const int64_t base = n_in_ - (K - 1);
    const int64_t limit = n_in_ + m;  // inputs available: < limit
    for (;; ++j_out_) {
      const int64_t u = j_out_ * down_;
      const int64_t idx = u / up_;
      if (idx >= limit) break;
      const float* h = h_.data() + (u % up_) * K;
      for (int64_t c = 0; c < channels_; ++c) {
        const float* hx = hist_.data() + c * row + (idx - base);  // x[idx]
        float acc = 0.0f;
        for (int64_t k = 0; k < K; ++k) acc += h[k] * hx[-k];
        y[c * y_stride + written] = acc;
      }
      ++written;
    }
    n_in_ += m;
    for (int64_t c = 0; c < channels_; ++c) {  // keep the last K-1 inputs
      float* r = hist_.data() + c * row;
      std::memmove(r, r + m, sizeof(float) * size_t(K - 1));
    }
    pos += m;
  }
}

ResampledEffect::ResampledEffect(Effect* inner, int64_t outer_rate, int64_t inner_rate,
                                 int64_t max_block)
    : inner_(inner),
      down_(outer_rate, inner_rate, inner ? inner->channels() : 1),
      up_(inner_rate, outer_rate, inner ? inner->channels() : 1),
      max_block_(max_block) {
  HB_CHECK(inner != nullptr, "inner effect must not be null");
  HB_CHECK(max_block >= 1, "max_block must be >= 1");
  const int64_t C = inner->channels();
  const int64_t inner_max = max_block * down_.up() / down_.down() + 2;
  a_.assign(size_t(C * inner_max), 0.0f);
  b_.assign(size_t(C * inner_max), 0.0f);
  // after N outer samples the two rate changes have produced at least N - 1 - outer/inner
  preroll_ = 2 + (outer_rate + inner_rate - 1) / inner_rate;
  const double delay = down_.delay_out() * double(outer_rate) / double(inner_rate) +
                       double(inner->latency_samples()) * double(outer_rate) / double(inner_rate) +
                       up_.delay_out();
  latency_ = preroll_ + int64_t(std::llround(delay));
  fifo_cap_ = max_block + preroll_ + 8;
  fifo_.assign(size_t(C * fifo_cap_), 0.0f);
  reset();
}

void ResampledEffect::reset() {
  inner_->reset();
  down_.reset();
  up_.reset();
  std::fill(fifo_.begin(), fifo_.end(), 0.0f);
  fifo_fill_ = preroll_;
}

void ResampledEffect::process(const float* x, int64_t x_stride, float* y, int64_t y_stride,
                              int64_t n) {
  const int64_t C = channels();
  const int64_t inner_max = int64_t(a_.size()) / C;
  for (int64_t pos = 0; pos < n; pos += max_block_) {
    const int64_t m = std::min(max_block_, n - pos);
    const int64_t k = down_.outputs_for(m);
    down_.push(x + pos, x_stride, m, a_.data(), inner_max);
    inner_->process(a_.data(), inner_max, b_.data(), inner_max, k);
    const int64_t r = up_.outputs_for(k);
    HB_CHECK(fifo_fill_ + r <= fifo_cap_, "internal: resampler FIFO overflow");
    up_.push(b_.data(), inner_max, k, fifo_.data() + fifo_fill_, fifo_cap_);
    fifo_fill_ += r;
    HB_CHECK(fifo_fill_ >= m, "internal: resampler FIFO underflow");
    for (int64_t c = 0; c < C; ++c) {
      float* f = fifo_.data() + c * fifo_cap_;
      std::memcpy(y + c * y_stride + pos, f, sizeof(float) * size_t(m));
      std::memmove(f, f + m, sizeof(float) * size_t(fifo_fill_ - m));
    }
    fifo_fill_ -= m;
  }
}

}  // namespace hb
