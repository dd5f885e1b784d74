// LSTM training layer: weight packing, chunking of the sequences, forward with saved gates and
// backward (rnn_train.h). The arithmetic lives in the per-ISA kernels (rnn_train_simd_impl.h);
// the input projection reuses the inference kernels' (rnn_simd_impl.h).
#include <algorithm>
#include <cstring>
#include <string>

#include "hushboard/common.h"
#include "hushboard/rnn_train.h"
#include "parallel.h"
#include "rnn_internal.h"
#include "rnn_train_internal.h"
#include "stft_internal.h"

namespace hb {
namespace detail {

namespace {
const LstmTrainKernels* active_train_kernels() {
#if defined(HB_HAVE_AVX2_TU)
  // follow the STFT dispatch: AVX2 when the CPU has it and SIMD is enabled
  if (active_kernels() == kernels_avx2()) return lstm_train_kernels_avx2();
#endif
  return lstm_train_kernels_generic();
}
}  // namespace

// Packed weights. Forward: wih / whh / bx in RnnPacked's panel layout (rnn_internal.h).
// Backward: wbt (Q x NC): row q (packed gate index of torch row g*H + u) holds W_hh's row in
// columns [0, H) and W_ih's in [Hp, Hp + I), zeros elsewhere (and for padding units), so that
// dG . wbt gives [dh_prev | dx] for gate-gradient rows dG.
struct LstmTrainWeights {
  int64_t I = 0, H = 0, Hp = 0, NP = 0, Q = 0, NX = 0, NC = 0;
  AlignedFloats wih, whh, bx, wbt;
  RnnPacked view() const {
    return RnnPacked{4, I, H, Hp, NP, wih.get(), whh.get(), bx.get(), nullptr};
  }
  // packed gate column of torch row g*H + u
  int64_t col(int g, int64_t u) const {
    return (u / kRnnUnits) * 4 * kRnnUnits + g * kRnnUnits + u % kRnnUnits;
  }
};

}  // namespace detail

namespace {

using detail::kRnnUnits;
using detail::LstmTrainWeights;

// Sequences per chunk at most (a chunk's per-step rows stay in L1 / L2), and at least this many
// chunks when there are as many sequences (work for the threads). A function of S only.
constexpr int64_t kChunkRows = 64;
constexpr int64_t kMinChunks = 8;
// Projected rows per block of steps in forward (they stay in L2 until their steps run).
constexpr int64_t kProjRows = 256;

int64_t n_chunks(int64_t S) {
  if (S <= 0) return 0;
  return std::max(std::min(S, kMinChunks), (S + kChunkRows - 1) / kChunkRows);
}
int64_t chunk_begin(int64_t S, int64_t c) { return S * c / n_chunks(S); }

// Runs fn(chunk) for every chunk, over up to n_threads threads of the pool (fixed chunks).
template <typename Fn>
void for_chunks(int64_t S, int n_threads, const Fn& fn) {
  const int64_t nc = n_chunks(S);
  const int64_t nt = std::min<int64_t>(std::max(n_threads, 1), nc);
  if (nt <= 1) {
    for (int64_t c = 0; c < nc; ++c) fn(c);
    return;
  }
  detail::parallel_for(nt, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      for (int64_t c = nc * i / nt; c < nc * (i + 1) / nt; ++c) fn(c);
  });
}

// Saved buffer of chunk [s0, s1): gates (L x M rows of Q), then cell states of steps -1 .. L-1
// ((L + 1) x M rows of Hp; step -1 is c0).
int64_t saved_per_seq(const LstmTrainWeights& w, int64_t L) {
  return L * w.Q + (L + 1) * w.Hp;
}

int64_t bwd_ws_per_seq(const LstmTrainWeights& w) { return w.Q + w.NC + w.Hp; }
int64_t bwd_ws_per_chunk(const LstmTrainWeights& w) { return (w.I + w.H + 1) * w.Q; }

}  // namespace

LstmTrainPlan::LstmTrainPlan(int64_t input_size, int64_t hidden, const float* w_ih,
                             const float* w_hh, const float* bias) {
  HB_CHECK(input_size >= 1, "input_size must be >= 1 (got " + std::to_string(input_size) + ")");
  HB_CHECK(hidden >= 1, "hidden must be >= 1 (got " + std::to_string(hidden) + ")");
  HB_CHECK(w_ih && w_hh && bias, "w_ih, w_hh and bias must not be null");
  auto w = std::make_unique<LstmTrainWeights>();
  const int64_t I = input_size, H = hidden, U = kRnnUnits;
  w->I = I;
  w->H = H;
  w->Hp = (H + U - 1) / U * U;
  w->NP = w->Hp / U;
  w->Q = w->NP * 4 * U;
  w->NX = (I + U - 1) / U * U;
  w->NC = w->Hp + w->NX;
  w->wih = detail::aligned_floats(w->NP * I * 4 * U);  // zero-initialised: padding stays 0
  w->whh = detail::aligned_floats(w->NP * H * 4 * U);
  w->bx = detail::aligned_floats(w->Q);
  w->wbt = detail::aligned_floats(w->Q * w->NC);
  for (int g = 0; g < 4; ++g)
    for (int64_t u = 0; u < H; ++u) {
      const int64_t p = u / U, j = u % U, row = g * H + u, q = w->col(g, u);
      for (int64_t k = 0; k < I; ++k) {
        w->wih[((p * I + k) * 4 + g) * U + j] = w_ih[row * I + k];
        w->wbt[q * w->NC + w->Hp + k] = w_ih[row * I + k];
      }
      for (int64_t k = 0; k < H; ++k) {
        w->whh[((p * H + k) * 4 + g) * U + j] = w_hh[row * H + k];
        w->wbt[q * w->NC + k] = w_hh[row * H + k];
      }
      w->bx[q] = bias[row];
    }
  w_ = std::move(w);
}

LstmTrainPlan::~LstmTrainPlan() = default;
LstmTrainPlan::LstmTrainPlan(LstmTrainPlan&&) noexcept = default;
LstmTrainPlan& LstmTrainPlan::operator=(LstmTrainPlan&&) noexcept = default;

int64_t LstmTrainPlan::input_size() const { return w_->I; }
int64_t LstmTrainPlan::hidden_size() const { return w_->H; }

int64_t LstmTrainPlan::saved_floats(int64_t S, int64_t L) const {
  return std::max<int64_t>(S, 0) * saved_per_seq(*w_, std::max<int64_t>(L, 0));
}
int64_t LstmTrainPlan::forward_workspace_floats(int64_t S) const {
  return std::max<int64_t>(S, 0) * w_->Hp;
}
int64_t LstmTrainPlan::backward_workspace_floats(int64_t S) const {
  return std::max<int64_t>(S, 0) * bwd_ws_per_seq(*w_) + n_chunks(S) * bwd_ws_per_chunk(*w_);
}

void LstmTrainPlan::forward_train(const float* x, int64_t S, int64_t L, int64_t x_seq,
                                  int64_t x_pos, bool reverse, const float* h0, const float* c0,
                                  float* y, int64_t y_seq, int64_t y_pos, float* hT, float* cT,
                                  float* saved, float* workspace, int n_threads) const {
  HB_CHECK(S >= 0 && L >= 0, "S and L must be >= 0");
  HB_CHECK(n_threads >= 1, "n_threads must be >= 1 (got " + std::to_string(n_threads) + ")");
  const LstmTrainWeights& w = *w_;
  const int64_t H = w.H, Hp = w.Hp, Q = w.Q;
  if (S == 0) return;
  HB_CHECK(hT && cT, "forward_train: hT and cT must not be null");
  if (L == 0) {
    for (int64_t i = 0; i < S * H; ++i) {
      hT[i] = h0 ? h0[i] : 0.f;
      cT[i] = c0 ? c0[i] : 0.f;
    }
    return;
  }
  HB_CHECK(x && y && saved && (h0 || workspace),
           "forward_train: x, y, saved (and workspace when h0 is null) must not be null");
  const detail::RnnPacked pw = w.view();
  const detail::RnnKernels* rk = detail::active_rnn_kernels();
  const detail::LstmTrainKernels* tk = detail::active_train_kernels();
  const int64_t dl = reverse ? -1 : 1;
  auto pos = [&](int64_t t) { return reverse ? L - 1 - t : t; };

  for_chunks(S, n_threads, [&](int64_t ci) {
    const int64_t s0 = chunk_begin(S, ci), s1 = chunk_begin(S, ci + 1), M = s1 - s0;
    float* gates = saved + s0 * saved_per_seq(w, L);
    float* cst = gates + L * M * Q;  // step -1 (c0), then 0 .. L-1
    for (int64_t m = 0; m < M; ++m) {
      float* c = cst + m * Hp;
      for (int64_t j = 0; j < Hp; ++j) c[j] = (c0 && j < H) ? c0[(s0 + m) * H + j] : 0.f;
    }
    const float* hinit = h0 ? h0 + s0 * H : workspace + s0 * Hp;
    const int64_t hinit_ld = h0 ? H : Hp;
    if (!h0) std::fill(workspace + s0 * Hp, workspace + s1 * Hp, 0.f);
    const float* xc = x + s0 * x_seq;
    float* yc = y + s0 * y_seq;
    const int64_t Lc = std::max<int64_t>(1, std::min(L, kProjRows / M));
    for (int64_t t0 = 0; t0 < L; t0 += Lc) {
      const int64_t n = std::min(Lc, L - t0);
      const detail::RnnRows rows{xc + pos(t0) * x_pos, M, x_seq, dl * x_pos};
      rk->project(pw, n * M, rows, gates + t0 * M * Q);
      for (int64_t t = t0; t < t0 + n; ++t) {
        const float* hp = t == 0 ? hinit : yc + pos(t - 1) * y_pos;
        const int64_t hp_ld = t == 0 ? hinit_ld : y_seq;
        tk->step(pw, M, gates + t * M * Q, hp, hp_ld, cst + t * M * Hp, cst + (t + 1) * M * Hp,
                 yc + pos(t) * y_pos, y_seq);
      }
    }
    const float* ylast = yc + pos(L - 1) * y_pos;
    const float* clast = cst + L * M * Hp;
    for (int64_t m = 0; m < M; ++m) {
      std::memcpy(hT + (s0 + m) * H, ylast + m * y_seq, size_t(H) * sizeof(float));
      std::memcpy(cT + (s0 + m) * H, clast + m * Hp, size_t(H) * sizeof(float));
    }
  });
}

void LstmTrainPlan::backward(const float* x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos,
                             bool reverse, const float* h0, const float* y, int64_t y_seq,
                             int64_t y_pos, const float* saved, const float* dy, int64_t dy_seq,
                             int64_t dy_pos, const float* dhT, const float* dcT, float* dx,
                             int64_t dx_seq, int64_t dx_pos, float* dw_ih, float* dw_hh,
                             float* dbias, float* dh0, float* dc0, float* workspace,
                             int n_threads) const {
  HB_CHECK(S >= 0 && L >= 0, "S and L must be >= 0");
  HB_CHECK(n_threads >= 1, "n_threads must be >= 1 (got " + std::to_string(n_threads) + ")");
  const LstmTrainWeights& w = *w_;
  const int64_t I = w.I, H = w.H, Hp = w.Hp, Q = w.Q, NC = w.NC;
  HB_CHECK(dw_ih && dw_hh && dbias, "backward: dw_ih, dw_hh and dbias must not be null");
  std::fill(dw_ih, dw_ih + 4 * H * I, 0.f);
  std::fill(dw_hh, dw_hh + 4 * H * H, 0.f);
  std::fill(dbias, dbias + 4 * H, 0.f);
  if (S == 0) return;
  if (L == 0) {
    for (int64_t i = 0; i < S * H; ++i) {
      if (dh0) dh0[i] = dhT ? dhT[i] : 0.f;
      if (dc0) dc0[i] = dcT ? dcT[i] : 0.f;
    }
    return;
  }
  HB_CHECK(x && y && saved && workspace, "backward: x, y, saved and workspace must not be null");
  const detail::RnnPacked pw = w.view();
  const detail::LstmTrainKernels* tk = detail::active_train_kernels();
  auto pos = [&](int64_t t) { return reverse ? L - 1 - t : t; };
  const int64_t nc = n_chunks(S);
  float* partials = workspace + S * bwd_ws_per_seq(w);

  for_chunks(S, n_threads, [&](int64_t ci) {
    const int64_t s0 = chunk_begin(S, ci), s1 = chunk_begin(S, ci + 1), M = s1 - s0;
    const float* gates = saved + s0 * saved_per_seq(w, L);
    const float* cst = gates + L * M * Q;
    float* dg = workspace + s0 * bwd_ws_per_seq(w);  // M x Q
    float* out = dg + M * Q;                          // M x NC: [dh | dx]
    float* dc = out + M * NC;                         // M x Hp
    float* dwx = partials + ci * bwd_ws_per_chunk(w);  // I x Q
    float* dwh = dwx + I * Q;                           // H x Q
    float* db = dwh + H * Q;                            // Q
    std::fill(dwx, dwx + bwd_ws_per_chunk(w), 0.f);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t j = 0; j < Hp; ++j) {
        out[m * NC + j] = (dhT && j < H) ? dhT[(s0 + m) * H + j] : 0.f;
        dc[m * Hp + j] = (dcT && j < H) ? dcT[(s0 + m) * H + j] : 0.f;
      }
    const float* xc = x + s0 * x_seq;
    const float* yc = y + s0 * y_seq;
    for (int64_t t = L - 1; t >= 0; --t) {
      const int64_t l = pos(t);
      tk->bwd_gates(pw, M, gates + t * M * Q, cst + (t + 1) * M * Hp, cst + t * M * Hp,
                    dy ? dy + s0 * dy_seq + l * dy_pos : nullptr, dy_seq, out, NC, dc, dg);
      tk->gemm(M, NC, Q, dg, Q, w.wbt.get(), out, NC);
      if (dx) {
        float* dxr = dx + s0 * dx_seq + l * dx_pos;
        for (int64_t m = 0; m < M; ++m)
          std::memcpy(dxr + m * dx_seq, out + m * NC + Hp, size_t(I) * sizeof(float));
      }
      tk->accum_outer(M, I, Q, xc + l * x_pos, x_seq, dg, Q, dwx);
      if (t > 0)
        tk->accum_outer(M, H, Q, yc + pos(t - 1) * y_pos, y_seq, dg, Q, dwh);
      else if (h0)
        tk->accum_outer(M, H, Q, h0 + s0 * H, H, dg, Q, dwh);
      tk->colsum(M, Q, dg, Q, db);
    }
    for (int64_t m = 0; m < M; ++m) {
      if (dh0) std::memcpy(dh0 + (s0 + m) * H, out + m * NC, size_t(H) * sizeof(float));
      if (dc0) std::memcpy(dc0 + (s0 + m) * H, dc + m * Hp, size_t(H) * sizeof(float));
    }
  });

  // sum the chunks' partial gradients in chunk order, unpacking to torch's row order
  for (int64_t ci = 0; ci < nc; ++ci) {
    const float* dwx = partials + ci * bwd_ws_per_chunk(w);
    const float* dwh = dwx + I * Q;
    const float* db = dwh + H * Q;
    for (int g = 0; g < 4; ++g)
      for (int64_t u = 0; u < H; ++u) {
        const int64_t row = g * H + u, q = w.col(g, u);
        for (int64_t k = 0; k < I; ++k) dw_ih[row * I + k] += dwx[k * Q + q];
        for (int64_t k = 0; k < H; ++k) dw_hh[row * H + k] += dwh[k * Q + q];
        dbias[row] += db[q];
      }
  }
}

}  // namespace hb
