// Effect chain and simple native effects.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "hushboard/common.h"
#include "hushboard/fx.h"

namespace hb {

EffectChain::EffectChain(int64_t channels, int64_t max_block)
    : channels_(channels), max_block_(max_block) {
  HB_CHECK(channels >= 1, "channels must be >= 1 (got " + std::to_string(channels) + ")");
  HB_CHECK(max_block >= 1, "max_block must be >= 1");
  a_.assign(size_t(channels * max_block), 0.0f);
  b_.assign(size_t(channels * max_block), 0.0f);
}

void EffectChain::append(Effect* fx) {
  HB_CHECK(fx != nullptr, "effect must not be null");
  HB_CHECK(fx->channels() == channels_, "effect has " + std::to_string(fx->channels()) +
                                            " channels, the chain " + std::to_string(channels_));
  effects_.push_back(fx);
}

int64_t EffectChain::latency_samples() const {
  int64_t sum = 0;
  for (const Effect* fx : effects_) sum += fx->latency_samples();
  return sum;
}

void EffectChain::reset() {
  for (Effect* fx : effects_) fx->reset();
}

void EffectChain::process(const float* x, int64_t x_stride, float* y, int64_t y_stride,
                          int64_t n) {
  const int64_t C = channels_, m = max_block_;
  if (effects_.empty()) {
    for (int64_t c = 0; c < C; ++c) std::memcpy(y + c * y_stride, x + c * x_stride, sizeof(float) * size_t(n));
    return;
  }
  for (int64_t i = 0; i < n; i += m) {
    const int64_t len = std::min(m, n - i);
    const float* src = x + i;
    int64_t src_stride = x_stride;
    for (size_t e = 0; e < effects_.size(); ++e) {
      const bool last = e + 1 == effects_.size();
      float* dst = last ? y + i : (e % 2 == 0 ? a_.data() : b_.data());
      const int64_t dst_stride = last ? y_stride : m;
      effects_[e]->process(src, src_stride, dst, dst_stride, len);
      src = dst;
      src_stride = dst_stride;
    }
  }
}

Gain::Gain(double gain_db, int64_t channels) : channels_(channels) {
  HB_CHECK(channels >= 1, "channels must be >= 1 (got " + std::to_string(channels) + ")");
  set_gain_db(gain_db);
  current_ = target_.load();
}

void Gain::set_gain_db(double gain_db) {
  HB_CHECK(std::isfinite(gain_db) && std::abs(gain_db) <= 200,
           "gain_db must be a finite number in [-200, 200] (got " + std::to_string(gain_db) + ")");
  gain_db_ = gain_db;
  target_.store(float(std::pow(10.0, gain_db / 20.0)));
}

void Gain::reset() { current_ = target_.load(); }

void Gain::process(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n) {
  const float target = target_.load();
  const float start = current_;
  const float step = n > 0 ? (target - start) / float(n) : 0.0f;
  for (int64_t c = 0; c < channels_; ++c) {
    const float* xi = x + c * x_stride;
    float* yi = y + c * y_stride;
    if (start == target) {
      for (int64_t i = 0; i < n; ++i) yi[i] = xi[i] * target;
    } else {
      for (int64_t i = 0; i < n; ++i) yi[i] = xi[i] * (start + step * float(i + 1));
    }
  }
  if (n > 0) current_ = target;
}

}  // namespace hb
