// hushboard — what the CUDA kernels share: the __host__ __device__ helpers, the error check, and
// the two block contexts a kernel body runs under (the device's, and the host grid emulator's,
// see emu.h). A body is a template over its context: it reads the thread / block indices and the
// shared memory from it and calls c.sync() for a block barrier.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "emu.h"

#define HB_HD __host__ __device__ __forceinline__
// Unroll hint for the device passes only (the host compiler would warn about the pragma).
#ifdef __CUDA_ARCH__
#define HB_UNROLL _Pragma("unroll")
#else
#define HB_UNROLL
#endif

namespace hb {
namespace cuda_common {

// A read through the read-only cache on the device, a plain load on the host.
HB_HD float ldf(const float* p) {
#ifdef __CUDA_ARCH__
  return __ldg(p);
#else
  return *p;
#endif
}

inline void check_cuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // clear a non-sticky error
    throw std::runtime_error(std::string("hushboard CUDA error in ") + what + ": " +
                             cudaGetErrorString(e));
  }
}

// Thread / block indices and sizes, and the block's shared memory as T*.
template <class T>
struct DeviceCtx {
  int tx, ty, bx, by, bz, bdx, gdy, gdz;
  T* smem;
  __device__ void sync() const { __syncthreads(); }
};

template <class T>
__device__ __forceinline__ DeviceCtx<T> device_ctx(T* smem) {
  return DeviceCtx<T>{int(threadIdx.x), int(threadIdx.y), int(blockIdx.x), int(blockIdx.y),
                      int(blockIdx.z),  int(blockDim.x),  int(gridDim.y),  int(gridDim.z),
                      smem};
}

// The same for a thread of the host emulator (emu::launch).
template <class T>
struct EmuCtx {
  int tx, ty, bx, by, bz, bdx, gdy, gdz;
  T* smem;
  const emu::Thread* t;
  // host-only in practice; the device pass never instantiates a body with this context
  HB_HD void sync() const {
#ifndef __CUDA_ARCH__
    t->sync();
#endif
  }
};

template <class T>
inline EmuCtx<T> emu_ctx(const emu::Thread& t) {
  return EmuCtx<T>{t.thread.x, t.thread.y, t.block.x,      t.block.y,      t.block.z,
                   t.block_dim.x, t.grid_dim.y, t.grid_dim.z, static_cast<T*>(t.smem), &t};
}

}  // namespace cuda_common
}  // namespace hb
