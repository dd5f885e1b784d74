// BSRNN streaming engine binding: weights arrive as a dict of float32 C-contiguous arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "common.h"
#include "hushboard/bsrnn.h"
#include "hushboard/common.h"

namespace py = pybind11;

namespace {

using FArr = hb_bind::FArr;

// x (B, T, D) -> masks (stems, B, T, Dout); state (B, state_floats) updated in place or None.
py::array_t<float> network_forward(hb::BsrnnNetwork& net, const FArr& x, py::object state) {
  HB_CHECK(x.ndim() == 3 && x.shape(2) == net.in_features(),
           "x must have shape (batch, frames, " + std::to_string(net.in_features()) + ")");
  const int64_t B = x.shape(0), T = x.shape(1);
  float* st = nullptr;
  FArr sarr;
  if (!state.is_none()) {
    HB_CHECK(py::isinstance<FArr>(state), "state must be a C-contiguous float32 array");
    sarr = state.cast<FArr>();
    HB_CHECK(sarr.ndim() == 2 && sarr.shape(0) == B && sarr.shape(1) == net.state_floats(),
             "state must have shape (batch, " + std::to_string(net.state_floats()) + ")");
    st = sarr.mutable_data();
  }
  py::array_t<float> y({net.config().stems, B, T, net.out_features()});
  float* yp = y.mutable_data();
  const float* xp = x.data();
  {
    py::gil_scoped_release release;
    net.forward(xp, B, T, yp, st);
  }
  return y;
}

}  // namespace

void bind_bsrnn(py::module_& m) {
  py::class_<hb::BsrnnNetwork>(m, "BsrnnNetwork")
      .def(py::init([](std::vector<int64_t> bands, int64_t audio_channels, int64_t feature_dim,
                       int64_t num_layers, int64_t hidden_size, bool gru, bool causal,
                       int64_t mask_hidden, int64_t mask_frames, int64_t stems, float eps,
                       const py::dict& weights) {
             hb::BsrnnNetConfig c;
             c.bands = std::move(bands);
             c.audio_channels = audio_channels;
             c.feature_dim = feature_dim;
             c.num_layers = num_layers;
             c.hidden_size = hidden_size;
             c.gru = gru;
             c.causal = causal;
             c.mask_hidden = mask_hidden;
             c.mask_frames = mask_frames;
             c.stems = stems;
             c.eps = eps;
             std::vector<hb_bind::FArr> keep;
             hb::TensorMap tm = hb_bind::tensor_map_from_dict(weights, "BSRNN", keep);
             return new hb::BsrnnNetwork(c, tm);
           }),
           py::arg("bands"), py::arg("audio_channels"), py::arg("feature_dim"),
           py::arg("num_layers"), py::arg("hidden_size"), py::arg("gru"), py::arg("causal"),
           py::arg("mask_hidden"), py::arg("mask_frames"), py::arg("stems"), py::arg("eps"),
           py::arg("weights"))
      .def_property_readonly("in_features", &hb::BsrnnNetwork::in_features)
      .def_property_readonly("out_features", &hb::BsrnnNetwork::out_features)
      .def_property_readonly("state_floats", &hb::BsrnnNetwork::state_floats)
      .def("forward", &network_forward, py::arg("x").noconvert(), py::arg("state") = py::none(),
           "Masks (stems, batch, frames, out_features) for feature rows (batch, frames, "
           "in_features); state (batch, state_floats) is carried in place when given (causal "
           "models). The GIL is released.");

  py::class_<hb::BsrnnEngine, hb::StftRoundTrip>(m, "BsrnnEngine")
      .def(py::init([](std::vector<int64_t> bands, int64_t feature_dim, int64_t num_layers,
                       int64_t hidden_size, bool gru, int64_t mask_hidden, int64_t mask_frames,
                       int64_t n_fft, int64_t hop_length, float eps, const py::dict& weights,
                       int64_t stream_channels) {
             hb::BsrnnConfig c;
             c.bands = std::move(bands);
             c.feature_dim = feature_dim;
             c.num_layers = num_layers;
             c.hidden_size = hidden_size;
             c.gru = gru;
             c.mask_hidden = mask_hidden;
             c.mask_frames = mask_frames;
             c.n_fft = n_fft;
             c.hop_length = hop_length;
             c.eps = eps;
             std::vector<hb_bind::FArr> keep;
             hb::TensorMap tm = hb_bind::tensor_map_from_dict(weights, "BSRNN", keep);
             return new hb::BsrnnEngine(c, tm, stream_channels);
           }),
           py::arg("bands"), py::arg("feature_dim"), py::arg("num_layers"),
           py::arg("hidden_size"), py::arg("gru"), py::arg("mask_hidden"),
           py::arg("mask_frames"), py::arg("n_fft"), py::arg("hop_length"), py::arg("eps"),
           py::arg("weights"), py::arg("stream_channels"));
}
