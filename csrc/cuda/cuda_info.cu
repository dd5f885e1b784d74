// hushboard — CUDA build / device information.
#include <cuda_runtime.h>

#include <string>

#include "hushboard/cuda.h"

#ifndef HB_CUDA_ARCHS
#define HB_CUDA_ARCHS ""
#endif

namespace hb {

bool cuda_compiled() { return true; }

// The build may pass the list with another separator (a ';' cannot travel through a CMake
// compile definition): normalise to "80;86;89;90".
std::string cuda_archs() {
  std::string s(HB_CUDA_ARCHS);
  for (char& ch : s)
    if (ch == ',' || ch == ' ') ch = ';';
  return s;
}

int cuda_device_count() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // no driver / no device: clear the error and report none
    return 0;
  }
  return n;
}

std::string cuda_device_name(int device) {
  if (device < 0 || device >= cuda_device_count()) return std::string();
  cudaDeviceProp prop;
  const cudaError_t e = cudaGetDeviceProperties(&prop, device);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return std::string();
  }
  return std::string(prop.name);
}

}  // namespace hb
