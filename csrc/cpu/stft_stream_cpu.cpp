// Streaming STFT / iSTFT / round trip on the same per-ISA kernels as the offline transforms.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "hushboard/stft_stream.h"
#include "parallel.h"
#include "stft_internal.h"

namespace hb {
namespace detail {
const RealFftPlan* real_fft_plan(int64_t n);
}
using namespace detail;

namespace {
constexpr int64_t kChunkFrames = 32;  // frames per kernel call inside a stream

void check_stream_params(const StftParams& p, int64_t channels) {
  stft_check_params(p);
  HB_CHECK(p.n_fft % 2 == 0, "streaming needs an even n_fft (got " + std::to_string(p.n_fft) + ")");
  HB_CHECK(channels >= 1, "channels must be >= 1 (got " + std::to_string(channels) + ")");
}
}  // namespace

// ---- StftStreamer -------------------------------------------------------------------------------
struct StftStreamer::Impl {
  AnalysisJob job{};
  AlignedFloats buf, scratch;
  std::vector<float> w_even, w_odd;
  const ArchKernels* kernels = nullptr;
};

StftStreamer::StftStreamer(const StftParams& p, const float* window, int64_t channels)
    : p_(p), window_(window, window + p.n_fft), channels_(channels), impl_(new Impl) {
  check_stream_params(p, channels);
  const int64_t N = p.n_fft;
  cap_ = N + kChunkFrames * p.hop_length;
  impl_->buf = aligned_floats(channels * cap_);
  impl_->scratch = aligned_floats(kernel_scratch_floats(N));
  impl_->kernels = active_kernels();
  AnalysisJob& J = impl_->job;
  J.plan = real_fft_plan(N);
  J.n_fft = N;
  J.hop = p.hop_length;
  J.window = window_.data();
  J.pad = 0;
  J.pad_mode = kPadNone;
  J.onesided = p.onesided;
  J.kind = p.kind == SpecKind::Magnitude ? kKindMagnitude
           : (p.kind == SpecKind::Compressed && p.power != 1.0) ? kKindCompressed
                                                                 : kKindComplex;
  J.power_exp = float((p.power - 1.0) / 2.0);
  J.scale_interior = J.scale_edge = p.normalized ? float(1.0 / std::sqrt(double(N))) : 1.0f;
  for (int64_t i = 0; i < N / 2; ++i) {
    impl_->w_even.push_back(window_[size_t(2 * i)]);
    impl_->w_odd.push_back(window_[size_t(2 * i + 1)]);
  }
  for (int i = 0; i < 8; ++i) {  // padding for whole-vector loads
    impl_->w_even.push_back(0.0f);
    impl_->w_odd.push_back(0.0f);
  }
  J.window_even = impl_->w_even.data();
  J.window_odd = impl_->w_odd.data();
  reset();
}

StftStreamer::~StftStreamer() = default;

int64_t StftStreamer::n_bins() const { return stft_num_bins(p_); }

void StftStreamer::reset() {
  std::memset(impl_->buf.get(), 0, sizeof(float) * size_t(channels_ * cap_));
  fill_ = p_.center ? p_.n_fft / 2 : 0;
}

int64_t StftStreamer::frames_for(int64_t n) const {
  const int64_t total = fill_ + n;
  return total >= p_.n_fft ? 1 + (total - p_.n_fft) / p_.hop_length : 0;
}

void StftStreamer::push(const float* x, int64_t n, int64_t x_stride, float* out,
                        int64_t out_stride, int64_t col0) {
  const int64_t N = p_.n_fft, hop = p_.hop_length, nb = n_bins();
  const int64_t row = nb * out_stride * (p_.kind == SpecKind::Magnitude ? 1 : 2);
  AnalysisJob J = impl_->job;
  J.out_frames = out_stride;
  float* buf = impl_->buf.get();
  int64_t pos = 0, col = col0;
  while (pos < n) {
    const int64_t take = std::min(n - pos, cap_ - fill_);
    for (int64_t c = 0; c < channels_; ++c)
      std::memcpy(buf + c * cap_ + fill_, x + c * x_stride + pos, sizeof(float) * size_t(take));
    fill_ += take;
    pos += take;
    const int64_t k = fill_ >= N ? 1 + (fill_ - N) / hop : 0;
    if (k == 0) continue;
    J.length = fill_;
    J.col_offset = col;
    if (J.plan->single) {  // one frame at a time: no lanes wasted
      for (int64_t c = 0; c < channels_; ++c)
        for (int64_t t = 0; t < k; ++t)
          impl_->kernels->single.analysis1(J, buf + c * cap_ + t * hop, out + c * row, col + t,
                                           impl_->scratch.get());
    } else {
      for (int64_t c = 0; c < channels_; ++c)
        impl_->kernels->analysis(J, buf + c * cap_, out + c * row, 0, k, impl_->scratch.get());
    }
    col += k;
    const int64_t drop = k * hop;
    for (int64_t c = 0; c < channels_; ++c)
      std::memmove(buf + c * cap_, buf + c * cap_ + drop, sizeof(float) * size_t(fill_ - drop));
    fill_ -= drop;
  }
}

// ---- IstftStreamer ------------------------------------------------------------------------------
struct IstftStreamer::Impl {
  SynthesisJob job{};
  AlignedFloats acc, scratch;
  int64_t acc_len = 0;
  const ArchKernels* kernels = nullptr;
};

IstftStreamer::IstftStreamer(const StftParams& p, const float* window, int64_t channels)
    : p_(p), window_(window, window + p.n_fft), channels_(channels), impl_(new Impl) {
  check_stream_params(p, channels);
  HB_CHECK(p.kind != SpecKind::Magnitude,
           "istft cannot invert a magnitude spectrum (no phase); pass a complex or compressed spectrum");
  const int64_t N = p.n_fft, hop = p.hop_length;
  // envelope: partial sums for the first n_fft samples, periodic afterwards
  inv_head_.assign(size_t(N), 0.0);
  inv_steady_.assign(size_t(hop), 0.0);
  for (int64_t r = 0; r < hop; ++r) {
    double s = 0;
    for (int64_t m = r; m < N; m += hop) s += double(window_[size_t(m)]) * window_[size_t(m)];
    HB_CHECK(s >= 1e-11, "window fails the NOLA condition at hop_length " + std::to_string(hop) +
                             ": its squared overlap-add is " + std::to_string(s) +
                             " at phase " + std::to_string(r));
    inv_steady_[size_t(r)] = 1.0 / s;
  }
  for (int64_t a = 0; a < N; ++a) {
    double s = 0;
    for (int64_t t = 0; t * hop <= a; ++t) {
      const double w = window_[size_t(a - t * hop)];
      s += w * w;
    }
    inv_head_[size_t(a)] = s >= 1e-11 ? 1.0 / s : 0.0;
  }
  impl_->acc_len = N + kChunkFrames * hop;
  impl_->acc = aligned_floats(channels * impl_->acc_len);
  impl_->scratch = aligned_floats(kernel_scratch_floats(N));
  impl_->kernels = active_kernels();
  SynthesisJob& J = impl_->job;
  J.plan = real_fft_plan(N);
  J.n_fft = N;
  J.hop = hop;
  J.window = window_.data();
  J.kind = (p.kind == SpecKind::Compressed && p.power != 1.0) ? kKindCompressed : kKindComplex;
  J.power_exp = float((1.0 / p.power - 1.0) / 2.0);
  J.scale = p.normalized ? float(std::sqrt(double(N))) : 1.0f;
  J.edge_mul = 1.0f;
  J.accumulate = true;  // frames add into the accumulator in order: any block split is bitwise equal
  reset();
}

IstftStreamer::~IstftStreamer() = default;

void IstftStreamer::reset() {
  std::memset(impl_->acc.get(), 0, sizeof(float) * size_t(channels_ * impl_->acc_len));
  emitted_ = 0;
}

// Writes the first `count` accumulated samples, normalised by the envelope (zeros in the
// pre-roll), to o, and shifts the first acc_len samples of the accumulator left by count.
void IstftStreamer::emit_and_shift(float* acc, int64_t acc_len, float* o, int64_t count) const {
  const int64_t N = p_.n_fft, hop = p_.hop_length;
  const int64_t preroll = p_.center ? N / 2 : 0;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t a = emitted_ + i;
    const double inv = a < N ? inv_head_[size_t(a)] : inv_steady_[size_t(a % hop)];
    o[i] = a < preroll ? 0.0f : float(double(acc[i]) * inv);
  }
  std::memmove(acc, acc + count, sizeof(float) * size_t(acc_len - count));
  std::memset(acc + (acc_len - count), 0, sizeof(float) * size_t(count));
}

void IstftStreamer::push(const float* spec, int64_t k, int64_t in_stride, float* out,
                         int64_t out_stride, int64_t col0) {
  const int64_t N = p_.n_fft, hop = p_.hop_length, nb = stft_num_bins(p_);
  const int64_t spec_row = nb * in_stride * 2, L = impl_->acc_len;
  SynthesisJob J = impl_->job;
  J.in_frames = in_stride;
  if (J.plan->single) {  // one frame at a time into an n_fft accumulator
    for (int64_t f = 0; f < k; ++f) {
      for (int64_t c = 0; c < channels_; ++c) {
        float* acc = impl_->acc.get() + c * L;
        impl_->kernels->single.synthesis1(J, spec + c * spec_row, col0 + f, acc,
                                          impl_->scratch.get());
        emit_and_shift(acc, N, out + c * out_stride + f * hop, hop);
      }
      emitted_ += hop;
    }
    return;
  }
  for (int64_t f0 = 0; f0 < k; f0 += kChunkFrames) {
    const int64_t kc = std::min(kChunkFrames, k - f0);
    const int64_t span = N + (kc - 1) * hop, emit = kc * hop;
    J.n_frames = kc;
    J.col_offset = col0 + f0;
    for (int64_t c = 0; c < channels_; ++c) {
      float* acc = impl_->acc.get() + c * L;
      impl_->kernels->synthesis(J, spec + c * spec_row, acc, 0, span, impl_->scratch.get());
      emit_and_shift(acc, L, out + c * out_stride + f0 * hop, emit);
    }
    emitted_ += emit;
  }
}

// ---- StftRoundTrip ------------------------------------------------------------------------------
StftRoundTrip::StftRoundTrip(const StftParams& p0, const float* window, int64_t channels)
    : p_([&] {
        StftParams q = p0;
        q.center = true;
        q.pad_mode = PadMode::Constant;
        HB_CHECK(q.kind != SpecKind::Magnitude, "a round trip needs a complex or compressed spectrum");
        return q;
      }()),
      channels_(channels),
      chunk_frames_(kChunkFrames),
      n_bins_(stft_num_bins(p_)),
      preroll_(p_.n_fft - 1 - p_.n_fft / 2),
      ana_(p_, window, channels),
      syn_(p_, window, channels) {
  frames_.assign(size_t(channels * n_bins_ * chunk_frames_ * 2), 0.0f);
  fifo_.assign(size_t(channels * (preroll_ + (chunk_frames_ + 1) * p_.hop_length + 1)), 0.0f);
  reset();
}

StftRoundTrip::~StftRoundTrip() = default;

void StftRoundTrip::reset() {
  ana_.reset();
  syn_.reset();
  std::fill(fifo_.begin(), fifo_.end(), 0.0f);
  fifo_fill_ = preroll_;
}

void StftRoundTrip::process(const float* x, int64_t x_stride, float* y, int64_t y_stride,
                            int64_t n) {
  const int64_t hop = p_.hop_length;
  const int64_t fcap = int64_t(fifo_.size()) / channels_;
  int64_t pos = 0;
  while (pos < n) {
    // the largest slice whose frames fit the frame buffer
    int64_t take = std::min<int64_t>(n - pos, chunk_frames_ * hop);
    while (ana_.frames_for(take) > chunk_frames_) take -= hop;
    const int64_t k = ana_.frames_for(take);
    ana_.push(x + pos, take, x_stride, frames_.data(), chunk_frames_);
    if (k > 0) {
      process_frames(frames_.data(), k, chunk_frames_);
      // synthesise into the fifo tail (per channel rows of length fcap)
      syn_.push(frames_.data(), k, chunk_frames_, fifo_.data() + fifo_fill_, fcap);
      fifo_fill_ += k * hop;
    }
    // emit `take` samples from the fifo head
    for (int64_t c = 0; c < channels_; ++c) {
      float* f = fifo_.data() + c * fcap;
      std::memcpy(y + c * y_stride + pos, f, sizeof(float) * size_t(take));
      std::memmove(f, f + take, sizeof(float) * size_t(fifo_fill_ - take));
    }
    fifo_fill_ -= take;
    pos += take;
  }
}

}  // namespace hb
