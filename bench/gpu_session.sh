#!/usr/bin/env bash
# Everything issues 7 and 8 need from a GPU machine: build for the GPU's arch, run every CUDA
# test, then the GPU benchmarks. Run from the repo root:
#
#     bash bench/gpu_session.sh [STAGE...]     # STAGE: build, test, bench (default: all three)
#
# Reports go to $OUT (the device tool's folder) or bench/out/gpu; each stage writes its own
# files there (machine.txt, build.log, info.txt; tests.log; cuda.md, stft.md, bench_cli.json,
# separation.md: eight files, the most one device call brings back).
#
# Budget (one H100/H200, 16 cores): build ~3 min, tests ~2 min, benches ~5 min. One device
# call may run 10 minutes at most, so on the device tool run two calls back to back:
#
#     bash bench/gpu_session.sh build test      (timeout_s 450)
#     bash bench/gpu_session.sh bench           (timeout_s 450, at once: the warm machine keeps
#                                                the install; on a fresh one it builds first)
#
# Each stage's commands have their own timeouts inside those 450 s, so a stage that hangs
# still leaves the others' reports. The machine needs nvcc, torch, pybind11, scikit-build-core,
# cmake and ninja; hushboard's other runtime dependencies (pedalboard, pesq, pystoi, soundfile,
# sounddevice) are not needed by these tests and benches, so the install skips them
# (--no-deps: such machines often reach no package index).
set -u -o pipefail
out="${OUT:-bench/out/gpu}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
py="${PYTHON:-python3}"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(build test bench)
for s in "${stages[@]}"; do
    case "$s" in build|test|bench) ;; *) echo "unknown stage '$s' (build, test, bench)"; exit 2 ;; esac
done
has() { local s; for s in "${stages[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

build() {
    local arch t0
    arch="$("$py" -c 'import torch; m, n = torch.cuda.get_device_capability(); print(f"{m}{n}")' 2>/dev/null)"
    export HUSHBOARD_CUDA_ARCHS="${HUSHBOARD_CUDA_ARCHS:-${arch:-90}}"
    { nvidia-smi; "$py" -c 'import torch; print("torch", torch.__version__, torch.version.cuda)'; } \
        >"$out/machine.txt" 2>&1
    echo "== build (archs $HUSHBOARD_CUDA_ARCHS)"
    t0=$SECONDS
    if ! timeout 360 "$py" -m pip install --no-build-isolation --no-deps . >"$out/build.log" 2>&1; then
        tail -40 "$out/build.log"
        return 1
    fi
    echo "built in $((SECONDS - t0)) s"
    # (the package lives in python/hushboard, so the checkout's root shadows nothing installed)
    "$py" -m hushboard info 2>&1 | tee "$out/info.txt"
}

built_for_gpu() {
    "$py" -c 'import hushboard.backend as b, sys; sys.exit(0 if b.cuda_available() else 1)' 2>/dev/null
}

rc=0
if has build || ! built_for_gpu; then
    build || exit 1
fi
if has test; then
    echo "== CUDA tests"
    HUSHBOARD_REQUIRE_CUDA=1 timeout 240 "$py" -m pytest -q -p no:cacheprovider \
        tests/ops/test_rnn_cuda.py tests/ops/test_band_cuda.py tests/ops/test_complex_conv_cuda.py \
        tests/ops/test_stft_cuda.py tests/ops/test_autocast.py tests/test_serve.py \
        tests/test_batch.py tests/test_separation.py tests/models -k "cuda or gpu" 2>&1 \
        | tee "$out/tests.log" | tail -60
    rc=$?
fi
if has bench; then
    # issue 7's kernels and streams, the STFT against its bandwidth floor, the CLI's GPU
    # figures, and issue 8's "3-minute song on a GPU in under 2 s"
    echo "== benchmarks"
    timeout 200 "$py" bench/bench_cuda.py --out "$out/cuda.md" 2>&1 | tail -60
    timeout 60 "$py" bench/bench_stft.py --device cuda --quick --out "$out/stft.md" 2>&1 | tail -30
    timeout 60 "$py" -m hushboard bench --device cuda --json "$out/bench_cli.json" 2>&1 | tail -20
    timeout 90 "$py" bench/bench_separation.py --device cuda --out "$out/separation.md" 2>&1 | tail -20
fi
echo "tests exit status: $rc; reports in $out"
exit "$rc"
