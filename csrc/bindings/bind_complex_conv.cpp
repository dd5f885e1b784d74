// Bindings of the complex convolution family and sgemm: pointer entry points (for torch
// tensors, called from hushboard.ops) and NumPy plan classes. Kernels run with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hushboard/common.h"
#include "hushboard/complex_conv.h"
#include "hushboard/cuda.h"
#include "hushboard/gemm.h"

namespace py = pybind11;

namespace {

using FArr = py::array_t<float, py::array::c_style>;
using Pair = std::array<int64_t, 2>;
using Quad = std::array<int64_t, 4>;

template <typename T>
T* ptr(uintptr_t p) {
  return reinterpret_cast<T*>(p);
}

hb::ComplexConvParams make_params(int64_t cin, int64_t cout, Pair kernel, Pair stride,
                                  Pair dilation, Quad padding, Pair output_padding) {
  hb::ComplexConvParams p;
  p.in_channels = cin;
  p.out_channels = cout;
  p.kernel_f = kernel[0];
  p.kernel_t = kernel[1];
  p.stride_f = stride[0];
  p.stride_t = stride[1];
  p.dilation_f = dilation[0];
  p.dilation_t = dilation[1];
  p.pad_f_low = padding[0];
  p.pad_f_high = padding[1];
  p.pad_t_low = padding[2];
  p.pad_t_high = padding[3];
  p.output_padding_f = output_padding[0];
  p.output_padding_t = output_padding[1];
  return p;
}

// weights (Cout, Cin, kF, kT) for conv, (Cin, Cout, kF, kT) for transpose -> params
hb::ComplexConvParams params_from_weights(const FArr& wr, const FArr& wi, bool transposed,
                                          Pair stride, Pair dilation, Quad padding,
                                          Pair output_padding) {
  HB_CHECK(wr.ndim() == 4, "weight_real must be 4-D (got " + std::to_string(wr.ndim()) + "-D)");
  HB_CHECK(wi.ndim() == 4 && wi.shape(0) == wr.shape(0) && wi.shape(1) == wr.shape(1) &&
               wi.shape(2) == wr.shape(2) && wi.shape(3) == wr.shape(3),
           "weight_imag must have the shape of weight_real");
  const int64_t a = wr.shape(0), b = wr.shape(1);
  return make_params(transposed ? a : b, transposed ? b : a, {wr.shape(2), wr.shape(3)}, stride,
                     dilation, padding, output_padding);
}

const float* bias_ptr(const std::optional<FArr>& b, int64_t cout, const char* name) {
  if (!b) return nullptr;
  HB_CHECK(b->ndim() == 1 && b->shape(0) == cout,
           std::string(name) + " must have shape (out_channels=" + std::to_string(cout) + ",)");
  return b->data();
}

template <typename Plan>
struct PyPlan {
  Plan plan;
  std::vector<float> workspace;  // grows only: repeated forward() calls do not allocate
  int64_t cin, cout;

  FArr forward(const FArr& x, int n_threads) {
    HB_CHECK(x.ndim() == 4 && x.shape(1) == 2 * cin,
             "x must have shape (batch, 2*in_channels=" + std::to_string(2 * cin) + ", F, T)");
    HB_CHECK(n_threads >= 1, "n_threads must be >= 1");
    const int64_t B = x.shape(0), F = x.shape(2), T = x.shape(3);
    const int64_t ws = plan.workspace_floats(B, F, T, n_threads);
    if (int64_t(workspace.size()) < ws) workspace.resize(size_t(ws));
    FArr y({B, 2 * cout, plan.out_f(F), plan.out_t(T)});
    const float* xp = x.data();
    float* yp = y.mutable_data();
    {
      py::gil_scoped_release nogil;
      plan.forward(xp, B, F, T, yp, workspace.data(), n_threads);
    }
    return y;
  }
};

template <typename Plan>
void bind_plan(py::module_& m, const char* name, bool transposed, const char* doc) {
  using P = PyPlan<Plan>;
  auto cls = py::class_<P>(m, name, doc);
  cls.def(py::init([transposed](const FArr& wr, const FArr& wi, std::optional<FArr> br,
                                std::optional<FArr> bi, Pair stride, Pair dilation,
                                Quad padding, Pair output_padding) {
            hb::ComplexConvParams p = params_from_weights(wr, wi, transposed, stride, dilation,
                                                          padding, output_padding);
            const float* brp = bias_ptr(br, p.out_channels, "bias_real");
            const float* bip = bias_ptr(bi, p.out_channels, "bias_imag");
            return new P{Plan(p, wr.data(), wi.data(), brp, bip), {}, p.in_channels,
                         p.out_channels};
          }),
          py::arg("weight_real").noconvert(), py::arg("weight_imag").noconvert(),
          py::arg("bias_real").noconvert() = py::none(),
          py::arg("bias_imag").noconvert() = py::none(), py::arg("stride") = Pair{1, 1},
          py::arg("dilation") = Pair{1, 1}, py::arg("padding") = Quad{0, 0, 0, 0},
          py::arg("output_padding") = Pair{0, 0})
      .def("forward", &P::forward, py::arg("x").noconvert(), py::arg("n_threads") = 1)
      .def("workspace_floats",
           [](const P& s, int64_t B, int64_t F, int64_t T, int n_threads) {
             return s.plan.workspace_floats(B, F, T, n_threads);
           },
           py::arg("batch"), py::arg("F"), py::arg("T"), py::arg("n_threads") = 1)
      .def("out_size", [](const P& s, int64_t F, int64_t T) {
        return Pair{s.plan.out_f(F), s.plan.out_t(T)};
      }, py::arg("F"), py::arg("T"));
}

}  // namespace

void bind_complex_conv(py::module_& m) {
  m.def(
      "complex_conv_out_size",
      [](bool transposed, int64_t F, int64_t T, int64_t cin, int64_t cout, Pair kernel,
         Pair stride, Pair dilation, Quad padding, Pair output_padding) {
        hb::ComplexConvParams p =
            make_params(cin, cout, kernel, stride, dilation, padding, output_padding);
        hb::complex_conv_check_params(p, transposed);
        return Pair{hb::complex_conv_out_f(p, transposed, F),
                    hb::complex_conv_out_t(p, transposed, T)};
      },
      py::arg("transposed"), py::arg("F"), py::arg("T"), py::arg("in_channels"),
      py::arg("out_channels"), py::arg("kernel"), py::arg("stride"), py::arg("dilation"),
      py::arg("padding"), py::arg("output_padding"),
      "Checks the parameters (ValueError naming the bad one) and returns (Fo, To)");

  m.def(
      "complex_conv_forward",
      [](bool transposed, uintptr_t x, int64_t B, int64_t F, int64_t T, uintptr_t wr,
         uintptr_t wi, uintptr_t br, uintptr_t bi, uintptr_t y, bool is_double, int64_t cin,
         int64_t cout, Pair kernel, Pair stride, Pair dilation, Quad padding,
         Pair output_padding) {
        hb::ComplexConvParams p =
            make_params(cin, cout, kernel, stride, dilation, padding, output_padding);
        py::gil_scoped_release nogil;
        if (is_double) {
          auto f = transposed
                       ? static_cast<void (*)(const double*, int64_t, int64_t, int64_t,
                                              const double*, const double*, const double*,
                                              const double*, double*,
                                              const hb::ComplexConvParams&)>(
                             &hb::complex_conv_transpose2d_forward_cpu)
                       : static_cast<void (*)(const double*, int64_t, int64_t, int64_t,
                                              const double*, const double*, const double*,
                                              const double*, double*,
                                              const hb::ComplexConvParams&)>(
                             &hb::complex_conv2d_forward_cpu);
          f(ptr<const double>(x), B, F, T, ptr<const double>(wr), ptr<const double>(wi),
            ptr<const double>(br), ptr<const double>(bi), ptr<double>(y), p);
        } else if (transposed) {
          hb::complex_conv_transpose2d_forward_cpu(
              ptr<const float>(x), B, F, T, ptr<const float>(wr), ptr<const float>(wi),
              ptr<const float>(br), ptr<const float>(bi), ptr<float>(y), p);
        } else {
          hb::complex_conv2d_forward_cpu(ptr<const float>(x), B, F, T, ptr<const float>(wr),
                                         ptr<const float>(wi), ptr<const float>(br),
                                         ptr<const float>(bi), ptr<float>(y), p);
        }
      },
      py::arg("transposed"), py::arg("x"), py::arg("batch"), py::arg("F"), py::arg("T"),
      py::arg("weight_real"), py::arg("weight_imag"), py::arg("bias_real"),
      py::arg("bias_imag"), py::arg("out"), py::arg("is_double"), py::arg("in_channels"),
      py::arg("out_channels"), py::arg("kernel"), py::arg("stride"), py::arg("dilation"),
      py::arg("padding"), py::arg("output_padding"),
      "Host pointers (0 = no bias): fused float32 kernels, scalar reference for float64");

  // ---- CUDA (device pointers, a cudaStream_t as an integer) and its host emulation ----
  m.def(
      "complex_conv_forward_cuda",
      [](bool transposed, uintptr_t x, int64_t B, int64_t F, int64_t T, uintptr_t wr,
         uintptr_t wi, uintptr_t br, uintptr_t bi, uintptr_t y, uintptr_t stream, int64_t cin,
         int64_t cout, Pair kernel, Pair stride, Pair dilation, Quad padding,
         Pair output_padding) {
        hb::ComplexConvParams p =
            make_params(cin, cout, kernel, stride, dilation, padding, output_padding);
        py::gil_scoped_release nogil;
        hb::complex_conv_forward_cuda(transposed, ptr<const float>(x), B, F, T,
                                      ptr<const float>(wr), ptr<const float>(wi),
                                      ptr<const float>(br), ptr<const float>(bi), ptr<float>(y),
                                      p, reinterpret_cast<void*>(stream));
      },
      py::arg("transposed"), py::arg("x"), py::arg("batch"), py::arg("F"), py::arg("T"),
      py::arg("weight_real"), py::arg("weight_imag"), py::arg("bias_real"),
      py::arg("bias_imag"), py::arg("out"), py::arg("stream"), py::arg("in_channels"),
      py::arg("out_channels"), py::arg("kernel"), py::arg("stride"), py::arg("dilation"),
      py::arg("padding"), py::arg("output_padding"),
      "Device pointers (0 = no bias), float32, queued on `stream`");
  m.def(
      "complex_conv_forward_cuda_emulated",
      [](bool transposed, uintptr_t x, int64_t B, int64_t F, int64_t T, uintptr_t wr,
         uintptr_t wi, uintptr_t br, uintptr_t bi, uintptr_t y, int64_t cin, int64_t cout,
         Pair kernel, Pair stride, Pair dilation, Quad padding, Pair output_padding,
         int grid_z_limit) {
        hb::ComplexConvParams p =
            make_params(cin, cout, kernel, stride, dilation, padding, output_padding);
        py::gil_scoped_release nogil;
        hb::complex_conv_forward_cuda_emulated(
            transposed, ptr<const float>(x), B, F, T, ptr<const float>(wr),
            ptr<const float>(wi), ptr<const float>(br), ptr<const float>(bi), ptr<float>(y), p,
            grid_z_limit);
      },
      py::arg("transposed"), py::arg("x"), py::arg("batch"), py::arg("F"), py::arg("T"),
      py::arg("weight_real"), py::arg("weight_imag"), py::arg("bias_real"),
      py::arg("bias_imag"), py::arg("out"), py::arg("in_channels"), py::arg("out_channels"),
      py::arg("kernel"), py::arg("stride"), py::arg("dilation"), py::arg("padding"),
      py::arg("output_padding"), py::arg("grid_z_limit") = 65535,
      "The CUDA kernel's block body run on the host (host pointers; tests without a GPU)");

  bind_plan<hb::ComplexConv2dPlan>(
      m, "ComplexConv2dPlan", false,
      "Complex conv with packed weights; forward(x) allocates only its output");
  bind_plan<hb::ComplexConvTranspose2dPlan>(
      m, "ComplexConvTranspose2dPlan", true,
      "Complex transposed conv with packed weights; forward(x) allocates only its output");

  m.def(
      "sgemm",
      [](py::array_t<float> a, py::array_t<float> b, std::optional<py::array_t<float>> out,
         bool accumulate) {
        auto rows_ok = [](const py::array_t<float>& t) {
          return t.ndim() == 2 && (t.shape(1) <= 1 || t.strides(1) == sizeof(float)) &&
                 t.strides(0) % int64_t(sizeof(float)) == 0 && t.strides(0) >= 0;
        };
        HB_CHECK(rows_ok(a), "a must be a 2-D float32 array with unit column stride");
        HB_CHECK(rows_ok(b), "b must be a 2-D float32 array with unit column stride");
        const int64_t M = a.shape(0), K = a.shape(1), N = b.shape(1);
        HB_CHECK(b.shape(0) == K, "b must have shape (K=" + std::to_string(K) + ", N)");
        py::array_t<float> c = out ? *out : py::array_t<float>({M, N});
        HB_CHECK(rows_ok(c) && c.shape(0) == M && c.shape(1) == N && c.writeable(),
                 "out must be a writable (M, N) float32 array with unit column stride");
        HB_CHECK(out || !accumulate, "accumulate needs out");
        const int64_t lda = std::max<int64_t>(a.strides(0) / 4, K);
        const int64_t ldb = std::max<int64_t>(b.strides(0) / 4, N);
        const int64_t ldc = std::max<int64_t>(c.strides(0) / 4, N);
        const float* ap = a.data();
        const float* bp = b.data();
        float* cp = c.mutable_data();
        {
          py::gil_scoped_release nogil;
          hb::sgemm(M, N, K, ap, lda, bp, ldb, cp, ldc, accumulate);
        }
        return c;
      },
      py::arg("a").noconvert(), py::arg("b").noconvert(), py::arg("out").noconvert() = py::none(),
      py::arg("accumulate") = false,
      "out[M, N] (+)= a[M, K] . b[K, N] (row-strided float32 views allowed)");
}
