// Bindings of the native effects: the hb::Effect interface (block loop in C++, GIL released)
// and its implementations.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>
#include <vector>

#include "hushboard/denoise.h"
#include "hushboard/fx.h"
#include "hushboard/resample.h"
#include "hushboard/stft_stream.h"
#include "common.h"

namespace py = pybind11;

namespace {

using FArr = py::array_t<float, py::array::c_style>;

// Runs the effect over x in blocks of block_size samples (0: one block), writing y.
// The streaming fast path of Effect.process: a C-contiguous float32 block of the effect's
// channel count ((channels, n), or 1-D for mono), finite, in; a new array out. Anything else
// returns None and the Python path handles it (conversions, layouts, error messages).
py::object process_block(hb::Effect& fx, const py::handle& obj) {
  if (!py::isinstance<py::array>(obj)) return py::none();
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<float>()) || !(a.flags() & py::array::c_style)) return py::none();
  const int64_t C = fx.channels();
  int64_t n;
  if (a.ndim() == 2 && a.shape(0) == C) {
    n = a.shape(1);
  } else if (a.ndim() == 1 && C == 1) {
    n = a.shape(0);
  } else {
    return py::none();
  }
  if (n == 0) return py::none();
  const float* xp = static_cast<const float*>(a.data());
  if (!hb::all_finite(xp, C * n)) return py::none();
  py::array_t<float> y(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
  float* yp = y.mutable_data();
  {
    py::gil_scoped_release nogil;
    fx.process(xp, n, yp, n, n);
  }
  return std::move(y);
}

void process_into(hb::Effect& fx, const FArr& x, FArr& y, int64_t block_size) {
  HB_CHECK(x.ndim() == 2 && x.shape(0) == fx.channels(),
           "x must have shape (channels=" + std::to_string(fx.channels()) + ", samples)");
  HB_CHECK(y.ndim() == 2 && y.shape(0) == x.shape(0) && y.shape(1) == x.shape(1),
           "out must have the shape of x");
  HB_CHECK(block_size >= 0, "block_size must be >= 0");
  const int64_t n = x.shape(1);
  const float* xp = x.data();
  float* yp = y.mutable_data();
  py::gil_scoped_release nogil;
  const int64_t step = block_size > 0 ? block_size : std::max<int64_t>(n, 1);
  for (int64_t i = 0; i < n; i += step)
    fx.process(xp + i, n, yp + i, n, std::min(step, n - i));
}


}  // namespace

void bind_fx(py::module_& m) {
  py::class_<hb::Effect>(m, "Effect")
      .def_property_readonly("channels", &hb::Effect::channels)
      .def_property_readonly("latency_samples", &hb::Effect::latency_samples)
      .def("reset", &hb::Effect::reset)
      .def("process_block", &process_block, py::arg("audio"),
           "Fast path: a C-contiguous float32 block in, a new block out; None if not applicable")
      .def("process_into", &process_into, py::arg("x").noconvert(), py::arg("out").noconvert(),
           py::arg("block_size") = 0,
           "Stream x (channels, n) through the effect into out, block_size samples per call");

  py::class_<hb::EffectChain, hb::Effect>(m, "EffectChain")
      .def(py::init<int64_t, int64_t>(), py::arg("channels"), py::arg("max_block") = 1024)
      .def("append", &hb::EffectChain::append, py::arg("effect"), py::keep_alive<1, 2>())
      .def("__len__", &hb::EffectChain::size);

  py::class_<hb::Gain, hb::Effect>(m, "Gain")
      .def(py::init<double, int64_t>(), py::arg("gain_db"), py::arg("channels"))
      .def("set_gain_db", &hb::Gain::set_gain_db, py::arg("gain_db"))
      .def_property_readonly("gain_db", &hb::Gain::gain_db);

  py::class_<hb::StftRoundTrip, hb::Effect>(m, "StftRoundTrip")
      .def(py::init([](int64_t n_fft, int64_t hop, FArr w, int64_t channels, bool normalized,
                       int kind, double power) {
             hb::StftParams p;
             p.n_fft = n_fft;
             p.hop_length = hop;
             p.normalized = normalized;
             HB_CHECK(kind == 0 || kind == 2, "kind must be complex (0) or compressed (2)");
             p.kind = static_cast<hb::SpecKind>(kind);
             p.power = power;
             std::vector<float> wv = hb_bind::window_from(w, n_fft);
             return new hb::StftRoundTrip(p, wv.data(), channels);
           }),
           py::arg("n_fft"), py::arg("hop_length"), py::arg("window"), py::arg("channels"),
           py::arg("normalized"), py::arg("kind"), py::arg("power"));

  py::class_<hb::WienerDenoiser, hb::StftRoundTrip>(m, "WienerDenoiser")
      .def(py::init([](double sample_rate, int64_t n_fft, int64_t hop, int64_t channels,
                       double gain_floor_db, double dd_alpha, double noise_time_const_s,
                       double min_window_s, double presence_threshold) {
             hb::WienerParams p;
             p.sample_rate = sample_rate;
             p.n_fft = n_fft;
             p.hop_length = hop;
             p.gain_floor_db = gain_floor_db;
             p.dd_alpha = dd_alpha;
             p.noise_time_const_s = noise_time_const_s;
             p.min_window_s = min_window_s;
             p.presence_threshold = presence_threshold;
             return new hb::WienerDenoiser(p, channels);
           }),
           py::arg("sample_rate"), py::arg("n_fft"), py::arg("hop_length"), py::arg("channels"),
           py::arg("gain_floor_db"), py::arg("dd_alpha"), py::arg("noise_time_const_s"),
           py::arg("min_window_s"), py::arg("presence_threshold"))
      .def("set_gain_floor_db", &hb::WienerDenoiser::set_gain_floor_db, py::arg("gain_floor_db"));

  py::class_<hb::SpectralGate, hb::StftRoundTrip>(m, "SpectralGate")
      .def(py::init([](double sample_rate, int64_t n_fft, int64_t hop, int64_t channels,
                       double n_std, double attenuation_db, double freq_smooth_hz,
                       double time_smooth_ms, double learn_ms) {
             hb::GateParams p;
             p.sample_rate = sample_rate;
             p.n_fft = n_fft;
             p.hop_length = hop;
             p.n_std = n_std;
             p.attenuation_db = attenuation_db;
             p.freq_smooth_hz = freq_smooth_hz;
             p.time_smooth_ms = time_smooth_ms;
             p.learn_ms = learn_ms;
             return new hb::SpectralGate(p, channels);
           }),
           py::arg("sample_rate"), py::arg("n_fft"), py::arg("hop_length"), py::arg("channels"),
           py::arg("n_std"), py::arg("attenuation_db"), py::arg("freq_smooth_hz"),
           py::arg("time_smooth_ms"), py::arg("learn_ms"))
      .def(
          "set_profile",
          [](hb::SpectralGate& g, FArr mean_db, FArr std_db) {
            HB_CHECK(mean_db.ndim() == 1 && std_db.ndim() == 1 && mean_db.shape(0) == g.n_bins() &&
                         std_db.shape(0) == g.n_bins(),
                     "profile must hold n_bins = " + std::to_string(g.n_bins()) + " values");
            g.set_profile(mean_db.data(), std_db.data());
          },
          py::arg("mean_db"), py::arg("std_db"))
      .def("set_n_std", &hb::SpectralGate::set_n_std, py::arg("n_std"))
      .def("set_attenuation_db", &hb::SpectralGate::set_attenuation_db, py::arg("attenuation_db"));

  py::class_<hb::ResampledEffect, hb::Effect>(m, "ResampledEffect")
      .def(py::init<hb::Effect*, int64_t, int64_t, int64_t>(), py::arg("inner"),
           py::arg("outer_rate"), py::arg("inner_rate"), py::arg("max_block") = 4096,
           py::keep_alive<1, 2>());

  py::class_<hb::Resampler>(m, "Resampler")
      .def(py::init<int64_t, int64_t, int64_t>(), py::arg("in_rate"), py::arg("out_rate"),
           py::arg("channels"))
      .def_property_readonly("up", &hb::Resampler::up)
      .def_property_readonly("down", &hb::Resampler::down)
      .def_property_readonly("delay_out", &hb::Resampler::delay_out)
      .def("outputs_for", &hb::Resampler::outputs_for, py::arg("n"))
      .def("reset", &hb::Resampler::reset)
      .def(
          "push",
          [](hb::Resampler& r, FArr x) -> FArr {
            HB_CHECK(x.ndim() == 2 && x.shape(0) == r.channels(),
                     "x must have shape (channels=" + std::to_string(r.channels()) + ", samples)");
            const int64_t n = x.shape(1), k = r.outputs_for(n);
            FArr y({r.channels(), k});
            const float* xp = x.data();
            float* yp = y.mutable_data();
            {
              py::gil_scoped_release nogil;
              r.push(xp, n, n, yp, k);
            }
            return y;
          },
          py::arg("x").noconvert());
}
