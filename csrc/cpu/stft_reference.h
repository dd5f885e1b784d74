// The scalar C++ reference for the STFT family: float64 arithmetic over any storage type.
// It serves float64 tensors, odd n_fft, and the tests of the SIMD path.
#pragma once

#include <cstdint>
#include <vector>

#include "hushboard/stft.h"

namespace hb {
namespace detail {

template <typename T>
void ref_stft_forward(const T* x, int64_t batch, int64_t length, const T* window, T* out,
                      const StftParams& p);
template <typename T>
void ref_stft_backward(const T* grad_spec, int64_t batch, int64_t length, const T* window,
                       T* grad_x, const StftParams& p);
template <typename T>
void ref_istft_forward(const T* spec, int64_t batch, int64_t n_frames, const T* window, T* out,
                       int64_t length, const StftParams& p);
template <typename T>
void ref_istft_backward(const T* grad_out, int64_t batch, int64_t n_frames, const T* window,
                        T* grad_spec, int64_t length, const StftParams& p);

// sum_t window[n - t*hop]^2 for overlap-add samples n = start .. start+count-1 (0 past the end
// of the overlap-add span); O(count + n_fft).
template <typename T>
std::vector<double> istft_envelope(const StftParams& p, const T* window, int64_t n_frames,
                                   int64_t start, int64_t count);

// 1 / (sum_t window[n - t*hop]^2) for overlap-add samples n = start .. start+count-1 (0 past the
// end of the overlap-add span). The caller has checked NOLA.
template <typename T>
std::vector<double> istft_inverse_envelope(const StftParams& p, const T* window, int64_t n_frames,
                                           int64_t start, int64_t count);

}  // namespace detail
}  // namespace hb
