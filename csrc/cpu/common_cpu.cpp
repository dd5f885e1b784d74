// Threads, run-time ISA dispatch and small shared utilities.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hushboard/common.h"
#include "parallel.h"
#include "stft_internal.h"

namespace hb {
namespace {

int initial_threads() {
  if (const char* env = std::getenv("HUSHBOARD_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : int(hc);
}

std::atomic<int> g_threads{initial_threads()};
std::atomic<bool> g_simd{true};

}  // namespace

int get_num_threads() { return g_threads.load(); }

void set_num_threads(int n) {
  HB_CHECK(n >= 1, "num_threads must be >= 1 (got " + std::to_string(n) + ")");
  g_threads.store(n);
}

void set_simd_enabled(bool enabled) { g_simd.store(enabled); }

namespace detail {

const ArchKernels* active_kernels() {
#if defined(HB_HAVE_AVX2_TU)
  static const bool has_avx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  if (has_avx2 && g_simd.load()) return kernels_avx2();
#endif
  return kernels_generic();
}

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t nt = std::min<int64_t>(get_num_threads(), n);
  if (nt <= 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(nt);
  auto slice = [&](int64_t i) { return n * i / nt; };
  for (int64_t i = 1; i < nt; ++i) {
    workers.emplace_back([&, i] {
      try {
        fn(slice(i), slice(i + 1));
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  }
  try {
    fn(slice(0), slice(1));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& w : workers) w.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

AlignedFloats aligned_floats(int64_t n) {
  size_t bytes = size_t(std::max<int64_t>(n, 1)) * sizeof(float);
  bytes = (bytes + 63) & ~size_t(63);
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return AlignedFloats(static_cast<float*>(p));
}

}  // namespace detail

const char* cpu_simd_path() { return detail::active_kernels()->name; }

bool all_finite(const float* x, int64_t n) { return detail::active_kernels()->all_finite(x, n); }

bool all_finite(const double* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

}  // namespace hb
