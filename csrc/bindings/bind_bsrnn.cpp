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

void bind_bsrnn(py::module_& m) {
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
