// 8-float vectors for the per-ISA kernels (GCC vector extension: AVX registers with FMA when
// compiled with -mavx2 -mfma, pairs of SSE registers on the portable path) and float32 vector
// math: exp, sigmoid and tanh to a few ulp (max relative error 1.5e-7 sigmoid, 2.7e-7 tanh with
// FMA, 3.3e-7 without), NaN propagating as in torch.
//
// Include it INSIDE the per-ISA namespace (hb::detail::HB_ARCH, anonymous) of a *_simd_impl.h,
// after <cstdint> and <cstring>: every TU then has its own internal copy compiled with its own
// flags, and the copies share no symbol.

typedef float fv8 __attribute__((vector_size(32)));
typedef int32_t iv8 __attribute__((vector_size(32)));

inline fv8 splat(float a) { return fv8{a, a, a, a, a, a, a, a}; }
inline iv8 isplat(int32_t a) { return iv8{a, a, a, a, a, a, a, a}; }
inline fv8 load(const float* p) {
  fv8 r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
inline void store(float* p, fv8 v) { std::memcpy(p, &v, sizeof v); }
// The first n (<= 8) lanes from / to memory; the other lanes load as zero and are not stored.
inline fv8 load_n(const float* p, int n) {
  if (n == 8) return load(p);
  float t[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  for (int j = 0; j < n; ++j) t[j] = p[j];
  return load(t);
}
inline void store_n(float* p, fv8 v, int n) {
  if (n == 8) {
    store(p, v);
    return;
  }
  float t[8];
  store(t, v);
  for (int j = 0; j < n; ++j) p[j] = t[j];
}

#ifdef __AVX__
inline iv8 lt(fv8 a, fv8 b) { return a < b; }
inline fv8 select(iv8 m, fv8 a, fv8 b) { return m ? a : b; }
#else
// Without AVX, GCC scalarises comparisons (and ?:) of 8-float vectors: compare the two halves,
// select with bit operations.
typedef float fv4 __attribute__((vector_size(16)));
typedef int32_t iv4 __attribute__((vector_size(16)));
union F8 {
  fv8 v;
  fv4 h[2];
};
union I8 {
  iv8 v;
  iv4 h[2];
};
inline iv8 lt(fv8 a, fv8 b) {
  F8 x{a}, y{b};
  I8 r;
  r.h[0] = x.h[0] < y.h[0];
  r.h[1] = x.h[1] < y.h[1];
  return r.v;
}
inline fv8 select(iv8 m, fv8 a, fv8 b) { return (fv8)((m & (iv8)a) | (~m & (iv8)b)); }
#endif
// min / max that keep a NaN in a (the clamps below then let NaN through, as torch does)
inline fv8 vmin(fv8 a, fv8 b) { return select(lt(b, a), b, a); }
inline fv8 vmax(fv8 a, fv8 b) { return select(lt(a, b), b, a); }
inline fv8 vabs(fv8 a) { return (fv8)((iv8)a & isplat(0x7fffffff)); }

// exp(x) = 2^n * e^r for x = n ln2 + r, |r| <= ln2/2 (Cephes expf: two-constant reduction,
// degree-6 polynomial for e^r). x must lie in [-87.33, 88.37] (or be NaN: NaN comes out), so
// that 2^n, built in the exponent bits, is a normal number.
inline fv8 exp_core(fv8 x) {
  const fv8 magic = splat(12582912.f);  // 1.5 * 2^23: adding it rounds to an integer
  const fv8 t = x * splat(1.44269504088896341f) + magic;
  const fv8 n = t - magic;
  fv8 r = x - n * splat(0.693359375f);
  r = r - n * splat(-2.12194440e-4f);
  fv8 p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  p = p * (r * r) + r + splat(1.f);
  // the low bits of t hold n (magic's own bits shift out): 2^n = (n + 127) << 23
  return p * (fv8)(((iv8)t << 23) + isplat(127 << 23));
}

// sigmoid(x) = 1 / (1 + exp(-x)); exp(-x) saturates at 2.4e38 for x < -88.37 (result 4e-39).
inline fv8 vsigmoid(fv8 x) {
  const fv8 e = exp_core(vmax(vmin(-x, splat(88.3762626647949f)), splat(-87.3365447505531f)));
  return splat(1.f) / (splat(1.f) + e);
}

// tanh: Eigen's rational approximation x P(x^2) / Q(x^2) (degrees 13 / 6) on x clamped to
// +-7.905 (where tanh rounds to +-1), x itself for |x| < 4e-4 (tanh(x) = x to float precision;
// avoids underflow in x^2).
inline fv8 vtanh(fv8 x) {
  const fv8 xc = vmax(vmin(x, splat(7.90531110763549805f)), splat(-7.90531110763549805f));
  const fv8 s = xc * xc;
  fv8 p = splat(-2.76076847742355e-16f);
  p = p * s + splat(2.00018790482477e-13f);
  p = p * s + splat(-8.60467152213735e-11f);
  p = p * s + splat(5.12229709037114e-08f);
  p = p * s + splat(1.48572235717979e-05f);
  p = p * s + splat(6.37261928875436e-04f);
  p = p * s + splat(4.89352455891786e-03f);
  fv8 q = splat(1.19825839466702e-06f);
  q = q * s + splat(1.18534705686654e-04f);
  q = q * s + splat(2.26843463243900e-03f);
  q = q * s + splat(4.89352518554385e-03f);
  return select(lt(vabs(x), splat(4e-4f)), x, xc * p / q);
}

// LSTM gate activations in place on R rows x P panels of accumulators (i, f, o: sigmoid; g:
// tanh), in stages over all R*P groups (independent short chains that the CPU overlaps).
template <int R, int P>
inline void lstm_activate(fv8 (&acc)[R][P][4]) {
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
      acc[r][p][0] = vsigmoid(acc[r][p][0]);
      acc[r][p][1] = vsigmoid(acc[r][p][1]);
      acc[r][p][2] = vtanh(acc[r][p][2]);
      acc[r][p][3] = vsigmoid(acc[r][p][3]);
    }
}
