// Per-ISA STFT kernels. This file is included by stft_simd_generic.cpp and stft_simd_avx2.cpp,
// each defining HB_ARCH (the namespace) and compiled with its own flags. Everything here lives in
// that namespace and uses only builtins, so the two copies never share a symbol.
//
// Layout: eight frames are transformed side by side, one per lane of an 8-float vector (GCC
// vector extension: AVX registers on AVX2, pairs of SSE registers on the portable path). The
// FFT is then plain complex arithmetic on vectors, every pass fully vectorised, and since the
// spectrum layout is (bin, frame), a bin of eight consecutive frames is one contiguous store.
#ifndef HB_ARCH
#error "define HB_ARCH before including stft_simd_impl.h"
#endif

#include <cmath>
#include <cstdint>
#include <cstring>

#include "stft_internal.h"

#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

namespace hb {
namespace detail {
namespace HB_ARCH {

typedef float v8 __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

static inline v8 splat(float a) { return v8{a, a, a, a, a, a, a, a}; }
static inline v8 loadu(const float* p) {
  v8 r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
static inline void storeu(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }
static inline float lane(const v8& v, int l) { return v[l]; }

static inline v8 vsqrt(v8 a) {
#if defined(__AVX__)
  return (v8)_mm256_sqrt_ps((__m256)a);
#elif defined(__SSE2__)
  __m128 lo, hi;
  std::memcpy(&lo, &a, 16);
  std::memcpy(&hi, reinterpret_cast<const char*>(&a) + 16, 16);
  lo = _mm_sqrt_ps(lo);
  hi = _mm_sqrt_ps(hi);
  v8 r;
  std::memcpy(&r, &lo, 16);
  std::memcpy(reinterpret_cast<char*>(&r) + 16, &hi, 16);
  return r;
#else
  v8 r;
  for (int i = 0; i < 8; ++i) r[i] = __builtin_sqrtf(a[i]);
  return r;
#endif
}

static inline v8i splat_i(int32_t a) { return v8i{a, a, a, a, a, a, a, a}; }

static inline v8 select(v8i mask, v8 a, v8 b) {  // mask ? a : b
  return (v8)(((v8i)a & mask) | ((v8i)b & ~mask));
}
static inline v8 vmax(v8 a, v8 b) { return select(a > b, a, b); }
static inline v8 vmin(v8 a, v8 b) { return select(a < b, a, b); }
static inline v8 vabs(v8 a) { return (v8)((v8i)a & splat_i(0x7fffffff)); }

// 2^k for integer k in [-252, 254] (two steps so that neither factor leaves the float range).
static inline v8 pow2i(v8i k) {
  v8i k1 = k >> 1, k2 = k - k1;
  return (v8)((k1 + 127) << 23) * (v8)((k2 + 127) << 23);
}

static inline v8i clampi(v8i k, int32_t lo, int32_t hi) {
  const v8i l = splat_i(lo), h = splat_i(hi);
  const v8i below = k < l, above = k > h;
  return (below & l) | (above & h) | (~(below | above) & k);
}

// |X|^(2a) for X = (re, im). X is first scaled by a power of two so that its larger part lies
// in [1, 2) (|X|^2 can then neither overflow nor underflow); p = |X|^2 = 2^E * m with m in
// [sqrt(1/2), sqrt(2)) and p^a = 2^(a*E) * m^a, where a*E is split exactly (a = a_hi + a_lo,
// a_hi with 12 significant bits) so the result keeps float accuracy over the whole float range.
// Finite for X == 0 (the caller multiplies it by X).
static inline v8 pow_mag2(v8 re, v8 im, float a, float a_hi) {
  const v8 big = vmax(vabs(re), vabs(im));
  const v8i eb = clampi((((v8i)big >> 23) & 0xff) - 127, -126, 126);
  const v8 s = (v8)((127 - eb) << 23);  // 2^-eb
  const v8 rs = re * s, is = im * s;
  const v8 p = vmax(rs * rs + is * is, splat(1.1754944e-38f));
  const v8i bits = (v8i)p;
  v8i e = ((bits >> 23) & 0xff) - 127;
  v8 m = (v8)((bits & 0x7fffff) | 0x3f800000);  // [1, 2)
  const v8i bigm = m > splat(1.41421356f);
  m = select(bigm, m * 0.5f, m);
  e = e + (bigm & 1) + 2 * eb;
  const v8 f = (m - 1.0f) / (m + 1.0f);
  const v8 f2 = f * f;
  v8 poly = splat(1.0f / 9.0f);
  poly = poly * f2 + 1.0f / 7.0f;
  poly = poly * f2 + 1.0f / 5.0f;
  poly = poly * f2 + 1.0f / 3.0f;
  poly = poly * f2 + 1.0f;
  const v8 log2m = (2.0f * 1.44269504088896341f) * f * poly;  // |log2m| <= 0.5
  const v8 ef = __builtin_convertvector(e, v8);
  const v8 hi = ef * a_hi;  // exact
  const v8 lo = ef * (a - a_hi) + log2m * a;
  // k = nearest integer to hi + lo (the 1.5 * 2^23 trick), r = (hi - k) + lo, |r| <= ~0.5
  const v8 magic = splat(12582912.0f);
  const v8 kr = (hi + lo) + magic;
  const v8 kf = kr - magic;
  const v8i k = clampi((v8i)kr - (v8i)magic, -250, 126);  // stays finite: X * result is 0 for X == 0
  const v8 g = ((hi - kf) + lo) * 0.693147180559945309f;
  v8 q = splat(1.0f / 5040.0f);
  q = q * g + 1.0f / 720.0f;
  q = q * g + 1.0f / 120.0f;
  q = q * g + 1.0f / 24.0f;
  q = q * g + 1.0f / 6.0f;
  q = q * g + 0.5f;
  q = q * g + 1.0f;
  q = q * g + 1.0f;
  return q * pow2i(k);
}

// a with its low mantissa bits cleared (12 significant bits), for the exact split in pow_mag2
static inline float split_hi(float a) {
  uint32_t u;
  std::memcpy(&u, &a, 4);
  u &= 0xfffff000u;
  float h;
  std::memcpy(&h, &u, 4);
  return h;
}

// ---- transposes ---------------------------------------------------------------------------------
// r[i] lane j  ->  r[j] lane i
static inline void transpose8(v8 r[8]) {
#if defined(__AVX__)
  __m256 a0 = (__m256)r[0], a1 = (__m256)r[1], a2 = (__m256)r[2], a3 = (__m256)r[3];
  __m256 a4 = (__m256)r[4], a5 = (__m256)r[5], a6 = (__m256)r[6], a7 = (__m256)r[7];
  __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
  __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
  __m256 t4 = _mm256_unpacklo_ps(a4, a5), t5 = _mm256_unpackhi_ps(a4, a5);
  __m256 t6 = _mm256_unpacklo_ps(a6, a7), t7 = _mm256_unpackhi_ps(a6, a7);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = (v8)_mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = (v8)_mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = (v8)_mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = (v8)_mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = (v8)_mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = (v8)_mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = (v8)_mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = (v8)_mm256_permute2f128_ps(u3, u7, 0x31);
#else
  float t[8][8];
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) t[j][i] = r[i][j];
  for (int i = 0; i < 8; ++i) std::memcpy(&r[i], t[i], 32);
#endif
}

// Interleave (re, im) of 8 lanes into 16 floats re0 im0 re1 im1 ...
static inline void store_interleaved(float* p, v8 re, v8 im) {
#if defined(__AVX__)
  __m256 lo = _mm256_unpacklo_ps((__m256)re, (__m256)im);  // r0 i0 r1 i1 | r4 i4 r5 i5
  __m256 hi = _mm256_unpackhi_ps((__m256)re, (__m256)im);  // r2 i2 r3 i3 | r6 i6 r7 i7
  _mm256_storeu_ps(p, _mm256_permute2f128_ps(lo, hi, 0x20));
  _mm256_storeu_ps(p + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
#else
  for (int l = 0; l < 8; ++l) {
    p[2 * l] = re[l];
    p[2 * l + 1] = im[l];
  }
#endif
}

static inline void load_deinterleaved(const float* p, v8& re, v8& im) {
#if defined(__AVX2__)
  __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);  // r0 i0 .. r3 i3 | r4 i4 .. r7 i7
  __m256 r = _mm256_shuffle_ps(a, b, 0x88);                    // r0 r1 r4 r5 | r2 r3 r6 r7
  __m256 i = _mm256_shuffle_ps(a, b, 0xDD);
  re = (v8)_mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(r), 0xD8));
  im = (v8)_mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(i), 0xD8));
#else
  for (int l = 0; l < 8; ++l) {
    re[l] = p[2 * l];
    im[l] = p[2 * l + 1];
  }
#endif
}

// ---- lane-parallel Stockham FFT -----------------------------------------------------------------
static inline void cmul(v8& ar, v8& ai, float wr, float wi) {
  v8 r = ar * wr - ai * wi;
  ai = ar * wi + ai * wr;
  ar = r;
}

static void stage2(int64_t n, int64_t s, const v8* xr, const v8* xi, v8* yr, v8* yi,
                   const float* tw) {
  const int64_t m = n / 2;
  for (int64_t p = 0; p < m; ++p) {
    const float w1r = tw[2 * p], w1i = tw[2 * p + 1];
    for (int64_t q = 0; q < s; ++q) {
      v8 ar = xr[q + s * p], ai = xi[q + s * p];
      v8 br = xr[q + s * (p + m)], bi = xi[q + s * (p + m)];
      v8 c1r = ar - br, c1i = ai - bi;
      if (m > 1) cmul(c1r, c1i, w1r, w1i);
      yr[q + s * (2 * p)] = ar + br;
      yi[q + s * (2 * p)] = ai + bi;
      yr[q + s * (2 * p + 1)] = c1r;
      yi[q + s * (2 * p + 1)] = c1i;
    }
  }
}

static void stage4(int64_t n, int64_t s, const v8* xr, const v8* xi, v8* yr, v8* yi,
                   const float* tw) {
  const int64_t m = n / 4;
  for (int64_t p = 0; p < m; ++p) {
    const float* w = tw + 6 * p;
    for (int64_t q = 0; q < s; ++q) {
      const int64_t i0 = q + s * p;
      v8 a0r = xr[i0], a0i = xi[i0];
      v8 a1r = xr[i0 + s * m], a1i = xi[i0 + s * m];
      v8 a2r = xr[i0 + 2 * s * m], a2i = xi[i0 + 2 * s * m];
      v8 a3r = xr[i0 + 3 * s * m], a3i = xi[i0 + 3 * s * m];
      v8 t0r = a0r + a2r, t0i = a0i + a2i;
      v8 t1r = a0r - a2r, t1i = a0i - a2i;
      v8 t2r = a1r + a3r, t2i = a1i + a3i;
      v8 t3r = a1i - a3i, t3i = a3r - a1r;  // -i (a1 - a3)
      v8 b0r = t0r + t2r, b0i = t0i + t2i;
      v8 b1r = t1r + t3r, b1i = t1i + t3i;
      v8 b2r = t0r - t2r, b2i = t0i - t2i;
      v8 b3r = t1r - t3r, b3i = t1i - t3i;
      if (m > 1) {
        cmul(b1r, b1i, w[0], w[1]);
        cmul(b2r, b2i, w[2], w[3]);
        cmul(b3r, b3i, w[4], w[5]);
      }
      const int64_t o = q + s * (4 * p);
      yr[o] = b0r;
      yi[o] = b0i;
      yr[o + s] = b1r;
      yi[o + s] = b1i;
      yr[o + 2 * s] = b2r;
      yi[o + 2 * s] = b2i;
      yr[o + 3 * s] = b3r;
      yi[o + 3 * s] = b3i;
    }
  }
}

static void stage3(int64_t n, int64_t s, const v8* xr, const v8* xi, v8* yr, v8* yi,
                   const float* tw) {
  const int64_t m = n / 3;
  const float s60 = 0.866025403784438647f;
  for (int64_t p = 0; p < m; ++p) {
    const float* w = tw + 4 * p;
    for (int64_t q = 0; q < s; ++q) {
      const int64_t i0 = q + s * p;
      v8 a0r = xr[i0], a0i = xi[i0];
      v8 a1r = xr[i0 + s * m], a1i = xi[i0 + s * m];
      v8 a2r = xr[i0 + 2 * s * m], a2i = xi[i0 + 2 * s * m];
      v8 t1r = a1r + a2r, t1i = a1i + a2i;
      v8 t2r = a0r - 0.5f * t1r, t2i = a0i - 0.5f * t1i;
      v8 t3r = s60 * (a1i - a2i), t3i = s60 * (a2r - a1r);  // -i sin60 (a1 - a2)
      v8 b1r = t2r + t3r, b1i = t2i + t3i;
      v8 b2r = t2r - t3r, b2i = t2i - t3i;
      if (m > 1) {
        cmul(b1r, b1i, w[0], w[1]);
        cmul(b2r, b2i, w[2], w[3]);
      }
      const int64_t o = q + s * (3 * p);
      yr[o] = a0r + t1r;
      yi[o] = a0i + t1i;
      yr[o + s] = b1r;
      yi[o + s] = b1i;
      yr[o + 2 * s] = b2r;
      yi[o + 2 * s] = b2i;
    }
  }
}

static void stage5(int64_t n, int64_t s, const v8* xr, const v8* xi, v8* yr, v8* yi,
                   const float* tw) {
  const int64_t m = n / 5;
  const float c1 = 0.309016994374947424f, c2 = -0.809016994374947424f;
  const float s1 = 0.951056516295153572f, s2 = 0.587785252292473129f;
  for (int64_t p = 0; p < m; ++p) {
    const float* w = tw + 8 * p;
    for (int64_t q = 0; q < s; ++q) {
      const int64_t i0 = q + s * p;
      v8 a0r = xr[i0], a0i = xi[i0];
      v8 a1r = xr[i0 + s * m], a1i = xi[i0 + s * m];
      v8 a2r = xr[i0 + 2 * s * m], a2i = xi[i0 + 2 * s * m];
      v8 a3r = xr[i0 + 3 * s * m], a3i = xi[i0 + 3 * s * m];
      v8 a4r = xr[i0 + 4 * s * m], a4i = xi[i0 + 4 * s * m];
      v8 t1r = a1r + a4r, t1i = a1i + a4i;
      v8 t2r = a2r + a3r, t2i = a2i + a3i;
      v8 t3r = a1r - a4r, t3i = a1i - a4i;
      v8 t4r = a2r - a3r, t4i = a2i - a3i;
      v8 e1r = a0r + c1 * t1r + c2 * t2r, e1i = a0i + c1 * t1i + c2 * t2i;
      v8 e2r = a0r + c2 * t1r + c1 * t2r, e2i = a0i + c2 * t1i + c1 * t2i;
      // f1 = s1 t3 + s2 t4, f2 = s2 t3 - s1 t4; B1 = e1 - i f1, B4 = e1 + i f1, ...
      v8 f1r = s1 * t3r + s2 * t4r, f1i = s1 * t3i + s2 * t4i;
      v8 f2r = s2 * t3r - s1 * t4r, f2i = s2 * t3i - s1 * t4i;
      v8 b1r = e1r + f1i, b1i = e1i - f1r;
      v8 b4r = e1r - f1i, b4i = e1i + f1r;
      v8 b2r = e2r + f2i, b2i = e2i - f2r;
      v8 b3r = e2r - f2i, b3i = e2i + f2r;
      if (m > 1) {
        cmul(b1r, b1i, w[0], w[1]);
        cmul(b2r, b2i, w[2], w[3]);
        cmul(b3r, b3i, w[4], w[5]);
        cmul(b4r, b4i, w[6], w[7]);
      }
      const int64_t o = q + s * (5 * p);
      yr[o] = a0r + t1r + t2r;
      yi[o] = a0i + t1i + t2i;
      yr[o + s] = b1r;
      yi[o + s] = b1i;
      yr[o + 2 * s] = b2r;
      yi[o + 2 * s] = b2i;
      yr[o + 3 * s] = b3r;
      yi[o + 3 * s] = b3i;
      yr[o + 4 * s] = b4r;
      yi[o + 4 * s] = b4i;
    }
  }
}

// Forward FFT of the lane vectors in (xr, xi); on return (xr, xi) point at the result, which is
// in one of the two buffers.
static void fft_lanes(const FftPlan& P, v8*& xr, v8*& xi, v8*& yr, v8*& yi) {
  int64_t n = P.m, s = 1;
  for (int st = 0; st < P.nstages; ++st) {
    const int r = P.radix[st];
    const float* tw = P.twiddle[st];
    switch (r) {
      case 4: stage4(n, s, xr, xi, yr, yi, tw); break;
      case 2: stage2(n, s, xr, xi, yr, yi, tw); break;
      case 3: stage3(n, s, xr, xi, yr, yi, tw); break;
      default: stage5(n, s, xr, xi, yr, yi, tw); break;
    }
    n /= r;
    s *= r;
    v8* t = xr;
    xr = yr;
    yr = t;
    t = xi;
    xi = yi;
    yi = t;
  }
}

// ---- analysis -----------------------------------------------------------------------------------
static const float* frame_source(const AnalysisJob& J, const float* x, int64_t t, float* buf) {
  const int64_t N = J.n_fft;
  const int64_t start = t * J.hop - J.pad;
  if (start >= 0 && start + N <= J.length) return x + start;
  const int64_t L = J.length;
  for (int64_t n = 0; n < N; ++n) {
    int64_t j = start + n;
    float v;
    if (j >= 0 && j < L) {
      v = x[j];
    } else if (J.pad_mode == kPadReflect) {
      if (j < 0) j = -j;
      if (j >= L) j = 2 * (L - 1) - j;
      v = x[j];
    } else {
      v = 0.0f;
    }
    buf[n] = v;
  }
  return buf;
}

static inline void emit_bin(const AnalysisJob& J, float* out, int64_t k, int64_t col, int nv, v8 xr,
                            v8 xi, float scale) {
  xr *= scale;
  xi *= scale;
  if (J.kind == kKindMagnitude) {
    v8 mag = vsqrt(xr * xr + xi * xi);
    float* p = out + k * J.out_frames + col;
    if (nv == kLanes) {
      storeu(p, mag);
    } else {
      for (int l = 0; l < nv; ++l) p[l] = lane(mag, l);
    }
    return;
  }
  if (J.kind == kKindCompressed) {
    v8 g = pow_mag2(xr, xi, J.power_exp, split_hi(J.power_exp));
    xr *= g;
    xi *= g;
  }
  float* p = out + 2 * (k * J.out_frames + col);
  if (nv == kLanes) {
    store_interleaved(p, xr, xi);
  } else {
    for (int l = 0; l < nv; ++l) {
      p[2 * l] = lane(xr, l);
      p[2 * l + 1] = lane(xi, l);
    }
  }
}

static void analysis(const AnalysisJob& J, const float* x, float* out, int64_t t0, int64_t t1,
                     float* scratch) {
  const int64_t N = J.n_fft, M = N / 2;
  const RealFftPlan& P = *J.plan;
  v8* b0r = reinterpret_cast<v8*>(scratch);
  v8* b0i = b0r + (M + 1);
  v8* b1r = b0i + (M + 1);
  v8* b1i = b1r + (M + 1);
  float* edge = reinterpret_cast<float*>(b1i + (M + 1));
  float* zero = edge + kLanes * (N + 8);
  std::memset(zero, 0, sizeof(float) * N);
  const float* w = J.window;
  const int64_t N8 = N & ~int64_t(7);

  for (int64_t t = t0; t < t1; t += kLanes) {
    const int nv = int(t1 - t < kLanes ? t1 - t : kLanes);
    const float* src[kLanes];
    for (int l = 0; l < kLanes; ++l)
      src[l] = l < nv ? frame_source(J, x, t + l, edge + l * (N + 8)) : zero;

    // frame, window and pack z[n] = x[2n] + i x[2n+1] into lane vectors
    v8 *zr = b0r, *zi = b0i, *yr = b1r, *yi = b1i;
    for (int64_t n0 = 0; n0 < N8; n0 += 8) {
      v8 r[8];
      for (int l = 0; l < 8; ++l) r[l] = loadu(src[l] + n0);
      transpose8(r);
      for (int j = 0; j < 8; j += 2) {
        zr[(n0 + j) / 2] = r[j] * w[n0 + j];
        zi[(n0 + j) / 2] = r[j + 1] * w[n0 + j + 1];
      }
    }
    for (int64_t n = N8; n < N; ++n) {
      v8 v;
      for (int l = 0; l < 8; ++l) v[l] = src[l][n] * w[n];
      if (n & 1) zi[n / 2] = v; else zr[n / 2] = v;
    }

    fft_lanes(P.half, zr, zi, yr, yi);

    // split the half-size spectrum into the real spectrum, bins 0..M
    const int64_t col = t + J.col_offset;
    {
      v8 a = zr[0], b = zi[0];
      emit_bin(J, out, 0, col, nv, a + b, splat(0.0f), J.scale_edge);
      emit_bin(J, out, M, col, nv, a - b, splat(0.0f), J.scale_edge);
    }
    for (int64_t k = 1; k <= M - k; ++k) {
      const v8 a = zr[k], b = zi[k], c = zr[M - k], d = zi[M - k];
      const v8 er = 0.5f * (a + c), ei = 0.5f * (b - d);
      const v8 orr = 0.5f * (b + d), oi = 0.5f * (c - a);
      const float wr = P.rtw[2 * k], wi = P.rtw[2 * k + 1];
      const v8 wor = orr * wr - oi * wi, woi = orr * wi + oi * wr;
      const float sk = J.scale_interior;
      emit_bin(J, out, k, col, nv, er + wor, ei + woi, sk);
      if (k != M - k) emit_bin(J, out, M - k, col, nv, er - wor, woi - ei, sk);
      if (!J.onesided) {
        emit_bin(J, out, N - k, col, nv, er + wor, -(ei + woi), sk);
        if (k != M - k) emit_bin(J, out, N - (M - k), col, nv, er - wor, ei - woi, sk);
      }
    }
  }
}

// ---- synthesis ----------------------------------------------------------------------------------
static inline void load_bin(const SynthesisJob& J, const float* spec, int64_t k, int64_t t, int nv,
                            v8& re, v8& im) {
  const float* p = spec + 2 * (k * J.in_frames + t + J.col_offset);
  if (nv == kLanes) {
    load_deinterleaved(p, re, im);
  } else {
    re = splat(0.0f);
    im = splat(0.0f);
    for (int l = 0; l < nv; ++l) {
      re[l] = p[2 * l];
      im[l] = p[2 * l + 1];
    }
  }
  if (J.kind == kKindCompressed) {
    v8 g = pow_mag2(re, im, J.power_exp, split_hi(J.power_exp));
    re *= g;
    im *= g;
  }
}

static void synthesis(const SynthesisJob& J, const float* spec, float* ola, int64_t o0, int64_t o1,
                      float* scratch) {
  const int64_t N = J.n_fft, M = N / 2, hop = J.hop;
  const RealFftPlan& P = *J.plan;
  v8* b0r = reinterpret_cast<v8*>(scratch);
  v8* b0i = b0r + (M + 1);
  v8* b1r = b0i + (M + 1);
  v8* b1i = b1r + (M + 1);
  float* rows = reinterpret_cast<float*>(b1i + (M + 1));
  const int64_t rstride = N + 8;
  if (!J.accumulate) std::memset(ola, 0, sizeof(float) * (o1 - o0));
  // frames overlapping [o0, o1)
  int64_t tlo = o0 - N < 0 ? 0 : (o0 - N) / hop + 1;
  int64_t thi = (o1 + hop - 1) / hop;
  if (thi > J.n_frames) thi = J.n_frames;
  const float* w = J.window;
  const float fscale = J.scale / float(M);
  const int64_t N8 = N & ~int64_t(7);

  for (int64_t t = tlo; t < thi; t += kLanes) {
    const int nv = int(thi - t < kLanes ? thi - t : kLanes);
    v8 *zr = b0r, *zi = b0i, *yr = b1r, *yi = b1i;
    // bins -> half-size complex spectrum Z (stored swapped: inverse via the forward FFT)
    {
      v8 x0r, x0i, xmr, xmi;
      load_bin(J, spec, 0, t, nv, x0r, x0i);
      load_bin(J, spec, M, t, nv, xmr, xmi);
      x0r *= J.edge_mul;
      xmr *= J.edge_mul;
      // Z0 = E + iO, E = (X0+XM)/2, O = (X0-XM)/2 (real parts only)
      zi[0] = 0.5f * (x0r + xmr);  // swapped: re part goes to zi
      zr[0] = 0.5f * (x0r - xmr);
    }
    for (int64_t k = 1; k <= M - k; ++k) {
      v8 ar, ai, br, bi;
      load_bin(J, spec, k, t, nv, ar, ai);
      load_bin(J, spec, M - k, t, nv, br, bi);
      bi = -bi;  // B = conj(X[M-k])
      const v8 er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);
      const v8 dr = 0.5f * (ar - br), di = 0.5f * (ai - bi);
      const float wr = P.rtw[2 * k], wi = -P.rtw[2 * k + 1];  // conj(W^k)
      const v8 orr = dr * wr - di * wi, oi = dr * wi + di * wr;
      // Z[k] = E + iO = (er - oi, ei + orr); Z[M-k] = conj(E) + i conj(O) = (er + oi, orr - ei)
      zi[k] = er - oi;
      zr[k] = ei + orr;
      if (k != M - k) {
        zi[M - k] = er + oi;
        zr[M - k] = orr - ei;
      }
    }
    fft_lanes(P.half, zr, zi, yr, yi);
    // result is swapped: z_re = zi, z_im = zr; x[2n] = z_re[n], x[2n+1] = z_im[n].
    // Windowed frames are transposed into rows first, then overlap-added frame by frame, so
    // every output sample sums its frames in frame order whatever the grouping.
    for (int64_t n0 = 0; n0 < N8; n0 += 8) {
      v8 r[8];
      for (int j = 0; j < 8; j += 2) {
        r[j] = zi[(n0 + j) / 2] * (fscale * w[n0 + j]);
        r[j + 1] = zr[(n0 + j) / 2] * (fscale * w[n0 + j + 1]);
      }
      transpose8(r);  // r[l] = samples n0..n0+7 of frame t+l
      for (int l = 0; l < nv; ++l) storeu(rows + l * rstride + n0, r[l]);
    }
    for (int64_t n = N8; n < N; ++n) {
      const v8 v = (n & 1) ? zr[n / 2] : zi[n / 2];
      for (int l = 0; l < nv; ++l) rows[l * rstride + n] = v[l] * (fscale * w[n]);
    }
    for (int l = 0; l < nv; ++l) {
      const float* row = rows + l * rstride;
      const int64_t pos = (t + l) * hop - o0;  // ola index of the frame's first sample
      const int64_t a = pos < 0 ? -pos : 0;
      const int64_t b = N < (o1 - o0) - pos ? N : (o1 - o0) - pos;
      int64_t n = a;
      for (; n + 8 <= b; n += 8) storeu(ola + pos + n, loadu(ola + pos + n) + loadu(row + n));
      for (; n < b; ++n) ola[pos + n] += row[n];
    }
  }
}

// ---- one frame at a time (streams) --------------------------------------------------------------
static inline v8 reverse8(v8 a) {
#if defined(__AVX2__)
  return (v8)_mm256_permutevar8x32_ps((__m256)a, _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0));
#else
  v8 r;
  for (int j = 0; j < 8; ++j) r[j] = a[7 - j];
  return r;
#endif
}

// forward 4-point DFT of (r[i], im[i]) i = 0..3 into (or[k], oi[k])
static inline void dft4v(const v8* r, const v8* im, v8* orr, v8* oi) {
  v8 t0r = r[0] + r[2], t0i = im[0] + im[2];
  v8 t1r = r[0] - r[2], t1i = im[0] - im[2];
  v8 t2r = r[1] + r[3], t2i = im[1] + im[3];
  v8 t3r = im[1] - im[3], t3i = r[3] - r[1];  // -i (a1 - a3)
  orr[0] = t0r + t2r; oi[0] = t0i + t2i;
  orr[1] = t1r + t3r; oi[1] = t1i + t3i;
  orr[2] = t0r - t2r; oi[2] = t0i - t2i;
  orr[3] = t1r - t3r; oi[3] = t1i - t3i;
}

// forward 8-point DFT across the eight vectors (lane-parallel), in place
static inline void dft8v(v8* ar, v8* ai) {
  const float c = 0.707106781186547524f;
  v8 sr[4], si[4], dr[4], di[4];
  for (int j = 0; j < 4; ++j) {
    sr[j] = ar[j] + ar[j + 4];
    si[j] = ai[j] + ai[j + 4];
    dr[j] = ar[j] - ar[j + 4];
    di[j] = ai[j] - ai[j + 4];
  }
  {  // d1 *= (c, -c)
    v8 r = dr[1], i = di[1];
    dr[1] = c * (r + i);
    di[1] = c * (i - r);
  }
  {  // d2 *= -i
    v8 r = dr[2];
    dr[2] = di[2];
    di[2] = -r;
  }
  {  // d3 *= (-c, -c)
    v8 r = dr[3], i = di[3];
    dr[3] = c * (i - r);
    di[3] = -c * (r + i);
  }
  v8 er[4], ei[4], orr[4], oi[4];
  dft4v(sr, si, er, ei);
  dft4v(dr, di, orr, oi);
  for (int k = 0; k < 4; ++k) {
    ar[2 * k] = er[k];
    ai[2 * k] = ei[k];
    ar[2 * k + 1] = orr[k];
    ai[2 * k + 1] = oi[k];
  }
}

// Complex FFT of size m = 8p of one sequence; load(n, re, im) gives elements n..n+7. The result
// is written to the split arrays xr, xi (m floats each).
template <class Load>
static inline void single_fft(const RealFftPlan& R, Load load, v8* br, v8* bi, v8* tr, v8* ti,
                              float* xr, float* xi) {
  const int64_t p = R.sub.m;
  for (int64_t m0 = 0; m0 < p; m0 += 8) {
    const int64_t mb = m0 + 8 > p ? p - 8 : m0;  // the last block overlaps: same values again
    v8 ar[8], ai[8];
    for (int l = 0; l < 8; ++l) load(mb + p * l, ar[l], ai[l]);
    dft8v(ar, ai);
    for (int k1 = 1; k1 < 8; ++k1) {
      const v8 wr = loadu(R.stw_re + k1 * p + mb), wi = loadu(R.stw_im + k1 * p + mb);
      const v8 r = ar[k1] * wr - ai[k1] * wi;
      ai[k1] = ar[k1] * wi + ai[k1] * wr;
      ar[k1] = r;
    }
    transpose8(ar);
    transpose8(ai);
    for (int j = 0; j < 8; ++j) {
      br[mb + j] = ar[j];
      bi[mb + j] = ai[j];
    }
  }
  v8 *yr = br, *yi = bi, *zr = tr, *zi = ti;
  fft_lanes(R.sub, yr, yi, zr, zi);
  for (int64_t k2 = 0; k2 < p; ++k2) {
    storeu(xr + 8 * k2, yr[k2]);
    storeu(xi + 8 * k2, yi[k2]);
  }
}

// Scratch of the one-frame kernels: the lane FFT's buffers (p vectors each), the half-size
// spectrum (split re/im), then room for the kernel's own arrays.
struct SingleScratch {
  v8 *br, *bi, *tr, *ti;
  float *xr, *xi, *rest;
  SingleScratch(float* scratch, int64_t p, int64_t m) {
    br = reinterpret_cast<v8*>(scratch);
    bi = br + p;
    tr = bi + p;
    ti = tr + p;
    xr = reinterpret_cast<float*>(ti + p);
    xi = xr + m + 8;
    rest = xi + m + 8;
  }
};

static void analysis1(const AnalysisJob& J, const float* frame, float* out, int64_t col,
                      float* scratch) {
  const RealFftPlan& R = *J.plan;
  const int64_t N = J.n_fft, M = N / 2;
  SingleScratch S(scratch, R.sub.m, M);
  v8 *br = S.br, *bi = S.bi, *tr = S.tr, *ti = S.ti;
  float *xr = S.xr, *xi = S.xi;
  const float* we = J.window_even;
  const float* wo = J.window_odd;
  single_fft(
      R,
      [&](int64_t n, v8& re, v8& im) {
        load_deinterleaved(frame + 2 * n, re, im);
        re *= loadu(we + n);
        im *= loadu(wo + n);
      },
      br, bi, tr, ti, xr, xi);
  // split the half-size spectrum into real-spectrum bins 0..M (contiguous in sr, si)
  float* sr = S.rest;
  float* si = sr + M + 16;
  sr[0] = xr[0] + xi[0];
  si[0] = 0.0f;
  sr[M] = xr[0] - xi[0];
  si[M] = 0.0f;
  const int64_t half = M / 2;
  for (int64_t k0 = 1; k0 <= half; k0 += 8) {
    const int64_t kb = k0 + 7 > half ? half - 7 : k0;  // the last block overlaps
    const v8 a = loadu(xr + kb), b = loadu(xi + kb);
    const v8 c = reverse8(loadu(xr + M - kb - 7)), d = reverse8(loadu(xi + M - kb - 7));
    v8 wr, wi;
    load_deinterleaved(R.rtw + 2 * kb, wr, wi);
    const v8 er = 0.5f * (a + c), ei = 0.5f * (b - d);
    const v8 orr = 0.5f * (b + d), oi = 0.5f * (c - a);
    const v8 wor = orr * wr - oi * wi, woi = orr * wi + oi * wr;
    storeu(sr + kb, er + wor);
    storeu(si + kb, ei + woi);
    storeu(sr + M - kb - 7, reverse8(er - wor));
    storeu(si + M - kb - 7, reverse8(woi - ei));
  }
  // post-op on whole vectors of bins, then store the column
  const int64_t F = J.out_frames, nb = M + 1;
  const float sc = J.scale_interior, se = J.scale_edge;
  for (int64_t k0 = 0; k0 < nb; k0 += 8) {
    v8 re = loadu(sr + k0) * sc, im = loadu(si + k0) * sc;
    if (k0 == 0) {
      re[0] = sr[0] * se;
      im[0] = 0.0f;
    }
    if (k0 <= M && M < k0 + 8) {
      re[M - k0] = sr[M] * se;
      im[M - k0] = 0.0f;
    }
    const int nv = int(nb - k0 < 8 ? nb - k0 : 8);
    if (J.kind == kKindMagnitude) {
      const v8 mag = vsqrt(re * re + im * im);
      if (F == 1 && nv == 8) {
        storeu(out + k0 + col, mag);
      } else {
        float tmp[8];
        storeu(tmp, mag);
        for (int j = 0; j < nv; ++j) out[(k0 + j) * F + col] = tmp[j];
      }
      if (!J.onesided)
        for (int j = 0; j < nv; ++j)
          if (k0 + j > 0 && k0 + j < M) out[(N - k0 - j) * F + col] = mag[j];
      continue;
    }
    if (J.kind == kKindCompressed) {
      const v8 g = pow_mag2(re, im, J.power_exp, split_hi(J.power_exp));
      re *= g;
      im *= g;
    }
    float tmp[16];
    if (F == 1 && nv == 8) {
      store_interleaved(out + 2 * (k0 + col), re, im);
    } else {
      store_interleaved(tmp, re, im);
      for (int j = 0; j < nv; ++j) {
        float* q = out + 2 * ((k0 + j) * F + col);
        q[0] = tmp[2 * j];
        q[1] = tmp[2 * j + 1];
      }
    }
    if (!J.onesided)
      for (int j = 0; j < nv; ++j)
        if (k0 + j > 0 && k0 + j < M) {
          float* q = out + 2 * ((N - k0 - j) * F + col);
          q[0] = re[j];
          q[1] = -im[j];
        }
  }
}

static void synthesis1(const SynthesisJob& J, const float* spec, int64_t col, float* ola,
                       float* scratch) {
  const RealFftPlan& R = *J.plan;
  const int64_t N = J.n_fft, M = N / 2, F = J.in_frames;
  SingleScratch S(scratch, R.sub.m, M);
  v8 *br = S.br, *bi = S.bi, *tr = S.tr, *ti = S.ti;
  float *xr = S.xr, *xi = S.xi;
  float* zr = S.rest;  // swap(Z): the inverse FFT through the forward one
  float* zi = zr + M + 8;
  auto bins = [&](int64_t k0, int64_t dir, v8& re, v8& im) {
    for (int j = 0; j < 8; ++j) {
      const float* q = spec + 2 * ((k0 + dir * j) * F + col);
      re[j] = q[0];
      im[j] = q[1];
    }
    if (J.kind == kKindCompressed) {
      const v8 g = pow_mag2(re, im, J.power_exp, split_hi(J.power_exp));
      re *= g;
      im *= g;
    }
  };
  {
    v8 x0r, x0i, xmr, xmi;
    bins(0, 0, x0r, x0i);  // lane 0 is bin 0 (all lanes hold it)
    bins(M, 0, xmr, xmi);
    const float e0 = J.edge_mul * x0r[0], em = J.edge_mul * xmr[0];
    zi[0] = 0.5f * (e0 + em);
    zr[0] = 0.5f * (e0 - em);
  }
  const int64_t half = M / 2;
  for (int64_t k0 = 1; k0 <= half; k0 += 8) {
    const int64_t kb = k0 + 7 > half ? half - 7 : k0;
    v8 ar, ai, br_, bi_;
    bins(kb, 1, ar, ai);
    bins(M - kb, -1, br_, bi_);
    bi_ = -bi_;  // B = conj(X[M-k])
    const v8 er = 0.5f * (ar + br_), ei = 0.5f * (ai + bi_);
    const v8 dr = 0.5f * (ar - br_), di = 0.5f * (ai - bi_);
    v8 wr, wi;
    load_deinterleaved(R.rtw + 2 * kb, wr, wi);
    wi = -wi;  // conj(W^k)
    const v8 orr = dr * wr - di * wi, oi = dr * wi + di * wr;
    storeu(zi + kb, er - oi);
    storeu(zr + kb, ei + orr);
    storeu(zi + M - kb - 7, reverse8(er + oi));
    storeu(zr + M - kb - 7, reverse8(orr - ei));
  }
  single_fft(
      R,
      [&](int64_t n, v8& re, v8& im) {
        re = loadu(zr + n);
        im = loadu(zi + n);
      },
      br, bi, tr, ti, xr, xi);
  // swapped result: z_re = xi, z_im = xr; frame x[2n] = z_re[n], x[2n+1] = z_im[n]
  const float fscale = J.scale / float(M);
  const float* w = J.window;
  for (int64_t n = 0; n < M; n += 8) {
    float q[16];
    store_interleaved(q, loadu(xi + n), loadu(xr + n));
    const v8 lo = loadu(q) * (loadu(w + 2 * n) * fscale);
    const v8 hi = loadu(q + 8) * (loadu(w + 2 * n + 8) * fscale);
    storeu(ola + 2 * n, loadu(ola + 2 * n) + lo);
    storeu(ola + 2 * n + 8, loadu(ola + 2 * n + 8) + hi);
  }
}

static bool all_finite(const float* x, int64_t n) {
  v8i acc = splat_i(0);
  const v8i expo = splat_i(0x7f800000);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc |= (((v8i)loadu(x + i) & expo) == expo);
  bool ok = true;
  for (int l = 0; l < 8; ++l) ok = ok && acc[l] == 0;
  for (; i < n; ++i) ok = ok && std::isfinite(x[i]);
  return ok;
}

static const ArchKernels kKernels = {HB_ARCH_NAME, &analysis, &synthesis, &all_finite,
                                     {&analysis1, &synthesis1}};

}  // namespace HB_ARCH
}  // namespace detail
}  // namespace hb
