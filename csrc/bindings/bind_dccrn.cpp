// DCCRN streaming engine binding: weights arrive as a dict of float32 C-contiguous arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "common.h"
#include "hushboard/common.h"
#include "hushboard/dccrn.h"

namespace py = pybind11;

void bind_dccrn(py::module_& m) {
  py::class_<hb::DccrnEngine, hb::StftRoundTrip>(m, "DccrnEngine")
      .def(py::init([](std::vector<int64_t> channels, bool complex_rnn, int64_t rnn_layers,
                       int64_t rnn_units, int64_t kernel_f, int64_t kernel_t, int64_t stride_f,
                       int64_t n_fft, int64_t hop_length, const py::dict& weights,
                       int64_t stream_channels) {
             hb::DccrnConfig c;
             c.channels = std::move(channels);
             c.complex_rnn = complex_rnn;
             c.rnn_layers = rnn_layers;
             c.rnn_units = rnn_units;
             c.kernel_f = kernel_f;
             c.kernel_t = kernel_t;
             c.stride_f = stride_f;
             c.n_fft = n_fft;
             c.hop_length = hop_length;
             std::vector<hb_bind::FArr> keep;
             hb::TensorMap tm = hb_bind::tensor_map_from_dict(weights, "DCCRN", keep);
             return new hb::DccrnEngine(c, tm, stream_channels);
           }),
           py::arg("channels"), py::arg("complex_rnn"), py::arg("rnn_layers"),
           py::arg("rnn_units"), py::arg("kernel_f"), py::arg("kernel_t"), py::arg("stride_f"),
           py::arg("n_fft"), py::arg("hop_length"), py::arg("weights"),
           py::arg("stream_channels"));
}
