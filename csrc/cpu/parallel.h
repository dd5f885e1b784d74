// Internal helpers for the CPU kernels: a simple fork-join parallel loop and aligned buffers.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>

namespace hb {
namespace detail {

// Calls fn(begin, end) on contiguous slices of [0, n) from up to get_num_threads() threads
// (the caller's thread takes the first slice). Exceptions propagate to the caller.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], FreeDeleter>;
// 64-byte aligned, zero-initialised.
AlignedFloats aligned_floats(int64_t n);

}  // namespace detail
}  // namespace hb
