// STFT dispatcher: parameter checks, FFT plans, threading, and the choice between the SIMD
// kernels (float32, even n_fft) and the scalar reference (float64, odd n_fft).
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hushboard/stft.h"
#include "parallel.h"
#include "stft_internal.h"
#include "stft_reference.h"

namespace hb {

bool fft_size_supported(int64_t n) {
  if (n < 1) return false;
  for (int64_t f : {2, 3, 5})
    while (n % f == 0) n /= f;
  return n == 1;
}

void stft_check_params(const StftParams& p) {
  HB_CHECK(p.n_fft >= 2, "n_fft must be >= 2 (got " + std::to_string(p.n_fft) + ")");
  HB_CHECK(fft_size_supported(p.n_fft),
           "n_fft must be a product of 2, 3 and 5 (got " + std::to_string(p.n_fft) + ")");
  HB_CHECK(p.n_fft <= (int64_t(1) << 20),
           "n_fft must be <= 1048576 (got " + std::to_string(p.n_fft) + ")");
  HB_CHECK(p.hop_length >= 1 && p.hop_length <= p.n_fft,
           "hop_length must be in [1, n_fft] (got " + std::to_string(p.hop_length) + ")");
  if (p.kind == SpecKind::Compressed)
    HB_CHECK(std::isfinite(p.power) && p.power > 0,
             "power must be a finite number > 0 (got " + std::to_string(p.power) + ")");
}

int64_t stft_num_bins(const StftParams& p) { return p.onesided ? p.n_fft / 2 + 1 : p.n_fft; }

int64_t stft_num_frames(const StftParams& p, int64_t length) {
  HB_CHECK(length >= 1, "x must have at least one sample (got length " + std::to_string(length) + ")");
  const int64_t pad = p.center ? p.n_fft / 2 : 0;
  if (p.center && p.pad_mode == PadMode::Reflect)
    HB_CHECK(length > pad, "x is too short for reflect padding: length " + std::to_string(length) +
                               " must exceed n_fft//2 = " + std::to_string(pad) +
                               " (use pad_mode='constant')");
  const int64_t padded = length + 2 * pad;
  HB_CHECK(padded >= p.n_fft, "x is shorter than one frame: length " + std::to_string(length) +
                                  (p.center ? " (centered)" : "") + " < n_fft " +
                                  std::to_string(p.n_fft));
  return 1 + (padded - p.n_fft) / p.hop_length;
}

int64_t istft_full_length(const StftParams& p, int64_t n_frames) {
  return p.n_fft + p.hop_length * (n_frames - 1);
}

int64_t istft_default_length(const StftParams& p, int64_t n_frames) {
  const int64_t full = istft_full_length(p, n_frames);
  return p.center ? full - 2 * (p.n_fft / 2) : full;
}

template <typename T>
static void check_nola_impl(const StftParams& p, const T* window, int64_t n_frames, int64_t length) {
  HB_CHECK(n_frames >= 1, "spec must have at least one frame");
  const int64_t start = p.center ? p.n_fft / 2 : 0;
  const int64_t full = istft_full_length(p, n_frames);
  const int64_t count = std::max<int64_t>(0, std::min(length, full - start));
  // The envelope is periodic away from the ends; the first and last 2*(n_fft + hop) samples hold
  // every value it takes (the middle repeats a period already seen at the head).
  const int64_t span = std::min<int64_t>(count, 2 * (p.n_fft + p.hop_length));
  for (int64_t first : {int64_t(0), count - span}) {
    const std::vector<double> env = detail::istft_envelope(p, window, n_frames, start + first, span);
    for (int64_t i = 0; i < span; ++i)
      if (!(std::abs(env[size_t(i)]) >= 1e-11))
        throw ValueError("window fails the NOLA condition: its squared overlap-add is " +
                         std::to_string(env[size_t(i)]) + " at output sample " +
                         std::to_string(first + i) + " (n_fft " + std::to_string(p.n_fft) +
                         ", hop_length " + std::to_string(p.hop_length) +
                         "); use a window that overlaps with itself at this hop");
  }
}

void istft_check_nola(const StftParams& p, const float* w, int64_t f, int64_t l) { check_nola_impl(p, w, f, l); }
void istft_check_nola(const StftParams& p, const double* w, int64_t f, int64_t l) { check_nola_impl(p, w, f, l); }

namespace detail {
namespace {

struct PlanStorage {
  RealFftPlan plan;
  std::vector<std::vector<float>> stage_tw;
  std::vector<float> rtw, stw_re, stw_im;
};

// Stockham stages for a lane-parallel complex FFT of size m (radix 4 first, then 2, 3, 5).
void build_fft_plan(int64_t m, FftPlan& plan, std::vector<std::vector<float>>& store) {
  plan.m = m;
  int64_t rest = m, len = m;
  int ns = 0;
  auto add_stage = [&](int r) {
    plan.radix[ns] = r;
    std::vector<float> tw;
    const int64_t mm = len / r;
    for (int64_t p = 0; p < mm; ++p)
      for (int k = 1; k < r; ++k) {
        const double a = 2.0 * M_PI * double(p * k) / double(len);
        tw.push_back(float(std::cos(a)));
        tw.push_back(float(-std::sin(a)));
      }
    store.push_back(std::move(tw));
    plan.twiddle[ns] = store.back().data();
    len /= r;
    ++ns;
  };
  while (rest % 4 == 0) { add_stage(4); rest /= 4; }
  while (rest % 2 == 0) { add_stage(2); rest /= 2; }
  while (rest % 3 == 0) { add_stage(3); rest /= 3; }
  while (rest % 5 == 0) { add_stage(5); rest /= 5; }
  plan.nstages = ns;
}

std::unique_ptr<PlanStorage> make_plan(int64_t n) {
  auto st = std::make_unique<PlanStorage>();
  const int64_t m = n / 2;
  st->plan.n = n;
  st->stage_tw.reserve(2 * kMaxStages);  // pointers into it must stay valid
  build_fft_plan(m, st->plan.half, st->stage_tw);
  for (int64_t k = 0; k <= m / 2 + 8; ++k) {  // a few past n/4 for whole-vector loads
    const double a = 2.0 * M_PI * double(k) / double(n);
    st->rtw.push_back(float(std::cos(a)));
    st->rtw.push_back(float(-std::sin(a)));
  }
  st->plan.rtw = st->rtw.data();
  if (m % 8 == 0 && m / 8 >= 8) {
    const int64_t p = m / 8;
    build_fft_plan(p, st->plan.sub, st->stage_tw);
    st->stw_re.resize(size_t(8 * p));
    st->stw_im.resize(size_t(8 * p));
    for (int64_t k1 = 0; k1 < 8; ++k1)
      for (int64_t j = 0; j < p; ++j) {
        const double a = 2.0 * M_PI * double(j * k1) / double(m);
        st->stw_re[size_t(k1 * p + j)] = float(std::cos(a));
        st->stw_im[size_t(k1 * p + j)] = float(-std::sin(a));
      }
    st->plan.stw_re = st->stw_re.data();
    st->plan.stw_im = st->stw_im.data();
    st->plan.single = true;
  }
  return st;
}

}  // namespace

const RealFftPlan* real_fft_plan(int64_t n) {
  static std::mutex mu;
  static std::map<int64_t, std::unique_ptr<PlanStorage>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[n];
  if (!slot) slot = make_plan(n);
  return &slot->plan;
}

static bool use_simd(const StftParams& p) { return p.n_fft % 2 == 0; }

static void check_spec_kind_for_inverse(const StftParams& p) {
  HB_CHECK(p.kind != SpecKind::Magnitude,
           "istft cannot invert a magnitude spectrum (no phase); pass a complex or compressed spectrum");
}

}  // namespace detail

using namespace detail;

void stft_forward_cpu(const float* x, int64_t batch, int64_t length, const float* window,
                      float* out, const StftParams& p) {
  stft_check_params(p);
  const int64_t T = stft_num_frames(p, length);
  if (!use_simd(p)) return ref_stft_forward(x, batch, length, window, out, p);
  const int64_t N = p.n_fft;
  AnalysisJob J{};
  J.plan = real_fft_plan(N);
  J.n_fft = N;
  J.hop = p.hop_length;
  J.window = window;
  J.length = length;
  J.pad = p.center ? N / 2 : 0;
  J.pad_mode = p.center ? (p.pad_mode == PadMode::Reflect ? kPadReflect : kPadConstant) : kPadNone;
  J.out_frames = T;
  J.col_offset = 0;
  J.onesided = p.onesided;
  J.kind = p.kind == SpecKind::Magnitude ? kKindMagnitude
           : (p.kind == SpecKind::Compressed && p.power != 1.0) ? kKindCompressed
                                                                 : kKindComplex;
  J.power_exp = float((p.power - 1.0) / 2.0);
  J.scale_interior = J.scale_edge = p.normalized ? float(1.0 / std::sqrt(double(N))) : 1.0f;
  const int64_t row = stft_num_bins(p) * T * (J.kind == kKindMagnitude ? 1 : 2);
  const int64_t chunk = 64;
  const int64_t per_row = (T + chunk - 1) / chunk;
  const ArchKernels* K = active_kernels();
  parallel_for(batch * per_row, [&](int64_t lo, int64_t hi) {
    AlignedFloats scratch = aligned_floats(kernel_scratch_floats(N));
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t b = i / per_row, c = i % per_row;
      const int64_t t0 = c * chunk, t1 = std::min(T, t0 + chunk);
      K->analysis(J, x + b * length, out + b * row, t0, t1, scratch.get());
    }
  });
}

void stft_forward_cpu(const double* x, int64_t batch, int64_t length, const double* window,
                      double* out, const StftParams& p) {
  stft_check_params(p);
  ref_stft_forward(x, batch, length, window, out, p);
}

void stft_forward_reference(const float* x, int64_t batch, int64_t length, const float* window,
                            float* out, const StftParams& p) {
  stft_check_params(p);
  ref_stft_forward(x, batch, length, window, out, p);
}

void stft_backward_cpu(const float* grad_spec, int64_t batch, int64_t length, const float* window,
                       float* grad_x, const StftParams& p) {
  stft_check_params(p);
  const int64_t T = stft_num_frames(p, length);
  if (!use_simd(p)) return ref_stft_backward(grad_spec, batch, length, window, grad_x, p);
  const int64_t N = p.n_fft, M = N / 2, nb = stft_num_bins(p), pad = p.center ? N / 2 : 0;
  const int64_t Lp = length + 2 * pad;
  const double norm = p.normalized ? 1.0 / std::sqrt(double(N)) : 1.0;
  // Adjoint of a onesided rfft is (N/2) * irfft with DC and Nyquist doubled. For a full
  // spectrum, bin N-k contributes Re(g_{N-k} e^{-i..}) = Re(conj(g_{N-k}) e^{+i..}): fold it onto
  // bin k first.
  std::vector<float> folded;
  const float* spec = grad_spec;
  if (!p.onesided) {
    folded.assign(size_t(batch * (M + 1) * T * 2), 0.0f);
    parallel_for(batch, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) {
        const float* g = grad_spec + b * nb * T * 2;
        float* f = folded.data() + b * (M + 1) * T * 2;
        for (int64_t k = 0; k <= M; ++k)
          for (int64_t t = 0; t < T; ++t) {
            float re = g[2 * (k * T + t)], im = g[2 * (k * T + t) + 1];
            if (k > 0 && k < M) {
              re += g[2 * ((N - k) * T + t)];
              im -= g[2 * ((N - k) * T + t) + 1];
            }
            f[2 * (k * T + t)] = re;
            f[2 * (k * T + t) + 1] = im;
          }
      }
    });
    spec = folded.data();
  }
  SynthesisJob J{};
  J.plan = real_fft_plan(N);
  J.n_fft = N;
  J.hop = p.hop_length;
  J.window = window;
  J.n_frames = T;
  J.in_frames = T;
  J.col_offset = 0;
  J.kind = kKindComplex;
  J.power_exp = 0;
  J.scale = float(double(N) / 2.0 * norm);
  J.edge_mul = 2.0f;
  const int64_t spec_row = (M + 1) * T * 2;
  AlignedFloats gp = aligned_floats(batch * Lp);
  const int64_t chunk = 16384;
  const int64_t per_row = (Lp + chunk - 1) / chunk;
  const ArchKernels* K = active_kernels();
  parallel_for(batch * per_row, [&](int64_t lo, int64_t hi) {
    AlignedFloats scratch = aligned_floats(kernel_scratch_floats(N));
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t b = i / per_row, c = i % per_row;
      const int64_t o0 = c * chunk, o1 = std::min(Lp, o0 + chunk);
      K->synthesis(J, spec + b * spec_row, gp.get() + b * Lp + o0, o0, o1, scratch.get());
    }
  });
  // adjoint of the padding
  parallel_for(batch, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      const float* g = gp.get() + b * Lp;
      float* gx = grad_x + b * length;
      for (int64_t i = 0; i < length; ++i) gx[i] = g[i + pad];
      if (pad > 0 && p.pad_mode == PadMode::Reflect) {
        for (int64_t j = 1; j <= pad; ++j) gx[j] += g[pad - j];                       // x[-j] = x[j]
        for (int64_t j = length; j < length + pad; ++j) gx[2 * (length - 1) - j] += g[j + pad];
      }
    }
  });
}

void stft_backward_cpu(const double* grad_spec, int64_t batch, int64_t length,
                       const double* window, double* grad_x, const StftParams& p) {
  stft_check_params(p);
  ref_stft_backward(grad_spec, batch, length, window, grad_x, p);
}

void istft_forward_cpu(const float* spec, int64_t batch, int64_t n_frames, const float* window,
                       float* out, int64_t length, const StftParams& p) {
  stft_check_params(p);
  check_spec_kind_for_inverse(p);
  istft_check_nola(p, window, n_frames, length);
  if (!use_simd(p)) return ref_istft_forward(spec, batch, n_frames, window, out, length, p);
  const int64_t N = p.n_fft, T = n_frames, nb = stft_num_bins(p);
  const int64_t start = p.center ? N / 2 : 0, full = istft_full_length(p, T);
  const int64_t avail = std::max<int64_t>(0, std::min(length, full - start));
  const std::vector<double> inv = istft_inverse_envelope(p, window, T, start, avail);
  SynthesisJob J{};
  J.plan = real_fft_plan(N);
  J.n_fft = N;
  J.hop = p.hop_length;
  J.window = window;
  J.n_frames = T;
  J.in_frames = T;
  J.col_offset = 0;
  J.kind = (p.kind == SpecKind::Compressed && p.power != 1.0) ? kKindCompressed : kKindComplex;
  J.power_exp = float((1.0 / p.power - 1.0) / 2.0);
  J.scale = p.normalized ? float(std::sqrt(double(N))) : 1.0f;
  J.edge_mul = 1.0f;
  const int64_t spec_row = nb * T * 2;  // a full spectrum is read only up to bin n_fft/2
  const int64_t chunk = 16384;
  const int64_t per_row = std::max<int64_t>(1, (length + chunk - 1) / chunk);
  const ArchKernels* K = active_kernels();
  parallel_for(batch * per_row, [&](int64_t lo, int64_t hi) {
    AlignedFloats scratch = aligned_floats(kernel_scratch_floats(N));
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t b = i / per_row, c = i % per_row;
      const int64_t i0 = c * chunk, i1 = std::min(length, i0 + chunk);
      float* o = out + b * length;
      const int64_t a1 = std::min(i1, avail);
      if (a1 > i0) {
        K->synthesis(J, spec + b * spec_row, o + i0, start + i0, start + a1, scratch.get());
        for (int64_t j = i0; j < a1; ++j) o[j] = float(double(o[j]) * inv[size_t(j)]);
      }
      for (int64_t j = std::max(i0, a1); j < i1; ++j) o[j] = 0.0f;
    }
  });
}

void istft_forward_cpu(const double* spec, int64_t batch, int64_t n_frames, const double* window,
                       double* out, int64_t length, const StftParams& p) {
  stft_check_params(p);
  check_spec_kind_for_inverse(p);
  istft_check_nola(p, window, n_frames, length);
  ref_istft_forward(spec, batch, n_frames, window, out, length, p);
}

void istft_backward_cpu(const float* grad_out, int64_t batch, int64_t n_frames,
                        const float* window, float* grad_spec, int64_t length,
                        const StftParams& p) {
  stft_check_params(p);
  istft_check_nola(p, window, n_frames, length);
  if (!use_simd(p)) return ref_istft_backward(grad_out, batch, n_frames, window, grad_spec, length, p);
  const int64_t N = p.n_fft, T = n_frames, nb = stft_num_bins(p);
  const int64_t start = p.center ? N / 2 : 0, full = istft_full_length(p, T);
  const int64_t avail = std::max<int64_t>(0, std::min(length, full - start));
  const std::vector<double> inv = istft_inverse_envelope(p, window, T, start, avail);
  // g_full = zero-extended grad / envelope, then (2/N) rfft of windowed frames (1/N at the edges)
  AlignedFloats gfull = aligned_floats(batch * full);
  parallel_for(batch, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b)
      for (int64_t i = 0; i < avail; ++i)
        gfull.get()[b * full + start + i] = float(double(grad_out[b * length + i]) * inv[size_t(i)]);
  });
  const double norm = p.normalized ? std::sqrt(double(N)) : 1.0;
  AnalysisJob J{};
  J.plan = real_fft_plan(N);
  J.n_fft = N;
  J.hop = p.hop_length;
  J.window = window;
  J.length = full;
  J.pad = 0;
  J.pad_mode = kPadNone;
  J.out_frames = T;
  J.col_offset = 0;
  J.onesided = true;
  J.kind = kKindComplex;
  J.power_exp = 0;
  J.scale_interior = float(2.0 / double(N) * norm);
  J.scale_edge = float(1.0 / double(N) * norm);
  const int64_t M = N / 2;
  const int64_t row = nb * T * 2;
  const int64_t chunk = 64;
  const int64_t per_row = (T + chunk - 1) / chunk;
  const ArchKernels* K = active_kernels();
  parallel_for(batch * per_row, [&](int64_t lo, int64_t hi) {
    AlignedFloats scratch = aligned_floats(kernel_scratch_floats(N));
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t b = i / per_row, c = i % per_row;
      const int64_t t0 = c * chunk, t1 = std::min(T, t0 + chunk);
      K->analysis(J, gfull.get() + b * full, grad_spec + b * row, t0, t1, scratch.get());
    }
  });
  if (!p.onesided)  // bins above n_fft/2 are not read by the inverse
    parallel_for(batch, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b)
        std::fill(grad_spec + b * row + (M + 1) * T * 2, grad_spec + (b + 1) * row, 0.0f);
    });
}

void istft_backward_cpu(const double* grad_out, int64_t batch, int64_t n_frames,
                        const double* window, double* grad_spec, int64_t length,
                        const StftParams& p) {
  stft_check_params(p);
  istft_check_nola(p, window, n_frames, length);
  ref_istft_backward(grad_out, batch, n_frames, window, grad_spec, length, p);
}

}  // namespace hb
