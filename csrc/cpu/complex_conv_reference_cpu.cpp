// Parameter checks, output sizes and the scalar references of the complex convolutions (four
// real products by direct loops, accumulated in the input precision). The float64 forms also
// serve float64 inputs of the one-shot entry points.
#include <algorithm>
#include <string>

#include "hushboard/common.h"
#include "hushboard/complex_conv.h"

namespace hb {

namespace {
std::string s(int64_t v) { return std::to_string(v); }
}  // namespace

void complex_conv_check_params(const ComplexConvParams& p, bool transposed) {
  HB_CHECK(p.in_channels >= 1, "in_channels must be >= 1 (got " + s(p.in_channels) + ")");
  HB_CHECK(p.out_channels >= 1, "out_channels must be >= 1 (got " + s(p.out_channels) + ")");
  HB_CHECK(p.kernel_f >= 1 && p.kernel_t >= 1, "kernel_size must be positive (got (" +
                                                   s(p.kernel_f) + ", " + s(p.kernel_t) + "))");
  HB_CHECK(p.stride_f >= 1 && p.stride_t >= 1,
           "stride must be positive (got (" + s(p.stride_f) + ", " + s(p.stride_t) + "))");
  HB_CHECK(p.dilation_f >= 1 && p.dilation_t >= 1, "dilation must be positive (got (" +
                                                       s(p.dilation_f) + ", " +
                                                       s(p.dilation_t) + "))");
  HB_CHECK(p.pad_f_low >= 0 && p.pad_f_high >= 0 && p.pad_t_low >= 0 && p.pad_t_high >= 0,
           "padding must be non-negative (got (" + s(p.pad_f_low) + ", " + s(p.pad_f_high) +
               ", " + s(p.pad_t_low) + ", " + s(p.pad_t_high) + "))");
  if (transposed) {
    HB_CHECK(p.output_padding_f >= 0 &&
                 p.output_padding_f < std::max(p.stride_f, p.dilation_f) &&
                 p.output_padding_t >= 0 &&
                 p.output_padding_t < std::max(p.stride_t, p.dilation_t),
             "output_padding must be in [0, max(stride, dilation)) per dimension (got (" +
                 s(p.output_padding_f) + ", " + s(p.output_padding_t) + "))");
  } else {
    HB_CHECK(p.output_padding_f == 0 && p.output_padding_t == 0,
             "output_padding is only for the transposed convolution");
  }
}

int64_t complex_conv_out_f(const ComplexConvParams& p, bool transposed, int64_t F) {
  const int64_t span = p.dilation_f * (p.kernel_f - 1) + 1;
  if (transposed)
    return (F - 1) * p.stride_f - p.pad_f_low - p.pad_f_high + span + p.output_padding_f;
  const int64_t padded = F + p.pad_f_low + p.pad_f_high;
  return padded < span ? 0 : (padded - span) / p.stride_f + 1;
}

int64_t complex_conv_out_t(const ComplexConvParams& p, bool transposed, int64_t T) {
  const int64_t span = p.dilation_t * (p.kernel_t - 1) + 1;
  if (transposed)
    return (T - 1) * p.stride_t - p.pad_t_low - p.pad_t_high + span + p.output_padding_t;
  const int64_t padded = T + p.pad_t_low + p.pad_t_high;
  return padded < span ? 0 : (padded - span) / p.stride_t + 1;
}

namespace {

void check_shape(const ComplexConvParams& p, bool transposed, int64_t B, int64_t F, int64_t T) {
  complex_conv_check_params(p, transposed);
  HB_CHECK(B >= 1 && F >= 1 && T >= 1, "x must have non-empty batch, F and T (got B=" + s(B) +
                                           ", F=" + s(F) + ", T=" + s(T) + ")");
  const int64_t fo = complex_conv_out_f(p, transposed, F);
  const int64_t to = complex_conv_out_t(p, transposed, T);
  HB_CHECK(fo >= 1 && to >= 1, "output size must be positive (got (" + s(fo) + ", " + s(to) +
                                   ") for input (F=" + s(F) + ", T=" + s(T) + "))");
}

template <typename S>
void conv_ref(const S* x, int64_t B, int64_t F, int64_t T, const S* wr, const S* wi,
              const S* br, const S* bi, S* y, const ComplexConvParams& p) {
  check_shape(p, false, B, F, T);
  const int64_t Ci = p.in_channels, Co = p.out_channels, kF = p.kernel_f, kT = p.kernel_t;
  const int64_t Fo = complex_conv_out_f(p, false, F), To = complex_conv_out_t(p, false, T);
  for (int64_t b = 0; b < B; ++b) {
    const S* xb = x + b * 2 * Ci * F * T;
    S* yb = y + b * 2 * Co * Fo * To;
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t fo = 0; fo < Fo; ++fo)
        for (int64_t to = 0; to < To; ++to) {
          S re = br ? br[co] : S(0), im = bi ? bi[co] : S(0);
          for (int64_t ci = 0; ci < Ci; ++ci)
            for (int64_t kf = 0; kf < kF; ++kf) {
              const int64_t fi = fo * p.stride_f + kf * p.dilation_f - p.pad_f_low;
              if (fi < 0 || fi >= F) continue;
              for (int64_t kt = 0; kt < kT; ++kt) {
                const int64_t ti = to * p.stride_t + kt * p.dilation_t - p.pad_t_low;
                if (ti < 0 || ti >= T) continue;
                const S xr = xb[(ci * F + fi) * T + ti];
                const S xi = xb[((Ci + ci) * F + fi) * T + ti];
                const int64_t w = ((co * Ci + ci) * kF + kf) * kT + kt;
                re += wr[w] * xr - wi[w] * xi;
                im += wr[w] * xi + wi[w] * xr;
              }
            }
          yb[(co * Fo + fo) * To + to] = re;
          yb[((Co + co) * Fo + fo) * To + to] = im;
        }
  }
}

template <typename S>
void conv_transpose_ref(const S* x, int64_t B, int64_t F, int64_t T, const S* wr, const S* wi,
                        const S* br, const S* bi, S* y, const ComplexConvParams& p) {
  check_shape(p, true, B, F, T);
  const int64_t Ci = p.in_channels, Co = p.out_channels, kF = p.kernel_f, kT = p.kernel_t;
  const int64_t Fo = complex_conv_out_f(p, true, F), To = complex_conv_out_t(p, true, T);
  for (int64_t b = 0; b < B; ++b) {
    const S* xb = x + b * 2 * Ci * F * T;
    S* yb = y + b * 2 * Co * Fo * To;
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t i = 0; i < Fo * To; ++i) {
        yb[co * Fo * To + i] = br ? br[co] : S(0);
        yb[(Co + co) * Fo * To + i] = bi ? bi[co] : S(0);
      }
    // scatter every input sample through every tap into the cropped output
    for (int64_t ci = 0; ci < Ci; ++ci)
      for (int64_t fi = 0; fi < F; ++fi)
        for (int64_t ti = 0; ti < T; ++ti) {
          const S xr = xb[(ci * F + fi) * T + ti];
          const S xi = xb[((Ci + ci) * F + fi) * T + ti];
          for (int64_t co = 0; co < Co; ++co)
            for (int64_t kf = 0; kf < kF; ++kf) {
              const int64_t fo = fi * p.stride_f + kf * p.dilation_f - p.pad_f_low;
              if (fo < 0 || fo >= Fo) continue;
              for (int64_t kt = 0; kt < kT; ++kt) {
                const int64_t to = ti * p.stride_t + kt * p.dilation_t - p.pad_t_low;
                if (to < 0 || to >= To) continue;
                const int64_t w = ((ci * Co + co) * kF + kf) * kT + kt;
                yb[(co * Fo + fo) * To + to] += wr[w] * xr - wi[w] * xi;
                yb[((Co + co) * Fo + fo) * To + to] += wr[w] * xi + wi[w] * xr;
              }
            }
        }
  }
}

}  // namespace

void complex_conv2d_reference(const float* x, int64_t B, int64_t F, int64_t T, const float* wr,
                              const float* wi, const float* br, const float* bi, float* y,
                              const ComplexConvParams& p) {
  conv_ref(x, B, F, T, wr, wi, br, bi, y, p);
}
void complex_conv2d_reference(const double* x, int64_t B, int64_t F, int64_t T,
                              const double* wr, const double* wi, const double* br,
                              const double* bi, double* y, const ComplexConvParams& p) {
  conv_ref(x, B, F, T, wr, wi, br, bi, y, p);
}
void complex_conv_transpose2d_reference(const float* x, int64_t B, int64_t F, int64_t T,
                                        const float* wr, const float* wi, const float* br,
                                        const float* bi, float* y, const ComplexConvParams& p) {
  conv_transpose_ref(x, B, F, T, wr, wi, br, bi, y, p);
}
void complex_conv_transpose2d_reference(const double* x, int64_t B, int64_t F, int64_t T,
                                        const double* wr, const double* wi, const double* br,
                                        const double* bi, double* y,
                                        const ComplexConvParams& p) {
  conv_transpose_ref(x, B, F, T, wr, wi, br, bi, y, p);
}

void complex_conv2d_forward_cpu(const double* x, int64_t B, int64_t F, int64_t T,
                                const double* wr, const double* wi, const double* br,
                                const double* bi, double* y, const ComplexConvParams& p) {
  conv_ref(x, B, F, T, wr, wi, br, bi, y, p);
}
void complex_conv_transpose2d_forward_cpu(const double* x, int64_t B, int64_t F, int64_t T,
                                          const double* wr, const double* wi, const double* br,
                                          const double* bi, double* y,
                                          const ComplexConvParams& p) {
  conv_transpose_ref(x, B, F, T, wr, wi, br, bi, y, p);
}

}  // namespace hb
