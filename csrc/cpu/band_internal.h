// Internal interface between the band plans (band_cpu.cpp) and the per-ISA kernels
// (band_simd_impl.h, compiled once portable and once with AVX2/FMA). Plain views of the packed
// weights and function pointers only.
#pragma once

#include <cstdint>

namespace hb {
namespace detail {

// Rows are processed in chunks of kBandChunk (band by band inside a chunk, so a band's weights
// stay in cache across the chunk) and, inside a chunk, in register blocks of up to kBandRows.
constexpr int64_t kBandRows = 4;
constexpr int64_t kBandChunk = 32;

inline int64_t band_round8(int64_t n) { return (n + 7) / 8 * 8; }

// Weight matrices B (kc x width, width a multiple of 8; the outputs are the columns) are packed
// in column strips of 24 (the last one 8 or 16 wide): the strip starting at column j0 is
// contiguous at j0 * kc, element (k, j0 + j) at j0 * kc + k * ws + j with ws its width. val(k, j)
// gives the element (zero padding is the caller's business).
template <typename Val>
void band_pack_strips(int64_t kc, int64_t width, float* dst, Val val) {
  for (int64_t j0 = 0; j0 < width; j0 += 24) {
    const int64_t ws = width - j0 < 24 ? width - j0 : 24;
    float* d = dst + j0 * kc;
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t j = 0; j < ws; ++j) d[k * ws + j] = val(k, j0 + j);
  }
}

// Band split, packed. Np = N rounded up to 8; columns N..Np-1 of wt and bias are zero.
struct BandSplitView {
  int64_t K = 0, D = 0, N = 0, Np = 0;
  int64_t zld = 0;  // row stride of the normalised-input scratch (D rounded up to 8)
  const int64_t* dims = nullptr;
  const int64_t* offs = nullptr;
  const float* gamma = nullptr;  // (D)
  const float* beta = nullptr;   // (D)
  const float* wt = nullptr;     // band k at offs[k]*Np: weight[:, o_k:o_k+d_k]^T (d_k x Np), strips
  const float* bias = nullptr;   // (K, Np)
  float eps = 0.f;
};
// scratch floats of split_rows: kBandChunk * zld + 8 * kBandRows
inline int64_t band_split_scratch(const BandSplitView& v) {
  return kBandChunk * v.zld + 8 * kBandRows;
}

// Band mask, packed. Np, Hp: N, Hm rounded up to 8 (padding zero). m = 2 with GLU, else 1.
struct BandMaskView {
  int64_t K = 0, N = 0, Np = 0, H = 0, Hp = 0, m = 1;
  int64_t vld = 0;  // row stride of the second-layer scratch (>= max m * d_k)
  bool glu = true;
  const int64_t* dims = nullptr;  // output widths d_k
  const int64_t* offs = nullptr;  // output offsets p_k
  const float* gamma = nullptr;   // (K, N)
  const float* beta = nullptr;    // (K, N)
  const float* w1t = nullptr;     // band k at k*N*Hp: w1[k]^T (N x Hp), strips
  const float* b1 = nullptr;      // (K, Hp)
  const float* w2 = nullptr;      // (m*Dout, Hp): w2 with its rows zero padded to Hp
  const float* b2 = nullptr;      // (m*Dout)
  float eps = 0.f;
};
// scratch floats of mask_rows: a chunk of normalised inputs, hidden and second-layer rows
inline int64_t band_mask_scratch(const BandMaskView& v) {
  return kBandChunk * (v.Np + v.Hp + v.vld) + 8 * kBandRows;
}

// y (S, K, N) contiguous from x rows (stride ldx); scratch as band_split_scratch.
typedef void (*BandSplitRowsFn)(const BandSplitView& v, const float* x, int64_t S, int64_t ldx,
                                float* y, float* scratch);
// y rows (stride ldy) from x (S, K, N) contiguous; scratch as band_mask_scratch.
typedef void (*BandMaskRowsFn)(const BandMaskView& v, const float* x, int64_t S, float* y,
                               int64_t ldy, float* scratch);
// Elementwise helpers (exposed for the accuracy tests): y[i] = tanh(x[i]) / sigmoid(x[i]).
typedef void (*BandMapFn)(const float* x, int64_t n, float* y);

struct BandKernels {
  const char* name;
  BandSplitRowsFn split_rows;
  BandMaskRowsFn mask_rows;
  BandMapFn tanh;
  BandMapFn sigmoid;
};

const BandKernels* band_kernels_generic();
#if defined(HB_HAVE_AVX2_TU)
const BandKernels* band_kernels_avx2();
#endif
// AVX2 when the CPU has it and SIMD is enabled (follows the GEMM / STFT dispatch).
const BandKernels* active_band_kernels();

}  // namespace detail
}  // namespace hb
