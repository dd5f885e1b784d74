// Bindings of the LSTM / GRU layer plans: a pointer entry point (torch tensors, called from
// hushboard.ops) and a NumPy one. Kernels run with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <algorithm>
#include <vector>

#include "hushboard/common.h"
#include "hushboard/cuda.h"
#include "hushboard/rnn.h"
#include "hushboard/rnn_train.h"

namespace py = pybind11;

namespace {

using FArr = py::array_t<float, py::array::c_style>;

template <typename T>
T* ptr(uintptr_t p) {
  return reinterpret_cast<T*>(p);
}

std::string shape_str(const FArr& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

void check_shape(const FArr& a, const char* name, std::vector<int64_t> shape) {
  bool ok = a.ndim() == py::ssize_t(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = a.shape(py::ssize_t(i)) == shape[i];
  std::string want = "(";
  for (size_t i = 0; i < shape.size(); ++i) want += (i ? ", " : "") + std::to_string(shape[i]);
  want += shape.size() == 1 ? ",)" : ")";
  HB_CHECK(ok, std::string(name) + " must have shape " + want + " (got " + shape_str(a) + ")");
}

// (gates*H, I) and (gates*H, H) -> (I, H)
std::pair<int64_t, int64_t> sizes_of(const FArr& w_ih, const FArr& w_hh, int gates) {
  HB_CHECK(w_hh.ndim() == 2 && w_hh.shape(1) >= 1 && w_hh.shape(0) == gates * w_hh.shape(1),
           "w_hh must have shape (" + std::to_string(gates) + "*H, H) with H >= 1 (got " +
               shape_str(w_hh) + ")");
  const int64_t H = w_hh.shape(1);
  HB_CHECK(w_ih.ndim() == 2 && w_ih.shape(0) == gates * H && w_ih.shape(1) >= 1,
           "w_ih must have shape (" + std::to_string(gates * H) + ", I) with I >= 1 (got " +
               shape_str(w_ih) + ")");
  return {w_ih.shape(1), H};
}

template <typename Plan>
struct PyRnn {
  Plan plan;
  std::vector<float> workspace;  // grows only: repeated single-thread calls do not allocate
  static constexpr bool kLstm = std::is_same<Plan, hb::LstmPlan>::value;

  float* ws(int64_t S, int64_t L) {
    const int64_t n = std::max<int64_t>(1, plan.workspace_floats(S, L));
    if (int64_t(workspace.size()) < n) workspace.resize(size_t(n));
    return workspace.data();
  }

  void run(const float* x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos, bool reverse,
           float* h, float* c, float* y, int64_t y_seq, int64_t y_pos, int n_threads) {
    HB_CHECK(n_threads >= 1, "n_threads must be >= 1 (got " + std::to_string(n_threads) + ")");
    HB_CHECK(S >= 0 && L >= 0, "S and L must be >= 0");
    float* w = n_threads == 1 ? ws(S, L) : nullptr;
    py::gil_scoped_release nogil;
    if constexpr (kLstm) {
      if (n_threads == 1)
        plan.forward(x, S, L, x_seq, x_pos, reverse, h, c, y, y_seq, y_pos, w);
      else
        plan.forward_threaded(x, S, L, x_seq, x_pos, reverse, h, c, y, y_seq, y_pos, n_threads);
    } else {
      if (n_threads == 1)
        plan.forward(x, S, L, x_seq, x_pos, reverse, h, y, y_seq, y_pos, w);
      else
        plan.forward_threaded(x, S, L, x_seq, x_pos, reverse, h, y, y_seq, y_pos, n_threads);
    }
  }

  // NumPy: x (S, L, I) -> y (S, L, H), h (S, H)[, c (S, H)]
  py::tuple run_numpy(const FArr& x, std::optional<FArr> h0, std::optional<FArr> c0,
                      bool reverse, int n_threads) {
    const int64_t I = plan.input_size(), H = plan.hidden_size();
    HB_CHECK(x.ndim() == 3 && x.shape(2) == I,
             "x must have shape (S, L, " + std::to_string(I) + ") (got " + shape_str(x) + ")");
    const int64_t S = x.shape(0), L = x.shape(1);
    auto state = [&](const std::optional<FArr>& s0, const char* name) {
      FArr s({S, H});
      if (s0) {
        check_shape(*s0, name, {S, H});
        std::copy(s0->data(), s0->data() + S * H, s.mutable_data());
      } else {
        std::fill(s.mutable_data(), s.mutable_data() + S * H, 0.f);
      }
      return s;
    };
    FArr h = state(h0, "h0");
    FArr c = kLstm ? state(c0, "c0") : FArr(std::vector<py::ssize_t>{0});
    HB_CHECK(kLstm || !c0, "c0 is for the LSTM only");
    FArr y({S, L, H});
    run(x.data(), S, L, L * I, I, reverse, h.mutable_data(), kLstm ? c.mutable_data() : nullptr,
        y.mutable_data(), L * H, H, n_threads);
    if constexpr (kLstm) return py::make_tuple(y, h, c);
    return py::make_tuple(y, h);
  }
};

template <typename Plan, typename Cls>
void bind_common(Cls& cls) {
  using P = PyRnn<Plan>;
  cls.def_property_readonly("input_size", [](const P& p) { return p.plan.input_size(); })
      .def_property_readonly("hidden_size", [](const P& p) { return p.plan.hidden_size(); })
      .def("workspace_floats", [](const P& p, int64_t S, int64_t L) {
        return p.plan.workspace_floats(S, L);
      }, py::arg("S"), py::arg("L"))
      .def("forward", &P::run_numpy, py::arg("x").noconvert(),
           py::arg("h0").noconvert() = py::none(), py::arg("c0").noconvert() = py::none(),
           py::arg("reverse") = false, py::arg("n_threads") = 1,
           "NumPy float32: x (S, L, I) -> (y (S, L, H), h_n (S, H)[, c_n (S, H)])");
}

}  // namespace

void bind_rnn(py::module_& m) {
  using PL = PyRnn<hb::LstmPlan>;
  using PG = PyRnn<hb::GruPlan>;

  auto lstm = py::class_<PL>(m, "LstmPlan",
                             "One LSTM layer with packed weights (torch gate order i, f, g, o). "
                             "A plan owns a scratch buffer: use one plan per thread");
  lstm.def(py::init([](const FArr& w_ih, const FArr& w_hh, const FArr& bias) {
             auto [I, H] = sizes_of(w_ih, w_hh, 4);
             check_shape(bias, "bias", {4 * H});
             return new PL{hb::LstmPlan(I, H, w_ih.data(), w_hh.data(), bias.data()), {}};
           }),
           py::arg("w_ih").noconvert(), py::arg("w_hh").noconvert(), py::arg("bias").noconvert())
      .def("forward_ptr",
           [](PL& p, uintptr_t x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos,
              bool reverse, uintptr_t h, uintptr_t c, uintptr_t y, int64_t y_seq, int64_t y_pos,
              int n_threads) {
             p.run(ptr<const float>(x), S, L, x_seq, x_pos, reverse, ptr<float>(h), ptr<float>(c),
                   ptr<float>(y), y_seq, y_pos, n_threads);
           },
           py::arg("x"), py::arg("S"), py::arg("L"), py::arg("x_seq"), py::arg("x_pos"),
           py::arg("reverse"), py::arg("h"), py::arg("c"), py::arg("y"), py::arg("y_seq"),
           py::arg("y_pos"), py::arg("n_threads") = 1,
           "Host pointers (float32): strides in elements; h, c (S, H) contiguous, in/out");
  bind_common<hb::LstmPlan>(lstm);

  auto gru = py::class_<PG>(m, "GruPlan",
                            "One GRU layer with packed weights (torch gate order r, z, n). "
                            "A plan owns a scratch buffer: use one plan per thread");
  gru.def(py::init([](const FArr& w_ih, const FArr& w_hh, const FArr& b_ih, const FArr& b_hh) {
            auto [I, H] = sizes_of(w_ih, w_hh, 3);
            check_shape(b_ih, "b_ih", {3 * H});
            check_shape(b_hh, "b_hh", {3 * H});
            return new PG{
                hb::GruPlan(I, H, w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data()), {}};
          }),
          py::arg("w_ih").noconvert(), py::arg("w_hh").noconvert(), py::arg("b_ih").noconvert(),
          py::arg("b_hh").noconvert())
      .def("forward_ptr",
           [](PG& p, uintptr_t x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos,
              bool reverse, uintptr_t h, uintptr_t y, int64_t y_seq, int64_t y_pos,
              int n_threads) {
             p.run(ptr<const float>(x), S, L, x_seq, x_pos, reverse, ptr<float>(h), nullptr,
                   ptr<float>(y), y_seq, y_pos, n_threads);
           },
           py::arg("x"), py::arg("S"), py::arg("L"), py::arg("x_seq"), py::arg("x_pos"),
           py::arg("reverse"), py::arg("h"), py::arg("y"), py::arg("y_seq"), py::arg("y_pos"),
           py::arg("n_threads") = 1,
           "Host pointers (float32): strides in elements; h (S, H) contiguous, in/out");
  bind_common<hb::GruPlan>(gru);

  m.def(
      "rnn_activation",
      [](int which, const FArr& x) {
        FArr y(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
        const float* xp = x.data();
        float* yp = y.mutable_data();
        const int64_t n = x.size();
        {
          py::gil_scoped_release nogil;
          hb::rnn_activation(which, xp, yp, n);
        }
        return y;
      },
      py::arg("which"), py::arg("x").noconvert(),
      "The RNN kernels' vectorised activation of the active SIMD path: 0 sigmoid, 1 tanh");

  // LSTM training layer (forward saving gates + backward); host pointers, 0 for null.
  using TP = hb::LstmTrainPlan;
  py::class_<TP>(m, "LstmTrainPlan",
                 "One LSTM layer for training (torch gate order i, f, g, o): forward_ptr saves "
                 "the activated gates and cell states backward_ptr needs. Pointer entry points "
                 "(float32 host memory, strides in elements, 0 for an absent optional buffer)")
      .def(py::init([](int64_t I, int64_t H, uintptr_t w_ih, uintptr_t w_hh, uintptr_t bias) {
             return new TP(I, H, ptr<const float>(w_ih), ptr<const float>(w_hh),
                           ptr<const float>(bias));
           }),
           py::arg("input_size"), py::arg("hidden"), py::arg("w_ih"), py::arg("w_hh"),
           py::arg("bias"), "w_ih (4H, I), w_hh (4H, H), bias (4H) contiguous: copied")
      .def_property_readonly("input_size", &TP::input_size)
      .def_property_readonly("hidden_size", &TP::hidden_size)
      .def("saved_floats", &TP::saved_floats, py::arg("S"), py::arg("L"))
      .def("forward_workspace_floats", &TP::forward_workspace_floats, py::arg("S"))
      .def("backward_workspace_floats", &TP::backward_workspace_floats, py::arg("S"))
      .def("forward_ptr",
           [](const TP& p, uintptr_t x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos,
              bool reverse, uintptr_t h0, uintptr_t c0, uintptr_t y, int64_t y_seq,
              int64_t y_pos, uintptr_t hT, uintptr_t cT, uintptr_t saved, uintptr_t ws,
              int n_threads) {
             py::gil_scoped_release nogil;
             p.forward_train(ptr<const float>(x), S, L, x_seq, x_pos, reverse,
                             ptr<const float>(h0), ptr<const float>(c0), ptr<float>(y), y_seq,
                             y_pos, ptr<float>(hT), ptr<float>(cT), ptr<float>(saved),
                             ptr<float>(ws), n_threads);
           },
           py::arg("x"), py::arg("S"), py::arg("L"), py::arg("x_seq"), py::arg("x_pos"),
           py::arg("reverse"), py::arg("h0"), py::arg("c0"), py::arg("y"), py::arg("y_seq"),
           py::arg("y_pos"), py::arg("hT"), py::arg("cT"), py::arg("saved"),
           py::arg("workspace"), py::arg("n_threads") = 1)
      .def("backward_ptr",
           [](const TP& p, uintptr_t x, int64_t S, int64_t L, int64_t x_seq, int64_t x_pos,
              bool reverse, uintptr_t h0, uintptr_t y, int64_t y_seq, int64_t y_pos,
              uintptr_t saved, uintptr_t dy, int64_t dy_seq, int64_t dy_pos, uintptr_t dhT,
              uintptr_t dcT, uintptr_t dx, int64_t dx_seq, int64_t dx_pos, uintptr_t dw_ih,
              uintptr_t dw_hh, uintptr_t dbias, uintptr_t dh0, uintptr_t dc0, uintptr_t ws,
              int n_threads) {
             py::gil_scoped_release nogil;
             p.backward(ptr<const float>(x), S, L, x_seq, x_pos, reverse, ptr<const float>(h0),
                        ptr<const float>(y), y_seq, y_pos, ptr<const float>(saved),
                        ptr<const float>(dy), dy_seq, dy_pos, ptr<const float>(dhT),
                        ptr<const float>(dcT), ptr<float>(dx), dx_seq, dx_pos, ptr<float>(dw_ih),
                        ptr<float>(dw_hh), ptr<float>(dbias), ptr<float>(dh0), ptr<float>(dc0),
                        ptr<float>(ws), n_threads);
           },
           py::arg("x"), py::arg("S"), py::arg("L"), py::arg("x_seq"), py::arg("x_pos"),
           py::arg("reverse"), py::arg("h0"), py::arg("y"), py::arg("y_seq"), py::arg("y_pos"),
           py::arg("saved"), py::arg("dy"), py::arg("dy_seq"), py::arg("dy_pos"),
           py::arg("dhT"), py::arg("dcT"), py::arg("dx"), py::arg("dx_seq"), py::arg("dx_pos"),
           py::arg("dw_ih"), py::arg("dw_hh"), py::arg("dbias"), py::arg("dh0"),
           py::arg("dc0"), py::arg("workspace"), py::arg("n_threads") = 1);

  // ---- CUDA recurrence (device pointers, a cudaStream_t as an integer; 0 = null pointer) and
  // the same kernel's block body run on the host (host pointers; smem_limit emulates a device) --
  m.def(
      "rnn_forward_cuda",
      [](bool emulated, bool gru, uintptr_t gx, uintptr_t w_t, uintptr_t b_hh, uintptr_t h0,
         uintptr_t c0, int64_t S, int64_t L, int64_t H, bool reverse, uintptr_t y,
         uintptr_t h_n, uintptr_t c_n, uintptr_t stream, int64_t smem_limit) {
        auto f = [](uintptr_t v) { return reinterpret_cast<const float*>(v); };
        auto o = [](uintptr_t v) { return reinterpret_cast<float*>(v); };
        py::gil_scoped_release nogil;
        if (emulated)
          hb::rnn_forward_cuda_emulated(gru, f(gx), f(w_t), f(b_hh), f(h0), f(c0), S, L, H,
                                        reverse, o(y), o(h_n), o(c_n), smem_limit);
        else
          hb::rnn_forward_cuda(gru, f(gx), f(w_t), f(b_hh), f(h0), f(c0), S, L, H, reverse,
                               o(y), o(h_n), o(c_n), reinterpret_cast<void*>(stream));
      },
      py::arg("emulated"), py::arg("gru"), py::arg("gx"), py::arg("w_t"), py::arg("b_hh"),
      py::arg("h0"), py::arg("c0"), py::arg("S"), py::arg("L"), py::arg("H"),
      py::arg("reverse"), py::arg("y"), py::arg("h_n"), py::arg("c_n"), py::arg("stream") = 0,
      py::arg("smem_limit") = 227 * 1024);
}
