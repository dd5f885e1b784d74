// hushboard — fused complex 2-D convolution and transposed convolution (DCCRN layout).
//
// A complex feature map is stored stacked: (B, 2*C, F, T), channels [0, C) the real parts and
// [C, 2C) the imaginary parts. With W = Wr + i*Wi:
//   real = Wr*Xr - Wi*Xi + br,   imag = Wr*Xi + Wi*Xr + bi.
// The float32 kernels use the 3-multiplication (Gauss) form as indirect GEMMs over a rearranged
// copy of the input (no im2col):
//   k1 = Wr.(Xr + Xi),  real = k1 - (Wr + Wi).Xi,  imag = k1 + (Wi - Wr).Xr
// with the weight-side sums formed once per plan and the input-side sum once per call.
//
// Conventions (torch's):
//   conv:      weights (Cout, Cin, kF, kT); zero padding pad_* = (f_low, f_high, t_past,
//              t_future); causal in time: t_past = dT*(kT-1), t_future = 0.
//              Fo = (F + f_low + f_high - dF*(kF-1) - 1) / sF + 1   (likewise To).
//   transpose: weights (Cin, Cout, kF, kT); pad_* = amounts cropped from each end of the full
//              transposed output (torch's symmetric padding p is (p, p)); causal in time:
//              t_begin = 0, t_end = dT*(kT-1). output_padding in [0, max(stride, dilation)).
//              Fo = (F-1)*sF - f_low - f_high + dF*(kF-1) + output_padding_f + 1.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace hb {

struct ComplexConvParams {
  int64_t in_channels = 0;   // complex channels Cin (the input has 2*Cin real channels)
  int64_t out_channels = 0;  // complex channels Cout
  int64_t kernel_f = 1, kernel_t = 1;
  int64_t stride_f = 1, stride_t = 1;
  int64_t dilation_f = 1, dilation_t = 1;
  // conv: zero padding; transpose: crop (see above)
  int64_t pad_f_low = 0, pad_f_high = 0, pad_t_low = 0, pad_t_high = 0;
  int64_t output_padding_f = 0, output_padding_t = 0;  // transpose only
};

// Throws hb::ValueError (naming the parameter) for non-positive channels / kernel / stride /
// dilation, negative padding, bad output_padding.
void complex_conv_check_params(const ComplexConvParams& p, bool transposed);
// Output size along F / T (may be <= 0 for too small inputs; the kernels reject that).
int64_t complex_conv_out_f(const ComplexConvParams& p, bool transposed, int64_t F);
int64_t complex_conv_out_t(const ComplexConvParams& p, bool transposed, int64_t T);

namespace detail {
struct ComplexConvEngine;
}

// A convolution with its weights packed once. forward() allocates nothing: the caller passes
// workspace_floats(...) floats of scratch (any alignment). n_threads > 1 splits the work over
// batch x column tiles on hb's thread pool (the workspace must then be sized for the same
// n_threads); n_threads = 1 runs on the caller's thread only. workspace_floats() never shrinks
// as F or T grow, so a workspace sized for the largest T serves every smaller one. An output
// column's value does not depend on T (the streaming case, B = 1, T = 2, equals the matching
// column of a longer call bit for bit).
// x: (B, 2*Cin, F, T), y: (B, 2*Cout, Fo, To), both contiguous float32.
class ComplexConv2dPlan {
 public:
  // br / bi may be null (no bias). Weights are copied (packed); the pointers need not outlive
  // the plan.
  ComplexConv2dPlan(const ComplexConvParams& p, const float* wr, const float* wi,
                    const float* br, const float* bi);
  ~ComplexConv2dPlan();
  ComplexConv2dPlan(ComplexConv2dPlan&&) noexcept;
  ComplexConv2dPlan& operator=(ComplexConv2dPlan&&) noexcept;

  const ComplexConvParams& params() const;
  int64_t out_f(int64_t F) const;
  int64_t out_t(int64_t T) const;
  int64_t workspace_floats(int64_t B, int64_t F, int64_t T, int n_threads = 1) const;
  void forward(const float* x, int64_t B, int64_t F, int64_t T, float* y, float* workspace,
               int n_threads = 1) const;
  // Convenience: allocates its workspace and uses get_num_threads() threads for large problems.
  void forward(const float* x, int64_t B, int64_t F, int64_t T, float* y) const;

 private:
  std::unique_ptr<detail::ComplexConvEngine> e_;
};

// The same for the transposed convolution (weights (Cin, Cout, kF, kT)). It runs as one
// stride-1 convolution per output phase (polyphase: no multiplications by inserted zeros).
class ComplexConvTranspose2dPlan {
 public:
  ComplexConvTranspose2dPlan(const ComplexConvParams& p, const float* wr, const float* wi,
                             const float* br, const float* bi);
  ~ComplexConvTranspose2dPlan();
  ComplexConvTranspose2dPlan(ComplexConvTranspose2dPlan&&) noexcept;
  ComplexConvTranspose2dPlan& operator=(ComplexConvTranspose2dPlan&&) noexcept;

  const ComplexConvParams& params() const;
  int64_t out_f(int64_t F) const;
  int64_t out_t(int64_t T) const;
  int64_t workspace_floats(int64_t B, int64_t F, int64_t T, int n_threads = 1) const;
  void forward(const float* x, int64_t B, int64_t F, int64_t T, float* y, float* workspace,
               int n_threads = 1) const;
  void forward(const float* x, int64_t B, int64_t F, int64_t T, float* y) const;

 private:
  std::unique_ptr<detail::ComplexConvEngine> e_;
};

// One-shot forms (plan + workspace per call; threaded for large problems). float32 runs the
// fused SIMD kernels, float64 the scalar reference.
void complex_conv2d_forward_cpu(const float* x, int64_t B, int64_t F, int64_t T, const float* wr,
                                const float* wi, const float* br, const float* bi, float* y,
                                const ComplexConvParams& p);
void complex_conv2d_forward_cpu(const double* x, int64_t B, int64_t F, int64_t T,
                                const double* wr, const double* wi, const double* br,
                                const double* bi, double* y, const ComplexConvParams& p);
void complex_conv_transpose2d_forward_cpu(const float* x, int64_t B, int64_t F, int64_t T,
                                          const float* wr, const float* wi, const float* br,
                                          const float* bi, float* y, const ComplexConvParams& p);
void complex_conv_transpose2d_forward_cpu(const double* x, int64_t B, int64_t F, int64_t T,
                                          const double* wr, const double* wi, const double* br,
                                          const double* bi, double* y,
                                          const ComplexConvParams& p);

// Scalar references (four real products, direct loops): the C++ truth for the fused kernels.
void complex_conv2d_reference(const float* x, int64_t B, int64_t F, int64_t T, const float* wr,
                              const float* wi, const float* br, const float* bi, float* y,
                              const ComplexConvParams& p);
void complex_conv2d_reference(const double* x, int64_t B, int64_t F, int64_t T,
                              const double* wr, const double* wi, const double* br,
                              const double* bi, double* y, const ComplexConvParams& p);
void complex_conv_transpose2d_reference(const float* x, int64_t B, int64_t F, int64_t T,
                                        const float* wr, const float* wi, const float* br,
                                        const float* bi, float* y, const ComplexConvParams& p);
void complex_conv_transpose2d_reference(const double* x, int64_t B, int64_t F, int64_t T,
                                        const double* wr, const double* wi, const double* br,
                                        const double* bi, double* y, const ComplexConvParams& p);

}  // namespace hb
