#!/usr/bin/env bash
# Everything issue 7 needs from a GPU machine, in one call (a lent machine's time is short):
# build for the GPU's arch, run every CUDA test, then the GPU benchmarks. Run from the repo root:
#
#     bash bench/gpu_session.sh            # outputs to $OUT (the device tool's folder) or bench/out/gpu
#
# The machine needs nvcc, torch, pybind11, scikit-build-core, cmake and ninja; hushboard's other
# runtime dependencies (pedalboard, pesq, pystoi, sounddevice) are not needed by these tests and
# benches, so the install skips them (--no-deps: such machines often reach no package index).
# Budget (one H100/H200, 16 cores): build ~3 min, tests ~2 min, benches ~5 min (the last one
# times issue 8's "3-minute song on a GPU in under 2 s").
set -u -o pipefail
out="${OUT:-bench/out/gpu}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
py="${PYTHON:-python3}"
arch="$("$py" -c 'import torch; m, n = torch.cuda.get_device_capability(); print(f"{m}{n}")' 2>/dev/null)"
export HUSHBOARD_CUDA_ARCHS="${HUSHBOARD_CUDA_ARCHS:-${arch:-90}}"
{ nvidia-smi; "$py" -c 'import torch; print("torch", torch.__version__, torch.version.cuda)'; } \
    >"$out/machine.txt" 2>&1
echo "== build (archs $HUSHBOARD_CUDA_ARCHS)"
t0=$SECONDS
if ! "$py" -m pip install --no-build-isolation --no-deps . >"$out/build.log" 2>&1; then
    tail -40 "$out/build.log"
    exit 1
fi
echo "built in $((SECONDS - t0)) s"
# (the package lives in python/hushboard, so the checkout's root shadows nothing installed)
"$py" -m hushboard info 2>&1 | tee "$out/info.txt"
echo "== CUDA tests"
HUSHBOARD_REQUIRE_CUDA=1 timeout 420 "$py" -m pytest -q -p no:cacheprovider \
    tests/ops/test_rnn_cuda.py tests/ops/test_band_cuda.py tests/ops/test_complex_conv_cuda.py \
    tests/ops/test_stft_cuda.py tests/ops/test_autocast.py tests/test_serve.py \
    tests/test_batch.py tests/test_separation.py tests/models -k "cuda or gpu" 2>&1 \
    | tee "$out/tests.log" | tail -60
tests_rc=$?
echo "== benchmarks"
timeout 300 "$py" bench/bench_cuda.py --out "$out/cuda.md" 2>&1 | tail -60
timeout 120 "$py" bench/bench_stft.py --device cuda --quick --out "$out/stft.md" 2>&1 | tail -30
timeout 120 "$py" -m hushboard bench --device cuda --json "$out/bench_cli.json" 2>&1 | tail -20
timeout 150 "$py" bench/bench_separation.py --device cuda --out "$out/separation.md" 2>&1 | tail -20
echo "tests exit status: $tests_rc; reports in $out"
exit "$tests_rc"
