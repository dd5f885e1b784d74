// hushboard — band-split and band-mask layers of BSRNN (band-split dual-path RNN).
//
// Bands k = 0..K-1 have unequal widths d_k and offsets o_k = d_0 + ... + d_{k-1}.
// LayerNorm: LN(v) = (v - mean(v)) / sqrt(var_biased(v) + eps) * gamma + beta.
//
// Band split (D = sum d_k inputs per row, N features per band):
//   y[s, k, :] = W[:, o_k:o_k+d_k] . LN_k(x[s, o_k:o_k+d_k]) + bias[k]
//   with LN_k over the band's d_k features and gamma/beta[o_k:o_k+d_k].
// Band mask (N features per band in, Dout = sum d_k outputs per row, hidden width Hm,
// m = 2 with GLU else 1, p_k the output offsets):
//   z = LN(x[s, k, :]) (gamma[k], beta[k]);  u = tanh(w1[k] . z + b1[k]);
//   v = w2[m*p_k : m*(p_k+d_k)] . u + b2[m*p_k : m*(p_k+d_k)];
//   GLU: y[s, p_k:p_k+d_k] = v[:d_k] * sigmoid(v[d_k:]);  else tanh(v).
//
// Plans pack their weights once (the split and the mask's first layer transposed, so that the
// outputs are the SIMD lanes, in cache-friendly column strips; the mask's second layer, a long
// sum into few outputs per band, as zero-padded rows reduced over the lanes) and run rows in
// register blocks of up to four (each weight load feeds every row of the block), band by band
// over chunks of 32 rows. A single row (streaming) is bound by streaming the weights from cache
// (about 2.6 MB for the mask at K = 31, N = 64, Hm = 256). The float32 kernels use the AVX2/FMA
// path when the CPU has it (see set_simd_enabled), with a vector tanh / sigmoid accurate to a
// few float32 ulps (band_tanh / band_sigmoid). A row's result does not depend on S or on the
// rows computed with it (bit for bit), so the streaming engine matches the offline op and
// splitting rows over threads changes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace hb {

namespace detail {
struct BandSplitData;
struct BandMaskData;
}  // namespace detail

// Per-band LayerNorm over the band's d_k inputs, then the band's linear map to N outputs.
class BandSplitPlan {
 public:
  // gamma, beta: (D); weight: (N, D) row-major; bias: (K, N). Copied/packed; pointers need not
  // outlive the plan. Throws ValueError on empty/non-positive dims, negative or non-finite eps,
  // or non-finite weights.
  BandSplitPlan(const std::vector<int64_t>& band_dims, int64_t n_out, const float* gamma,
                const float* beta, const float* weight, const float* bias, float eps);
  ~BandSplitPlan();
  BandSplitPlan(BandSplitPlan&&) noexcept;
  BandSplitPlan& operator=(BandSplitPlan&&) noexcept;

  int64_t num_bands() const;
  int64_t in_features() const;   // D
  int64_t out_features() const;  // N
  // Scratch floats forward() needs (independent of S; S is accepted for API symmetry).
  int64_t workspace_floats(int64_t S) const;
  // x: S rows of D floats, row stride ldx (>= D); y: (S, K, N) contiguous. No allocation; one
  // thread.
  void forward(const float* x, int64_t S, int64_t ldx, float* y, float* workspace) const;
  // Convenience: splits the rows over up to n_threads threads (hb's pool), each with its own
  // scratch (allocated here); the result equals forward()'s bit for bit.
  void forward_threaded(const float* x, int64_t S, int64_t ldx, float* y, int n_threads) const;

 private:
  std::unique_ptr<detail::BandSplitData> d_;
};

class BandMaskPlan {
 public:
  // gamma, beta: (K, N); w1: (K, Hm, N); b1: (K, Hm); w2: (m*Dout, Hm); b2: (m*Dout).
  // Throws ValueError on empty/non-positive dims, negative or non-finite eps, or non-finite
  // weights.
  BandMaskPlan(const std::vector<int64_t>& out_dims, int64_t n_in, int64_t hidden, bool glu,
               const float* gamma, const float* beta, const float* w1, const float* b1,
               const float* w2, const float* b2, float eps);
  ~BandMaskPlan();
  BandMaskPlan(BandMaskPlan&&) noexcept;
  BandMaskPlan& operator=(BandMaskPlan&&) noexcept;

  int64_t num_bands() const;
  int64_t in_features() const;   // N (per band)
  int64_t hidden() const;        // Hm
  bool glu() const;
  int64_t out_features() const;  // Dout
  // Scratch floats forward() needs (independent of S).
  int64_t workspace_floats(int64_t S) const;
  // x: (S, K, N) contiguous; y: S rows of Dout floats, row stride ldy (>= Dout). No allocation;
  // one thread.
  void forward(const float* x, int64_t S, float* y, int64_t ldy, float* workspace) const;
  // Rows split over up to n_threads threads, as BandSplitPlan::forward_threaded.
  void forward_threaded(const float* x, int64_t S, float* y, int64_t ldy, int n_threads) const;

 private:
  std::unique_ptr<detail::BandMaskData> d_;
};

// The vector tanh / logistic sigmoid the kernels use (active SIMD path), elementwise over n
// floats (y may alias x).
void band_tanh(const float* x, int64_t n, float* y);
void band_sigmoid(const float* x, int64_t n, float* y);

// Scalar references (direct loops, no packing): the C++ truth for the plans. Same layouts as
// the plans' forward(); ldx / ldy as there.
void band_split_reference(const std::vector<int64_t>& band_dims, int64_t n_out,
                          const double* gamma, const double* beta, const double* weight,
                          const double* bias, double eps, const double* x, int64_t S,
                          int64_t ldx, double* y);
void band_mask_reference(const std::vector<int64_t>& out_dims, int64_t n_in, int64_t hidden,
                         bool glu, const double* gamma, const double* beta, const double* w1,
                         const double* b1, const double* w2, const double* b2, double eps,
                         const double* x, int64_t S, double* y, int64_t ldy);

}  // namespace hb
