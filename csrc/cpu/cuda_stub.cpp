// hushboard — CUDA entry points for a build without CUDA: report absence, kernels throw.
#include <stdexcept>
#include <string>

#include "hushboard/cuda.h"

namespace hb {

bool cuda_compiled() { return false; }

std::string cuda_archs() { return std::string(); }

int cuda_device_count() { return 0; }

std::string cuda_device_name(int) { return std::string(); }

void stft_forward_cuda(const float*, int64_t, int64_t, const float*, float*, const StftParams&,
                       void*) {
  throw std::runtime_error("hushboard was built without CUDA");
}

void istft_forward_cuda(const float*, int64_t, int64_t, const float*, float*, int64_t,
                        const StftParams&, void*) {
  throw std::runtime_error("hushboard was built without CUDA");
}

void complex_conv_forward_cuda(bool, const float*, int64_t, int64_t, int64_t, const float*,
                               const float*, const float*, const float*, float*,
                               const ComplexConvParams&, void*) {
  throw std::runtime_error("hushboard was built without CUDA");
}

void stft_forward_cuda_emulated(const float*, int64_t, int64_t, const float*, float*,
                                const StftParams&, int64_t, int) {
  throw std::runtime_error("hushboard was built without CUDA (no kernels to emulate)");
}

void istft_forward_cuda_emulated(const float*, int64_t, int64_t, const float*, float*, int64_t,
                                 const StftParams&, int64_t, int) {
  throw std::runtime_error("hushboard was built without CUDA (no kernels to emulate)");
}

void complex_conv_forward_cuda_emulated(bool, const float*, int64_t, int64_t, int64_t,
                                        const float*, const float*, const float*, const float*,
                                        float*, const ComplexConvParams&, int) {
  throw std::runtime_error("hushboard was built without CUDA (no kernels to emulate)");
}

void band_split_cuda(const int64_t*, int64_t, int64_t, const float*, const float*, const float*,
                     const float*, float, const float*, int64_t, int64_t, float*, void*) {
  throw std::runtime_error("hushboard was built without CUDA");
}

void band_mask_cuda(const int64_t*, int64_t, int64_t, int64_t, bool, const float*, const float*,
                    const float*, const float*, const float*, const float*, float, const float*,
                    int64_t, float*, int64_t, void*) {
  throw std::runtime_error("hushboard was built without CUDA");
}

void band_split_cuda_emulated(const int64_t*, int64_t, int64_t, const float*, const float*,
                              const float*, const float*, float, const float*, int64_t, int64_t,
                              float*) {
  throw std::runtime_error("hushboard was built without CUDA (no kernels to emulate)");
}

void band_mask_cuda_emulated(const int64_t*, int64_t, int64_t, int64_t, bool, const float*,
                             const float*, const float*, const float*, const float*,
                             const float*, float, const float*, int64_t, float*, int64_t) {
  throw std::runtime_error("hushboard was built without CUDA (no kernels to emulate)");
}

void rnn_forward_cuda(bool, const float*, const float*, const float*, const float*, const float*,
                      int64_t, int64_t, int64_t, bool, float*, float*, float*, void*) {
  throw std::runtime_error("hushboard was built without CUDA");
}

void rnn_forward_cuda_emulated(bool, const float*, const float*, const float*, const float*,
                               const float*, int64_t, int64_t, int64_t, bool, float*, float*,
                               float*, int64_t) {
  throw std::runtime_error("hushboard was built without CUDA (no kernels to emulate)");
}

}  // namespace hb
