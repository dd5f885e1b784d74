// hushboard — fused STFT / iSTFT CUDA kernels (float32), same semantics as the CPU code
// (torch.stft / torch.istft conventions, see hushboard/stft.h).
//
// Design
//   * Our own mixed-radix (8, 4, 2, 5, 3) Stockham FFT in shared memory. For even n_fft the
//     n_fft real samples of a frame are packed as n_fft/2 complex points (z[j] = x[2j] + i x[2j+1])
//     and unpacked with the usual real-FFT post-processing; odd n_fft uses a plain n_fft-point
//     complex FFT. m = n_fft/2 (even) or n_fft (odd) is the complex FFT length.
//   * One thread block = F consecutive frames of one signal (F a power of two <= 16), blockDim =
//     (T1, F): thread row ty owns frame ty during the FFT stages. Each stage is done in place:
//     every thread reads its butterflies' inputs into registers, __syncthreads, writes the
//     outputs, __syncthreads (a Stockham stage permutes the buffer, so in-place is race-free).
//   * Shared memory per block: a twiddle table of m complex W_n^i (i < m; the other half follows
//     from W_n^(i+n/2) = -W_n^i) + F frames of (m + 1) complex (the extra slot pads the frame
//     stride against bank conflicts and holds the Nyquist bin in the inverse).
//   * Forward: read signal (centring/padding and window fused) -> FFT -> real post-processing,
//     normalisation, magnitude / compression -> write bin-major (frame index fastest across
//     threads, so F consecutive frames of a bin are written contiguously).
//   * Inverse: kernel 1 reads the spectrum bin-major (coalesced), undoes compression and
//     normalisation, packs the Hermitian half for an n/2-point complex inverse FFT, multiplies by
//     the window and writes windowed frames to a workspace (batch, n_frames, n_fft). Kernel 2
//     gathers: every output sample sums the frames that cover it and divides by the window
//     envelope (no atomics, every output written once).
//   * The twiddle table is computed once per call in double precision (sincospi) by a tiny
//     kernel into a stream-ordered workspace, and copied into shared memory by every block.
//
// The block bodies are __host__ __device__ templates over a small "context" (thread / block
// indices, shared memory pointer, barrier) so that the very same code can be exercised on the
// host by a test harness that runs one OS thread per CUDA thread.
#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <vector>

#include "common.cuh"
#include "hushboard/common.h"
#include "hushboard/cuda.h"
#include "hushboard/stft.h"

namespace hb {
namespace cuda_stft {

using namespace cuda_common;

constexpr int kMaxStages = 24;
constexpr int kMaxThreads = 512;     // __launch_bounds__ of the FFT kernels
constexpr int kTargetThreads = 256;  // preferred block size
constexpr int kMaxFrames = 16;       // frames per block (power of two)
constexpr int kOlaThreads = 256;
constexpr int kMaxGridY = 65535;

// ---- complex helpers --------------------------------------------------------------------------
HB_HD float2 cadd(float2 a, float2 b) { return make_float2(a.x + b.x, a.y + b.y); }
HB_HD float2 csub(float2 a, float2 b) { return make_float2(a.x - b.x, a.y - b.y); }
HB_HD float2 cmul(float2 a, float2 b) {
  return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}
HB_HD float2 cconj(float2 a) { return make_float2(a.x, -a.y); }
HB_HD float2 cneg(float2 a) { return make_float2(-a.x, -a.y); }
HB_HD float2 cscale(float2 a, float s) { return make_float2(a.x * s, a.y * s); }
// a * (DIR * i): DIR = -1 multiplies by -i, DIR = +1 by +i.
template <int DIR>
HB_HD float2 rot90(float2 a) {
  return DIR > 0 ? make_float2(-a.y, a.x) : make_float2(a.y, -a.x);
}

HB_HD float2 ldf2(const float2* p) {
#ifdef __CUDA_ARCH__
  return __ldg(p);
#else
  return *p;
#endif
}
// Complex element o of an interleaved array (vec: the pointer is 8-byte aligned).
HB_HD float2 load_c(const float* p, int64_t o, bool vec) {
  if (vec) return ldf2(reinterpret_cast<const float2*>(p) + o);
  return make_float2(ldf(p + 2 * o), ldf(p + 2 * o + 1));
}
HB_HD void store_c(float* p, int64_t o, float2 v, bool vec) {
  if (vec) {
    reinterpret_cast<float2*>(p)[o] = v;
  } else {
    p[2 * o] = v.x;
    p[2 * o + 1] = v.y;
  }
}

// |X|^power * X/|X| = X * |X|^(power-1); exactly 0 where X == 0.
HB_HD float2 pow_scale(float2 z, float exponent) {
  const float mag = hypotf(z.x, z.y);
  if (mag == 0.0f) return make_float2(0.0f, 0.0f);
  return cscale(z, powf(mag, exponent));
}

// ---- twiddles -----------------------------------------------------------------------------------
// W_n^i = exp(-2 pi i / n), computed in double.
HB_HD float2 twiddle_value(int i, int n) {
  double s, c;
#ifdef __CUDA_ARCH__
  sincospi(2.0 * double(i) / double(n), &s, &c);
#else
  const double a = 6.283185307179586476925286766559 * double(i) / double(n);
  s = std::sin(a);
  c = std::cos(a);
#endif
  return make_float2(float(c), float(-s));
}

// W_n^idx (DIR = -1) or its conjugate (DIR = +1) for 0 <= idx < n, from a table of the first
// m entries (m = n/2 for even n, where W_n^(i+m) = -W_n^i; m = n for odd n).
template <int DIR>
HB_HD float2 twiddle(const float2* tw, int m, int idx) {
  const float2 w = idx < m ? tw[idx] : cneg(tw[idx - m]);
  return DIR < 0 ? w : cconj(w);
}

// ---- butterflies: in-place DFT of length R with sign DIR --------------------------------------
template <int R, int DIR>
HB_HD void butterfly(float2* v) {
  if constexpr (R == 2) {
    const float2 a = v[0], b = v[1];
    v[0] = cadd(a, b);
    v[1] = csub(a, b);
  } else if constexpr (R == 3) {
    constexpr float kS = 0.86602540378443864676f;  // sin(2 pi / 3)
    const float2 t1 = cadd(v[1], v[2]);
    const float2 t2 = csub(v[1], v[2]);
    const float2 y0 = cadd(v[0], t1);
    const float2 mm = make_float2(v[0].x - 0.5f * t1.x, v[0].y - 0.5f * t1.y);
    const float2 s = cscale(rot90<DIR>(t2), kS);
    v[0] = y0;
    v[1] = cadd(mm, s);
    v[2] = csub(mm, s);
  } else if constexpr (R == 4) {
    const float2 t0 = cadd(v[0], v[2]);
    const float2 t1 = csub(v[0], v[2]);
    const float2 t2 = cadd(v[1], v[3]);
    const float2 t3 = rot90<DIR>(csub(v[1], v[3]));
    v[0] = cadd(t0, t2);
    v[2] = csub(t0, t2);
    v[1] = cadd(t1, t3);
    v[3] = csub(t1, t3);
  } else if constexpr (R == 5) {
    constexpr float kC1 = 0.30901699437494742410f;   // cos(2 pi / 5)
    constexpr float kC2 = -0.80901699437494742410f;  // cos(4 pi / 5)
    constexpr float kS1 = 0.95105651629515357212f;   // sin(2 pi / 5)
    constexpr float kS2 = 0.58778525229247312917f;   // sin(4 pi / 5)
    const float2 a0 = v[0];
    const float2 s1 = cadd(v[1], v[4]), d1 = csub(v[1], v[4]);
    const float2 s2 = cadd(v[2], v[3]), d2 = csub(v[2], v[3]);
    const float2 b1 = make_float2(a0.x + kC1 * s1.x + kC2 * s2.x, a0.y + kC1 * s1.y + kC2 * s2.y);
    const float2 b2 = make_float2(a0.x + kC2 * s1.x + kC1 * s2.x, a0.y + kC2 * s1.y + kC1 * s2.y);
    const float2 e1 =
        rot90<DIR>(make_float2(kS1 * d1.x + kS2 * d2.x, kS1 * d1.y + kS2 * d2.y));
    const float2 e2 =
        rot90<DIR>(make_float2(kS2 * d1.x - kS1 * d2.x, kS2 * d1.y - kS1 * d2.y));
    v[0] = cadd(a0, cadd(s1, s2));
    v[1] = cadd(b1, e1);
    v[4] = csub(b1, e1);
    v[2] = cadd(b2, e2);
    v[3] = csub(b2, e2);
  } else if constexpr (R == 8) {
    constexpr float kC = 0.70710678118654752440f;
    float2 e[4] = {v[0], v[2], v[4], v[6]};
    float2 o[4] = {v[1], v[3], v[5], v[7]};
    butterfly<4, DIR>(e);
    butterfly<4, DIR>(o);
    // o[k] *= W_8^k (sign DIR): W_8 = (c, DIR c), W_8^2 = DIR i, W_8^3 = (-c, DIR c).
    const float2 o1 = o[1], o3 = o[3];
    o[1] = make_float2(kC * (o1.x - DIR * o1.y), kC * (o1.y + DIR * o1.x));
    o[2] = rot90<DIR>(o[2]);
    o[3] = make_float2(-kC * (o3.x + DIR * o3.y), kC * (DIR * o3.x - o3.y));
HB_UNROLL
    for (int k = 0; k < 4; ++k) {
      v[k] = cadd(e[k], o[k]);
      v[k + 4] = csub(e[k], o[k]);
    }
  } else {
    static_assert(R == 2 || R == 3 || R == 4 || R == 5 || R == 8, "unsupported radix");
  }
}

// Butterflies per thread and stage (about 16 complex values held in registers per thread).
template <int R>
struct MaxB {
  static constexpr int value = R == 2 ? 8 : R == 3 ? 5 : R == 4 ? 4 : R == 5 ? 3 : 2;
};
inline int max_butterflies(int r) {
  switch (r) {
    case 2: return MaxB<2>::value;
    case 3: return MaxB<3>::value;
    case 4: return MaxB<4>::value;
    case 5: return MaxB<5>::value;
    default: return MaxB<8>::value;
  }
}

// ---- FFT plan -----------------------------------------------------------------------------------
struct FftPlan {
  int n;        // n_fft
  int m;        // complex FFT length (n/2 for even n, n for odd n); also the twiddle table length
  int nstages;
  int radix[kMaxStages];
  int ns[kMaxStages];      // product of the radices of the earlier stages
  int twstep[kMaxStages];  // n / (ns * radix): twiddle exponent step in units of W_n
};

struct Launch {
  FftPlan plan;
  int T1;    // threads per frame (blockDim.x)
  int F;     // frames per block (blockDim.y), power of two
  int logF;
  size_t smem_bytes;
};

inline FftPlan make_plan(int64_t n) {
  HB_CHECK(n >= 1 && n <= (int64_t(1) << 24), "n_fft out of range for the CUDA kernels");
  FftPlan p{};
  p.n = int(n);
  p.m = (n % 2 == 0) ? int(n / 2) : int(n);
  int rest = p.m, p2 = 0, p3 = 0, p5 = 0;
  while (rest % 2 == 0) rest /= 2, ++p2;
  while (rest % 3 == 0) rest /= 3, ++p3;
  while (rest % 5 == 0) rest /= 5, ++p5;
  HB_CHECK(rest == 1, "n_fft must be a product of 2, 3 and 5 (got " + std::to_string(n) + ")");
  int radices[kMaxStages];
  int ns = 0;
  int n8 = p2 / 3, r2 = p2 % 3;
  if (r2 == 1 && n8 > 0) --n8, r2 += 3;  // 2^(3k+1) = 8^(k-1) * 4 * 4
  for (int i = 0; i < n8; ++i) radices[ns++] = 8;
  if (r2 == 4) radices[ns++] = 4, radices[ns++] = 4;
  if (r2 == 2) radices[ns++] = 4;
  if (r2 == 1) radices[ns++] = 2;
  for (int i = 0; i < p5; ++i) radices[ns++] = 5;
  for (int i = 0; i < p3; ++i) radices[ns++] = 3;
  p.nstages = ns;
  int prod = 1;
  for (int s = 0; s < ns; ++s) {
    p.radix[s] = radices[s];
    p.ns[s] = prod;
    p.twstep[s] = p.n / (prod * radices[s]);
    prod *= radices[s];
  }
  return p;
}

inline size_t launch_smem_bytes(int m, int F) {
  return (size_t(m) + size_t(F) * size_t(m + 1)) * sizeof(float2);
}

// smem_limit: the largest dynamic shared memory a block may use on the device.
inline Launch make_launch(int64_t n_fft, int64_t smem_limit) {
  Launch L{};
  L.plan = make_plan(n_fft);
  const int m = L.plan.m;
  int t1min = 1;
  for (int s = 0; s < L.plan.nstages; ++s) {
    const int r = L.plan.radix[s], mb = max_butterflies(r);
    const int nb = m / r;
    const int t = (nb + mb - 1) / mb;
    if (t > t1min) t1min = t;
  }
  HB_CHECK(t1min <= kMaxThreads,
           "n_fft=" + std::to_string(n_fft) +
               " is too large for the CUDA STFT kernels (n_fft up to 16384 is supported)");
  int F = kMaxFrames;
  while (F > 1 && F * t1min > kTargetThreads) F >>= 1;
  while (F > 1 && int64_t(launch_smem_bytes(m, F)) > smem_limit) F >>= 1;
  const size_t need = launch_smem_bytes(m, F);
  HB_CHECK(int64_t(need) <= smem_limit,
           "n_fft=" + std::to_string(n_fft) +
               " is too large for the CUDA STFT kernels on this device: it needs " +
               std::to_string(need) + " bytes of shared memory per block, the device allows " +
               std::to_string(smem_limit));
  L.F = F;
  L.logF = 0;
  while ((1 << L.logF) < F) ++L.logF;
  L.T1 = t1min > kTargetThreads / F ? t1min : kTargetThreads / F;
  L.smem_bytes = need;
  return L;
}

// ---- one FFT stage: registers <- shared (twiddle, butterfly) / shared <- registers -------------
// Every radix keeps its MaxB<R> butterflies in the same flat register array v[kRegs]
// (butterfly i, element r at v[i * R + r]); all indices are compile-time after unrolling.
constexpr int kRegs = 16;
static_assert(MaxB<2>::value * 2 <= kRegs && MaxB<3>::value * 3 <= kRegs &&
                  MaxB<4>::value * 4 <= kRegs && MaxB<5>::value * 5 <= kRegs &&
                  MaxB<8>::value * 8 <= kRegs,
              "register staging buffer too small");

template <int R, int DIR>
HB_HD void stage_read(const FftPlan& p, int s, const float2* d, const float2* tw, int tx, int nthr,
                      float2 (&v)[kRegs]) {
  const int ns = p.ns[s], stride = p.m / R, step = p.twstep[s];
HB_UNROLL
  for (int i = 0; i < MaxB<R>::value; ++i) {
    const int j = tx + i * nthr;
    if (j < stride) {
      float2* u = v + i * R;
HB_UNROLL
      for (int r = 0; r < R; ++r) u[r] = d[j + r * stride];
      if (ns > 1) {
        const int k = j % ns;
HB_UNROLL
        for (int r = 1; r < R; ++r) u[r] = cmul(u[r], twiddle<DIR>(tw, p.m, r * k * step));
      }
      butterfly<R, DIR>(u);
    }
  }
}

template <int R>
HB_HD void stage_write(const FftPlan& p, int s, float2* d, int tx, int nthr,
                       const float2 (&v)[kRegs]) {
  const int ns = p.ns[s], stride = p.m / R;
HB_UNROLL
  for (int i = 0; i < MaxB<R>::value; ++i) {
    const int j = tx + i * nthr;
    if (j < stride) {
      const int k = j % ns;
      const int base = (j - k) * R + k;
HB_UNROLL
      for (int r = 0; r < R; ++r) d[base + r * ns] = v[i * R + r];
    }
  }
}

// In-place FFT (sign DIR, unnormalised) of one frame d[0..m) by the nthr threads tx of its row.
// Must be reached by every thread of the block; ends with a barrier when there is any stage.
template <int DIR, class Ctx>
HB_HD void run_fft(const FftPlan& p, float2* d, const float2* tw, int tx, int nthr, Ctx& c) {
  for (int s = 0; s < p.nstages; ++s) {
    float2 v[kRegs];
    const int r = p.radix[s];
    switch (r) {
      case 8: stage_read<8, DIR>(p, s, d, tw, tx, nthr, v); break;
      case 4: stage_read<4, DIR>(p, s, d, tw, tx, nthr, v); break;
      case 2: stage_read<2, DIR>(p, s, d, tw, tx, nthr, v); break;
      case 5: stage_read<5, DIR>(p, s, d, tw, tx, nthr, v); break;
      default: stage_read<3, DIR>(p, s, d, tw, tx, nthr, v); break;
    }
    c.sync();
    switch (r) {
      case 8: stage_write<8>(p, s, d, tx, nthr, v); break;
      case 4: stage_write<4>(p, s, d, tx, nthr, v); break;
      case 2: stage_write<2>(p, s, d, tx, nthr, v); break;
      case 5: stage_write<5>(p, s, d, tx, nthr, v); break;
      default: stage_write<3>(p, s, d, tx, nthr, v); break;
    }
    c.sync();
  }
}

// ---- forward ------------------------------------------------------------------------------------
enum : int { kOutComplex = 0, kOutMagnitude = 1 };

struct FwdArgs {
  const float* x;        // (batch, length)
  const float* window;   // (n_fft,)
  float* out;            // (batch, n_bins, n_frames[, 2])
  const float2* gtw;     // twiddle table (m entries), global memory
  int64_t batch, length, n_frames, hop, pad;
  int n_bins;
  int reflect;     // center && reflect padding (else out-of-range samples are 0)
  int out_kind;    // kOutComplex (complex or compressed) / kOutMagnitude
  int compress;    // apply |X|^power * X/|X|
  int out_vec;     // out is 8-byte aligned
  float scale;     // 1/sqrt(n_fft) when normalized, else 1
  float exponent;  // power - 1
  int T1, F, logF;
  FftPlan plan;
};

HB_HD float fwd_sample(const FwdArgs& a, const float* xb, int64_t pos) {
  if (pos < 0 || pos >= a.length) {
    if (!a.reflect) return 0.0f;
    pos = pos < 0 ? -pos : 2 * (a.length - 1) - pos;  // torch 'reflect' (pad < length)
  }
  return ldf(xb + pos);
}

// Thread (tx, frame row) loads its frame t: windowed samples, packed for the FFT.
HB_HD void fwd_load(const FwdArgs& a, float2* d, int64_t b, int64_t t, int tx) {
  const int n = a.plan.n;
  const bool valid = t < a.n_frames;
  const float* xb = a.x + b * a.length;
  const int64_t base = t * a.hop - a.pad;
  if ((n & 1) == 0) {
    float* df = reinterpret_cast<float*>(d);  // z[j] = x[2j] + i x[2j+1]
    for (int i = tx; i < n; i += a.T1)
      df[i] = valid ? fwd_sample(a, xb, base + i) * ldf(a.window + i) : 0.0f;
  } else {
    for (int i = tx; i < n; i += a.T1)
      d[i] = make_float2(valid ? fwd_sample(a, xb, base + i) * ldf(a.window + i) : 0.0f, 0.0f);
  }
}

// Bin k (0 <= k <= m) of the real DFT of length n = 2m from the m-point FFT Z of the packed frame.
HB_HD float2 real_forward_bin(const float2* d, const float2* tw, int m, int k) {
  const float2 A = d[k == m ? 0 : k];
  const float2 B = cconj(d[k == 0 ? 0 : m - k]);
  const float2 fe = cscale(cadd(A, B), 0.5f);              // DFT of the even samples
  const float2 fo = rot90<-1>(cscale(csub(A, B), 0.5f));   // DFT of the odd samples
  return cadd(fe, cmul(twiddle<-1>(tw, m, k), fo));
}

// All threads of the block: post-process and write the F frames of the block bin-major.
HB_HD void fwd_store(const FwdArgs& a, const float2* data, const float2* tw, int64_t b, int64_t t0,
                     int tid, int nthr) {
  const FftPlan& p = a.plan;
  const int n = p.n, m = p.m, fstride = m + 1;
  const int total = a.n_bins << a.logF;
  for (int idx = tid; idx < total; idx += nthr) {
    const int f = idx & (a.F - 1);
    const int k = idx >> a.logF;
    const int64_t t = t0 + f;
    if (t >= a.n_frames) continue;
    const float2* d = data + f * fstride;
    float2 X;
    if (n & 1) {
      X = d[k];
    } else if (k <= m) {
      X = real_forward_bin(d, tw, m, k);
    } else {  // two-sided output: X[k] = conj(X[n-k]) for a real signal
      X = cconj(real_forward_bin(d, tw, m, n - k));
    }
    X = cscale(X, a.scale);
    const int64_t o = (b * a.n_bins + k) * a.n_frames + t;
    if (a.out_kind == kOutMagnitude) {
      a.out[o] = hypotf(X.x, X.y);
    } else {
      if (a.compress) X = pow_scale(X, a.exponent);
      store_c(a.out, o, X, a.out_vec != 0);
    }
  }
}

template <class Ctx>
HB_HD void fwd_block(const FwdArgs& a, Ctx& c) {
  const FftPlan& p = a.plan;
  const int nthr = a.T1 * a.F;
  const int tid = c.ty * a.T1 + c.tx;
  float2* tw = c.smem;
  float2* data = c.smem + p.m;
  float2* d = data + c.ty * (p.m + 1);
  for (int i = tid; i < p.m; i += nthr) tw[i] = ldf2(a.gtw + i);
  const int64_t t0 = int64_t(c.bx) * a.F;
  for (int64_t b = c.by; b < a.batch; b += c.gdy) {
    fwd_load(a, d, b, t0 + c.ty, c.tx);
    c.sync();
    run_fft<-1>(p, d, tw, c.tx, a.T1, c);
    fwd_store(a, data, tw, b, t0, tid, nthr);
    c.sync();  // the next signal overwrites the frames
  }
}

// ---- inverse ------------------------------------------------------------------------------------
struct InvArgs {
  const float* spec;     // (batch, n_bins, n_frames, 2)
  const float* window;   // (n_fft,)
  float* frames;         // workspace (batch, n_frames, n_fft): windowed time frames
  const float2* gtw;
  int64_t batch, n_frames;
  int n_bins;
  int uncompress;        // undo |X|^power * X/|X|
  int spec_vec;          // spec is 8-byte aligned
  float scale_in;        // sqrt(n_fft) when normalized, else 1
  float exponent;        // 1/power - 1
  float scale_out;       // 1/n_fft
  int T1, F, logF;
  FftPlan plan;
};

// All threads: read bins 0..n/2 of the block's frames (bin-major, coalesced) into shared memory.
// Even n: slot k holds X[k] (k = 0..m, slot m is the frame's pad slot). Odd n: the full
// Hermitian spectrum of length n (imaginary part of DC dropped).
HB_HD void inv_load(const InvArgs& a, float2* data, int64_t b, int64_t t0, int tid, int nthr) {
  const int n = a.plan.n, fstride = a.plan.m + 1;
  const int kh = n / 2 + 1;
  const int total = kh << a.logF;
  for (int idx = tid; idx < total; idx += nthr) {
    const int f = idx & (a.F - 1);
    const int k = idx >> a.logF;
    const int64_t t = t0 + f;
    float2 X = make_float2(0.0f, 0.0f);
    if (t < a.n_frames) {
      X = load_c(a.spec, (b * a.n_bins + k) * a.n_frames + t, a.spec_vec != 0);
      if (a.uncompress) X = pow_scale(X, a.exponent);
      X = cscale(X, a.scale_in);
    }
    float2* d = data + f * fstride;
    if (n & 1) {
      if (k == 0) {
        X.y = 0.0f;
        d[0] = X;
      } else {
        d[k] = X;
        d[n - k] = cconj(X);
      }
    } else {
      d[k] = X;
    }
  }
}

// Z[k] = (A + conj(B)) + i (A - conj(B)) W_n^-k with A = X[k], B = X[m-k]: the m-point inverse
// FFT of Z gives x[2j] + i x[2j+1] (times n).
HB_HD float2 inv_pack(float2 A, float2 B, const float2* tw, int m, int k) {
  const float2 Bc = cconj(B);
  return cadd(cadd(A, Bc), rot90<1>(cmul(csub(A, Bc), twiddle<1>(tw, m, k))));
}

// Even n only, all threads: pack the half spectrum in place (pairs (k, m-k) per thread).
HB_HD void inv_pair(const InvArgs& a, float2* data, const float2* tw, int tid, int nthr) {
  const int m = a.plan.m, fstride = m + 1;
  const int total = (m / 2 + 1) << a.logF;
  for (int idx = tid; idx < total; idx += nthr) {
    const int f = idx & (a.F - 1);
    const int k = idx >> a.logF;
    float2* d = data + f * fstride;
    float2 A = d[k], B = d[m - k];
    if (k == 0) {  // irfft ignores the imaginary parts of the DC and Nyquist bins
      A.y = 0.0f;
      B.y = 0.0f;
    }
    d[k] = inv_pack(A, B, tw, m, k);
    if (k != 0 && m - k != k) d[m - k] = inv_pack(B, A, tw, m, m - k);
  }
}

// Thread (tx, frame row): scale, window and write frame t to the workspace.
HB_HD void inv_store(const InvArgs& a, const float2* d, int64_t b, int64_t t, int tx) {
  if (t >= a.n_frames) return;
  const int n = a.plan.n;
  float* dst = a.frames + (b * a.n_frames + t) * n;
  if ((n & 1) == 0) {
    const float* df = reinterpret_cast<const float*>(d);
    for (int i = tx; i < n; i += a.T1) dst[i] = df[i] * a.scale_out * ldf(a.window + i);
  } else {
    for (int i = tx; i < n; i += a.T1) dst[i] = d[i].x * a.scale_out * ldf(a.window + i);
  }
}

template <class Ctx>
HB_HD void inv_block(const InvArgs& a, Ctx& c) {
  const FftPlan& p = a.plan;
  const int nthr = a.T1 * a.F;
  const int tid = c.ty * a.T1 + c.tx;
  float2* tw = c.smem;
  float2* data = c.smem + p.m;
  float2* d = data + c.ty * (p.m + 1);
  for (int i = tid; i < p.m; i += nthr) tw[i] = ldf2(a.gtw + i);
  const int64_t t0 = int64_t(c.bx) * a.F;
  for (int64_t b = c.by; b < a.batch; b += c.gdy) {
    inv_load(a, data, b, t0, tid, nthr);
    c.sync();
    if ((p.n & 1) == 0) {
      inv_pair(a, data, tw, tid, nthr);
      c.sync();
    }
    run_fft<1>(p, d, tw, c.tx, a.T1, c);
    inv_store(a, d, b, t0 + c.ty, c.tx);
    c.sync();  // the next signal overwrites the frames
  }
}

// ---- overlap-add (gather) -----------------------------------------------------------------------
struct OlaArgs {
  const float* frames;  // (batch, n_frames, n_fft)
  const float* window;
  float* out;           // (batch, length)
  int64_t batch, n_frames, length, hop, start, full;
  int n;
};

// Output sample i of signal b: sum of the frames covering it over the window envelope.
HB_HD float ola_sample(const OlaArgs& a, int64_t b, int64_t i) {
  const int64_t j = i + a.start;
  if (j >= a.full) return 0.0f;
  int64_t thi = j / a.hop;
  if (thi > a.n_frames - 1) thi = a.n_frames - 1;
  const int64_t tlo = j >= a.n ? (j - a.n) / a.hop + 1 : 0;
  const float* fb = a.frames + b * a.n_frames * a.n;
  float acc = 0.0f, env = 0.0f;
  for (int64_t t = tlo; t <= thi; ++t) {
    const int64_t o = j - t * a.hop;
    const float w = ldf(a.window + o);
    acc += ldf(fb + t * a.n + o);
    env += w * w;
  }
  return acc / env;  // NOLA was checked by the caller
}

// ---- kernels ------------------------------------------------------------------------------------
__global__ void twiddle_kernel(float2* tw, int m, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < m) tw[i] = twiddle_value(i, n);
}

__global__ void __launch_bounds__(kMaxThreads, 1) stft_forward_kernel(const FwdArgs a) {
  extern __shared__ float2 hb_stft_smem[];
  auto c = device_ctx(hb_stft_smem);
  fwd_block(a, c);
}

__global__ void __launch_bounds__(kMaxThreads, 1) istft_frames_kernel(const InvArgs a) {
  extern __shared__ float2 hb_stft_smem[];
  auto c = device_ctx(hb_stft_smem);
  inv_block(a, c);
}

__global__ void __launch_bounds__(kOlaThreads) istft_ola_kernel(const OlaArgs a) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= a.length) return;
  for (int64_t b = blockIdx.y; b < a.batch; b += gridDim.y)
    a.out[b * a.length + i] = ola_sample(a, b, i);
}

// ---- host side ----------------------------------------------------------------------------------
inline void host_twiddles(std::vector<float2>& tw, const FftPlan& plan) {
  tw.resize(size_t(plan.m));
  for (int i = 0; i < plan.m; ++i) tw[size_t(i)] = twiddle_value(i, plan.n);
}

// A stream-ordered scratch allocation, freed on the same stream.
class StreamBuffer {
 public:
  StreamBuffer(size_t bytes, cudaStream_t st) : st_(st) {
    if (bytes > 0) {
      const cudaError_t e = cudaMallocAsync(&ptr_, bytes, st);
      if (e != cudaSuccess) {
        ptr_ = nullptr;
        check_cuda(e, "cudaMallocAsync (workspace)");
      }
    }
  }
  ~StreamBuffer() {
    if (ptr_ != nullptr) (void)cudaFreeAsync(ptr_, st_);
  }
  StreamBuffer(const StreamBuffer&) = delete;
  StreamBuffer& operator=(const StreamBuffer&) = delete;
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  cudaStream_t st_;
};

inline Launch device_launch(int64_t n_fft) {
  int dev = 0, optin = 0;
  check_cuda(cudaGetDevice(&dev), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev),
             "cudaDeviceGetAttribute");
  return make_launch(n_fft, optin);
}

inline size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

inline bool aligned8(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 8 == 0; }

inline void launch_twiddles(float2* tw, const FftPlan& plan, cudaStream_t st) {
  const int threads = 256;
  const int blocks = (plan.m + threads - 1) / threads;
  twiddle_kernel<<<blocks, threads, 0, st>>>(tw, plan.m, plan.n);
  check_cuda(cudaGetLastError(), "twiddle kernel launch");
}

template <class Kernel>
inline void set_smem(Kernel kernel, size_t bytes) {
  if (bytes > 48 * 1024)
    check_cuda(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)),
        "cudaFuncSetAttribute");
}

// Kernel arguments (shared with the host test harness).
inline FwdArgs make_fwd_args(const float* x, int64_t batch, int64_t length, const float* window,
                             float* out, const StftParams& p, const Launch& L, const float2* gtw,
                             int64_t n_frames) {
  FwdArgs a{};
  a.x = x;
  a.window = window;
  a.out = out;
  a.gtw = gtw;
  a.batch = batch;
  a.length = length;
  a.n_frames = n_frames;
  a.hop = p.hop_length;
  a.pad = p.center ? p.n_fft / 2 : 0;
  a.n_bins = int(stft_num_bins(p));
  a.reflect = (p.center && p.pad_mode == PadMode::Reflect) ? 1 : 0;
  a.out_kind = p.kind == SpecKind::Magnitude ? kOutMagnitude : kOutComplex;
  a.compress = (p.kind == SpecKind::Compressed && p.power != 1.0) ? 1 : 0;
  a.out_vec = aligned8(out) ? 1 : 0;
  a.scale = p.normalized ? float(1.0 / std::sqrt(double(p.n_fft))) : 1.0f;
  a.exponent = float(p.power - 1.0);
  a.T1 = L.T1;
  a.F = L.F;
  a.logF = L.logF;
  a.plan = L.plan;
  return a;
}

inline InvArgs make_inv_args(const float* spec, int64_t batch, int64_t n_frames,
                             const float* window, float* frames, const StftParams& p,
                             const Launch& L, const float2* gtw) {
  const int64_t n = p.n_fft;
  InvArgs a{};
  a.spec = spec;
  a.window = window;
  a.frames = frames;
  a.gtw = gtw;
  a.batch = batch;
  a.n_frames = n_frames;
  a.n_bins = int(stft_num_bins(p));
  a.uncompress = (p.kind == SpecKind::Compressed && p.power != 1.0) ? 1 : 0;
  a.spec_vec = aligned8(spec) ? 1 : 0;
  a.scale_in = p.normalized ? float(std::sqrt(double(n))) : 1.0f;
  a.exponent = float(1.0 / p.power - 1.0);
  a.scale_out = float(1.0 / double(n));
  a.T1 = L.T1;
  a.F = L.F;
  a.logF = L.logF;
  a.plan = L.plan;
  return a;
}

inline OlaArgs make_ola_args(const float* frames, int64_t batch, int64_t n_frames,
                             const float* window, float* out, int64_t length,
                             const StftParams& p) {
  const int64_t n = p.n_fft;
  OlaArgs o{};
  o.frames = frames;
  o.window = window;
  o.out = out;
  o.batch = batch;
  o.n_frames = n_frames;
  o.length = length;
  o.hop = p.hop_length;
  o.start = p.center ? n / 2 : 0;
  o.full = istft_full_length(p, n_frames);
  o.n = int(n);
  return o;
}

}  // namespace cuda_stft

void stft_forward_cuda(const float* x, int64_t batch, int64_t length, const float* window,
                       float* out, const StftParams& p, void* stream) {
  using namespace cuda_stft;
  stft_check_params(p);
  HB_CHECK(batch >= 0, "batch must be >= 0 (got " + std::to_string(batch) + ")");
  const int64_t n_frames = stft_num_frames(p, length);
  if (batch == 0 || n_frames == 0) return;
  HB_CHECK(x != nullptr && window != nullptr && out != nullptr, "stft_forward_cuda: null pointer");
  const cudaStream_t st = static_cast<cudaStream_t>(stream);
  const Launch L = device_launch(p.n_fft);
  const int64_t groups = (n_frames + L.F - 1) / L.F;
  HB_CHECK(groups <= 0x7fffffff, "stft_forward_cuda: signal too long");

  StreamBuffer ws(size_t(L.plan.m) * sizeof(float2), st);
  float2* gtw = static_cast<float2*>(ws.get());
  launch_twiddles(gtw, L.plan, st);

  const FwdArgs a = make_fwd_args(x, batch, length, window, out, p, L, gtw, n_frames);

  set_smem(stft_forward_kernel, L.smem_bytes);
  const dim3 grid(unsigned(groups), unsigned(batch < kMaxGridY ? batch : kMaxGridY));
  const dim3 block(unsigned(L.T1), unsigned(L.F));
  stft_forward_kernel<<<grid, block, L.smem_bytes, st>>>(a);
  check_cuda(cudaGetLastError(), "stft_forward_cuda kernel launch");
}

void istft_forward_cuda(const float* spec, int64_t batch, int64_t n_frames, const float* window,
                        float* out, int64_t length, const StftParams& p, void* stream) {
  using namespace cuda_stft;
  stft_check_params(p);
  HB_CHECK(p.kind != SpecKind::Magnitude,
           "istft cannot invert a magnitude spectrum (no phase); pass a complex or compressed "
           "spectrum");
  HB_CHECK(batch >= 0, "batch must be >= 0 (got " + std::to_string(batch) + ")");
  HB_CHECK(n_frames >= 1, "spec must have at least one frame");
  HB_CHECK(length >= 0, "length must be >= 0 (got " + std::to_string(length) + ")");
  if (batch == 0 || length == 0) return;
  HB_CHECK(spec != nullptr && window != nullptr && out != nullptr,
           "istft_forward_cuda: null pointer");
  const cudaStream_t st = static_cast<cudaStream_t>(stream);
  const Launch L = device_launch(p.n_fft);
  const int64_t n = p.n_fft;
  const int64_t groups = (n_frames + L.F - 1) / L.F;
  const int64_t ola_blocks = (length + kOlaThreads - 1) / kOlaThreads;
  HB_CHECK(groups <= 0x7fffffff && ola_blocks <= 0x7fffffff, "istft_forward_cuda: signal too long");

  const size_t tw_bytes = align_up(size_t(L.plan.m) * sizeof(float2), 256);
  const size_t frames_bytes = size_t(batch) * size_t(n_frames) * size_t(n) * sizeof(float);
  StreamBuffer ws(tw_bytes + frames_bytes, st);
  float2* gtw = static_cast<float2*>(ws.get());
  float* frames = reinterpret_cast<float*>(static_cast<char*>(ws.get()) + tw_bytes);
  launch_twiddles(gtw, L.plan, st);

  const InvArgs a = make_inv_args(spec, batch, n_frames, window, frames, p, L, gtw);

  set_smem(istft_frames_kernel, L.smem_bytes);
  const unsigned gy = unsigned(batch < kMaxGridY ? batch : kMaxGridY);
  istft_frames_kernel<<<dim3(unsigned(groups), gy), dim3(unsigned(L.T1), unsigned(L.F)),
                        L.smem_bytes, st>>>(a);
  check_cuda(cudaGetLastError(), "istft_forward_cuda frames kernel launch");

  const OlaArgs o = make_ola_args(frames, batch, n_frames, window, out, length, p);
  istft_ola_kernel<<<dim3(unsigned(ola_blocks), gy), dim3(kOlaThreads), 0, st>>>(o);
  check_cuda(cudaGetLastError(), "istft_forward_cuda overlap-add kernel launch");
}

// ---- host emulation (tests without a GPU; see emu.h) ---------------------------------------------
void stft_forward_cuda_emulated(const float* x, int64_t batch, int64_t length, const float* window,
                                float* out, const StftParams& p, int64_t smem_limit,
                                int grid_y_limit) {
  using namespace cuda_stft;
  stft_check_params(p);
  HB_CHECK(batch >= 0, "batch must be >= 0 (got " + std::to_string(batch) + ")");
  HB_CHECK(grid_y_limit >= 1, "grid_y_limit must be >= 1");
  const int64_t n_frames = stft_num_frames(p, length);
  if (batch == 0 || n_frames == 0) return;
  const Launch L = make_launch(p.n_fft, smem_limit);
  std::vector<float2> tw;
  host_twiddles(tw, L.plan);
  const FwdArgs a = make_fwd_args(x, batch, length, window, out, p, L, tw.data(), n_frames);
  const int groups = int((n_frames + L.F - 1) / L.F);
  const int gy = int(batch < grid_y_limit ? batch : grid_y_limit);
  emu::launch(emu::Dim3{groups, gy, 1}, emu::Dim3{L.T1, L.F, 1}, L.smem_bytes,
              [&](const emu::Thread& t) {
                auto c = emu_ctx<float2>(t);
                fwd_block(a, c);
              });
}

void istft_forward_cuda_emulated(const float* spec, int64_t batch, int64_t n_frames,
                                 const float* window, float* out, int64_t length,
                                 const StftParams& p, int64_t smem_limit, int grid_y_limit) {
  using namespace cuda_stft;
  stft_check_params(p);
  HB_CHECK(p.kind != SpecKind::Magnitude, "istft cannot invert a magnitude spectrum (no phase)");
  HB_CHECK(batch >= 0 && n_frames >= 1 && length >= 0, "istft_forward_cuda_emulated: bad sizes");
  HB_CHECK(grid_y_limit >= 1, "grid_y_limit must be >= 1");
  if (batch == 0 || length == 0) return;
  const Launch L = make_launch(p.n_fft, smem_limit);
  std::vector<float2> tw;
  host_twiddles(tw, L.plan);
  std::vector<float> frames(size_t(batch) * size_t(n_frames) * size_t(p.n_fft));
  const InvArgs a = make_inv_args(spec, batch, n_frames, window, frames.data(), p, L, tw.data());
  const int groups = int((n_frames + L.F - 1) / L.F);
  const int gy = int(batch < grid_y_limit ? batch : grid_y_limit);
  emu::launch(emu::Dim3{groups, gy, 1}, emu::Dim3{L.T1, L.F, 1}, L.smem_bytes,
              [&](const emu::Thread& t) {
                auto c = emu_ctx<float2>(t);
                inv_block(a, c);
              });
  // the overlap-add kernel has no shared memory or barrier: one call per output sample
  const OlaArgs o = make_ola_args(frames.data(), batch, n_frames, window, out, length, p);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < length; ++i) out[b * length + i] = ola_sample(o, b, i);
}

}  // namespace hb
