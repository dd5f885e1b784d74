// hushboard — fused STFT / iSTFT kernels (batched and streaming).
//
// Conventions follow torch.stft / torch.istft. All arrays are C-contiguous.
//   signal    (batch, length)                       real
//   window    (n_fft,)                              real; a shorter window is zero-padded centrally
//                                                   by the caller (as torch does)
//   spectrum  (batch, n_bins, n_frames, 2)          interleaved complex (= complex64/128 layout)
//   magnitude (batch, n_bins, n_frames)             real
// n_bins = n_fft/2+1 when onesided, else n_fft.
#pragma once

#include <cstdint>

#include "hushboard/common.h"

namespace hb {

enum class PadMode : int { Reflect = 0, Constant = 1 };

// What the forward transform writes (and the inverse reads).
//   Complex     X
//   Magnitude   |X|                    (forward only: it has no inverse without a phase)
//   Compressed  |X|^power * X/|X|      (0 where X == 0; power == 1 is plain X)
enum class SpecKind : int { Complex = 0, Magnitude = 1, Compressed = 2 };

struct StftParams {
  int64_t n_fft = 512;
  int64_t hop_length = 128;
  bool center = true;
  PadMode pad_mode = PadMode::Reflect;
  bool normalized = false;  // scale by 1/sqrt(n_fft) (forward) and undo it (inverse)
  bool onesided = true;
  SpecKind kind = SpecKind::Complex;
  double power = 1.0;  // used by SpecKind::Compressed
};

// True when n is a positive product of 2, 3 and 5.
bool fft_size_supported(int64_t n);

int64_t stft_num_bins(const StftParams& p);
// Frames produced for a signal of `length` samples (throws when the signal is too short).
int64_t stft_num_frames(const StftParams& p, int64_t length);
// Samples that istft's overlap-add spans before trimming: n_fft + hop*(n_frames-1).
int64_t istft_full_length(const StftParams& p, int64_t n_frames);
// Output length of istft without an explicit `length`.
int64_t istft_default_length(const StftParams& p, int64_t n_frames);

// Validate parameters; throws ValueError naming the argument.
void stft_check_params(const StftParams& p);
// Throws ValueError when the window fails NOLA over the istft output range.
void istft_check_nola(const StftParams& p, const float* window, int64_t n_frames, int64_t length);
void istft_check_nola(const StftParams& p, const double* window, int64_t n_frames, int64_t length);

// ---- offline, CPU -----------------------------------------------------------------------------
// Forward: signal -> out (spectrum or magnitude according to p.kind).
void stft_forward_cpu(const float* x, int64_t batch, int64_t length, const float* window,
                      float* out, const StftParams& p);
void stft_forward_cpu(const double* x, int64_t batch, int64_t length, const double* window,
                      double* out, const StftParams& p);

// Adjoint of the *complex* forward transform (p.kind is ignored): grad of a real loss with
// respect to the complex spectrum (d/dRe + i d/dIm) -> grad of the signal (batch, length).
void stft_backward_cpu(const float* grad_spec, int64_t batch, int64_t length, const float* window,
                       float* grad_x, const StftParams& p);
void stft_backward_cpu(const double* grad_spec, int64_t batch, int64_t length,
                       const double* window, double* grad_x, const StftParams& p);

// Inverse: spectrum (complex or compressed according to p.kind) -> signal (batch, length).
// `length` is the requested output length (see istft_default_length); samples past the
// overlap-add span are zero, as in torch.istft.
void istft_forward_cpu(const float* spec, int64_t batch, int64_t n_frames, const float* window,
                       float* out, int64_t length, const StftParams& p);
void istft_forward_cpu(const double* spec, int64_t batch, int64_t n_frames, const double* window,
                       double* out, int64_t length, const StftParams& p);

// Adjoint of the inverse for complex input (p.kind ignored): grad (batch, length) -> grad of the
// complex spectrum (batch, n_bins, n_frames, 2).
void istft_backward_cpu(const float* grad_out, int64_t batch, int64_t n_frames,
                        const float* window, float* grad_spec, int64_t length,
                        const StftParams& p);
void istft_backward_cpu(const double* grad_out, int64_t batch, int64_t n_frames,
                        const double* window, double* grad_spec, int64_t length,
                        const StftParams& p);

// The C++ scalar reference (any 2,3,5-smooth n_fft; float64 arithmetic, float32 storage).
// Used by tests to check the SIMD path.
void stft_forward_reference(const float* x, int64_t batch, int64_t length, const float* window,
                            float* out, const StftParams& p);

}  // namespace hb
