// Helpers shared by the binding files.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hushboard/common.h"
#include "hushboard/dccrn.h"  // TensorMap

namespace hb_bind {

using FArr = pybind11::array_t<float, pybind11::array::c_style>;

// A window given from Python: exactly n_fft float32 values.
inline std::vector<float> window_from(const FArr& w, int64_t n_fft) {
  HB_CHECK(w.ndim() == 1 && w.shape(0) == n_fft,
           "window must be a 1-D float32 array of length n_fft = " + std::to_string(n_fft));
  return std::vector<float>(w.data(), w.data() + n_fft);
}

// An engine's weights from a dict of C-contiguous float32 arrays. The views point into the
// arrays, which `keep` holds alive while the engine copies them. `model` names the model in
// the messages.
inline hb::TensorMap tensor_map_from_dict(const pybind11::dict& weights, const std::string& model,
                                          std::vector<FArr>& keep) {
  hb::TensorMap tm;
  for (auto item : weights) {
    const std::string name = pybind11::str(item.first);
    HB_CHECK(pybind11::isinstance<pybind11::array>(item.second),
             model + " weights: tensor '" + name + "' must be a numpy array");
    pybind11::array a = pybind11::reinterpret_borrow<pybind11::array>(item.second);
    HB_CHECK(a.dtype().is(pybind11::dtype::of<float>()) &&
                 (a.flags() & pybind11::array::c_style),
             model + " weights: tensor '" + name + "' must be a C-contiguous float32 numpy array");
    auto arr = FArr::ensure(item.second);
    hb::TensorView v;
    for (pybind11::ssize_t d = 0; d < arr.ndim(); ++d) v.shape.push_back(arr.shape(d));
    v.data = arr.data();
    tm[name] = v;
    keep.push_back(arr);
  }
  return tm;
}

}  // namespace hb_bind
