// hushboard — common definitions for the torch- and Python-free C++ core.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#define HB_VERSION_STRING "0.1.0"

namespace hb {

// Thrown for bad arguments; the bindings map it to Python's ValueError.
struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

#define HB_CHECK(cond, msg)                              \
  do {                                                   \
    if (!(cond)) throw ::hb::ValueError(std::string(msg)); \
  } while (0)

// Threads used by the CPU kernels (default: HUSHBOARD_NUM_THREADS or the hardware count).
int get_num_threads();
void set_num_threads(int n);

// Name of the SIMD path the CPU kernels picked at run time ("avx2-fma" or "generic").
const char* cpu_simd_path();
// Force the portable path (for tests and benchmarks); true restores run-time detection.
void set_simd_enabled(bool enabled);

// True when every element is finite.
bool all_finite(const float* x, int64_t n);
bool all_finite(const double* x, int64_t n);

}  // namespace hb
