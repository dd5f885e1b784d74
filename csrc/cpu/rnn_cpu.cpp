// LSTM / GRU layer plans: weight packing, the chunked projection + step driver, threads over
// sequences. The arithmetic lives in the per-ISA kernels (rnn_simd_impl.h).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "hushboard/common.h"
#include "hushboard/rnn.h"
#include "parallel.h"
#include "rnn_internal.h"
#include "stft_internal.h"

namespace hb {
namespace detail {

const RnnKernels* active_rnn_kernels() {
#if defined(HB_HAVE_AVX2_TU)
  // follow the STFT dispatch: AVX2 when the CPU has it and SIMD is enabled
  if (active_kernels() == kernels_avx2()) return rnn_kernels_avx2();
#endif
  return rnn_kernels_generic();
}

struct RnnWeights {
  int G = 0;
  int64_t I = 0, H = 0, Hp = 0, NP = 0;
  AlignedFloats wih, whh, bx, bhn;

  RnnPacked view() const {
    return RnnPacked{G, I, H, Hp, NP, wih.get(), whh.get(), bx.get(), bhn.get()};
  }
};

}  // namespace detail

namespace {

using detail::kRnnUnits;
using detail::RnnPacked;
using detail::RnnWeights;

// Projected rows kept per chunk (the chunk's gate vectors stay in L2).
constexpr int64_t kRowTarget = 256;

void check_sizes(int64_t input_size, int64_t hidden) {
  HB_CHECK(input_size >= 1, "input_size must be >= 1 (got " + std::to_string(input_size) + ")");
  HB_CHECK(hidden >= 1, "hidden must be >= 1 (got " + std::to_string(hidden) + ")");
}

void check_finite(const float* p, int64_t n, const char* name) {
  HB_CHECK(p != nullptr, std::string(name) + " must not be null");
  HB_CHECK(all_finite(p, n), std::string(name) + " must be finite (it holds NaN or Inf)");
}

std::unique_ptr<RnnWeights> alloc_weights(int G, int64_t I, int64_t H) {
  auto w = std::make_unique<RnnWeights>();
  w->G = G;
  w->I = I;
  w->H = H;
  w->Hp = (H + kRnnUnits - 1) / kRnnUnits * kRnnUnits;
  w->NP = w->Hp / kRnnUnits;
  const int64_t gv = G * kRnnUnits;
  w->wih = detail::aligned_floats(w->NP * I * gv);  // zero-initialised: padding units are 0
  w->whh = detail::aligned_floats(w->NP * H * gv);
  w->bx = detail::aligned_floats(w->NP * gv);
  w->bhn = detail::aligned_floats(w->NP * kRnnUnits);
  return w;
}

// W (G*H, K) row-major -> panels of K x G*8 (rnn_internal.h).
void pack_matrix(const float* W, int G, int64_t H, int64_t K, int64_t NP, float* dst) {
  for (int64_t p = 0; p < NP; ++p)
    for (int64_t k = 0; k < K; ++k)
      for (int g = 0; g < G; ++g)
        for (int j = 0; j < kRnnUnits; ++j) {
          const int64_t u = p * kRnnUnits + j;
          if (u < H)
            dst[((p * K + k) * G + g) * kRnnUnits + j] = W[(g * H + u) * K + k];
        }
}

// b (G*H) -> NP x G*8 (added to whatever is already there)
void pack_bias(const float* b, int G, int64_t H, int64_t NP, float* dst) {
  for (int64_t p = 0; p < NP; ++p)
    for (int g = 0; g < G; ++g)
      for (int j = 0; j < kRnnUnits; ++j) {
        const int64_t u = p * kRnnUnits + j;
        if (u < H) dst[(p * G + g) * kRnnUnits + j] += b[g * H + u];
      }
}

int64_t rows_cap(int64_t S, int64_t L) {
  if (S <= 0 || L <= 0) return 0;
  return std::min(S * L, std::max(kRowTarget, S));
}

int64_t workspace_of(const RnnWeights& w, int64_t S, int64_t L) {
  return rows_cap(S, L) * w.NP * w.G * kRnnUnits;
}

// The whole layer (c null for GRU); see rnn.h.
void run_layer(const RnnWeights& weights, const float* x, int64_t S, int64_t L, int64_t x_seq,
               int64_t x_pos, bool reverse, float* h, float* c, float* y, int64_t y_seq,
               int64_t y_pos, float* ws) {
  if (S <= 0 || L <= 0) return;
  HB_CHECK(x && h && y && ws && (c || weights.G == 3),
           "rnn forward: x, h, c, y and workspace must not be null");
  const RnnPacked w = weights.view();
  const detail::RnnKernels* k = detail::active_rnn_kernels();
  const int64_t ld = w.ld(), H = w.H;
  const int64_t Lc = std::max<int64_t>(1, std::min(L, rows_cap(S, L) / S));
  const int64_t dl = reverse ? -1 : 1;
  auto pos = [&](int64_t t) { return reverse ? L - 1 - t : t; };
  for (int64_t t0 = 0; t0 < L; t0 += Lc) {
    const int64_t n = std::min(Lc, L - t0);
    const detail::RnnRows rows{x + pos(t0) * x_pos, S, x_seq, dl * x_pos};
    k->project(w, n * S, rows, ws);
    for (int64_t tt = 0; tt < n; ++tt) {
      const int64_t t = t0 + tt;
      const float* hp = t == 0 ? h : y + pos(t - 1) * y_pos;
      const int64_t hp_ld = t == 0 ? H : y_seq;
      k->step(w, S, ws + tt * S * ld, hp, hp_ld, y + pos(t) * y_pos, y_seq, c, (t & 1) != 0);
    }
  }
  const float* last = y + pos(L - 1) * y_pos;
  for (int64_t s = 0; s < S; ++s)
    std::memcpy(h + s * H, last + s * y_seq, size_t(H) * sizeof(float));
}

void run_threaded(const RnnWeights& w, const float* x, int64_t S, int64_t L, int64_t x_seq,
                  int64_t x_pos, bool reverse, float* h, float* c, float* y, int64_t y_seq,
                  int64_t y_pos, int n_threads) {
  if (S <= 0 || L <= 0) return;
  HB_CHECK(n_threads >= 1, "n_threads must be >= 1 (got " + std::to_string(n_threads) + ")");
  const int64_t chunks = std::min<int64_t>(n_threads, S);
  const int64_t H = w.H;
  auto run_chunk = [&](int64_t i) {
    const int64_t s0 = S * i / chunks, s1 = S * (i + 1) / chunks;
    std::vector<float> ws(size_t(std::max<int64_t>(1, workspace_of(w, s1 - s0, L))));
    run_layer(w, x + s0 * x_seq, s1 - s0, L, x_seq, x_pos, reverse, h + s0 * H,
              c ? c + s0 * H : nullptr, y + s0 * y_seq, y_seq, y_pos, ws.data());
  };
  if (chunks == 1) {
    run_chunk(0);
    return;
  }
  detail::parallel_for(chunks, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) run_chunk(i);
  });
}

}  // namespace

// ---- LstmPlan ---------------------------------------------------------------------------------
LstmPlan::LstmPlan(int64_t input_size, int64_t hidden, const float* w_ih, const float* w_hh,
                   const float* bias) {
  check_sizes(input_size, hidden);
  check_finite(w_ih, 4 * hidden * input_size, "w_ih");
  check_finite(w_hh, 4 * hidden * hidden, "w_hh");
  check_finite(bias, 4 * hidden, "bias");
  w_ = alloc_weights(4, input_size, hidden);
  pack_matrix(w_ih, 4, hidden, input_size, w_->NP, w_->wih.get());
  pack_matrix(w_hh, 4, hidden, hidden, w_->NP, w_->whh.get());
  pack_bias(bias, 4, hidden, w_->NP, w_->bx.get());
}

LstmPlan::~LstmPlan() = default;
LstmPlan::LstmPlan(LstmPlan&&) noexcept = default;
LstmPlan& LstmPlan::operator=(LstmPlan&&) noexcept = default;

int64_t LstmPlan::input_size() const { return w_->I; }
int64_t LstmPlan::hidden_size() const { return w_->H; }
int64_t LstmPlan::workspace_floats(int64_t S, int64_t L) const { return workspace_of(*w_, S, L); }

void LstmPlan::forward(const float* x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos,
                       bool reverse, float* h, float* c, float* y, int64_t y_seq, int64_t y_pos,
                       float* workspace) const {
  run_layer(*w_, x, S, L, x_seq, x_pos, reverse, h, c, y, y_seq, y_pos, workspace);
}

void LstmPlan::forward_threaded(const float* x, int64_t S, int64_t L, int64_t x_seq,
                                int64_t x_pos, bool reverse, float* h, float* c, float* y,
                                int64_t y_seq, int64_t y_pos, int n_threads) const {
  HB_CHECK(c != nullptr, "rnn forward: c must not be null");
  run_threaded(*w_, x, S, L, x_seq, x_pos, reverse, h, c, y, y_seq, y_pos, n_threads);
}

// ---- GruPlan ----------------------------------------------------------------------------------
GruPlan::GruPlan(int64_t input_size, int64_t hidden, const float* w_ih, const float* w_hh,
                 const float* b_ih, const float* b_hh) {
  check_sizes(input_size, hidden);
  check_finite(w_ih, 3 * hidden * input_size, "w_ih");
  check_finite(w_hh, 3 * hidden * hidden, "w_hh");
  check_finite(b_ih, 3 * hidden, "b_ih");
  check_finite(b_hh, 3 * hidden, "b_hh");
  w_ = alloc_weights(3, input_size, hidden);
  pack_matrix(w_ih, 3, hidden, input_size, w_->NP, w_->wih.get());
  pack_matrix(w_hh, 3, hidden, hidden, w_->NP, w_->whh.get());
  // projection bias: b_ih for all gates plus b_hh for r and z; b_hn stays apart (scaled by r)
  pack_bias(b_ih, 3, hidden, w_->NP, w_->bx.get());
  std::vector<float> bhh_rz(b_hh, b_hh + 3 * hidden);
  std::fill(bhh_rz.begin() + 2 * hidden, bhh_rz.end(), 0.f);
  pack_bias(bhh_rz.data(), 3, hidden, w_->NP, w_->bx.get());
  for (int64_t u = 0; u < hidden; ++u) w_->bhn[u] = b_hh[2 * hidden + u];
}

GruPlan::~GruPlan() = default;
GruPlan::GruPlan(GruPlan&&) noexcept = default;
GruPlan& GruPlan::operator=(GruPlan&&) noexcept = default;

int64_t GruPlan::input_size() const { return w_->I; }
int64_t GruPlan::hidden_size() const { return w_->H; }
int64_t GruPlan::workspace_floats(int64_t S, int64_t L) const { return workspace_of(*w_, S, L); }

void GruPlan::forward(const float* x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos,
                      bool reverse, float* h, float* y, int64_t y_seq, int64_t y_pos,
                      float* workspace) const {
  run_layer(*w_, x, S, L, x_seq, x_pos, reverse, h, nullptr, y, y_seq, y_pos, workspace);
}

void GruPlan::forward_threaded(const float* x, int64_t S, int64_t L, int64_t x_seq,
                               int64_t x_pos, bool reverse, float* h, float* y, int64_t y_seq,
                               int64_t y_pos, int n_threads) const {
  run_threaded(*w_, x, S, L, x_seq, x_pos, reverse, h, nullptr, y, y_seq, y_pos, n_threads);
}

void rnn_activation(int which, const float* x, float* y, int64_t n) {
  HB_CHECK(which == 0 || which == 1, "which must be 0 (sigmoid) or 1 (tanh)");
  detail::active_rnn_kernels()->activation(which, x, y, n);
}

}  // namespace hb
