// hushboard — CUDA entry points. The header needs no CUDA include: streams travel as void*
// (a cudaStream_t). In a build without CUDA these functions exist and throw / report absence.
#pragma once

#include <cstdint>
#include <string>

#include "hushboard/stft.h"

namespace hb {

bool cuda_compiled();          // built with HUSHBOARD_CUDA
std::string cuda_archs();      // e.g. "80;86;89;90" ("" when not compiled)
int cuda_device_count();       // 0 when not compiled, no driver, or no device
std::string cuda_device_name(int device);

// Fused STFT on the GPU; same semantics and layouts as stft_forward_cpu (float32 only).
// All pointers are device pointers; work is queued on `stream`.
void stft_forward_cuda(const float* x, int64_t batch, int64_t length, const float* window,
                       float* out, const StftParams& p, void* stream);
// Fused iSTFT on the GPU; same semantics as istft_forward_cpu (complex or compressed input).
// NOLA is checked by the caller on the host.
void istft_forward_cuda(const float* spec, int64_t batch, int64_t n_frames, const float* window,
                        float* out, int64_t length, const StftParams& p, void* stream);

}  // namespace hb
