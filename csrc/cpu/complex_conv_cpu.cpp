// Fused complex convolution / transposed convolution (float32) on indirect GEMM microkernels.
//
// Both are run as "gather" convolutions: for an output column n = (u, v) and a reduction index
// k = (ci, tap), the input sample is x[ci][u*su + off_f[k]][v*sv + off_t[k]] (zero outside).
//   conv:      one phase, su = sF, sv = sT, off = tap*dilation - pad_low; the output column
//              (u, v) is y[u][v].
//   transpose: one phase per output residue (fo + f_low) mod sF, (to + t_begin) mod sT holding
//              only the taps that reach it (no products with stuffed zeros); su = sv = 1, and
//              the column (u, v) is y[f0 + u*sF][t0 + v*sT].
// No im2col: per call and batch item the input is rearranged once into G (layout below), three
// parts Xr, Xi, Xr + Xi, so that for every tap the samples of a run of output columns along the
// "inner" axis (T, or F when there are few output frames: the streaming case) are contiguous in
// one zero-padded row of G. The microkernels read the rows of their B operand through a table of
// per-tap row offsets. Stride along the inner axis is handled by splitting G's rows by residue.
// A task is (batch item, phase, outer index, tile of kTileCols inner columns); it prefills its
// outputs with the bias (in place when the output is contiguous along the inner axis, else in a
// tile that is scattered afterwards) and runs, per KC block, the three Gauss products
//   k1 = Wr.(Xr+Xi) added to real and imag, -(Wr+Wi).Xi added to real, (Wi-Wr).Xr to imag,
// either as 4-row weight strips x 24-column strips (micro_ind), or, for tiles of <= 8 columns
// with >= 8 output channels, with lanes over output channels (micro_tr, weights pre-transposed).
// Both paths use the same KC blocks and the same per-element summation order, so a column's
// value does not depend on how many columns one call computes (the streaming engine's chunked
// and per-frame outputs are bit-identical).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "gemm_internal.h"
#include "hushboard/common.h"
#include "hushboard/complex_conv.h"
#include "parallel.h"

namespace hb {
namespace detail {

namespace {
constexpr int64_t kTileCols = 96;  // output columns per task (multiple of kGemmNR)
constexpr int64_t kKC = 160;       // reduction block (a 24-column B strip block fits L1)
constexpr int64_t kTrMaxCols = 8;   // up to this many columns: lanes over output channels
static_assert(kTileCols % kGemmNR == 0, "tile must hold whole strips");
}  // namespace

struct ConvPhase {
  int64_t K = 0;
  std::vector<int64_t> kci, off_f, off_t;
  std::vector<float> w;  // 3 packed matrices [Wr | -(Wr+Wi) | Wi-Wr], each mstrips*K*kGemmMR
  int64_t f0 = 0, t0 = 0;  // transpose: first output row / column of this phase
  // per orientation (0: columns along F, 1: along T): the inner-axis offset split as
  // off = d * s_in + r (0 <= r < s_in), and ci * s_in + r (the row within an outer index)
  std::vector<int64_t> in_d[2], in_row[2];
  // the same 3 matrices transposed for the few-columns kernel: per matrix, output channels in
  // strips of 24 (the last one nv*8 wide), each strip K x width
  std::vector<float> wt;
};

inline int64_t fdiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

struct ComplexConvEngine {
  ComplexConvParams p;
  bool transposed = false;
  int64_t Cin = 0, Cout = 0, mstrips = 0, Kmax = 0;
  int64_t su = 1, sv = 1;
  std::vector<ConvPhase> phases;
  std::vector<float> br, bi;
  int64_t dmin[2] = {0, 0}, dmax[2] = {0, 0};  // per orientation: range of in_d

  ComplexConvEngine(const ComplexConvParams& params, bool tr, const float* wr, const float* wi,
                    const float* br_, const float* bi_)
      : p(params), transposed(tr) {
    complex_conv_check_params(p, tr);
    Cin = p.in_channels;
    Cout = p.out_channels;
    mstrips = (Cout + kGemmMR - 1) / kGemmMR;
    br.assign(size_t(Cout), 0.f);
    bi.assign(size_t(Cout), 0.f);
    if (br_) std::copy(br_, br_ + Cout, br.begin());
    if (bi_) std::copy(bi_, bi_ + Cout, bi.begin());
    const int64_t kF = p.kernel_f, kT = p.kernel_t;
    auto widx = [&](int64_t co, int64_t ci, int64_t kf, int64_t kt) {
      return tr ? ((ci * Cout + co) * kF + kf) * kT + kt : ((co * Cin + ci) * kF + kf) * kT + kt;
    };
    std::vector<std::pair<int64_t, int64_t>> ftaps, ttaps;  // (tap, offset)
    auto add_phase = [&](int64_t f0, int64_t t0) {
      ConvPhase ph;
      ph.f0 = f0;
      ph.t0 = t0;
      for (int64_t ci = 0; ci < Cin; ++ci)
        for (auto& f : ftaps)
          for (auto& t : ttaps) {
            ph.kci.push_back(ci);
            ph.off_f.push_back(f.second);
            ph.off_t.push_back(t.second);
          }
      ph.K = int64_t(ph.kci.size());
      const int64_t K = ph.K, msz = mstrips * K * kGemmMR;
      ph.w.assign(size_t(3 * msz), 0.f);
      int64_t k = 0;
      for (int64_t ci = 0; ci < Cin; ++ci)
        for (auto& f : ftaps)
          for (auto& t : ttaps) {
            for (int64_t co = 0; co < Cout; ++co) {
              const int64_t i = widx(co, ci, f.first, t.first);
              const float a = wr[i], b = wi[i];
              const int64_t pos = (co / kGemmMR) * K * kGemmMR + k * kGemmMR + co % kGemmMR;
              ph.w[size_t(pos)] = a;
              ph.w[size_t(msz + pos)] = -(a + b);
              ph.w[size_t(2 * msz + pos)] = b - a;
            }
            ++k;
          }
      // transposed copies
      const int64_t cw = trw(), msz_t = K * cw;
      ph.wt.assign(size_t(3 * msz_t), 0.f);
      for (int m = 0; m < 3; ++m)
        for (int64_t co = 0; co < Cout; ++co) {
          const int64_t cs = co / kGemmNR, ws = tr_width(cs);
          for (int64_t kk = 0; kk < K; ++kk)
            ph.wt[size_t(m * msz_t + cs * kGemmNR * K + kk * ws + co % kGemmNR)] =
                ph.w[size_t(m * msz + (co / kGemmMR) * K * kGemmMR + kk * kGemmMR +
                            co % kGemmMR)];
        }
      Kmax = std::max(Kmax, K);
      phases.push_back(std::move(ph));
    };
    if (!tr) {
      su = p.stride_f;
      sv = p.stride_t;
      for (int64_t kf = 0; kf < kF; ++kf) ftaps.emplace_back(kf, kf * p.dilation_f - p.pad_f_low);
      for (int64_t kt = 0; kt < kT; ++kt) ttaps.emplace_back(kt, kt * p.dilation_t - p.pad_t_low);
      add_phase(0, 0);
    } else {
      const int64_t sF = p.stride_f, sT = p.stride_t;
      for (int64_t rf = 0; rf < sF; ++rf)
        for (int64_t rt = 0; rt < sT; ++rt) {
          const int64_t f0 = ((rf - p.pad_f_low) % sF + sF) % sF;
          const int64_t t0 = ((rt - p.pad_t_low) % sT + sT) % sT;
          ftaps.clear();
          ttaps.clear();
          for (int64_t kf = 0; kf < kF; ++kf)
            if ((kf * p.dilation_f) % sF == rf)
              ftaps.emplace_back(kf, (f0 + p.pad_f_low - kf * p.dilation_f) / sF);
          for (int64_t kt = 0; kt < kT; ++kt)
            if ((kt * p.dilation_t) % sT == rt)
              ttaps.emplace_back(kt, (t0 + p.pad_t_low - kt * p.dilation_t) / sT);
          add_phase(f0, t0);
        }
    }
    for (int o = 0; o < 2; ++o) {
      const int64_t s_in = o ? sv : su;
      bool any = false;
      for (auto& ph : phases) {
        const auto& off = o ? ph.off_t : ph.off_f;
        for (int64_t k = 0; k < ph.K; ++k) {
          const int64_t d = fdiv(off[size_t(k)], s_in), r = off[size_t(k)] - d * s_in;
          ph.in_d[o].push_back(d);
          ph.in_row[o].push_back(r);
          dmin[o] = any ? std::min(dmin[o], d) : d;
          dmax[o] = any ? std::max(dmax[o], d) : d;
          any = true;
        }
      }
    }
  }

  // few-columns kernel: output-channel strips of kGemmNR, the last one nv*8 wide
  int64_t tr_strips() const { return (Cout + kGemmNR - 1) / kGemmNR; }
  int64_t tr_width(int64_t cs) const {
    const int64_t rem = Cout - cs * kGemmNR;
    return rem >= kGemmNR ? kGemmNR : (rem + 7) / 8 * 8;
  }
  int64_t trw() const { return (tr_strips() - 1) * kGemmNR + tr_width(tr_strips() - 1); }

  int64_t out_f(int64_t F) const { return complex_conv_out_f(p, transposed, F); }
  int64_t out_t(int64_t T) const { return complex_conv_out_t(p, transposed, T); }

  void check(int64_t B, int64_t F, int64_t T) const {
    HB_CHECK(B >= 1 && F >= 1 && T >= 1, "x must have non-empty batch, F and T (got B=" +
                                             std::to_string(B) + ", F=" + std::to_string(F) +
                                             ", T=" + std::to_string(T) + ")");
    const int64_t fo = out_f(F), to = out_t(T);
    HB_CHECK(fo >= 1 && to >= 1, "output size must be positive (got (" + std::to_string(fo) +
                                     ", " + std::to_string(to) + ") for input (F=" +
                                     std::to_string(F) + ", T=" + std::to_string(T) + "))");
  }

  // columns (u, v) of phase `ph` for an output of Fo x To
  void phase_dims(const ConvPhase& ph, int64_t Fo, int64_t To, int64_t& nu, int64_t& nv) const {
    if (!transposed) {
      nu = Fo;
      nv = To;
      return;
    }
    const int64_t sF = p.stride_f, sT = p.stride_t;
    nu = ph.f0 < Fo ? (Fo - ph.f0 + sF - 1) / sF : 0;
    nv = ph.t0 < To ? (To - ph.t0 + sT - 1) / sT : 0;
  }

  static int64_t ceil8(int64_t n) { return (n + 7) / 8 * 8; }

  // Geometry of one call. Output columns run along the "inner" axis (T or F) in strips; for a
  // tap the inner-axis samples of a strip are one contiguous run of a row of G, the input
  // rearranged per part (Xr, Xi, Xr+Xi) as rows (ci, outer index, inner residue mod s_in) of W
  // floats (zero padded; one extra zero row per part for taps outside the outer axis).
  struct Layout {
    bool inner_t = true;
    int64_t Fo = 0, To = 0;
    int64_t s_in = 1, s_out = 1, n_in = 0, n_outer = 0;
    int64_t qlo = 0, W = 0, rows = 0, part = 0;  // part: floats per part (rows * W)
  };

  Layout layout(int64_t F, int64_t T, int orient /* -1 auto, 0 F, 1 T */) const {
    Layout L;
    L.Fo = out_f(F);
    L.To = out_t(T);
    // estimated cost of the two orientations: padded strip columns weighted by the strip
    // kernel's efficiency (narrow strips are load bound), output scatter, per-task overhead
    auto strips = [](int64_t n) {
      const int64_t rem = n % kGemmNR, nv = (rem + 7) / 8;
      static const double w[4] = {0.0, 1.45, 1.15, 1.0};
      return double(n - rem) + double(nv * 8) * w[nv];
    };
    double cost_t = 0, cost_f = 0;
    for (const auto& ph : phases) {
      int64_t nu, nv;
      phase_dims(ph, L.Fo, L.To, nu, nv);
      // contiguous output along the inner axis (no scatter): T always for conv, F if To == 1
      const bool t_direct = !transposed || p.stride_t == 1;
      const bool f_direct = L.To == 1 && (!transposed || p.stride_f == 1);
      cost_t += double(nu) * (strips(nv) * (t_direct ? 1.0 : 1.1) + 4.0);
      cost_f += double(nv) * (strips(nu) * (f_direct ? 1.0 : 1.1) + 4.0);
    }
    L.inner_t = orient < 0 ? cost_t <= cost_f : orient == 1;
    L.s_in = L.inner_t ? sv : su;
    L.s_out = L.inner_t ? su : sv;
    L.n_in = L.inner_t ? T : F;
    L.n_outer = L.inner_t ? F : T;
    const int o = L.inner_t ? 1 : 0;
    const int64_t mn = dmin[o], mx = dmax[o];
    int64_t npad = 8;
    for (const auto& ph : phases) {
      int64_t nu, nv;
      phase_dims(ph, L.Fo, L.To, nu, nv);
      npad = std::max(npad, ceil8(L.inner_t ? nv : nu));
    }
    L.qlo = std::max<int64_t>(0, -mn);
    const int64_t nq = (L.n_in + L.s_in - 1) / L.s_in;
    L.W = L.qlo + std::max(nq, npad + std::max<int64_t>(mx, 0));
    L.rows = Cin * L.n_outer * L.s_in + 1;
    L.part = L.rows * L.W;
    return L;
  }

  int64_t tasks_per_batch(const Layout& L) const {
    int64_t n = 0;
    for (const auto& ph : phases) {
      int64_t nu, nv;
      phase_dims(ph, L.Fo, L.To, nu, nv);
      const int64_t ni = L.inner_t ? nv : nu, no = L.inner_t ? nu : nv;
      n += no * ((ni + kTileCols - 1) / kTileCols);
    }
    return n;
  }

  int64_t slot_floats() const { return 2 * Kmax + 8 + 2 * Cout * kTileCols; }

  int64_t slots(int64_t B, const Layout& L, int n_threads) const {
    const int64_t tasks = B * tasks_per_batch(L);
    return std::max<int64_t>(1, std::min<int64_t>(std::max(n_threads, 1), tasks));
  }

  // G areas: one per slot when the slots take whole batch items, else one shared
  int64_t g_areas(int64_t B, int64_t nslots) const { return B >= nslots ? nslots : 1; }

  int64_t workspace_floats(int64_t B, int64_t F, int64_t T, int n_threads) const {
    check(B, F, T);
    // an upper bound over both orientations, so that the size only grows with F and T
    int64_t total = 0;
    for (int o = 0; o < 2; ++o) {
      const Layout L = layout(F, T, o);
      const int64_t ns = slots(B, L, n_threads);
      total = std::max(total, g_areas(B, ns) * 3 * L.part + ns * slot_floats() + 16);
    }
    return total;
  }

  // G for batch item xb (see Layout)
  void build_g(const Layout& L, const float* xb, int64_t F, int64_t T, float* G) const {
    const int64_t W = L.W, ps = L.part, s_in = L.s_in, plane = F * T;
    for (int part = 0; part < 3; ++part)
      std::fill(G + part * ps + (L.rows - 1) * W, G + (part + 1) * ps, 0.f);
    for (int64_t ci = 0; ci < Cin; ++ci) {
      const float* xr = xb + ci * plane;
      const float* xi = xr + Cin * plane;
      if (L.inner_t) {
        for (int64_t fi = 0; fi < F; ++fi)
          for (int64_t r = 0; r < s_in; ++r) {
            float* gr = G + ((ci * F + fi) * s_in + r) * W;
            float* gi = gr + ps;
            float* gs = gi + ps;
            const int64_t cnt = r < T ? (T - r + s_in - 1) / s_in : 0;
            for (int64_t q = 0; q < L.qlo; ++q) gr[q] = gi[q] = gs[q] = 0.f;
            const float* sr = xr + fi * T + r;
            const float* si = xi + fi * T + r;
            float* dr = gr + L.qlo;
            float* di = gi + L.qlo;
            float* ds = gs + L.qlo;
            if (s_in == 1) {
              for (int64_t q = 0; q < cnt; ++q) {
                const float a = sr[q], b = si[q];
                dr[q] = a;
                di[q] = b;
                ds[q] = a + b;
              }
            } else {
              for (int64_t q = 0; q < cnt; ++q) {
                const float a = sr[q * s_in], b = si[q * s_in];
                dr[q] = a;
                di[q] = b;
                ds[q] = a + b;
              }
            }
            for (int64_t q = L.qlo + cnt; q < W; ++q) gr[q] = gi[q] = gs[q] = 0.f;
          }
      } else {
        // rows (ci, ti, r): element q is x[ci][q*s_in + r][ti]
        float* g0 = G + ci * T * s_in * W;
        for (int64_t ti = 0; ti < T; ++ti)
          for (int64_t r = 0; r < s_in; ++r) {
            float* gr = g0 + (ti * s_in + r) * W;
            float* gi = gr + ps;
            float* gs = gi + ps;
            const int64_t cnt = r < F ? (F - r + s_in - 1) / s_in : 0;
            for (int64_t q = 0; q < L.qlo; ++q) gr[q] = gi[q] = gs[q] = 0.f;
            const float* sr = xr + r * T + ti;
            const float* si = xi + r * T + ti;
            const int64_t step = s_in * T;
            float* dr = gr + L.qlo;
            float* di = gi + L.qlo;
            float* ds = gs + L.qlo;
            for (int64_t q = 0; q < cnt; ++q) {
              const float a = sr[q * step], b = si[q * step];
              dr[q] = a;
              di[q] = b;
              ds[q] = a + b;
            }
            for (int64_t q = L.qlo + cnt; q < W; ++q) gr[q] = gi[q] = gs[q] = 0.f;
          }
      }
    }
  }

  // One task: output columns [j0, j0 + nt) along the inner axis at outer index o_out of phase
  // ph of one batch item (G built for it; yb its output).
  void run_task(const GemmKernels* kern, const Layout& L, const float* G, const ConvPhase& ph,
                int64_t o_out, int64_t j0, int64_t nt, float* yb, int64_t* offs,
                float* tile) const {
    const int64_t K = ph.K, W = L.W;
    const int64_t FoTo = L.Fo * L.To;
    // output position of column (o_in, o_out): base + o_in * istride
    int64_t base, istride;
    {
      const int64_t sF = transposed ? p.stride_f : 1, sT = transposed ? p.stride_t : 1;
      const int64_t f0 = transposed ? ph.f0 : 0, t0 = transposed ? ph.t0 : 0;
      if (L.inner_t) {
        base = (f0 + o_out * sF) * L.To + t0;
        istride = sT;
      } else {
        base = f0 * L.To + t0 + o_out * sT;
        istride = sF * L.To;
      }
    }
    const bool direct = istride == 1;
    float* ore;
    int64_t ldc;
    if (direct) {
      ore = yb + base + j0;
      ldc = FoTo;
    } else {
      ore = tile;
      ldc = kTileCols;
    }
    float* oim = ore + Cout * ldc;
    for (int64_t co = 0; co < Cout; ++co) {
      std::fill(ore + co * ldc, ore + co * ldc + nt, br[size_t(co)]);
      std::fill(oim + co * ldc, oim + co * ldc + nt, bi[size_t(co)]);
    }
    if (K > 0) {
      // row offsets of the taps
      const int o = L.inner_t ? 1 : 0;
      const int64_t* off_out = (L.inner_t ? ph.off_f : ph.off_t).data();
      const int64_t* kci = ph.kci.data();
      const int64_t* ind = ph.in_d[o].data();
      const int64_t* inr = ph.in_row[o].data();
      const int64_t zero_row = (L.rows - 1) * W, io0 = o_out * L.s_out;
      const int64_t rstride = L.n_outer * L.s_in;  // rows per input channel
      for (int64_t k = 0; k < K; ++k) {
        const int64_t io = io0 + off_out[k];
        offs[k] = (io < 0 || io >= L.n_outer)
                      ? zero_row
                      : (kci[k] * rstride + io * L.s_in + inr[k]) * W + L.qlo + ind[k];
      }
      const int64_t msz = mstrips * K * kGemmMR;
      const float* wts[3] = {ph.w.data(), ph.w.data() + msz, ph.w.data() + 2 * msz};
      // products: k1 = Wr.(Xr+Xi) -> re, im; -(Wr+Wi).Xi -> re; (Wi-Wr).Xr -> im
      const float* parts[3] = {G + 2 * L.part, G + L.part, G};
      if (nt <= kTrMaxCols && Cout >= 8) {
        // few columns (the streaming case): lanes over output channels, columns broadcast
        // (the same reduction blocks as below: results do not depend on the path taken)
        const int64_t tsz = K * trw();
        for (int64_t k0 = 0; k0 < K; k0 += kKC) {
          const int64_t kc = std::min(kKC, K - k0);
          for (int prod = 0; prod < 3; ++prod) {
          const float* wt = ph.wt.data() + prod * tsz;
          for (int64_t cs = 0; cs < tr_strips(); ++cs) {
            const int64_t ws = tr_width(cs);
            const int cols = int(std::min<int64_t>(kGemmNR, Cout - cs * kGemmNR));
            for (int64_t u0 = 0; u0 < nt; u0 += 4) {
              const int rows = int(std::min<int64_t>(4, nt - u0));
              float* cre = ore + cs * kGemmNR * ldc + u0;
              float* cim = oim + cs * kGemmNR * ldc + u0;
              kern->micro_tr(kc, parts[prod] + j0 + u0, offs + k0, rows,
                             wt + cs * kGemmNR * K + k0 * ws, ws, int(ws / 8),
                             prod == 2 ? cim : cre, ldc, cols, prod == 0 ? cim : nullptr);
            }
          }
        }
        }
      } else {
      for (int64_t k0 = 0; k0 < K; k0 += kKC) {
        const int64_t kc = std::min(kKC, K - k0);
        for (int64_t js = 0; js < nt; js += kGemmNR) {
          const int cols = int(std::min<int64_t>(kGemmNR, nt - js));
          const int nv = (cols + 7) / 8;
          const int64_t mstep = nv == 1 ? 2 : 1;
          for (int prod = 0; prod < 3; ++prod) {
            const float* bb = parts[prod] + j0 + js;
            const float* w = wts[prod];
            for (int64_t ms = 0; ms < mstrips; ms += mstep) {
              const int rows = int(std::min<int64_t>(mstep * kGemmMR, Cout - ms * kGemmMR));
              float* cre = ore + ms * kGemmMR * ldc + js;
              float* cim = oim + ms * kGemmMR * ldc + js;
              kern->micro_ind(kc, w + ms * K * kGemmMR + k0 * kGemmMR, K * kGemmMR, rows, bb,
                              offs + k0, nv, prod == 2 ? cim : cre, ldc, cols,
                              prod == 0 ? cim : nullptr);
            }
          }
        }
      }
      }
    }
    if (!direct) {  // scatter the tile
      for (int64_t c = 0; c < 2 * Cout; ++c) {
        const float* src = ore + c * ldc;
        float* dst = yb + c * FoTo + base + j0 * istride;
        for (int64_t j = 0; j < nt; ++j) dst[j * istride] = src[j];
      }
    }
  }

  // tasks [t_begin, t_end) of one batch item
  void run_tasks(const GemmKernels* kern, const Layout& L, const float* G, float* yb,
                 int64_t t_begin, int64_t t_end, float* slot) const {
    int64_t* offs = reinterpret_cast<int64_t*>(
        (reinterpret_cast<uintptr_t>(slot) + 7) & ~uintptr_t(7));
    float* tile = slot + 2 * Kmax + 8;
    int64_t t = 0;
    for (const auto& ph : phases) {
      int64_t nu, nv;
      phase_dims(ph, L.Fo, L.To, nu, nv);
      const int64_t ni = L.inner_t ? nv : nu, no = L.inner_t ? nu : nv;
      const int64_t per = (ni + kTileCols - 1) / kTileCols;
      if (t + no * per <= t_begin) {
        t += no * per;
        continue;
      }
      // tiles outer, outer index inner: consecutive tasks share most of their G rows
      for (int64_t i = 0; i < per; ++i)
        for (int64_t o = 0; o < no; ++o, ++t) {
          if (t < t_begin) continue;
          if (t >= t_end) return;
          const int64_t j0 = i * kTileCols;
          run_task(kern, L, G, ph, o, j0, std::min(kTileCols, ni - j0), yb, offs, tile);
        }
    }
  }

  void forward(const float* x, int64_t B, int64_t F, int64_t T, float* y, float* ws,
               int n_threads) const {
    check(B, F, T);
    const Layout L = layout(F, T, -1);
    const int64_t per_b = tasks_per_batch(L);
    const int64_t nslots = slots(B, L, n_threads);
    const int64_t areas = g_areas(B, nslots);
    const int64_t gsz = 3 * L.part;
    float* slot0 = ws + areas * gsz;
    const int64_t sf = slot_floats();
    const GemmKernels* kern = active_gemm_kernels();
    const int64_t xstride = 2 * Cin * F * T, ystride = 2 * Cout * L.Fo * L.To;
    auto item = [&](int64_t b, float* G, float* slot) {
      build_g(L, x + b * xstride, F, T, G);
      run_tasks(kern, L, G, y + b * ystride, 0, per_b, slot);
    };
    if (nslots <= 1) {
      for (int64_t b = 0; b < B; ++b) item(b, ws, slot0);
      return;
    }
    if (areas == nslots) {
      parallel_for(nslots, [&](int64_t s0, int64_t s1) {
        for (int64_t s = s0; s < s1; ++s)
          for (int64_t b = B * s / nslots; b < B * (s + 1) / nslots; ++b)
            item(b, ws + s * gsz, slot0 + s * sf);
      });
      return;
    }
    for (int64_t b = 0; b < B; ++b) {
      build_g(L, x + b * xstride, F, T, ws);
      parallel_for(nslots, [&](int64_t s0, int64_t s1) {
        for (int64_t s = s0; s < s1; ++s)
          run_tasks(kern, L, ws, y + b * ystride, per_b * s / nslots, per_b * (s + 1) / nslots,
                    slot0 + s * sf);
      });
    }
  }

  void forward_alloc(const float* x, int64_t B, int64_t F, int64_t T, float* y) const {
    check(B, F, T);
    // threads only pay for problems of more than ~1 MFLOP
    int64_t flops = 0;
    const int64_t Fo = out_f(F), To = out_t(T);
    for (const auto& ph : phases) {
      int64_t nu, nv;
      phase_dims(ph, Fo, To, nu, nv);
      flops += 6 * Cout * ph.K * nu * nv;
    }
    const int nt = B * flops > (1 << 20) ? get_num_threads() : 1;
    AlignedFloats ws = aligned_floats(workspace_floats(B, F, T, nt));
    forward(x, B, F, T, y, ws.get(), nt);
  }
};

}  // namespace detail

// ---- plans ----------------------------------------------------------------------------------
ComplexConv2dPlan::ComplexConv2dPlan(const ComplexConvParams& p, const float* wr,
                                     const float* wi, const float* br, const float* bi)
    : e_(new detail::ComplexConvEngine(p, false, wr, wi, br, bi)) {}
ComplexConv2dPlan::~ComplexConv2dPlan() = default;
ComplexConv2dPlan::ComplexConv2dPlan(ComplexConv2dPlan&&) noexcept = default;
ComplexConv2dPlan& ComplexConv2dPlan::operator=(ComplexConv2dPlan&&) noexcept = default;
const ComplexConvParams& ComplexConv2dPlan::params() const { return e_->p; }
int64_t ComplexConv2dPlan::out_f(int64_t F) const { return e_->out_f(F); }
int64_t ComplexConv2dPlan::out_t(int64_t T) const { return e_->out_t(T); }
int64_t ComplexConv2dPlan::workspace_floats(int64_t B, int64_t F, int64_t T,
                                            int n_threads) const {
  return e_->workspace_floats(B, F, T, n_threads);
}
void ComplexConv2dPlan::forward(const float* x, int64_t B, int64_t F, int64_t T, float* y,
                                float* workspace, int n_threads) const {
  e_->forward(x, B, F, T, y, workspace, n_threads);
}
void ComplexConv2dPlan::forward(const float* x, int64_t B, int64_t F, int64_t T,
                                float* y) const {
  e_->forward_alloc(x, B, F, T, y);
}

ComplexConvTranspose2dPlan::ComplexConvTranspose2dPlan(const ComplexConvParams& p,
                                                       const float* wr, const float* wi,
                                                       const float* br, const float* bi)
    : e_(new detail::ComplexConvEngine(p, true, wr, wi, br, bi)) {}
ComplexConvTranspose2dPlan::~ComplexConvTranspose2dPlan() = default;
ComplexConvTranspose2dPlan::ComplexConvTranspose2dPlan(ComplexConvTranspose2dPlan&&) noexcept =
    default;
ComplexConvTranspose2dPlan& ComplexConvTranspose2dPlan::operator=(
    ComplexConvTranspose2dPlan&&) noexcept = default;
const ComplexConvParams& ComplexConvTranspose2dPlan::params() const { return e_->p; }
int64_t ComplexConvTranspose2dPlan::out_f(int64_t F) const { return e_->out_f(F); }
int64_t ComplexConvTranspose2dPlan::out_t(int64_t T) const { return e_->out_t(T); }
int64_t ComplexConvTranspose2dPlan::workspace_floats(int64_t B, int64_t F, int64_t T,
                                                     int n_threads) const {
  return e_->workspace_floats(B, F, T, n_threads);
}
void ComplexConvTranspose2dPlan::forward(const float* x, int64_t B, int64_t F, int64_t T,
                                         float* y, float* workspace, int n_threads) const {
  e_->forward(x, B, F, T, y, workspace, n_threads);
}
void ComplexConvTranspose2dPlan::forward(const float* x, int64_t B, int64_t F, int64_t T,
                                         float* y) const {
  e_->forward_alloc(x, B, F, T, y);
}

// ---- one-shot float32 -----------------------------------------------------------------------
void complex_conv2d_forward_cpu(const float* x, int64_t B, int64_t F, int64_t T, const float* wr,
                                const float* wi, const float* br, const float* bi, float* y,
                                const ComplexConvParams& p) {
  ComplexConv2dPlan(p, wr, wi, br, bi).forward(x, B, F, T, y);
}

void complex_conv_transpose2d_forward_cpu(const float* x, int64_t B, int64_t F, int64_t T,
                                          const float* wr, const float* wi, const float* br,
                                          const float* bi, float* y,
                                          const ComplexConvParams& p) {
  ComplexConvTranspose2dPlan(p, wr, wi, br, bi).forward(x, B, F, T, y);
}

}  // namespace hb
