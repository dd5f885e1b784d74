// DCCRN streaming engine (see hushboard/dccrn.h).
//
// Per chunk of k frames (k <= the round trip's chunk): the encoder layers run as complex
// convolutions over k new columns plus the kernel_t - 1 columns of history each layer keeps;
// the LSTM steps frame by frame; the decoder's transposed convolutions again take k columns plus
// history; the mask (mode E) is applied in place on the spectrum. All buffers are sized at
// construction.
#include "hushboard/dccrn.h"

#include <algorithm>
#include <cmath>

#include "hushboard/common.h"
#include "hushboard/complex_conv.h"
#include "hushboard/gemm.h"
#include "engine_weights.h"

namespace hb {
namespace {

constexpr int64_t kMaxChunk = 32;  // frames per process_frames call (the round trip's chunk)

std::vector<float> take(const TensorMap& w, const std::string& name,
                        const std::vector<int64_t>& shape) {
  return detail::take_weight(w, "DCCRN", name, shape);
}


inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

struct Lstm {
  int64_t in = 0, hidden = 0;
  std::vector<float> w_ih, w_hh, b;  // (4H, I), (4H, H), (4H); gates i, f, g, o
  void load(const TensorMap& w, const std::string& prefix, int64_t i, int64_t h) {
    in = i;
    hidden = h;
    w_ih = take(w, prefix + ".w_ih", {4 * h, i});
    w_hh = take(w, prefix + ".w_hh", {4 * h, h});
    b = take(w, prefix + ".b", {4 * h});
  }
  // `cols` independent sequences stored interleaved: x (I, cols), h and c (H, cols) updated
  // in place; gates: scratch of 4H * cols.
  void step(const float* x, int64_t cols, float* h, float* c, float* gates) const {
    const int64_t G = 4 * hidden;
    sgemm(G, cols, in, w_ih.data(), in, x, cols, gates, cols, false);
    sgemm(G, cols, hidden, w_hh.data(), hidden, h, cols, gates, cols, true);
    for (int64_t u = 0; u < hidden; ++u)
      for (int64_t j = 0; j < cols; ++j) {
        const float ig = sigmoid(gates[u * cols + j] + b[u]);
        const float fg = sigmoid(gates[(hidden + u) * cols + j] + b[hidden + u]);
        const float gg = std::tanh(gates[(2 * hidden + u) * cols + j] + b[2 * hidden + u]);
        const float og = sigmoid(gates[(3 * hidden + u) * cols + j] + b[3 * hidden + u]);
        float& cu = c[u * cols + j];
        cu = fg * cu + ig * gg;
        h[u * cols + j] = og * std::tanh(cu);
      }
  }
};

struct Linear {
  int64_t in = 0, out = 0;
  std::vector<float> w, b;
  void load(const TensorMap& wm, const std::string& prefix, int64_t i, int64_t o) {
    in = i;
    out = o;
    w = take(wm, prefix + ".w", {o, i});
    b = take(wm, prefix + ".b", {o});
  }
  // y (out) = W x + b, x read with stride x_stride
  void apply(const float* x, int64_t x_stride, float* y) const {
    sgemm(out, 1, in, w.data(), in, x, x_stride, y, 1, false);
    for (int64_t i = 0; i < out; ++i) y[i] += b[i];
  }
};

// A conv layer's fixed parts: the plan, the folded norm (2x2 per complex channel) and PReLU.
struct ConvLayer {
  bool transposed = false;
  int64_t cin = 0, cout = 0, fin = 0, fout = 0;
  std::unique_ptr<ComplexConv2dPlan> conv;
  std::unique_ptr<ComplexConvTranspose2dPlan> convt;
  std::vector<float> norm_m, norm_b, prelu;  // (cout, 2, 2), (cout, 2), (2)

  int64_t workspace(int64_t T) const {
    return transposed ? convt->workspace_floats(1, fin, T, 1) : conv->workspace_floats(1, fin, T, 1);
  }
  void run(const float* x, int64_t T, float* y, float* ws) const {
    if (transposed)
      convt->forward(x, 1, fin, T, y, ws, 1);
    else
      conv->forward(x, 1, fin, T, y, ws, 1);
  }
  // y: (2*cout, fout, k) conv output -> norm -> PReLU, written to `dst` rows (real rows start
  // at dst, imaginary rows at dst_im), each row fout x dst_stride with the k columns at col0.
  void post(const float* y, int64_t k, float* dst_re, float* dst_im, int64_t dst_stride,
            int64_t col0) const {
    const float ar = prelu[0], ai = prelu[1];
    for (int64_t c = 0; c < cout; ++c) {
      const float m00 = norm_m[c * 4], m01 = norm_m[c * 4 + 1];
      const float m10 = norm_m[c * 4 + 2], m11 = norm_m[c * 4 + 3];
      const float b0 = norm_b[c * 2], b1 = norm_b[c * 2 + 1];
      for (int64_t f = 0; f < fout; ++f) {
        const float* yr = y + (c * fout + f) * k;
        const float* yi = y + ((cout + c) * fout + f) * k;
        float* orow = dst_re + (c * fout + f) * dst_stride + col0;
        float* irow = dst_im + (c * fout + f) * dst_stride + col0;
        for (int64_t t = 0; t < k; ++t) {
          float r = m00 * yr[t] + m01 * yi[t] + b0;
          float i = m10 * yr[t] + m11 * yi[t] + b1;
          orow[t] = r >= 0.f ? r : ar * r;
          irow[t] = i >= 0.f ? i : ai * i;
        }
      }
    }
  }
};

}  // namespace

struct DccrnEngine::Impl {
  int64_t channels = 1, past = 1, n_layers = 0, feat = 0, bins = 0;
  std::vector<ConvLayer> enc, dec;
  // complex rnn: per layer the two LSTMs and, on the last, the projections
  std::vector<Lstm> lstm_r, lstm_i, lstm;
  Linear proj_r, proj_i, proj;
  // scratch (shared by the channels)
  std::vector<float> xin, yout, ws, gates, feat_a, feat_b, feat_c, mask;
  std::vector<std::vector<float>> skip;  // per encoder layer: (2*cout, fout, k)
  // per channel state
  struct State {
    std::vector<std::vector<float>> enc_hist, dec_hist;  // (2*cin, fin, past)
    std::vector<float> h, c;                             // LSTM states, all layers
  };
  std::vector<State> st;
  int64_t state_floats_rnn = 0;
};

DccrnEngine::DccrnEngine(const DccrnConfig& cfg, const TensorMap& w, int64_t channels)
    : StftRoundTrip(detail::engine_stft_params("DCCRN", cfg.n_fft, cfg.hop_length),
                    detail::engine_window(w, "DCCRN", cfg.n_fft), channels),
      cfg_(cfg),
      impl_(new Impl) {
  Impl& m = *impl_;
  const DccrnConfig& c = cfg_;
  HB_CHECK(!c.channels.empty(), "DCCRN channels must not be empty");
  for (int64_t ch : c.channels) HB_CHECK(ch >= 1, "DCCRN channels must be >= 1");
  HB_CHECK(c.kernel_f >= 1 && c.kernel_t >= 1 && c.stride_f >= 1,
           "DCCRN kernel and stride must be >= 1");
  HB_CHECK(c.rnn_layers >= 1 && c.rnn_units >= 1, "DCCRN rnn_layers and rnn_units must be >= 1");
  m.channels = channels;
  m.past = c.kernel_t - 1;
  m.n_layers = int64_t(c.channels.size());
  m.bins = c.n_fft / 2;
  int64_t div = 1;
  for (int64_t i = 0; i < m.n_layers; ++i) div *= c.stride_f;
  HB_CHECK(m.bins % div == 0, "DCCRN n_fft/2 must be divisible by stride_f^layers");

  const int64_t pf = c.kernel_f / 2;
  auto load_layer = [&](ConvLayer& L, const std::string& prefix, bool transposed, int64_t cin,
                        int64_t cout, int64_t fin) {
    L.transposed = transposed;
    L.cin = cin;
    L.cout = cout;
    L.fin = fin;
    ComplexConvParams p;
    p.in_channels = cin;
    p.out_channels = cout;
    p.kernel_f = c.kernel_f;
    p.kernel_t = c.kernel_t;
    p.stride_f = c.stride_f;
    p.pad_f_low = p.pad_f_high = pf;
    std::vector<int64_t> wshape = transposed
                                      ? std::vector<int64_t>{cin, cout, c.kernel_f, c.kernel_t}
                                      : std::vector<int64_t>{cout, cin, c.kernel_f, c.kernel_t};
    auto wr = take(w, prefix + ".wr", wshape), wi = take(w, prefix + ".wi", wshape);
    auto br = take(w, prefix + ".br", {cout}), bi = take(w, prefix + ".bi", {cout});
    if (transposed) {
      // causal, one output column per new input column: crop the history on both sides
      p.output_padding_f = c.stride_f - 1;
      p.pad_t_low = p.pad_t_high = m.past;
      L.convt.reset(new ComplexConvTranspose2dPlan(p, wr.data(), wi.data(), br.data(), bi.data()));
      L.fout = L.convt->out_f(fin);
    } else {
      L.conv.reset(new ComplexConv2dPlan(p, wr.data(), wi.data(), br.data(), bi.data()));
      L.fout = L.conv->out_f(fin);
    }
    L.norm_m = take(w, prefix + ".norm_m", {cout, 2, 2});
    L.norm_b = take(w, prefix + ".norm_b", {cout, 2});
    L.prelu = take(w, prefix + ".prelu", {2});
  };

  int64_t f = m.bins, cin = 1;
  m.enc.resize(size_t(m.n_layers));
  for (int64_t l = 0; l < m.n_layers; ++l) {
    load_layer(m.enc[size_t(l)], "enc." + std::to_string(l), false, cin, c.channels[size_t(l)], f);
    f = m.enc[size_t(l)].fout;
    cin = c.channels[size_t(l)];
  }
  const int64_t cb = c.channels.back(), fb = f;
  m.feat = cb * fb;
  m.dec.resize(size_t(m.n_layers));
  for (int64_t l = 0; l < m.n_layers; ++l) {
    const int64_t lvl = m.n_layers - 1 - l;
    const int64_t cout = lvl == 0 ? 1 : c.channels[size_t(lvl - 1)];
    load_layer(m.dec[size_t(l)], "dec." + std::to_string(l), true, 2 * c.channels[size_t(lvl)],
               cout, f);
    f = m.dec[size_t(l)].fout;
  }
  HB_CHECK(f == m.bins, "DCCRN decoder output has " + std::to_string(f) + " bins, expected " +
                            std::to_string(m.bins));

  // recurrent part
  if (c.complex_rnn) {
    HB_CHECK(c.rnn_units % 2 == 0, "DCCRN complex rnn_units must be even");
    const int64_t H = c.rnn_units / 2;
    m.lstm_r.resize(size_t(c.rnn_layers));
    m.lstm_i.resize(size_t(c.rnn_layers));
    for (int64_t l = 0; l < c.rnn_layers; ++l) {
      const int64_t in = l == 0 ? m.feat : H;
      m.lstm_r[size_t(l)].load(w, "rnn." + std::to_string(l) + ".r", in, H);
      m.lstm_i[size_t(l)].load(w, "rnn." + std::to_string(l) + ".i", in, H);
    }
    const std::string last = "rnn." + std::to_string(c.rnn_layers - 1);
    m.proj_r.load(w, last + ".proj_r", H, m.feat);
    m.proj_i.load(w, last + ".proj_i", H, m.feat);
    // per layer: lstm_r and lstm_i, each over 2 sequences (real input, imaginary input)
    m.state_floats_rnn = c.rnn_layers * 2 * 2 * H;
  } else {
    const int64_t H = c.rnn_units;
    m.lstm.resize(size_t(c.rnn_layers));
    for (int64_t l = 0; l < c.rnn_layers; ++l)
      m.lstm[size_t(l)].load(w, "rnn." + std::to_string(l), l == 0 ? 2 * m.feat : H, H);
    m.proj.load(w, "rnn_proj", H, 2 * m.feat);
    m.state_floats_rnn = c.rnn_layers * H;
  }

  // scratch
  const int64_t T = m.past + kMaxChunk;
  int64_t in_max = 2 * m.bins * T, out_max = 0, ws_max = 0;
  for (auto* layers : {&m.enc, &m.dec})
    for (const ConvLayer& L : *layers) {
      in_max = std::max(in_max, 2 * L.cin * L.fin * T);
      out_max = std::max(out_max, 2 * L.cout * L.fout * kMaxChunk);
      ws_max = std::max(ws_max, L.workspace(T));
    }
  m.xin.assign(size_t(in_max), 0.f);
  m.yout.assign(size_t(out_max), 0.f);
  m.ws.assign(size_t(std::max<int64_t>(ws_max, 1)), 0.f);
  const int64_t H = c.complex_rnn ? c.rnn_units / 2 : c.rnn_units;
  m.gates.assign(size_t(2 * 4 * H), 0.f);
  m.feat_a.assign(size_t(2 * std::max(2 * m.feat, H)), 0.f);
  m.feat_b.assign(size_t(2 * std::max(2 * m.feat, H)), 0.f);
  m.feat_c.assign(size_t(2 * std::max(2 * m.feat, H)), 0.f);
  m.mask.assign(size_t(2 * m.bins * kMaxChunk), 0.f);
  m.skip.resize(size_t(m.n_layers));
  for (int64_t l = 0; l < m.n_layers; ++l) {
    const ConvLayer& L = m.enc[size_t(l)];
    m.skip[size_t(l)].assign(size_t(2 * L.cout * L.fout * kMaxChunk), 0.f);
  }
  m.st.resize(size_t(channels));
  for (auto& s : m.st) {
    for (const ConvLayer& L : m.enc) s.enc_hist.emplace_back(size_t(2 * L.cin * L.fin * m.past), 0.f);
    for (const ConvLayer& L : m.dec) s.dec_hist.emplace_back(size_t(2 * L.cin * L.fin * m.past), 0.f);
    s.h.assign(size_t(m.state_floats_rnn), 0.f);
    s.c.assign(size_t(m.state_floats_rnn), 0.f);
  }
}

DccrnEngine::~DccrnEngine() = default;

void DccrnEngine::reset() {
  StftRoundTrip::reset();
  for (auto& s : impl_->st) {
    for (auto& v : s.enc_hist) std::fill(v.begin(), v.end(), 0.f);
    for (auto& v : s.dec_hist) std::fill(v.begin(), v.end(), 0.f);
    std::fill(s.h.begin(), s.h.end(), 0.f);
    std::fill(s.c.begin(), s.c.end(), 0.f);
  }
}

namespace {

// Copy n columns of `rows` rows between buffers with row strides (n is 1 or 2 in real time:
// a plain loop, not a memcpy call per row).
inline void copy_cols(float* dst, int64_t dst_stride, const float* src, int64_t src_stride,
                      int64_t rows, int64_t n) {
  if (n == 1) {
    for (int64_t r = 0; r < rows; ++r) dst[r * dst_stride] = src[r * src_stride];
    return;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) dst[r * dst_stride + j] = src[r * src_stride + j];
}

// A layer's input buffer is (rows, T = past + k): the first `past` columns are the history kept
// from the previous call, the last `past` columns become the next call's history.
void load_history(const std::vector<float>& hist, float* x, int64_t rows, int64_t past,
                  int64_t T) {
  copy_cols(x, T, hist.data(), past, rows, past);
}

void save_history(std::vector<float>& hist, const float* x, int64_t rows, int64_t past,
                  int64_t T) {
  copy_cols(hist.data(), past, x + (T - past), T, rows, past);
}

}  // namespace

void DccrnEngine::process_frames(float* spec, int64_t k_all, int64_t stride) {
  Impl& m = *impl_;
  const DccrnConfig& c = cfg_;
  const int64_t nb = n_bins(), P = m.past, B = m.bins;
  for (int64_t t0 = 0; t0 < k_all; t0 += kMaxChunk) {
    const int64_t k = std::min(kMaxChunk, k_all - t0);
    const int64_t T = P + k;
    for (int64_t ch = 0; ch < m.channels; ++ch) {
      Impl::State& s = m.st[size_t(ch)];
      float* sp = spec + ch * nb * stride * 2;
      // ---- spectrum (bins 1..n/2) -> layer 0 input (2, B, T)
      float* x = m.xin.data();
      load_history(s.enc_hist[0], x, 2 * B, P, T);
      for (int64_t f = 0; f < B; ++f)
        for (int64_t t = 0; t < k; ++t) {
          const float* z = sp + ((f + 1) * stride + t0 + t) * 2;
          x[f * T + P + t] = z[0];
          x[(B + f) * T + P + t] = z[1];
        }
      // ---- encoder
      for (int64_t l = 0; l < m.n_layers; ++l) {
        const ConvLayer& L = m.enc[size_t(l)];
        if (l > 0) load_history(s.enc_hist[size_t(l)], x, 2 * L.cin * L.fin, P, T);
        save_history(s.enc_hist[size_t(l)], x, 2 * L.cin * L.fin, P, T);
        L.run(x, T, m.yout.data(), m.ws.data());
        float* sk = m.skip[size_t(l)].data();
        const int64_t half = L.cout * L.fout * k;
        L.post(m.yout.data(), k, sk, sk + half, k, 0);
        if (l + 1 < m.n_layers)  // next layer's input: columns P.. of a (2*cout*fout, T) buffer
          copy_cols(x + P, T, sk, k, 2 * L.cout * L.fout, k);
      }
      // ---- recurrent part, frame by frame; result into the first decoder's input (x rows)
      const int64_t F = m.feat;  // features per part: the bottleneck's cb * fb
      const float* bott = m.skip[size_t(m.n_layers - 1)].data();  // (2*cb, fb, k)
      for (int64_t t = 0; t < k; ++t) {
        float* fa = m.feat_a.data();
        float* out_re = m.feat_b.data();
        float* out_im = m.feat_b.data() + F;
        if (c.complex_rnn) {
          // fa: (F, 2) real and imaginary features interleaved (the two sequences of each LSTM)
          for (int64_t i = 0; i < F; ++i) {
            fa[2 * i] = bott[i * k + t];
            fa[2 * i + 1] = bott[(F + i) * k + t];
          }
          const int64_t H = c.rnn_units / 2;
          const float* in = fa;
          for (int64_t l = 0; l < c.rnn_layers; ++l) {
            // per layer: L_r's states (H, 2) then L_i's, each over (real input, imag input)
            float* hr = s.h.data() + l * 4 * H;
            float* hi = hr + 2 * H;
            float* cr = s.c.data() + l * 4 * H;
            m.lstm_r[size_t(l)].step(in, 2, hr, cr, m.gates.data());
            m.lstm_i[size_t(l)].step(in, 2, hi, cr + 2 * H, m.gates.data());
            float* o = m.feat_c.data();  // (H, 2): real, imag interleaved
            for (int64_t u = 0; u < H; ++u) {
              o[2 * u] = hr[2 * u] - hi[2 * u + 1];      // L_r(x_r) - L_i(x_i)
              o[2 * u + 1] = hr[2 * u + 1] + hi[2 * u];  // L_r(x_i) + L_i(x_r)
            }
            in = o;
          }
          m.proj_r.apply(in, 2, out_re);
          m.proj_i.apply(in + 1, 2, out_im);
        } else {
          for (int64_t i = 0; i < 2 * F; ++i) fa[i] = bott[i * k + t];  // [real | imaginary]
          const int64_t H = c.rnn_units;
          const float* in = fa;
          for (int64_t l = 0; l < c.rnn_layers; ++l) {
            float* h = s.h.data() + l * H;
            m.lstm[size_t(l)].step(in, 1, h, s.c.data() + l * H, m.gates.data());
            in = h;
          }
          m.proj.apply(in, 1, out_re);  // (2F): real features then imaginary
        }
        // decoder 0 input rows: [x_re (cb*fb) | skip_re | x_im | skip_im], column P + t
        for (int64_t i = 0; i < F; ++i) {
          x[i * T + P + t] = out_re[i];
          x[(2 * F + i) * T + P + t] = out_im[i];
        }
      }
      // ---- decoder
      for (int64_t l = 0; l < m.n_layers; ++l) {
        const ConvLayer& L = m.dec[size_t(l)];
        const int64_t half_rows = L.cin * L.fin;        // real rows of the input
        const int64_t xrows = half_rows / 2;            // rows of x (or of the skip) per part
        const float* sk = m.skip[size_t(m.n_layers - 1 - l)].data();
        copy_cols(x + xrows * T + P, T, sk, k, xrows, k);
        copy_cols(x + (half_rows + xrows) * T + P, T, sk + xrows * k, k, xrows, k);
        load_history(s.dec_hist[size_t(l)], x, 2 * half_rows, P, T);
        save_history(s.dec_hist[size_t(l)], x, 2 * half_rows, P, T);
        L.run(x, T, m.yout.data(), m.ws.data());
        if (l + 1 < m.n_layers) {
          const ConvLayer& N = m.dec[size_t(l + 1)];
          const int64_t nhalf = N.cin * N.fin;
          L.post(m.yout.data(), k, x + P, x + nhalf * T + P, T, 0);
        } else {
          // the last layer has no norm/PReLU in the model (identity weights are passed)
          L.post(m.yout.data(), k, m.mask.data(), m.mask.data() + B * k, k, 0);
        }
      }
      // ---- mask mode E: Y = X * M * tanh(|M|)/|M|; DC bin zeroed
      const float* mr = m.mask.data();
      const float* mi = m.mask.data() + B * k;
      for (int64_t t = 0; t < k; ++t) {
        float* z0 = sp + (0 * stride + t0 + t) * 2;
        z0[0] = z0[1] = 0.f;
      }
      for (int64_t f = 0; f < B; ++f)
        for (int64_t t = 0; t < k; ++t) {
          float* z = sp + ((f + 1) * stride + t0 + t) * 2;
          const float a = mr[f * k + t], b = mi[f * k + t];
          const float mag = std::sqrt(a * a + b * b + 1e-16f);
          const float g = std::tanh(mag) / mag;
          const float ma = a * g, mb = b * g;
          const float zr = z[0], zi = z[1];
          z[0] = zr * ma - zi * mb;
          z[1] = zr * mb + zi * ma;
        }
    }
  }
}

}  // namespace hb
