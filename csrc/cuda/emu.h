// hushboard — a host emulator for CUDA block bodies (tests without a GPU).
//
// The CUDA kernels keep their block bodies as __host__ __device__ templates over a small
// context (thread / block indices, shared memory, a block barrier). On the device the context
// reads threadIdx / blockIdx and its barrier is __syncthreads(). On the host, emu::launch runs
// the very same body over a grid: the blocks one after another, the threads of a block
// concurrently, one OS thread each, with a real barrier. That checks a kernel's indexing, its
// shared-memory traffic and its barrier placement on any machine; it does not check the device
// compiler, timing, or the memory model of a real GPU (hence the GPU tests stay).
//
// Shared memory is filled with 0xFF bytes (NaN as float) before every block, so a body that
// reads shared memory it did not write shows up as NaN in the output.
//
// Host-only (included by the .cu files, used by their *_emulated entry points).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace hb {
namespace emu {

struct Dim3 {
  int x = 1, y = 1, z = 1;
};

// A reusable barrier for n threads (generation counted).
class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  void wait() {
    std::unique_lock<std::mutex> lock(m_);
    const unsigned long gen = gen_;
    if (++count_ == n_) {
      count_ = 0;
      ++gen_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [&] { return gen_ != gen; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int n_;
  int count_ = 0;
  unsigned long gen_ = 0;
};

// What one emulated CUDA thread knows of itself.
struct Thread {
  Dim3 thread, block, block_dim, grid_dim;
  void* smem = nullptr;
  Barrier* barrier = nullptr;
  void sync() const { barrier->wait(); }
};

// Runs body(const Thread&) for every thread of every block of `grid`. The body must not throw
// and must reach every sync() in all threads of a block (as on the device).
template <class Body>
void launch(Dim3 grid, Dim3 block, size_t smem_bytes, const Body& body) {
  const int nthr = block.x * block.y * block.z;
  if (nthr <= 0 || grid.x <= 0 || grid.y <= 0 || grid.z <= 0) return;
  std::vector<double> smem((smem_bytes + sizeof(double) - 1) / sizeof(double) + 1);
  Barrier barrier(nthr);
  std::vector<std::thread> pool;
  pool.reserve(size_t(nthr));
  for (int t = 0; t < nthr; ++t) {
    pool.emplace_back([&, t] {
      Thread th;
      th.thread = Dim3{t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
      th.block_dim = block;
      th.grid_dim = grid;
      th.smem = smem.data();
      th.barrier = &barrier;
      for (int bz = 0; bz < grid.z; ++bz)
        for (int by = 0; by < grid.y; ++by)
          for (int bx = 0; bx < grid.x; ++bx) {
            if (t == 0) std::memset(smem.data(), 0xFF, smem.size() * sizeof(double));
            barrier.wait();  // poisoned shared memory before anyone starts the block
            th.block = Dim3{bx, by, bz};
            body(th);
            barrier.wait();  // the block is finished before its shared memory is reused
          }
    });
  }
  for (auto& th : pool) th.join();
}

}  // namespace emu
}  // namespace hb
