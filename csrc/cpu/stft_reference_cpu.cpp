// Scalar reference implementation of the STFT family (see stft_reference.h).
#include "stft_reference.h"

#include <cmath>
#include <complex>
#include <vector>

#include "parallel.h"

namespace hb {
namespace detail {
namespace {

using cd = std::complex<double>;

// Recursive mixed-radix DFT (sign -1) for sizes whose factors are 2, 3 and 5.
class RefFft {
 public:
  explicit RefFft(int64_t n) : n_(n), tw_(size_t(n)) {
    for (int64_t j = 0; j < n; ++j) {
      const double a = -2.0 * M_PI * double(j) / double(n);
      tw_[size_t(j)] = cd(std::cos(a), std::sin(a));
    }
  }
  void forward(const cd* in, cd* out) const { rec(in, out, n_, 1); }

 private:
  void rec(const cd* in, cd* out, int64_t n, int64_t stride) const {
    if (n == 1) {
      out[0] = in[0];
      return;
    }
    const int64_t r = n % 4 == 0 ? 4 : n % 2 == 0 ? 2 : n % 3 == 0 ? 3 : 5;
    const int64_t m = n / r;
    for (int64_t j = 0; j < r; ++j) rec(in + j * stride, out + j * m, m, stride * r);
    const int64_t step = n_ / n;  // w_n^e = tw[e * step]
    cd a[5];
    for (int64_t k = 0; k < m; ++k) {
      for (int64_t j = 0; j < r; ++j) a[j] = out[j * m + k];
      for (int64_t q = 0; q < r; ++q) {
        cd s = 0;
        for (int64_t j = 0; j < r; ++j) s += a[j] * tw_[size_t((j * (k + q * m) % n) * step)];
        out[q * m + k] = s;
      }
    }
  }
  int64_t n_;
  std::vector<cd> tw_;
};

double padded_sample(const double* x, int64_t L, int64_t j, const StftParams& p) {
  if (j >= 0 && j < L) return x[j];
  if (p.pad_mode == PadMode::Reflect) {
    if (j < 0) j = -j;
    if (j >= L) j = 2 * (L - 1) - j;
    return x[j];
  }
  return 0.0;
}

template <typename T>
std::vector<double> to_double(const T* x, int64_t n) {
  return std::vector<double>(x, x + n);
}

}  // namespace

template <typename T>
std::vector<double> istft_envelope(const StftParams& p, const T* window, int64_t n_frames,
                                   int64_t start, int64_t count) {
  const int64_t N = p.n_fft, hop = p.hop_length, full = istft_full_length(p, n_frames);
  // sum_t window[n - t*hop]^2 is periodic in n where every frame covering n exists,
  // n in [N - hop, n_frames * hop): compute one period, and the two ends directly
  std::vector<double> period(size_t(hop), 0.0);
  for (int64_t m = 0; m < N; ++m) period[size_t(m % hop)] += double(window[m]) * double(window[m]);
  std::vector<double> env(size_t(count), 0.0);
  int64_t phase = start % hop;
  for (int64_t i = 0; i < count; ++i, phase = phase + 1 == hop ? 0 : phase + 1) {
    const int64_t n = start + i;
    if (n >= full) break;
    if (n >= N - hop && n < n_frames * hop) {
      env[size_t(i)] = period[size_t(phase)];
      continue;
    }
    const int64_t tlo = n - N < 0 ? 0 : (n - N) / hop + 1;
    const int64_t thi = std::min<int64_t>(n / hop, n_frames - 1);
    double e = 0;
    for (int64_t t = tlo; t <= thi; ++t) {
      const double w = double(window[n - t * hop]);
      e += w * w;
    }
    env[size_t(i)] = e;
  }
  return env;
}

template <typename T>
std::vector<double> istft_inverse_envelope(const StftParams& p, const T* window, int64_t n_frames,
                                           int64_t start, int64_t count) {
  std::vector<double> inv = istft_envelope(p, window, n_frames, start, count);
  for (double& v : inv) v = v > 0 ? 1.0 / v : 0.0;
  return inv;
}

template <typename T>
void ref_stft_forward(const T* x, int64_t batch, int64_t length, const T* window, T* out,
                      const StftParams& p) {
  const int64_t N = p.n_fft, hop = p.hop_length, T_ = stft_num_frames(p, length);
  const int64_t nb = stft_num_bins(p), pad = p.center ? N / 2 : 0;
  const int64_t per_bin = p.kind == SpecKind::Magnitude ? 1 : 2;
  const double scale = p.normalized ? 1.0 / std::sqrt(double(N)) : 1.0;
  const std::vector<double> w = to_double(window, N);
  RefFft fft(N);
  parallel_for(batch * T_, [&](int64_t lo, int64_t hi) {
    std::vector<cd> fr(static_cast<size_t>(N)), X(static_cast<size_t>(N));
    std::vector<double> xb;
    int64_t cur_b = -1;
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t b = i / T_, t = i % T_;
      if (b != cur_b) {
        xb = to_double(x + b * length, length);
        cur_b = b;
      }
      for (int64_t n = 0; n < N; ++n)
        fr[size_t(n)] = padded_sample(xb.data(), length, t * hop + n - pad, p) * w[size_t(n)];
      fft.forward(fr.data(), X.data());
      T* o = out + b * nb * T_ * per_bin;
      for (int64_t k = 0; k < nb; ++k) {
        cd v = X[size_t(k)] * scale;
        if (p.kind == SpecKind::Magnitude) {
          o[k * T_ + t] = T(std::abs(v));
          continue;
        }
        if (p.kind == SpecKind::Compressed && p.power != 1.0) {
          const double m = std::abs(v);
          v = m > 0 ? v * std::pow(m, p.power - 1.0) : cd(0);
        }
        o[2 * (k * T_ + t)] = T(v.real());
        o[2 * (k * T_ + t) + 1] = T(v.imag());
      }
    }
  });
}

template <typename T>
void ref_stft_backward(const T* grad_spec, int64_t batch, int64_t length, const T* window,
                       T* grad_x, const StftParams& p) {
  const int64_t N = p.n_fft, hop = p.hop_length, T_ = stft_num_frames(p, length);
  const int64_t nb = stft_num_bins(p), pad = p.center ? N / 2 : 0, Lp = length + 2 * pad;
  const double scale = p.normalized ? 1.0 / std::sqrt(double(N)) : 1.0;
  const std::vector<double> w = to_double(window, N);
  RefFft fft(N);
  parallel_for(batch, [&](int64_t lo, int64_t hi) {
    std::vector<cd> Y(static_cast<size_t>(N)), y(static_cast<size_t>(N));
    std::vector<double> gp(static_cast<size_t>(Lp));
    for (int64_t b = lo; b < hi; ++b) {
      std::fill(gp.begin(), gp.end(), 0.0);
      const T* g = grad_spec + b * nb * T_ * 2;
      for (int64_t t = 0; t < T_; ++t) {
        // grad frame[n] = Re sum_k g_k e^{+i 2 pi k n / N} = Re fft(conj(g))[n]
        for (int64_t k = 0; k < N; ++k)
          Y[size_t(k)] = k < nb ? cd(double(g[2 * (k * T_ + t)]), -double(g[2 * (k * T_ + t) + 1]))
                                : cd(0);
        fft.forward(Y.data(), y.data());
        for (int64_t n = 0; n < N; ++n) gp[size_t(t * hop + n)] += y[size_t(n)].real() * w[size_t(n)] * scale;
      }
      T* gx = grad_x + b * length;
      for (int64_t i = 0; i < length; ++i) gx[i] = T(gp[size_t(i + pad)]);
      if (p.center && p.pad_mode == PadMode::Reflect) {
        for (int64_t jp = 0; jp < Lp; ++jp) {
          const int64_t j = jp - pad;
          if (j >= 0 && j < length) continue;
          const int64_t src = j < 0 ? -j : 2 * (length - 1) - j;
          gx[src] = T(double(gx[src]) + gp[size_t(jp)]);
        }
      }
    }
  });
}

template <typename T>
void ref_istft_forward(const T* spec, int64_t batch, int64_t n_frames, const T* window, T* out,
                       int64_t length, const StftParams& p) {
  const int64_t N = p.n_fft, hop = p.hop_length, T_ = n_frames, nb = stft_num_bins(p);
  const int64_t full = istft_full_length(p, T_), start = p.center ? N / 2 : 0;
  const double scale = p.normalized ? std::sqrt(double(N)) : 1.0;
  const std::vector<double> w = to_double(window, N);
  const std::vector<double> inv = istft_inverse_envelope(p, window, T_, start, length);
  RefFft fft(N);
  parallel_for(batch, [&](int64_t lo, int64_t hi) {
    std::vector<cd> Y(static_cast<size_t>(N)), y(static_cast<size_t>(N));
    std::vector<double> ola(static_cast<size_t>(full));
    for (int64_t b = lo; b < hi; ++b) {
      std::fill(ola.begin(), ola.end(), 0.0);
      const T* s = spec + b * nb * T_ * 2;
      for (int64_t t = 0; t < T_; ++t) {
        // irfft of bins 0..N/2: Hermitian completion, imaginary parts of DC/Nyquist dropped
        for (int64_t k = 0; k <= N / 2; ++k) {
          cd v(double(s[2 * (k * T_ + t)]), double(s[2 * (k * T_ + t) + 1]));
          if (p.kind == SpecKind::Compressed && p.power != 1.0) {
            const double m = std::abs(v);
            v = m > 0 ? v * std::pow(m, 1.0 / p.power - 1.0) : cd(0);
          }
          if (k == 0 || 2 * k == N) v = cd(v.real(), 0);
          Y[size_t(k)] = v;
          if (k > 0 && 2 * k != N) Y[size_t(N - k)] = std::conj(v);
        }
        // ifft(Y) = conj(fft(conj(Y))) / N
        for (auto& v : Y) v = std::conj(v);
        fft.forward(Y.data(), y.data());
        for (int64_t n = 0; n < N; ++n)
          ola[size_t(t * hop + n)] += y[size_t(n)].real() / double(N) * scale * w[size_t(n)];
      }
      T* o = out + b * length;
      for (int64_t i = 0; i < length; ++i)
        o[i] = start + i < full ? T(ola[size_t(start + i)] * inv[size_t(i)]) : T(0);
    }
  });
}

template <typename T>
void ref_istft_backward(const T* grad_out, int64_t batch, int64_t n_frames, const T* window,
                        T* grad_spec, int64_t length, const StftParams& p) {
  const int64_t N = p.n_fft, hop = p.hop_length, T_ = n_frames, nb = stft_num_bins(p);
  const int64_t full = istft_full_length(p, T_), start = p.center ? N / 2 : 0;
  const double scale = p.normalized ? std::sqrt(double(N)) : 1.0;
  const std::vector<double> w = to_double(window, N);
  const std::vector<double> inv = istft_inverse_envelope(p, window, T_, start, length);
  RefFft fft(N);
  parallel_for(batch, [&](int64_t lo, int64_t hi) {
    std::vector<cd> h(static_cast<size_t>(N)), H(static_cast<size_t>(N));
    std::vector<double> gfull(static_cast<size_t>(full));
    for (int64_t b = lo; b < hi; ++b) {
      std::fill(gfull.begin(), gfull.end(), 0.0);
      const T* g = grad_out + b * length;
      for (int64_t i = 0; i < length && start + i < full; ++i)
        gfull[size_t(start + i)] = double(g[i]) * inv[size_t(i)];
      T* gs = grad_spec + b * nb * T_ * 2;
      for (int64_t t = 0; t < T_; ++t) {
        for (int64_t n = 0; n < N; ++n) h[size_t(n)] = gfull[size_t(t * hop + n)] * w[size_t(n)];
        fft.forward(h.data(), H.data());
        for (int64_t k = 0; k < nb; ++k) {
          cd v(0);
          if (k <= N / 2) {
            const bool edge = k == 0 || 2 * k == N;
            v = H[size_t(k)] * ((edge ? 1.0 : 2.0) / double(N) * scale);
            if (edge) v = cd(v.real(), 0);
          }
          gs[2 * (k * T_ + t)] = T(v.real());
          gs[2 * (k * T_ + t) + 1] = T(v.imag());
        }
      }
    }
  });
}

#define HB_INSTANTIATE(T)                                                                        \
  template void ref_stft_forward<T>(const T*, int64_t, int64_t, const T*, T*, const StftParams&); \
  template void ref_stft_backward<T>(const T*, int64_t, int64_t, const T*, T*,                  \
                                     const StftParams&);                                         \
  template void ref_istft_forward<T>(const T*, int64_t, int64_t, const T*, T*, int64_t,         \
                                     const StftParams&);                                         \
  template void ref_istft_backward<T>(const T*, int64_t, int64_t, const T*, T*, int64_t,        \
                                      const StftParams&);                                        \
  template std::vector<double> istft_inverse_envelope<T>(const StftParams&, const T*, int64_t,  \
                                                         int64_t, int64_t);                      \
  template std::vector<double> istft_envelope<T>(const StftParams&, const T*, int64_t, int64_t,  \
                                                 int64_t);
HB_INSTANTIATE(float)
HB_INSTANTIATE(double)
#undef HB_INSTANTIATE

}  // namespace detail
}  // namespace hb
