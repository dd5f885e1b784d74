// Helpers shared by the binding files.
#pragma once

#include <pybind11/numpy.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hushboard/common.h"

namespace hb_bind {

using FArr = pybind11::array_t<float, pybind11::array::c_style>;

// A window given from Python: exactly n_fft float32 values.
inline std::vector<float> window_from(const FArr& w, int64_t n_fft) {
  HB_CHECK(w.ndim() == 1 && w.shape(0) == n_fft,
           "window must be a 1-D float32 array of length n_fft = " + std::to_string(n_fft));
  return std::vector<float>(w.data(), w.data() + n_fft);
}

}  // namespace hb_bind
