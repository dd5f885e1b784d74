// Internal interface between the STFT dispatcher (stft_cpu.cpp) and the per-ISA kernels
// (stft_simd_impl.h compiled once per instruction set). Plain structs and raw pointers only, so
// that the ISA-specific translation units instantiate no shared inline library code.
#pragma once

#include <cstdint>

namespace hb {
namespace detail {

constexpr int kLanes = 8;       // frames processed side by side, one per SIMD lane
constexpr int kMaxStages = 40;

// Lane-parallel complex FFT of size m (forward, sign -1), Stockham autosort, radices 4/2/3/5.
struct FftPlan {
  int64_t m = 0;
  int nstages = 0;
  int radix[kMaxStages] = {};
  const float* twiddle[kMaxStages] = {};  // per stage: (p*(r-1) + k-1)*2 -> (cos, -sin)(2 pi p k / n)
};

// Real FFT of even size n via the complex FFT of size n/2.
struct RealFftPlan {
  int64_t n = 0;
  FftPlan half;
  const float* rtw = nullptr;  // k = 0..n/4: (cos, -sin)(2 pi k / n)
  // One frame at a time (streaming): the half-size FFT of size m = 8*p is split as n = l*p + j
  // (an 8-point DFT across l in vector lanes, twiddles, then a lane-parallel p-point FFT).
  // Available when m % 8 == 0 and p >= 8.
  bool single = false;
  FftPlan sub;                      // size p
  const float* stw_re = nullptr;    // [k1 * p + j] = cos(2 pi j k1 / m), k1 = 0..7
  const float* stw_im = nullptr;    // -sin(...)
};

enum : int { kKindComplex = 0, kKindMagnitude = 1, kKindCompressed = 2 };
enum : int { kPadNone = 0, kPadReflect = 1, kPadConstant = 2 };

// Frames of a real signal -> spectrum bins.
struct AnalysisJob {
  const RealFftPlan* plan;
  int64_t n_fft, hop;
  const float* window;     // n_fft
  // source signal: frame t covers padded indices [t*hop, t*hop + n_fft) of a signal padded by
  // `pad` on both sides with `pad_mode`
  int64_t length, pad;
  int pad_mode;
  // output: (n_bins_out, out_frames[, 2]); frame t goes to column t + col_offset
  int64_t out_frames, col_offset;
  bool onesided;           // false: also write bins n/2+1..n-1 as conjugates (times scale_interior)
  int kind;                // kKind*
  float power_exp;         // compressed: multiply X by |X|^(2*power_exp) (power_exp = (c-1)/2)
  float scale_interior, scale_edge;  // bins 1..n/2-1, and bins 0 and n/2
  // optional (streams): window[2i] and window[2i+1], for the one-frame path
  const float* window_even = nullptr;
  const float* window_odd = nullptr;
};

// Spectrum bins (onesided) -> windowed frames overlap-added.
struct SynthesisJob {
  const RealFftPlan* plan;
  int64_t n_fft, hop;
  const float* window;     // n_fft
  int64_t n_frames;        // frames available: 0..n_frames-1
  int64_t in_frames, col_offset;  // input (n_fft/2+1, in_frames, 2); frame t at column t+col_offset
  int kind;                // kKindComplex or kKindCompressed
  float power_exp;         // compressed: X = Y * |Y|^(2*power_exp) (power_exp = (1/c-1)/2)
  float scale;             // frame = scale * window * irfft(edge-adjusted bins)
  float edge_mul;          // bins 0 and n/2 are multiplied by this before the inverse
  bool accumulate;         // add into ola (frames in order) instead of overwriting it
};

// One-frame kernels for streams (plan->single must be true). analysis1 transforms the n_fft
// samples at `frame` into column `col` of out; synthesis1 adds the windowed inverse of column
// `col` of spec to ola[0 .. n_fft).
struct SingleFrameKernels {
  void (*analysis1)(const AnalysisJob& job, const float* frame, float* out, int64_t col,
                    float* scratch);
  void (*synthesis1)(const SynthesisJob& job, const float* spec, int64_t col, float* ola,
                     float* scratch);
};

struct ArchKernels {
  const char* name;
  // frames [t0, t1) of one signal row -> out row
  void (*analysis)(const AnalysisJob& job, const float* x, float* out, int64_t t0, int64_t t1,
                   float* scratch);
  // overlap-add of all frames into ola[0 .. o1-o0), covering absolute samples [o0, o1)
  void (*synthesis)(const SynthesisJob& job, const float* spec, float* ola, int64_t o0,
                    int64_t o1, float* scratch);
  bool (*all_finite)(const float* x, int64_t n);
  SingleFrameKernels single;
};

// Scratch floats the kernels need (32-byte aligned).
inline int64_t kernel_scratch_floats(int64_t n_fft) {
  return 4 * (n_fft / 2 + 1) * kLanes + (kLanes + 1) * (n_fft + 8) + 64;
}

const ArchKernels* kernels_generic();
#if defined(HB_HAVE_AVX2_TU)
const ArchKernels* kernels_avx2();
#endif
const ArchKernels* active_kernels();

}  // namespace detail
}  // namespace hb
