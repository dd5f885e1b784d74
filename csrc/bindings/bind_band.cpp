// Bindings of the band-split / band-mask family: NumPy plan classes (float32, C-contiguous, no
// silent conversion), pointer entry points for torch tensors (called from hushboard.ops), the
// vector tanh / sigmoid and the scalar double references. Kernels run with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "hushboard/band.h"
#include "hushboard/common.h"
#include "hushboard/cuda.h"

namespace py = pybind11;

namespace {

using FArr = py::array_t<float, py::array::c_style>;
using DArr = py::array_t<double, py::array::c_style>;

template <typename T>
T* ptr(uintptr_t p) {
  return reinterpret_cast<T*>(p);
}

std::string shape_of(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

template <typename Arr>
void check_shape(const Arr& a, std::vector<int64_t> want, const char* name) {
  bool ok = a.ndim() == py::ssize_t(want.size());
  for (size_t i = 0; ok && i < want.size(); ++i) ok = a.shape(py::ssize_t(i)) == want[i];
  std::string w = "(";
  for (size_t i = 0; i < want.size(); ++i) w += (i ? ", " : "") + std::to_string(want[i]);
  w += want.size() == 1 ? ",)" : ")";
  HB_CHECK(ok, std::string(name) + " must have shape " + w + " (got " + shape_of(a) + ")");
}

int64_t sum_of(const std::vector<int64_t>& v) {
  int64_t s = 0;
  for (int64_t d : v) s += d;
  return s;
}

// rows of a (..., tail...) array with the given trailing shape; checks it
template <typename Arr>
int64_t rows_of(const Arr& x, std::vector<int64_t> tail, const char* what) {
  const py::ssize_t nt = py::ssize_t(tail.size());
  bool ok = x.ndim() >= nt;
  for (py::ssize_t i = 0; ok && i < nt; ++i) ok = x.shape(x.ndim() - nt + i) == tail[size_t(i)];
  HB_CHECK(ok, std::string("x must have shape ") + what + " (got " + shape_of(x) + ")");
  int64_t S = 1;
  for (py::ssize_t i = 0; i < x.ndim() - nt; ++i) S *= x.shape(i);
  return S;
}

std::vector<py::ssize_t> lead_shape(const py::array& x, int drop) {
  std::vector<py::ssize_t> s;
  for (py::ssize_t i = 0; i < x.ndim() - drop; ++i) s.push_back(x.shape(i));
  return s;
}

struct PySplit {
  hb::BandSplitPlan plan;
  std::vector<float> ws;  // grows only: repeated forward() calls do not allocate
  std::mutex mu;          // one forward at a time per plan object (shared scratch)

  void run(const float* x, int64_t S, int64_t ldx, float* y, int n_threads) {
    HB_CHECK(n_threads >= 1, "n_threads must be >= 1 (got " + std::to_string(n_threads) + ")");
    py::gil_scoped_release nogil;
    if (n_threads > 1) {
      plan.forward_threaded(x, S, ldx, y, n_threads);
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    const int64_t need = plan.workspace_floats(S);
    if (int64_t(ws.size()) < need) ws.resize(size_t(need));
    plan.forward(x, S, ldx, y, ws.data());
  }

  FArr forward(const FArr& x, int n_threads) {
    const int64_t D = plan.in_features();
    const int64_t S = rows_of(x, {D}, ("(..., D=" + std::to_string(D) + ")").c_str());
    std::vector<py::ssize_t> shape = lead_shape(x, 1);
    shape.push_back(plan.num_bands());
    shape.push_back(plan.out_features());
    FArr y(shape);
    if (S > 0) run(x.data(), S, D, y.mutable_data(), n_threads);
    return y;
  }
};

struct PyMask {
  hb::BandMaskPlan plan;
  std::vector<float> ws;
  std::mutex mu;

  void run(const float* x, int64_t S, float* y, int64_t ldy, int n_threads) {
    HB_CHECK(n_threads >= 1, "n_threads must be >= 1 (got " + std::to_string(n_threads) + ")");
    py::gil_scoped_release nogil;
    if (n_threads > 1) {
      plan.forward_threaded(x, S, y, ldy, n_threads);
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    const int64_t need = plan.workspace_floats(S);
    if (int64_t(ws.size()) < need) ws.resize(size_t(need));
    plan.forward(x, S, y, ldy, ws.data());
  }

  FArr forward(const FArr& x, int n_threads) {
    const int64_t K = plan.num_bands(), N = plan.in_features(), Dout = plan.out_features();
    const int64_t S = rows_of(
        x, {K, N}, ("(..., K=" + std::to_string(K) + ", N=" + std::to_string(N) + ")").c_str());
    std::vector<py::ssize_t> shape = lead_shape(x, 2);
    shape.push_back(Dout);
    FArr y(shape);
    if (S > 0) run(x.data(), S, y.mutable_data(), Dout, n_threads);
    return y;
  }
};

FArr map_array(const FArr& x, void (*fn)(const float*, int64_t, float*)) {
  FArr y(lead_shape(x, 0));
  const int64_t n = int64_t(x.size());
  const float* xp = x.data();
  float* yp = y.mutable_data();
  {
    py::gil_scoped_release nogil;
    fn(xp, n, yp);
  }
  return y;
}

}  // namespace

void bind_band(py::module_& m) {
  py::class_<PySplit>(m, "BandSplitPlan",
                      "Band split (per-band LayerNorm + linear map) with packed float32 weights")
      .def(py::init([](std::vector<int64_t> band_dims, const FArr& gamma, const FArr& beta,
                       const FArr& weight, const FArr& bias, float eps) {
             HB_CHECK(weight.ndim() == 2,
                      "weight must have shape (N, D) (got " + shape_of(weight) + ")");
             const int64_t D = sum_of(band_dims), N = weight.shape(0),
                           K = int64_t(band_dims.size());
             check_shape(gamma, {D}, "gamma");
             check_shape(beta, {D}, "beta");
             check_shape(weight, {N, D}, "weight");
             check_shape(bias, {K, N}, "bias");
             return new PySplit{hb::BandSplitPlan(band_dims, N, gamma.data(), beta.data(),
                                                  weight.data(), bias.data(), eps),
                                {}, {}};
           }),
           py::arg("band_dims"), py::arg("gamma").noconvert(), py::arg("beta").noconvert(),
           py::arg("weight").noconvert(), py::arg("bias").noconvert(), py::arg("eps") = 1e-5f)
      .def("forward", &PySplit::forward, py::arg("x").noconvert(), py::arg("n_threads") = 1,
           "x (..., D) -> (..., K, N)")
      .def("forward_ptr",
           [](PySplit& s, uintptr_t x, int64_t S, int64_t ldx, uintptr_t y, int n_threads) {
             if (S > 0) s.run(ptr<const float>(x), S, ldx, ptr<float>(y), n_threads);
           },
           py::arg("x"), py::arg("rows"), py::arg("ldx"), py::arg("out"),
           py::arg("n_threads") = 1,
           "Host pointers: rows x D floats (row stride ldx) -> (rows, K, N) contiguous")
      .def("workspace_floats", [](const PySplit& s, int64_t S) {
        return s.plan.workspace_floats(S);
      }, py::arg("rows"))
      .def_property_readonly("num_bands", [](const PySplit& s) { return s.plan.num_bands(); })
      .def_property_readonly("in_features",
                             [](const PySplit& s) { return s.plan.in_features(); })
      .def_property_readonly("out_features",
                             [](const PySplit& s) { return s.plan.out_features(); });

  py::class_<PyMask>(m, "BandMaskPlan",
                     "Band mask (per-band LayerNorm, tanh MLP, GLU or tanh) with packed float32 "
                     "weights")
      .def(py::init([](std::vector<int64_t> out_dims, const FArr& gamma, const FArr& beta,
                       const FArr& w1, const FArr& b1, const FArr& w2, const FArr& b2, bool glu,
                       float eps) {
             HB_CHECK(w1.ndim() == 3, "w1 must have shape (K, Hm, N) (got " + shape_of(w1) + ")");
             const int64_t K = w1.shape(0), H = w1.shape(1), N = w1.shape(2);
             const int64_t mD = (glu ? 2 : 1) * sum_of(out_dims);
             HB_CHECK(int64_t(out_dims.size()) == K,
                      "out_dims must have K = " + std::to_string(K) + " widths like w1 (got " +
                          std::to_string(out_dims.size()) + ")");
             check_shape(gamma, {K, N}, "gamma");
             check_shape(beta, {K, N}, "beta");
             check_shape(b1, {K, H}, "b1");
             check_shape(w2, {mD, H}, "w2");
             check_shape(b2, {mD}, "b2");
             return new PyMask{hb::BandMaskPlan(out_dims, N, H, glu, gamma.data(), beta.data(),
                                                w1.data(), b1.data(), w2.data(), b2.data(), eps),
                               {}, {}};
           }),
           py::arg("out_dims"), py::arg("gamma").noconvert(), py::arg("beta").noconvert(),
           py::arg("w1").noconvert(), py::arg("b1").noconvert(), py::arg("w2").noconvert(),
           py::arg("b2").noconvert(), py::arg("glu") = true, py::arg("eps") = 1e-5f)
      .def("forward", &PyMask::forward, py::arg("x").noconvert(), py::arg("n_threads") = 1,
           "x (..., K, N) -> (..., Dout)")
      .def("forward_ptr",
           [](PyMask& s, uintptr_t x, int64_t S, uintptr_t y, int64_t ldy, int n_threads) {
             if (S > 0) s.run(ptr<const float>(x), S, ptr<float>(y), ldy, n_threads);
           },
           py::arg("x"), py::arg("rows"), py::arg("out"), py::arg("ldy"),
           py::arg("n_threads") = 1,
           "Host pointers: (rows, K, N) contiguous -> rows of Dout floats (row stride ldy)")
      .def("workspace_floats", [](const PyMask& s, int64_t S) {
        return s.plan.workspace_floats(S);
      }, py::arg("rows"))
      .def_property_readonly("num_bands", [](const PyMask& s) { return s.plan.num_bands(); })
      .def_property_readonly("in_features",
                             [](const PyMask& s) { return s.plan.in_features(); })
      .def_property_readonly("hidden", [](const PyMask& s) { return s.plan.hidden(); })
      .def_property_readonly("glu", [](const PyMask& s) { return s.plan.glu(); })
      .def_property_readonly("out_features",
                             [](const PyMask& s) { return s.plan.out_features(); });

  m.def("band_tanh", [](const FArr& x) { return map_array(x, &hb::band_tanh); },
        py::arg("x").noconvert(), "The kernels' vector tanh (active SIMD path), elementwise");
  m.def("band_sigmoid", [](const FArr& x) { return map_array(x, &hb::band_sigmoid); },
        py::arg("x").noconvert(),
        "The kernels' vector logistic sigmoid (active SIMD path), elementwise");

  m.def(
      "band_split_reference",
      [](std::vector<int64_t> band_dims, const DArr& gamma, const DArr& beta,
         const DArr& weight, const DArr& bias, double eps, const DArr& x) {
        HB_CHECK(weight.ndim() == 2, "weight must have shape (N, D) (got " + shape_of(weight) +
                                         ")");
        const int64_t D = sum_of(band_dims), N = weight.shape(0), K = int64_t(band_dims.size());
        check_shape(gamma, {D}, "gamma");
        check_shape(beta, {D}, "beta");
        check_shape(weight, {N, D}, "weight");
        check_shape(bias, {K, N}, "bias");
        const int64_t S = rows_of(x, {D}, "(..., D)");
        std::vector<py::ssize_t> shape = lead_shape(x, 1);
        shape.push_back(K);
        shape.push_back(N);
        DArr y(shape);
        const double* xp = x.data();
        double* yp = y.mutable_data();
        {
          py::gil_scoped_release nogil;
        hb::band_split_reference(band_dims, N, gamma.data(), beta.data(), weight.data(),
                                 bias.data(), eps, xp, S, D, yp);
        }
        return y;
      },
      py::arg("band_dims"), py::arg("gamma").noconvert(), py::arg("beta").noconvert(),
      py::arg("weight").noconvert(), py::arg("bias").noconvert(), py::arg("eps"),
      py::arg("x").noconvert(), "Scalar float64 band split (the C++ truth)");

  m.def(
      "band_mask_reference",
      [](std::vector<int64_t> out_dims, const DArr& gamma, const DArr& beta, const DArr& w1,
         const DArr& b1, const DArr& w2, const DArr& b2, bool glu, double eps, const DArr& x) {
        HB_CHECK(w1.ndim() == 3, "w1 must have shape (K, Hm, N) (got " + shape_of(w1) + ")");
        const int64_t K = w1.shape(0), H = w1.shape(1), N = w1.shape(2);
        const int64_t Dout = sum_of(out_dims), mD = (glu ? 2 : 1) * Dout;
        HB_CHECK(int64_t(out_dims.size()) == K, "out_dims must have K widths like w1");
        check_shape(gamma, {K, N}, "gamma");
        check_shape(beta, {K, N}, "beta");
        check_shape(b1, {K, H}, "b1");
        check_shape(w2, {mD, H}, "w2");
        check_shape(b2, {mD}, "b2");
        const int64_t S = rows_of(x, {K, N}, "(..., K, N)");
        std::vector<py::ssize_t> shape = lead_shape(x, 2);
        shape.push_back(Dout);
        DArr y(shape);
        const double* xp = x.data();
        double* yp = y.mutable_data();
        {
          py::gil_scoped_release nogil;
        hb::band_mask_reference(out_dims, N, H, glu, gamma.data(), beta.data(), w1.data(),
                                b1.data(), w2.data(), b2.data(), eps, xp, S, yp, Dout);
        }
        return y;
      },
      py::arg("out_dims"), py::arg("gamma").noconvert(), py::arg("beta").noconvert(),
      py::arg("w1").noconvert(), py::arg("b1").noconvert(), py::arg("w2").noconvert(),
      py::arg("b2").noconvert(), py::arg("glu"), py::arg("eps"), py::arg("x").noconvert(),
      "Scalar float64 band mask (the C++ truth)");

  // ---- CUDA (device pointers, a cudaStream_t as an integer; weights transposed, see cuda.h)
  // and the same kernels' block bodies run on the host (host pointers, stream ignored) ----
  m.def(
      "band_split_cuda",
      [](bool emulated, std::vector<int64_t> band_dims, int64_t N, uintptr_t gamma,
         uintptr_t beta, uintptr_t weight_t, uintptr_t bias, float eps, uintptr_t x, int64_t S,
         int64_t ldx, uintptr_t y, uintptr_t stream) {
        const int64_t K = int64_t(band_dims.size());
        auto f = [](uintptr_t v) { return reinterpret_cast<const float*>(v); };
        py::gil_scoped_release nogil;
        if (emulated)
          hb::band_split_cuda_emulated(band_dims.data(), K, N, f(gamma), f(beta), f(weight_t),
                                       f(bias), eps, f(x), S, ldx, reinterpret_cast<float*>(y));
        else
          hb::band_split_cuda(band_dims.data(), K, N, f(gamma), f(beta), f(weight_t), f(bias),
                              eps, f(x), S, ldx, reinterpret_cast<float*>(y),
                              reinterpret_cast<void*>(stream));
      },
      py::arg("emulated"), py::arg("band_dims"), py::arg("N"), py::arg("gamma"), py::arg("beta"),
      py::arg("weight_t"), py::arg("bias"), py::arg("eps"), py::arg("x"), py::arg("S"),
      py::arg("ldx"), py::arg("y"), py::arg("stream") = 0);
  m.def(
      "band_mask_cuda",
      [](bool emulated, std::vector<int64_t> out_dims, int64_t N, int64_t hidden, bool glu,
         uintptr_t gamma, uintptr_t beta, uintptr_t w1_t, uintptr_t b1, uintptr_t w2_t,
         uintptr_t b2, float eps, uintptr_t x, int64_t S, uintptr_t y, int64_t ldy,
         uintptr_t stream) {
        const int64_t K = int64_t(out_dims.size());
        auto f = [](uintptr_t v) { return reinterpret_cast<const float*>(v); };
        py::gil_scoped_release nogil;
        if (emulated)
          hb::band_mask_cuda_emulated(out_dims.data(), K, N, hidden, glu, f(gamma), f(beta),
                                      f(w1_t), f(b1), f(w2_t), f(b2), eps, f(x), S,
                                      reinterpret_cast<float*>(y), ldy);
        else
          hb::band_mask_cuda(out_dims.data(), K, N, hidden, glu, f(gamma), f(beta), f(w1_t),
                             f(b1), f(w2_t), f(b2), eps, f(x), S, reinterpret_cast<float*>(y),
                             ldy, reinterpret_cast<void*>(stream));
      },
      py::arg("emulated"), py::arg("out_dims"), py::arg("N"), py::arg("hidden"), py::arg("glu"),
      py::arg("gamma"), py::arg("beta"), py::arg("w1_t"), py::arg("b1"), py::arg("w2_t"),
      py::arg("b2"), py::arg("eps"), py::arg("x"), py::arg("S"), py::arg("y"), py::arg("ldy"),
      py::arg("stream") = 0);
}
