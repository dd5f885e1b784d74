// Internal to the engines: named weight tensors handed over from Python, checked and copied.
#pragma once

#include <string>
#include <vector>

#include "hushboard/common.h"
#include "hushboard/dccrn.h"  // TensorMap
#include "hushboard/stft.h"

namespace hb {
namespace detail {

inline std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + (s.size() == 1 ? ",)" : ")");
}

// The named tensor, checked against the expected shape and for NaN/Inf; `model` prefixes the
// messages ("DCCRN weights: missing tensor 'x'").
inline const TensorView& weight_view(const TensorMap& w, const std::string& model,
                                     const std::string& name, const std::vector<int64_t>& shape) {
  auto it = w.find(name);
  HB_CHECK(it != w.end(), model + " weights: missing tensor '" + name + "'");
  HB_CHECK(it->second.shape == shape, model + " weights: tensor '" + name + "' has shape " +
                                          shape_str(it->second.shape) + ", expected " +
                                          shape_str(shape));
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  HB_CHECK(it->second.data != nullptr || n == 0,
           model + " weights: tensor '" + name + "' is null");
  HB_CHECK(all_finite(it->second.data, n),
           model + " weights: tensor '" + name + "' has NaN or Inf");
  return it->second;
}

// A copy of the checked tensor.
inline std::vector<float> take_weight(const TensorMap& w, const std::string& model,
                                      const std::string& name,
                                      const std::vector<int64_t>& shape) {
  const TensorView& v = weight_view(w, model, name, shape);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return std::vector<float>(v.data, v.data + n);
}

// The STFT of a model engine (centred, zero padded) after checking n_fft and hop_length.
inline StftParams engine_stft_params(const std::string& model, int64_t n_fft, int64_t hop) {
  HB_CHECK(n_fft >= 16 && n_fft % 2 == 0,
           model + " n_fft must be even and >= 16 (got " + std::to_string(n_fft) + ")");
  HB_CHECK(hop >= 1 && hop <= n_fft,
           model + " hop_length must be in [1, n_fft] (got " + std::to_string(hop) + ")");
  StftParams p;
  p.n_fft = n_fft;
  p.hop_length = hop;
  p.center = true;
  p.pad_mode = PadMode::Constant;
  return p;
}

// The engine's analysis/synthesis window: the weight "window", (n_fft,).
inline const float* engine_window(const TensorMap& w, const std::string& model, int64_t n_fft) {
  return weight_view(w, model, "window", {n_fft}).data;
}

}  // namespace detail
}  // namespace hb
