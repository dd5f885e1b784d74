// Band split / band mask: plans (weight packing, argument checks, threading) and the scalar
// double references. The portable kernels are compiled here (band_simd_impl.h with
// HB_ARCH=generic); the AVX2/FMA copy lives in band_simd_avx2.cpp.
#define HB_ARCH generic
#define HB_ARCH_NAME "generic"
#include "band_simd_impl.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "band_internal.h"
#include "gemm_internal.h"
#include "hushboard/band.h"
#include "hushboard/common.h"
#include "parallel.h"

namespace hb {
namespace detail {

const BandKernels* band_kernels_generic() { return &generic::kBandKernels; }

const BandKernels* active_band_kernels() {
#if defined(HB_HAVE_AVX2_TU)
  if (active_gemm_kernels() == gemm_kernels_avx2()) return band_kernels_avx2();
#endif
  return band_kernels_generic();
}

struct BandSplitData {
  std::vector<int64_t> dims, offs;
  AlignedFloats gamma, beta, wt, bias;
  BandSplitView view;
};

struct BandMaskData {
  std::vector<int64_t> dims, offs;
  int64_t dout = 0;
  AlignedFloats gamma, beta, w1t, b1, w2, b2;
  BandMaskView view;
};

}  // namespace detail

namespace {

using detail::AlignedFloats;
using detail::aligned_floats;
using detail::band_round8;

// Checks the widths; returns their offsets (prefix sums) and fills *total.
std::vector<int64_t> band_offsets(const std::vector<int64_t>& dims, const char* name,
                                  int64_t* total) {
  HB_CHECK(!dims.empty(), std::string(name) + " must hold at least one band (got none)");
  std::vector<int64_t> offs(dims.size());
  int64_t o = 0;
  for (size_t k = 0; k < dims.size(); ++k) {
    HB_CHECK(dims[k] > 0, std::string(name) + " must hold positive widths (got " +
                              std::to_string(dims[k]) + " for band " + std::to_string(k) + ")");
    offs[k] = o;
    o += dims[k];
  }
  *total = o;
  return offs;
}

void check_eps(float eps) {
  HB_CHECK(std::isfinite(eps) && eps >= 0.f,
           "eps must be finite and >= 0 (got " + std::to_string(eps) + ")");
}

const float* checked(const float* p, int64_t n, const char* name) {
  HB_CHECK(p != nullptr, std::string(name) + " must not be null");
  HB_CHECK(all_finite(p, n), std::string(name) + " must be finite (it holds NaN or Inf)");
  return p;
}

AlignedFloats copy_floats(const float* p, int64_t n) {
  AlignedFloats a = aligned_floats(n);
  std::copy(p, p + n, a.get());
  return a;
}

// Rows [0, S) in n_threads contiguous parts (whole chunks), each run by fn(r0, r1, scratch).
template <typename Fn>
void run_threaded(int64_t S, int n_threads, int64_t scratch_floats, Fn fn) {
  const int64_t chunks = (S + detail::kBandChunk - 1) / detail::kBandChunk;
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(n_threads, chunks));
  if (parts <= 1) {
    AlignedFloats ws = aligned_floats(scratch_floats);
    fn(0, S, ws.get());
    return;
  }
  detail::parallel_for(parts, [&](int64_t p0, int64_t p1) {
    AlignedFloats ws = aligned_floats(scratch_floats);
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t r0 = std::min(S, chunks * p / parts * detail::kBandChunk);
      const int64_t r1 = std::min(S, chunks * (p + 1) / parts * detail::kBandChunk);
      if (r1 > r0) fn(r0, r1, ws.get());
    }
  });
}

}  // namespace

// ---- BandSplitPlan ------------------------------------------------------------------------------
BandSplitPlan::BandSplitPlan(const std::vector<int64_t>& band_dims, int64_t n_out,
                             const float* gamma, const float* beta, const float* weight,
                             const float* bias, float eps)
    : d_(new detail::BandSplitData) {
  int64_t D = 0;
  d_->offs = band_offsets(band_dims, "band_dims", &D);
  d_->dims = band_dims;
  HB_CHECK(n_out > 0, "n_out must be positive (got " + std::to_string(n_out) + ")");
  check_eps(eps);
  const int64_t K = int64_t(band_dims.size()), N = n_out, Np = band_round8(N);
  checked(gamma, D, "gamma");
  checked(beta, D, "beta");
  checked(weight, N * D, "weight");
  checked(bias, K * N, "bias");
  d_->gamma = copy_floats(gamma, D);
  d_->beta = copy_floats(beta, D);
  d_->wt = aligned_floats(D * Np);
  for (int64_t k = 0; k < K; ++k) {
    const int64_t o = d_->offs[k];
    detail::band_pack_strips(band_dims[k], Np, d_->wt.get() + o * Np, [&](int64_t j, int64_t n) {
      return n < N ? weight[n * D + o + j] : 0.f;
    });
  }
  d_->bias = aligned_floats(K * Np);
  for (int64_t k = 0; k < K; ++k)
    std::copy(bias + k * N, bias + (k + 1) * N, d_->bias.get() + k * Np);
  detail::BandSplitView& v = d_->view;
  v.K = K;
  v.D = D;
  v.N = N;
  v.Np = Np;
  v.zld = band_round8(D);
  v.dims = d_->dims.data();
  v.offs = d_->offs.data();
  v.gamma = d_->gamma.get();
  v.beta = d_->beta.get();
  v.wt = d_->wt.get();
  v.bias = d_->bias.get();
  v.eps = eps;
}

BandSplitPlan::~BandSplitPlan() = default;
BandSplitPlan::BandSplitPlan(BandSplitPlan&&) noexcept = default;
BandSplitPlan& BandSplitPlan::operator=(BandSplitPlan&&) noexcept = default;

int64_t BandSplitPlan::num_bands() const { return d_->view.K; }
int64_t BandSplitPlan::in_features() const { return d_->view.D; }
int64_t BandSplitPlan::out_features() const { return d_->view.N; }
int64_t BandSplitPlan::workspace_floats(int64_t) const {
  return detail::band_split_scratch(d_->view);
}

void BandSplitPlan::forward(const float* x, int64_t S, int64_t ldx, float* y,
                            float* workspace) const {
  HB_CHECK(S >= 0, "S must be >= 0 (got " + std::to_string(S) + ")");
  HB_CHECK(ldx >= d_->view.D, "ldx must be >= D = " + std::to_string(d_->view.D) + " (got " +
                                  std::to_string(ldx) + ")");
  if (S == 0) return;
  HB_CHECK(x && y && workspace, "x, y and workspace must not be null");
  detail::active_band_kernels()->split_rows(d_->view, x, S, ldx, y, workspace);
}

void BandSplitPlan::forward_threaded(const float* x, int64_t S, int64_t ldx, float* y,
                                     int n_threads) const {
  HB_CHECK(S >= 0, "S must be >= 0 (got " + std::to_string(S) + ")");
  HB_CHECK(ldx >= d_->view.D, "ldx must be >= D = " + std::to_string(d_->view.D) + " (got " +
                                  std::to_string(ldx) + ")");
  if (S == 0) return;
  HB_CHECK(x && y, "x and y must not be null");
  const detail::BandKernels* kern = detail::active_band_kernels();
  const int64_t KN = d_->view.K * d_->view.N;
  run_threaded(S, n_threads, detail::band_split_scratch(d_->view),
               [&](int64_t r0, int64_t r1, float* ws) {
                 kern->split_rows(d_->view, x + r0 * ldx, r1 - r0, ldx, y + r0 * KN, ws);
               });
}

// ---- BandMaskPlan -------------------------------------------------------------------------------
BandMaskPlan::BandMaskPlan(const std::vector<int64_t>& out_dims, int64_t n_in, int64_t hidden,
                           bool glu, const float* gamma, const float* beta, const float* w1,
                           const float* b1, const float* w2, const float* b2, float eps)
    : d_(new detail::BandMaskData) {
  int64_t Dout = 0;
  d_->offs = band_offsets(out_dims, "out_dims", &Dout);
  d_->dims = out_dims;
  d_->dout = Dout;
  HB_CHECK(n_in > 0, "n_in must be positive (got " + std::to_string(n_in) + ")");
  HB_CHECK(hidden > 0, "hidden must be positive (got " + std::to_string(hidden) + ")");
  check_eps(eps);
  const int64_t K = int64_t(out_dims.size()), N = n_in, H = hidden, m = glu ? 2 : 1;
  const int64_t Np = band_round8(N), Hp = band_round8(H);
  checked(gamma, K * N, "gamma");
  checked(beta, K * N, "beta");
  checked(w1, K * H * N, "w1");
  checked(b1, K * H, "b1");
  checked(w2, m * Dout * H, "w2");
  checked(b2, m * Dout, "b2");
  d_->gamma = copy_floats(gamma, K * N);
  d_->beta = copy_floats(beta, K * N);
  d_->w1t = aligned_floats(K * N * Hp);
  d_->b1 = aligned_floats(K * Hp);
  for (int64_t k = 0; k < K; ++k) {
    detail::band_pack_strips(N, Hp, d_->w1t.get() + k * N * Hp, [&](int64_t j, int64_t h) {
      return h < H ? w1[(k * H + h) * N + j] : 0.f;
    });
    std::copy(b1 + k * H, b1 + (k + 1) * H, d_->b1.get() + k * Hp);
  }
  d_->w2 = aligned_floats(m * Dout * Hp);
  for (int64_t o = 0; o < m * Dout; ++o) std::copy(w2 + o * H, w2 + (o + 1) * H, &d_->w2[o * Hp]);
  d_->b2 = copy_floats(b2, m * Dout);
  const int64_t dmax = *std::max_element(out_dims.begin(), out_dims.end());
  detail::BandMaskView& v = d_->view;
  v.K = K;
  v.N = N;
  v.Np = Np;
  v.H = H;
  v.Hp = Hp;
  v.m = m;
  v.vld = band_round8(m * dmax) + 8;
  v.glu = glu;
  v.dims = d_->dims.data();
  v.offs = d_->offs.data();
  v.gamma = d_->gamma.get();
  v.beta = d_->beta.get();
  v.w1t = d_->w1t.get();
  v.b1 = d_->b1.get();
  v.w2 = d_->w2.get();
  v.b2 = d_->b2.get();
  v.eps = eps;
}

BandMaskPlan::~BandMaskPlan() = default;
BandMaskPlan::BandMaskPlan(BandMaskPlan&&) noexcept = default;
BandMaskPlan& BandMaskPlan::operator=(BandMaskPlan&&) noexcept = default;

int64_t BandMaskPlan::num_bands() const { return d_->view.K; }
int64_t BandMaskPlan::in_features() const { return d_->view.N; }
int64_t BandMaskPlan::hidden() const { return d_->view.H; }
bool BandMaskPlan::glu() const { return d_->view.glu; }
int64_t BandMaskPlan::out_features() const { return d_->dout; }
int64_t BandMaskPlan::workspace_floats(int64_t) const {
  return detail::band_mask_scratch(d_->view);
}

void BandMaskPlan::forward(const float* x, int64_t S, float* y, int64_t ldy,
                           float* workspace) const {
  HB_CHECK(S >= 0, "S must be >= 0 (got " + std::to_string(S) + ")");
  HB_CHECK(ldy >= d_->dout, "ldy must be >= Dout = " + std::to_string(d_->dout) + " (got " +
                                std::to_string(ldy) + ")");
  if (S == 0) return;
  HB_CHECK(x && y && workspace, "x, y and workspace must not be null");
  detail::active_band_kernels()->mask_rows(d_->view, x, S, y, ldy, workspace);
}

void BandMaskPlan::forward_threaded(const float* x, int64_t S, float* y, int64_t ldy,
                                    int n_threads) const {
  HB_CHECK(S >= 0, "S must be >= 0 (got " + std::to_string(S) + ")");
  HB_CHECK(ldy >= d_->dout, "ldy must be >= Dout = " + std::to_string(d_->dout) + " (got " +
                                std::to_string(ldy) + ")");
  if (S == 0) return;
  HB_CHECK(x && y, "x and y must not be null");
  const detail::BandKernels* kern = detail::active_band_kernels();
  const int64_t KN = d_->view.K * d_->view.N;
  run_threaded(S, n_threads, detail::band_mask_scratch(d_->view),
               [&](int64_t r0, int64_t r1, float* ws) {
                 kern->mask_rows(d_->view, x + r0 * KN, r1 - r0, y + r0 * ldy, ldy, ws);
               });
}

void band_tanh(const float* x, int64_t n, float* y) {
  detail::active_band_kernels()->tanh(x, n, y);
}
void band_sigmoid(const float* x, int64_t n, float* y) {
  detail::active_band_kernels()->sigmoid(x, n, y);
}

// ---- scalar double references ---------------------------------------------------------------
namespace {

void layer_norm_ref(const double* x, int64_t n, const double* g, const double* b, double eps,
                    double* z) {
  double mean = 0.0, var = 0.0;
  for (int64_t j = 0; j < n; ++j) mean += x[j];
  mean /= double(n);
  for (int64_t j = 0; j < n; ++j) var += (x[j] - mean) * (x[j] - mean);
  var /= double(n);
  const double rstd = 1.0 / std::sqrt(var + eps);
  for (int64_t j = 0; j < n; ++j) z[j] = (x[j] - mean) * rstd * g[j] + b[j];
}

}  // namespace

void band_split_reference(const std::vector<int64_t>& band_dims, int64_t n_out,
                          const double* gamma, const double* beta, const double* weight,
                          const double* bias, double eps, const double* x, int64_t S,
                          int64_t ldx, double* y) {
  int64_t D = 0;
  const std::vector<int64_t> offs = band_offsets(band_dims, "band_dims", &D);
  HB_CHECK(n_out > 0, "n_out must be positive (got " + std::to_string(n_out) + ")");
  HB_CHECK(ldx >= D, "ldx must be >= D = " + std::to_string(D));
  const int64_t K = int64_t(band_dims.size()), N = n_out;
  std::vector<double> z(size_t(*std::max_element(band_dims.begin(), band_dims.end())));
  for (int64_t s = 0; s < S; ++s) {
    for (int64_t k = 0; k < K; ++k) {
      const int64_t d = band_dims[k], o = offs[k];
      layer_norm_ref(x + s * ldx + o, d, gamma + o, beta + o, eps, z.data());
      for (int64_t n = 0; n < N; ++n) {
        double acc = bias[k * N + n];
        for (int64_t j = 0; j < d; ++j) acc += weight[n * D + o + j] * z[j];
        y[(s * K + k) * N + n] = acc;
      }
    }
  }
}

void band_mask_reference(const std::vector<int64_t>& out_dims, int64_t n_in, int64_t hidden,
                         bool glu, const double* gamma, const double* beta, const double* w1,
                         const double* b1, const double* w2, const double* b2, double eps,
                         const double* x, int64_t S, double* y, int64_t ldy) {
  int64_t Dout = 0;
  const std::vector<int64_t> offs = band_offsets(out_dims, "out_dims", &Dout);
  HB_CHECK(n_in > 0 && hidden > 0, "n_in and hidden must be positive");
  HB_CHECK(ldy >= Dout, "ldy must be >= Dout = " + std::to_string(Dout));
  const int64_t K = int64_t(out_dims.size()), N = n_in, H = hidden, m = glu ? 2 : 1;
  std::vector<double> z(static_cast<size_t>(N)), u(static_cast<size_t>(H)), v;
  for (int64_t s = 0; s < S; ++s) {
    for (int64_t k = 0; k < K; ++k) {
      layer_norm_ref(x + (s * K + k) * N, N, gamma + k * N, beta + k * N, eps, z.data());
      for (int64_t h = 0; h < H; ++h) {
        double acc = b1[k * H + h];
        for (int64_t j = 0; j < N; ++j) acc += w1[(k * H + h) * N + j] * z[j];
        u[h] = std::tanh(acc);
      }
      const int64_t d = out_dims[k], r0 = m * offs[k];
      v.assign(size_t(m * d), 0.0);
      for (int64_t o = 0; o < m * d; ++o) {
        double acc = b2[r0 + o];
        for (int64_t h = 0; h < H; ++h) acc += w2[(r0 + o) * H + h] * u[h];
        v[o] = acc;
      }
      double* out = y + s * ldy + offs[k];
      for (int64_t j = 0; j < d; ++j)
        out[j] = glu ? v[j] / (1.0 + std::exp(-v[d + j])) : std::tanh(v[j]);
    }
  }
}

}  // namespace hb
