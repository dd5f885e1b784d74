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

}  // namespace hb
