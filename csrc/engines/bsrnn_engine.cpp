// BSRNN network and streaming engine (see hushboard/bsrnn.h).
//
// Network, for B streams of T frames; rows are (stream, frame) pairs, r = b * T + t:
//   features (rows, D)  -> band split (BandSplitPlan)               -> X (rows, K, N)
//   per layer:  Z = LN(X); time RNN per stream over its T frames, K sequences (the bands),
//               state carried (causal) or forward + reverse (not)  -> Y (rows, K, H or 2H)
//               X += Y . Wt^T + bt;  Z = LN(X)        (one fused pass, the row kernels)
//               band RNN, forward and reverse over the K bands of every row, zero initial
//               state                                              -> Y (rows, K, 2H)
//               X += Y . Wb^T + bb;  Z = LN'(X)       (LN' = the next layer's time norm)
//   per stem: mask MLP (BandMaskPlan)                               -> (rows, Dout)
// Engine: per chunk of k <= 32 frames of C channels, the network with B = C, T = k and the
// carried state, then spectrum *= mask (or the complex filter over this and past frames), in
// place. All buffers are sized at construction; process_frames allocates nothing.
#include "hushboard/bsrnn.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "engine_weights.h"
#include "hushboard/band.h"
#include "hushboard/common.h"
#include "hushboard/gemm.h"
#include "hushboard/rnn.h"
#include "../cpu/stft_internal.h"
#include "bsrnn_internal.h"

namespace hb {
namespace detail {

const BsrnnRowKernels* active_bsrnn_row_kernels() {
#if defined(HB_HAVE_AVX2_TU)
  if (active_kernels() == kernels_avx2()) return bsrnn_row_kernels_avx2();
#endif
  return bsrnn_row_kernels_generic();
}

}  // namespace detail

namespace {

constexpr int64_t kMaxChunk = 32;  // frames per process_frames call (the round trip's chunk)


// An RNN direction: an LSTM or a GRU plan.
struct Rnn {
  std::unique_ptr<LstmPlan> lstm;
  std::unique_ptr<GruPlan> gru;

  void load(const TensorMap& w, const std::string& prefix, bool is_gru, int64_t in,
            int64_t h) {
    const int64_t g = is_gru ? 3 : 4;
    auto w_ih = detail::take_weight(w, "BSRNN", prefix + ".w_ih", {g * h, in});
    auto w_hh = detail::take_weight(w, "BSRNN", prefix + ".w_hh", {g * h, h});
    if (is_gru) {
      auto b_ih = detail::take_weight(w, "BSRNN", prefix + ".b_ih", {g * h});
      auto b_hh = detail::take_weight(w, "BSRNN", prefix + ".b_hh", {g * h});
      gru = std::make_unique<GruPlan>(in, h, w_ih.data(), w_hh.data(), b_ih.data(),
                                      b_hh.data());
    } else {
      auto b = detail::take_weight(w, "BSRNN", prefix + ".b", {g * h});
      lstm = std::make_unique<LstmPlan>(in, h, w_ih.data(), w_hh.data(), b.data());
    }
  }
  int64_t workspace(int64_t S, int64_t L) const {
    return lstm ? lstm->workspace_floats(S, L) : gru->workspace_floats(S, L);
  }
  void run(const float* x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos, bool reverse,
           float* h, float* c, float* y, int64_t y_seq, int64_t y_pos, float* ws) const {
    if (lstm)
      lstm->forward(x, S, L, x_seq, x_pos, reverse, h, c, y, y_seq, y_pos, ws);
    else
      gru->forward(x, S, L, x_seq, x_pos, reverse, h, y, y_seq, y_pos, ws);
  }
};

// LayerNorm parameters and the residual projection of one path; the projection is stored
// transposed, (in, np) with np = N rounded up to 8 and zero padding, for the row kernels.
struct PathParams {
  int64_t np = 0;
  std::vector<float> norm_g, norm_b, fc_wt, fc_b;  // (N), (N), (in, np), (np)
  void load(const TensorMap& w, const std::string& prefix, int64_t n, int64_t in) {
    np = (n + 7) / 8 * 8;
    norm_g = detail::take_weight(w, "BSRNN", prefix + "_norm.g", {n});
    norm_b = detail::take_weight(w, "BSRNN", prefix + "_norm.b", {n});
    auto fc = detail::take_weight(w, "BSRNN", prefix + "_fc.w", {n, in});
    fc_wt.assign(size_t(in * np), 0.0f);
    for (int64_t o = 0; o < n; ++o)
      for (int64_t i = 0; i < in; ++i) fc_wt[i * np + o] = fc[o * in + i];
    fc_b = detail::take_weight(w, "BSRNN", prefix + "_fc.b", {n});
    fc_b.resize(size_t(np), 0.0f);
  }
};

struct Layer {
  PathParams time, band;
  Rnn time_fwd, time_rev, band_fwd, band_rev;  // time_rev: non-causal models only
};

}  // namespace

struct BsrnnNetwork::Impl {
  int64_t F = 0, K = 0, N = 0, H = 0, D = 0, dout = 0, tdirs = 1, B = 0, T = 0;
  std::unique_ptr<BandSplitPlan> split;
  std::vector<std::unique_ptr<BandMaskPlan>> masks;
  std::vector<Layer> layers;
  std::vector<float> X, Z, Y, bh, bc, ws;
};

BsrnnNetwork::BsrnnNetwork(const BsrnnNetConfig& cfg, const TensorMap& w)
    : cfg_(cfg), impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  HB_CHECK(!cfg.bands.empty(), "BSRNN bands must not be empty");
  for (int64_t b : cfg.bands) {
    HB_CHECK(b >= 1, "BSRNN band widths must be positive (got " + std::to_string(b) + ")");
    m.F += b;
  }
  HB_CHECK(cfg.feature_dim >= 1 && cfg.hidden_size >= 1 && cfg.num_layers >= 1 &&
               cfg.mask_hidden >= 1 && cfg.mask_frames >= 1 && cfg.stems >= 1 &&
               cfg.audio_channels >= 1,
           "BSRNN feature_dim, hidden_size, num_layers, mask_hidden, mask_frames, stems and "
           "audio_channels must be positive");
  HB_CHECK(cfg.eps > 0.0f, "BSRNN eps must be positive");
  const int64_t C = cfg.audio_channels, taps = cfg.mask_frames;
  m.K = int64_t(cfg.bands.size());
  m.N = cfg.feature_dim;
  m.H = cfg.hidden_size;
  m.tdirs = cfg.causal ? 1 : 2;
  m.D = 2 * C * m.F;
  m.dout = 2 * C * taps * m.F;
  std::vector<int64_t> in_dims, out_dims;
  for (int64_t b : cfg.bands) {
    in_dims.push_back(2 * C * b);
    out_dims.push_back(2 * C * taps * b);
  }
  {
    auto g = detail::take_weight(w, "BSRNN", "split.gamma", {m.D});
    auto b = detail::take_weight(w, "BSRNN", "split.beta", {m.D});
    auto sw = detail::take_weight(w, "BSRNN", "split.w", {m.N, m.D});
    auto sb = detail::take_weight(w, "BSRNN", "split.b", {m.K, m.N});
    m.split = std::make_unique<BandSplitPlan>(in_dims, m.N, g.data(), b.data(), sw.data(),
                                              sb.data(), cfg.eps);
  }
  for (int64_t j = 0; j < cfg.num_layers; ++j) {
    const std::string p = "layers." + std::to_string(j);
    Layer L;
    L.time.load(w, p + ".time", m.N, m.tdirs * m.H);
    L.band.load(w, p + ".band", m.N, 2 * m.H);
    L.time_fwd.load(w, p + ".time_rnn", cfg.gru, m.N, m.H);
    if (!cfg.causal) L.time_rev.load(w, p + ".time_rnn_rev", cfg.gru, m.N, m.H);
    L.band_fwd.load(w, p + ".band_rnn", cfg.gru, m.N, m.H);
    L.band_rev.load(w, p + ".band_rnn_rev", cfg.gru, m.N, m.H);
    m.layers.push_back(std::move(L));
  }
  const int64_t Hm = cfg.mask_hidden;
  for (int64_t s = 0; s < cfg.stems; ++s) {
    const std::string p = "mask." + std::to_string(s);
    auto g = detail::take_weight(w, "BSRNN", p + ".gamma", {m.K, m.N});
    auto b = detail::take_weight(w, "BSRNN", p + ".beta", {m.K, m.N});
    auto w1 = detail::take_weight(w, "BSRNN", p + ".w1", {m.K, Hm, m.N});
    auto b1 = detail::take_weight(w, "BSRNN", p + ".b1", {m.K, Hm});
    auto w2 = detail::take_weight(w, "BSRNN", p + ".w2", {2 * m.dout, Hm});
    auto b2 = detail::take_weight(w, "BSRNN", p + ".b2", {2 * m.dout});
    m.masks.push_back(std::make_unique<BandMaskPlan>(out_dims, m.N, Hm, true, g.data(),
                                                     b.data(), w1.data(), b1.data(), w2.data(),
                                                     b2.data(), cfg.eps));
  }
  HB_CHECK(w.find("mask." + std::to_string(cfg.stems) + ".w1") == w.end(),
           "BSRNN weights hold more mask estimators than the " + std::to_string(cfg.stems) +
               " stem(s) configured");
}

BsrnnNetwork::~BsrnnNetwork() = default;

int64_t BsrnnNetwork::in_features() const { return impl_->D; }
int64_t BsrnnNetwork::out_features() const { return impl_->dout; }
int64_t BsrnnNetwork::state_floats() const {
  const Impl& m = *impl_;
  return cfg_.causal ? cfg_.num_layers * m.K * m.H * (cfg_.gru ? 1 : 2) : 0;
}

void BsrnnNetwork::reserve(int64_t B, int64_t T) {
  Impl& m = *impl_;
  if (B <= m.B && T <= m.T) return;
  m.B = std::max(B, m.B);
  m.T = std::max(T, m.T);
  const int64_t rows = m.B * m.T;
  m.X.assign(size_t(rows * m.K * m.N), 0.0f);
  m.Z = m.X;
  m.Y.assign(size_t(rows * m.K * 2 * m.H), 0.0f);
  m.bh.assign(size_t(std::max(rows, m.K) * m.H), 0.0f);
  m.bc = m.bh;
  int64_t ws = m.split->workspace_floats(rows);
  for (const auto& mk : m.masks) ws = std::max(ws, mk->workspace_floats(rows));
  for (const Layer& L : m.layers) {
    ws = std::max(ws, L.time_fwd.workspace(m.K, m.T));
    ws = std::max(ws, L.band_fwd.workspace(rows, m.K));
    ws = std::max(ws, L.band_rev.workspace(rows, m.K));
    if (L.time_rev.lstm || L.time_rev.gru) ws = std::max(ws, L.time_rev.workspace(m.K, m.T));
  }
  m.ws.assign(size_t(std::max<int64_t>(ws, 1)), 0.0f);
}

void BsrnnNetwork::forward(const float* x, int64_t B, int64_t T, float* y, float* state) {
  HB_CHECK(B >= 0 && T >= 0, "BSRNN network: B and T must be >= 0");
  HB_CHECK(state == nullptr || cfg_.causal,
           "BSRNN network: only a causal model carries time-path state");
  if (B == 0 || T == 0) return;
  reserve(B, T);
  Impl& m = *impl_;
  const int64_t K = m.K, N = m.N, H = m.H, rows = B * T, TH = m.tdirs * H;
  float* X = m.X.data();
  float* Z = m.Z.data();
  float* Y = m.Y.data();
  float* ws = m.ws.data();
  float* bh = m.bh.data();
  float* bc = m.bc.data();
  const detail::BsrnnRowKernels* rk = detail::active_bsrnn_row_kernels();
  const float eps = cfg_.eps;
  const int64_t n_layers = int64_t(m.layers.size());
  const int64_t per_layer = K * H * (cfg_.gru ? 1 : 2);
  const int64_t sf = state_floats();

  m.split->forward(x, rows, m.D, X, ws);
  // Z holds LN(X) for the next path: each residual projection is fused with the LayerNorm that
  // follows it
  rk->layer_norm(X, rows * K, N, m.layers[0].time.norm_g.data(),
                 m.layers[0].time.norm_b.data(), eps, Z);
  for (int64_t j = 0; j < n_layers; ++j) {
    const Layer& L = m.layers[size_t(j)];
    // time path: per stream, K sequences (bands) of T frames
    for (int64_t b = 0; b < B; ++b) {
      const float* zb = Z + b * T * K * N;
      float* yb = Y + b * T * K * TH;
      float *h = bh, *c = bc;
      if (state) {
        h = state + b * sf + j * per_layer;
        c = h + K * H;
      } else {
        std::fill(bh, bh + K * H, 0.0f);
        std::fill(bc, bc + K * H, 0.0f);
      }
      L.time_fwd.run(zb, K, T, N, K * N, false, h, c, yb, TH, K * TH, ws);
      if (m.tdirs == 2) {
        std::fill(bh, bh + K * H, 0.0f);
        std::fill(bc, bc + K * H, 0.0f);
        L.time_rev.run(zb, K, T, N, K * N, true, bh, bc, yb + H, TH, K * TH, ws);
      }
    }
    rk->residual_norm(Y, rows * K, TH, L.time.fc_wt.data(), L.time.np, L.time.fc_b.data(), X, N,
                      L.band.norm_g.data(), L.band.norm_b.data(), eps, Z);
    // band path: rows sequences of K bands, both directions from zero state
    std::fill(bh, bh + rows * H, 0.0f);
    std::fill(bc, bc + rows * H, 0.0f);
    L.band_fwd.run(Z, rows, K, K * N, N, false, bh, bc, Y, K * 2 * H, 2 * H, ws);
    std::fill(bh, bh + rows * H, 0.0f);
    std::fill(bc, bc + rows * H, 0.0f);
    L.band_rev.run(Z, rows, K, K * N, N, true, bh, bc, Y + H, K * 2 * H, 2 * H, ws);
    const Layer* next = j + 1 == n_layers ? nullptr : &m.layers[size_t(j + 1)];
    rk->residual_norm(Y, rows * K, 2 * H, L.band.fc_wt.data(), L.band.np, L.band.fc_b.data(), X,
                      N, next ? next->time.norm_g.data() : nullptr,
                      next ? next->time.norm_b.data() : nullptr, eps, Z);
  }
  for (size_t s = 0; s < m.masks.size(); ++s)
    m.masks[s]->forward(X, rows, y + int64_t(s) * rows * m.dout, m.dout, ws);
}

// ---- streaming engine -------------------------------------------------------------------------
namespace {

BsrnnNetConfig net_config(const BsrnnConfig& c) {
  BsrnnNetConfig n;
  n.bands = c.bands;
  n.feature_dim = c.feature_dim;
  n.num_layers = c.num_layers;
  n.hidden_size = c.hidden_size;
  n.mask_hidden = c.mask_hidden;
  n.mask_frames = c.mask_frames;
  n.gru = c.gru;
  n.eps = c.eps;
  return n;  // causal, mono, one stem
}

}  // namespace

struct BsrnnEngine::Impl {
  std::unique_ptr<BsrnnNetwork> net;
  int64_t C = 0, F = 0, taps = 1, dout = 0;
  std::vector<float> state, feat, M, hist, ext;
};

BsrnnEngine::BsrnnEngine(const BsrnnConfig& cfg, const TensorMap& w, int64_t channels)
    : StftRoundTrip(detail::engine_stft_params("BSRNN", cfg.n_fft, cfg.hop_length),
                    detail::engine_window(w, "BSRNN", cfg.n_fft), channels),
      cfg_(cfg),
      impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  int64_t bins = 0;
  for (int64_t b : cfg.bands) bins += b;
  HB_CHECK(bins == n_bins(), "BSRNN bands must cover n_fft / 2 + 1 = " +
                                 std::to_string(n_bins()) + " bins (they sum to " +
                                 std::to_string(bins) + ")");
  m.net = std::make_unique<BsrnnNetwork>(net_config(cfg), w);
  m.C = channels;
  m.F = n_bins();
  m.taps = cfg.mask_frames;
  m.dout = m.net->out_features();
  m.net->reserve(m.C, kMaxChunk);
  m.state.assign(size_t(m.C * m.net->state_floats()), 0.0f);
  m.feat.assign(size_t(m.C * kMaxChunk * m.net->in_features()), 0.0f);
  m.M.assign(size_t(m.C * kMaxChunk * m.dout), 0.0f);
  if (m.taps > 1) {
    m.hist.assign(size_t(m.C * m.F * (m.taps - 1) * 2), 0.0f);
    m.ext.assign(size_t(m.F * (m.taps - 1 + kMaxChunk) * 2), 0.0f);
  }
}

BsrnnEngine::~BsrnnEngine() = default;

void BsrnnEngine::reset() {
  StftRoundTrip::reset();
  std::fill(impl_->state.begin(), impl_->state.end(), 0.0f);
  std::fill(impl_->hist.begin(), impl_->hist.end(), 0.0f);
}

void BsrnnEngine::process_frames(float* spec, int64_t k, int64_t stride) {
  Impl& m = *impl_;
  const int64_t C = m.C, F = m.F, D = 2 * F;
  // spectrum (C, F, stride, 2) -> feature rows (C, k, F * 2)
  for (int64_t c = 0; c < C; ++c)
    for (int64_t f = 0; f < F; ++f) {
      const float* s = spec + ((c * F + f) * stride) * 2;
      for (int64_t t = 0; t < k; ++t) {
        float* r = m.feat.data() + (c * k + t) * D + 2 * f;
        r[0] = s[2 * t];
        r[1] = s[2 * t + 1];
      }
    }
  m.net->forward(m.feat.data(), C, k, m.M.data(), m.state.data());

  // apply: mask row (f, tap, re/im) of frame t
  const int64_t P = m.taps - 1;
  for (int64_t c = 0; c < C; ++c) {
    if (P == 0) {
      for (int64_t f = 0; f < F; ++f) {
        float* s = spec + ((c * F + f) * stride) * 2;
        for (int64_t t = 0; t < k; ++t) {
          const float* mk = m.M.data() + (c * k + t) * m.dout + 2 * f;
          const float xr = s[2 * t], xi = s[2 * t + 1];
          s[2 * t] = mk[0] * xr - mk[1] * xi;
          s[2 * t + 1] = mk[0] * xi + mk[1] * xr;
        }
      }
      continue;
    }
    // ext (F, P + k, 2): the P frames before this chunk, then the chunk's input frames
    const int64_t E = P + k;
    float* ext = m.ext.data();
    float* hist = m.hist.data() + c * F * P * 2;
    for (int64_t f = 0; f < F; ++f) {
      std::memcpy(ext + f * E * 2, hist + f * P * 2, sizeof(float) * size_t(2 * P));
      std::memcpy(ext + (f * E + P) * 2, spec + ((c * F + f) * stride) * 2,
                  sizeof(float) * size_t(2 * k));
    }
    for (int64_t f = 0; f < F; ++f) {
      float* s = spec + ((c * F + f) * stride) * 2;
      const float* e = ext + f * E * 2;
      for (int64_t t = 0; t < k; ++t) {
        const float* mk = m.M.data() + (c * k + t) * m.dout + 2 * f * m.taps;
        float yr = 0.0f, yi = 0.0f;
        for (int64_t q = 0; q < m.taps; ++q) {
          const float xr = e[2 * (P + t - q)], xi = e[2 * (P + t - q) + 1];
          yr += mk[2 * q] * xr - mk[2 * q + 1] * xi;
          yi += mk[2 * q] * xi + mk[2 * q + 1] * xr;
        }
        s[2 * t] = yr;
        s[2 * t + 1] = yi;
      }
      std::memcpy(hist + f * P * 2, e + 2 * k, sizeof(float) * size_t(2 * P));
    }
  }
}

}  // namespace hb
