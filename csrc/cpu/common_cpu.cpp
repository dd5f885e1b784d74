// Threads, run-time ISA dispatch and small shared utilities.
#include <algorithm>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
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

namespace {

// A persistent pool: workers sleep on a condition variable between calls, so a parallel call
// costs a wake-up instead of a thread start. One call runs at a time (others wait their turn);
// a call from inside a worker runs inline.
class Pool {
 public:
  // Never destroyed (workers may outlive static destruction). A forked child has none of the
  // parent's worker threads: it starts a fresh pool (the parent's is leaked there).
  static Pool& get() {
    static const bool registered = [] {
      pthread_atfork(nullptr, nullptr, [] { instance() = nullptr; });
      return true;
    }();
    (void)registered;
    Pool*& pool = instance();
    if (!pool) pool = new Pool();
    return *pool;
  }
  static Pool*& instance() {
    static Pool* pool = nullptr;
    return pool;
  }

  void run(int64_t n, int64_t nt, const std::function<void(int64_t, int64_t)>& fn) {
    std::unique_lock<std::mutex> call_lock(call_mu_);
    ensure_workers(int(nt - 1));
    std::vector<std::exception_ptr> errors(static_cast<size_t>(nt));
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      n_ = n;
      nt_ = nt;
      errors_ = &errors;
      pending_ = nt - 1;
      ++generation_;
    }
    cv_.notify_all();
    run_slice(0);
    {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [&] { return pending_ == 0; });
      fn_ = nullptr;
    }
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }

  static bool in_worker() { return tls_worker_; }

 private:
  void run_slice(int64_t i) {
    try {
      (*fn_)(n_ * i / nt_, n_ * (i + 1) / nt_);
    } catch (...) {
      (*errors_)[size_t(i)] = std::current_exception();
    }
  }

  void ensure_workers(int want) {
    while (int(workers_.size()) < want) {
      const int index = int(workers_.size()) + 1;
      uint64_t gen;  // the generation the worker has seen: read before it starts, so the call
      {              // about to be posted is never missed
        std::lock_guard<std::mutex> lock(mu_);
        gen = generation_;
      }
      workers_.emplace_back([this, index, gen] { loop(index, gen); });
      workers_.back().detach();
    }
  }

  void loop(int index, uint64_t seen) {
    tls_worker_ = true;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (index >= nt_) continue;  // this call uses fewer threads
      }
      run_slice(index);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (--pending_ == 0) done_cv_.notify_one();
      }
    }
  }

  std::mutex call_mu_, mu_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  std::vector<std::exception_ptr>* errors_ = nullptr;
  int64_t n_ = 0, nt_ = 1, pending_ = 0;
  uint64_t generation_ = 0;
  static thread_local bool tls_worker_;
};

thread_local bool Pool::tls_worker_ = false;

}  // namespace

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t nt = std::min<int64_t>(get_num_threads(), n);
  if (nt <= 1 || Pool::in_worker()) {
    fn(0, n);
    return;
  }
  Pool::get().run(n, nt, fn);
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
