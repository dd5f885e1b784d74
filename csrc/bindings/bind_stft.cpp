// Bindings of the STFT family: pointer entry points (for torch tensors, called from
// hushboard.ops) and NumPy stream classes. Every kernel runs with the GIL released.
#include <pybind11/complex.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <complex>
#include <cstdint>
#include <string>
#include <vector>

#include "hushboard/cuda.h"
#include "hushboard/stft.h"
#include "hushboard/stft_stream.h"
#include "common.h"

namespace py = pybind11;
using hb::StftParams;
using hb::stft_num_bins;

namespace {

StftParams make_params(int64_t n_fft, int64_t hop_length, bool center, int pad_mode,
                       bool normalized, bool onesided, int kind, double power) {
  StftParams p;
  p.n_fft = n_fft;
  p.hop_length = hop_length;
  p.center = center;
  HB_CHECK(pad_mode == 0 || pad_mode == 1, "pad_mode must be 'reflect' or 'constant'");
  p.pad_mode = static_cast<hb::PadMode>(pad_mode);
  p.normalized = normalized;
  p.onesided = onesided;
  HB_CHECK(kind >= 0 && kind <= 2, "output must be 'complex', 'magnitude' or 'compressed'");
  p.kind = static_cast<hb::SpecKind>(kind);
  p.power = power;
  return p;
}

template <typename T>
T* ptr(uintptr_t p) {
  return reinterpret_cast<T*>(p);
}

#define HB_PARAM_ARGS                                                                        \
  py::arg("n_fft"), py::arg("hop_length"), py::arg("center"), py::arg("pad_mode"),          \
      py::arg("normalized"), py::arg("onesided"), py::arg("kind"), py::arg("power")

using FArr = py::array_t<float, py::array::c_style>;
using CArr = py::array_t<std::complex<float>, py::array::c_style>;


void check_2d(const py::array& a, int64_t channels, const char* name) {
  HB_CHECK(a.ndim() == 2 && a.shape(0) == channels,
           std::string(name) + " must have shape (channels=" + std::to_string(channels) +
               ", samples)");
}

}  // namespace

void bind_stft(py::module_& m) {
  m.def("fft_size_supported", &hb::fft_size_supported, py::arg("n"));
  m.def(
      "stft_num_frames",
      [](int64_t length, int64_t n_fft, int64_t hop, bool center, int pad_mode) {
        return hb::stft_num_frames(make_params(n_fft, hop, center, pad_mode, false, true, 0, 1.0),
                                   length);
      },
      py::arg("length"), py::arg("n_fft"), py::arg("hop_length"), py::arg("center"),
      py::arg("pad_mode"));
  m.def(
      "check_params",
      [](int64_t n_fft, int64_t hop, bool center, int pad_mode, bool normalized, bool onesided,
         int kind, double power) {
        hb::stft_check_params(make_params(n_fft, hop, center, pad_mode, normalized, onesided, kind, power));
      },
      HB_PARAM_ARGS);
  m.def(
      "all_finite",
      [](uintptr_t p, int64_t n, bool is_double) {
        py::gil_scoped_release nogil;
        return is_double ? hb::all_finite(ptr<const double>(p), n)
                         : hb::all_finite(ptr<const float>(p), n);
      },
      py::arg("ptr"), py::arg("n"), py::arg("is_double"));
  m.def(
      "istft_check_nola",
      [](uintptr_t w, int64_t n_frames, int64_t length, bool is_double, int64_t n_fft,
         int64_t hop, bool center) {
        StftParams p = make_params(n_fft, hop, center, 0, false, true, 0, 1.0);
        py::gil_scoped_release nogil;
        if (is_double) hb::istft_check_nola(p, ptr<const double>(w), n_frames, length);
        else hb::istft_check_nola(p, ptr<const float>(w), n_frames, length);
      },
      py::arg("window"), py::arg("n_frames"), py::arg("length"), py::arg("is_double"),
      py::arg("n_fft"), py::arg("hop_length"), py::arg("center"));

  // ---- pointer entry points (host memory) ----
  m.def(
      "stft_forward",
      [](uintptr_t x, int64_t batch, int64_t length, uintptr_t w, uintptr_t out, bool is_double,
         int64_t n_fft, int64_t hop, bool center, int pad_mode, bool normalized, bool onesided,
         int kind, double power) {
        StftParams p = make_params(n_fft, hop, center, pad_mode, normalized, onesided, kind, power);
        py::gil_scoped_release nogil;
        if (is_double)
          hb::stft_forward_cpu(ptr<const double>(x), batch, length, ptr<const double>(w), ptr<double>(out), p);
        else
          hb::stft_forward_cpu(ptr<const float>(x), batch, length, ptr<const float>(w), ptr<float>(out), p);
      },
      py::arg("x"), py::arg("batch"), py::arg("length"), py::arg("window"), py::arg("out"),
      py::arg("is_double"), HB_PARAM_ARGS);
  m.def(
      "stft_forward_reference",
      [](uintptr_t x, int64_t batch, int64_t length, uintptr_t w, uintptr_t out, int64_t n_fft,
         int64_t hop, bool center, int pad_mode, bool normalized, bool onesided, int kind,
         double power) {
        StftParams p = make_params(n_fft, hop, center, pad_mode, normalized, onesided, kind, power);
        py::gil_scoped_release nogil;
        hb::stft_forward_reference(ptr<const float>(x), batch, length, ptr<const float>(w), ptr<float>(out), p);
      },
      py::arg("x"), py::arg("batch"), py::arg("length"), py::arg("window"), py::arg("out"),
      HB_PARAM_ARGS);
  m.def(
      "stft_backward",
      [](uintptr_t g, int64_t batch, int64_t length, uintptr_t w, uintptr_t gx, bool is_double,
         int64_t n_fft, int64_t hop, bool center, int pad_mode, bool normalized, bool onesided) {
        StftParams p = make_params(n_fft, hop, center, pad_mode, normalized, onesided, 0, 1.0);
        py::gil_scoped_release nogil;
        if (is_double)
          hb::stft_backward_cpu(ptr<const double>(g), batch, length, ptr<const double>(w), ptr<double>(gx), p);
        else
          hb::stft_backward_cpu(ptr<const float>(g), batch, length, ptr<const float>(w), ptr<float>(gx), p);
      },
      py::arg("grad_spec"), py::arg("batch"), py::arg("length"), py::arg("window"),
      py::arg("grad_x"), py::arg("is_double"), py::arg("n_fft"), py::arg("hop_length"),
      py::arg("center"), py::arg("pad_mode"), py::arg("normalized"), py::arg("onesided"));
  m.def(
      "istft_forward",
      [](uintptr_t spec, int64_t batch, int64_t n_frames, uintptr_t w, uintptr_t out,
         int64_t length, bool is_double, int64_t n_fft, int64_t hop, bool center,
         bool normalized, bool onesided, int kind, double power) {
        StftParams p = make_params(n_fft, hop, center, 0, normalized, onesided, kind, power);
        py::gil_scoped_release nogil;
        if (is_double)
          hb::istft_forward_cpu(ptr<const double>(spec), batch, n_frames, ptr<const double>(w), ptr<double>(out), length, p);
        else
          hb::istft_forward_cpu(ptr<const float>(spec), batch, n_frames, ptr<const float>(w), ptr<float>(out), length, p);
      },
      py::arg("spec"), py::arg("batch"), py::arg("n_frames"), py::arg("window"), py::arg("out"),
      py::arg("length"), py::arg("is_double"), py::arg("n_fft"), py::arg("hop_length"),
      py::arg("center"), py::arg("normalized"), py::arg("onesided"), py::arg("kind"),
      py::arg("power"));
  m.def(
      "istft_backward",
      [](uintptr_t g, int64_t batch, int64_t n_frames, uintptr_t w, uintptr_t gspec,
         int64_t length, bool is_double, int64_t n_fft, int64_t hop, bool center,
         bool normalized, bool onesided) {
        StftParams p = make_params(n_fft, hop, center, 0, normalized, onesided, 0, 1.0);
        py::gil_scoped_release nogil;
        if (is_double)
          hb::istft_backward_cpu(ptr<const double>(g), batch, n_frames, ptr<const double>(w), ptr<double>(gspec), length, p);
        else
          hb::istft_backward_cpu(ptr<const float>(g), batch, n_frames, ptr<const float>(w), ptr<float>(gspec), length, p);
      },
      py::arg("grad_out"), py::arg("batch"), py::arg("n_frames"), py::arg("window"),
      py::arg("grad_spec"), py::arg("length"), py::arg("is_double"), py::arg("n_fft"),
      py::arg("hop_length"), py::arg("center"), py::arg("normalized"), py::arg("onesided"));

  // ---- CUDA pointer entry points (device memory, a cudaStream_t as an integer) ----
  m.def(
      "stft_forward_cuda",
      [](uintptr_t x, int64_t batch, int64_t length, uintptr_t w, uintptr_t out, uintptr_t stream,
         int64_t n_fft, int64_t hop, bool center, int pad_mode, bool normalized, bool onesided,
         int kind, double power) {
        StftParams p = make_params(n_fft, hop, center, pad_mode, normalized, onesided, kind, power);
        py::gil_scoped_release nogil;
        hb::stft_forward_cuda(ptr<const float>(x), batch, length, ptr<const float>(w), ptr<float>(out), p,
                              reinterpret_cast<void*>(stream));
      },
      py::arg("x"), py::arg("batch"), py::arg("length"), py::arg("window"), py::arg("out"),
      py::arg("stream"), HB_PARAM_ARGS);
  m.def(
      "istft_forward_cuda",
      [](uintptr_t spec, int64_t batch, int64_t n_frames, uintptr_t w, uintptr_t out,
         int64_t length, uintptr_t stream, int64_t n_fft, int64_t hop, bool center,
         bool normalized, bool onesided, int kind, double power) {
        StftParams p = make_params(n_fft, hop, center, 0, normalized, onesided, kind, power);
        py::gil_scoped_release nogil;
        hb::istft_forward_cuda(ptr<const float>(spec), batch, n_frames, ptr<const float>(w), ptr<float>(out),
                               length, p, reinterpret_cast<void*>(stream));
      },
      py::arg("spec"), py::arg("batch"), py::arg("n_frames"), py::arg("window"), py::arg("out"),
      py::arg("length"), py::arg("stream"), py::arg("n_fft"), py::arg("hop_length"),
      py::arg("center"), py::arg("normalized"), py::arg("onesided"), py::arg("kind"),
      py::arg("power"));

  // ---- the CUDA kernels' block bodies run on the host (host pointers; tests without a GPU) ----
  m.def(
      "stft_forward_cuda_emulated",
      [](uintptr_t x, int64_t batch, int64_t length, uintptr_t w, uintptr_t out,
         int64_t smem_limit, int grid_y_limit, int64_t n_fft, int64_t hop, bool center,
         int pad_mode, bool normalized, bool onesided, int kind, double power) {
        StftParams p = make_params(n_fft, hop, center, pad_mode, normalized, onesided, kind, power);
        py::gil_scoped_release nogil;
        hb::stft_forward_cuda_emulated(ptr<const float>(x), batch, length, ptr<const float>(w),
                                       ptr<float>(out), p, smem_limit, grid_y_limit);
      },
      py::arg("x"), py::arg("batch"), py::arg("length"), py::arg("window"), py::arg("out"),
      py::arg("smem_limit"), py::arg("grid_y_limit"), HB_PARAM_ARGS);
  m.def(
      "istft_forward_cuda_emulated",
      [](uintptr_t spec, int64_t batch, int64_t n_frames, uintptr_t w, uintptr_t out,
         int64_t length, int64_t smem_limit, int grid_y_limit, int64_t n_fft, int64_t hop,
         bool center, bool normalized, bool onesided, int kind, double power) {
        StftParams p = make_params(n_fft, hop, center, 0, normalized, onesided, kind, power);
        py::gil_scoped_release nogil;
        hb::istft_forward_cuda_emulated(ptr<const float>(spec), batch, n_frames,
                                        ptr<const float>(w), ptr<float>(out), length, p,
                                        smem_limit, grid_y_limit);
      },
      py::arg("spec"), py::arg("batch"), py::arg("n_frames"), py::arg("window"), py::arg("out"),
      py::arg("length"), py::arg("smem_limit"), py::arg("grid_y_limit"), py::arg("n_fft"),
      py::arg("hop_length"), py::arg("center"), py::arg("normalized"), py::arg("onesided"),
      py::arg("kind"), py::arg("power"));

  // ---- streaming cost measured inside C++ (for bench/: no Python per hop) ----
  m.def(
      "stream_cost_ns",
      [](int64_t n_fft, int64_t hop, FArr w, int kind, double power, const std::string& what,
         int64_t hops, int64_t rounds) {
        HB_CHECK(what == "analysis" || what == "roundtrip", "what must be 'analysis' or 'roundtrip'");
        StftParams p = make_params(n_fft, hop, true, 1, false, true, kind, power);
        std::vector<float> wv = hb_bind::window_from(w, n_fft);
        std::vector<float> x(static_cast<size_t>(hop * hops));
        for (size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7919) % 2000) / 1000.0f - 1.0f;
        std::vector<float> y(static_cast<size_t>(hop));
        std::vector<float> frames(static_cast<size_t>(stft_num_bins(p) * 2 * 2));
        std::vector<double> per_round;
        py::gil_scoped_release nogil;
        if (what == "analysis") {
          hb::StftStreamer s(p, wv.data(), 1);
          for (int64_t r = 0; r < rounds; ++r) {
            auto t0 = std::chrono::steady_clock::now();
            for (int64_t i = 0; i < hops; ++i) s.push(x.data() + i * hop, hop, hop, frames.data(), 2);
            auto t1 = std::chrono::steady_clock::now();
            per_round.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / double(hops));
          }
        } else {
          hb::StftRoundTrip s(p, wv.data(), 1);
          for (int64_t r = 0; r < rounds; ++r) {
            auto t0 = std::chrono::steady_clock::now();
            for (int64_t i = 0; i < hops; ++i) s.process(x.data() + i * hop, hop, y.data(), hop, hop);
            auto t1 = std::chrono::steady_clock::now();
            per_round.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / double(hops));
          }
        }
        std::sort(per_round.begin(), per_round.end());
        return per_round;
      },
      py::arg("n_fft"), py::arg("hop_length"), py::arg("window"), py::arg("kind"),
      py::arg("power"), py::arg("what"), py::arg("hops") = 2000, py::arg("rounds") = 7,
      "Sorted per-round mean ns per hop of a one-channel stream fed one hop at a time");

  // ---- NumPy streams ----
  py::class_<hb::StftStreamer>(m, "StftStreamer")
      .def(py::init([](int64_t n_fft, int64_t hop, py::array_t<float, py::array::c_style> w,
                       int64_t channels, bool center, bool normalized, bool onesided, int kind,
                       double power) {
             StftParams p = make_params(n_fft, hop, center, 1, normalized, onesided, kind, power);
             std::vector<float> wv = hb_bind::window_from(w, n_fft);
             return new hb::StftStreamer(p, wv.data(), channels);
           }),
           py::arg("n_fft"), py::arg("hop_length"), py::arg("window"), py::arg("channels"),
           py::arg("center"), py::arg("normalized"), py::arg("onesided"), py::arg("kind"),
           py::arg("power"))
      .def_property_readonly("channels", &hb::StftStreamer::channels)
      .def_property_readonly("n_bins", &hb::StftStreamer::n_bins)
      .def("frames_for", &hb::StftStreamer::frames_for, py::arg("n_samples"))
      .def(
          "push",
          [](hb::StftStreamer& s, py::array_t<float, py::array::c_style> x) -> py::array {
            check_2d(x, s.channels(), "x");
            const int64_t n = x.shape(1);
            const int64_t k = s.frames_for(n);
            const bool mag = s.params().kind == hb::SpecKind::Magnitude;
            py::array out = mag ? py::array(FArr({s.channels(), s.n_bins(), k}))
                                : py::array(CArr({s.channels(), s.n_bins(), k}));
            float* o = static_cast<float*>(out.mutable_data());
            const float* xp = x.data();
            {
              py::gil_scoped_release nogil;
              s.push(xp, n, n, o, k);
            }
            return out;
          },
          py::arg("x").noconvert())
      .def("reset", &hb::StftStreamer::reset);

  py::class_<hb::IstftStreamer>(m, "IstftStreamer")
      .def(py::init([](int64_t n_fft, int64_t hop, py::array_t<float, py::array::c_style> w,
                       int64_t channels, bool center, bool normalized, bool onesided, int kind,
                       double power) {
             StftParams p = make_params(n_fft, hop, center, 1, normalized, onesided, kind, power);
             std::vector<float> wv = hb_bind::window_from(w, n_fft);
             return new hb::IstftStreamer(p, wv.data(), channels);
           }),
           py::arg("n_fft"), py::arg("hop_length"), py::arg("window"), py::arg("channels"),
           py::arg("center"), py::arg("normalized"), py::arg("onesided"), py::arg("kind"),
           py::arg("power"))
      .def_property_readonly("channels", &hb::IstftStreamer::channels)
      .def_property_readonly("latency_samples", &hb::IstftStreamer::latency_samples)
      .def(
          "push",
          [](hb::IstftStreamer& s, CArr spec) -> FArr {
            const int64_t nb = hb::stft_num_bins(s.params());
            HB_CHECK(spec.ndim() == 3 && spec.shape(0) == s.channels() && spec.shape(1) == nb,
                     "spec must have shape (channels=" + std::to_string(s.channels()) +
                         ", n_bins=" + std::to_string(nb) + ", frames)");
            const int64_t k = spec.shape(2), hop = s.params().hop_length;
            FArr out({s.channels(), k * hop});
            const float* sp = reinterpret_cast<const float*>(spec.data());
            float* o = out.mutable_data();
            {
              py::gil_scoped_release nogil;
              s.push(sp, k, k, o, k * hop);
            }
            return out;
          },
          py::arg("spec").noconvert())
      .def("reset", &hb::IstftStreamer::reset);

}
