"""Music separation: ``hushboard.separation`` (separate, load_separator, the Wiener post-filter,
the shipped-weights partition) and ``hushboard separate``. A random-init
``bsrnn-music-44k-lite`` saved to a temporary file stands in for the trained separator."""

from __future__ import annotations

import importlib.resources
import json

import numpy as np
import pytest
import torch

import hushboard
from hushboard import separation as sep
from hushboard.cli import main
from hushboard.fx.model import shipped_weights
from hushboard.io import read_audio, write_audio
from hushboard.models.bsrnn import BSRNN
from hushboard.separation import (
    DEFAULT_SEPARATOR,
    STEMS,
    load_separator,
    separate,
    shipped_separators,
    weights_stems,
    wiener_filter,
)

SR = 44100


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> str:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = BSRNN("bsrnn-music-44k-lite")
    path = tmp_path_factory.mktemp("sep") / "music.safetensors"
    model.save(path)
    return str(path)


@pytest.fixture(scope="module")
def model(model_path) -> BSRNN:
    return load_separator(model_path)


def song(seconds: float = 2.0, channels: int = 2, sr: int = SR, seed: int = 0) -> np.ndarray:
    """Noise plus a few tones, different in each channel, peak about 0.5."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    tones = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in (110, 440, 1250, 3100))
    x = 0.08 * tones[None] + 0.05 * rng.standard_normal((channels, t.size))
    return x.astype(np.float32)


def model_stems(model: BSRNN, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model.separate(torch.from_numpy(x))[0].numpy()  # (stems, C, time)


# ---- shapes, stems, rates -----------------------------------------------------------------
def test_stereo_is_the_model_output(model):
    x = song()
    out = separate(x, SR, model=model)
    assert list(out) == list(STEMS) == list(model.config.stems)
    ref = model_stems(model, x)
    for j, name in enumerate(STEMS):
        assert out[name].shape == x.shape and out[name].dtype == np.float32
        np.testing.assert_array_equal(out[name], ref[j])  # one chunk: separate's result
    # a float64 array, a torch tensor and a path name give the same
    out64 = separate(x.astype(np.float64), SR, model=model, stems=["drums"])
    np.testing.assert_allclose(out64["drums"], ref[1], atol=1e-6)
    out_t = separate(torch.from_numpy(x), SR, model=model, stems="drums")
    np.testing.assert_array_equal(out_t["drums"], ref[1])
    assert hushboard.separate is separate


def test_mono_goes_through_both_channels(model):
    x = song(channels=1)
    ref = model_stems(model, np.repeat(x, 2, 0)).mean(1)  # duplicated, then the mean
    out_1d = separate(x[0].astype(np.float64), SR, model=model)
    out_2d = separate(x, SR, model=model, stems=["other", "vocals"])
    assert list(out_2d) == ["other", "vocals"]
    for j, name in enumerate(STEMS):
        assert out_1d[name].shape == x[0].shape and out_1d[name].dtype == np.float32
        np.testing.assert_allclose(out_1d[name], ref[j], atol=1e-6)
    for name in ("other", "vocals"):
        assert out_2d[name].shape == x.shape
        np.testing.assert_array_equal(out_2d[name], out_1d[name][None])


def test_flip_and_shifts_average_the_passes(model):
    """Test-time augmentation: flip adds the channel-swapped pass (stems swapped back), shifts
    adds passes delayed by k * hop / (shifts + 1) samples; the result is their mean."""
    x = song(seconds=0.5)
    hop = model.config.hop_length

    def delayed(a: np.ndarray, d: int) -> np.ndarray:
        return model_stems(model, np.pad(a, ((0, 0), (d, 0))))[..., d:]

    base = model_stems(model, x)
    swapped = model_stems(model, np.ascontiguousarray(x[::-1]))[:, ::-1]
    out = separate(x, SR, model=model, flip=True)
    for j, name in enumerate(STEMS):
        np.testing.assert_allclose(out[name], (base[j] + swapped[j]) / 2, atol=1e-6)
    out = separate(x, SR, model=model, shifts=2)
    want = (base + delayed(x, hop // 3) + delayed(x, 2 * hop // 3)) / 3
    for j, name in enumerate(STEMS):
        np.testing.assert_allclose(out[name], want[j], atol=1e-6)
    both = separate(x, SR, model=model, flip=True, shifts=1, stems=["bass"])["bass"]
    xs = np.ascontiguousarray(x[::-1])
    want = (base[2] + swapped[2] + delayed(x, hop // 2)[2]
            + delayed(xs, hop // 2)[2][::-1]) / 4
    np.testing.assert_allclose(both, want, atol=1e-6)
    # a mono input duplicated to both channels: the swapped pass would be the same one
    mono = song(seconds=0.5, channels=1)
    np.testing.assert_array_equal(separate(mono, SR, model=model, flip=True)["drums"],
                                  separate(mono, SR, model=model)["drums"])


def test_stem_subsets(model):
    x = song(seconds=1.0)
    full = separate(x, SR, model=model)
    sub = separate(x, SR, model=model, stems="bass, vocals,bass")
    assert list(sub) == ["bass", "vocals"]  # the order asked for, duplicates dropped
    for name in sub:
        np.testing.assert_array_equal(sub[name], full[name])
    with pytest.raises(ValueError, match="unknown stem.*'bogus'.*vocals, drums, bass, other"):
        separate(x, SR, model=model, stems=["vocals", "bogus"])
    with pytest.raises(ValueError, match="stems is empty"):
        separate(x, SR, model=model, stems=[])
    with pytest.raises(TypeError, match="stems"):
        separate(x, SR, model=model, stems=3)


@pytest.mark.parametrize("rate,channels", [(22050, 1), (48000, 2)])
def test_other_rates_are_resampled_and_keep_length(model, rate, channels):
    # an odd length (not a whole number of model-rate samples) must come back exactly
    x = song(seconds=1.5, channels=channels, sr=rate)[:, :-3]
    out = separate(x, rate, model=model, wiener=True)
    for y in out.values():
        assert y.shape == x.shape and y.dtype == np.float32 and np.isfinite(y).all()
    # The Wiener stems sum to the mix at the model's rate, and resampling is linear: so their
    # sum is the input taken to 44.1 kHz and back (which drops what lies above the lower
    # Nyquist frequency, and the anti-aliasing filters' transition band)
    from hushboard.metrics import resample

    round_trip = resample(resample(x, rate, SR), SR, rate)[:, :x.shape[-1]]
    total = sum(out.values())
    assert np.abs(total - round_trip).max() < 1e-4 * np.abs(x).max()
    # ... which keeps the content well inside the passband: below 8 kHz the sum is the input
    n = x.shape[-1]
    lo = int(8000 * n / rate)
    spec_err = np.abs(np.fft.rfft(total - x)[..., 1:lo]).max()
    assert spec_err < 1e-2 * np.abs(np.fft.rfft(x)[..., 1:lo]).max()


# ---- chunks -------------------------------------------------------------------------------------
def test_chunked_separation(model):
    x = song(seconds=2.0)
    whole = separate(x, SR, model=model)
    # a chunk longer than the file: separate's result, exactly
    once = separate(x, SR, model=model, chunk_seconds=5.0)
    for name in STEMS:
        np.testing.assert_array_equal(once[name], whole[name])
    fractions = []
    chunked = separate(x, SR, model=model, chunk_seconds=1.0, overlap_seconds=0.2,
                       progress=fractions.append)
    # the same chunks and cross-fades as BSRNN.separate_long
    with torch.inference_mode():
        ref = model.separate_long(torch.from_numpy(x), chunk_seconds=1.0,
                                  overlap_seconds=0.2)[0].numpy()
    for j, name in enumerate(STEMS):
        np.testing.assert_array_equal(chunked[name], ref[j])
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert fractions.count(1.0) == 1 and len(fractions) >= 4  # 3 chunks + the end
    # Chunked against whole: each chunk restarts the bidirectional recurrences, so the two
    # differ around the seams, by about 2e-2 of the peak inside the cross-fades, and less the
    # further a sample is from them: this random-init model's memory fades about 3x every
    # 4 frames (2048 samples). 16 frames (8192 samples) or more away from every overlap we
    # measured at most 3e-5 of the peak (two test signals); 2e-4 leaves a factor 7 for
    # platform differences. A trained model remembers longer: the 1 s default cross-fade is
    # there to hide that.
    hop = model.config.hop_length
    chunk, overlap = round(1.0 * SR / hop) * hop, round(0.2 * SR / hop) * hop
    n = x.shape[-1]
    near = np.zeros(n, bool)
    for start in range(chunk - overlap, n, chunk - overlap):
        near[max(0, start - 8192):min(n, start + overlap + 8192)] = True
    diff = np.max([np.abs(chunked[s] - whole[s]).max(0) for s in STEMS], 0)
    peak = max(np.abs(whole[s]).max() for s in STEMS)
    assert (~near).sum() > n // 3
    assert diff[~near].max() < 2e-4 * peak
    assert diff[near].max() > 5e-3 * peak  # the seams are really separate chunks


# ---- Wiener --------------------------------------------------------------------------------------
def test_wiener_stems_sum_to_the_mix(model):
    x = song()
    raw = separate(x, SR, model=model)
    fractions = []
    filtered = separate(x, SR, model=model, wiener=True, progress=fractions.append)
    peak = np.abs(x).max()
    assert np.abs(sum(raw.values()) - x).max() > 1e-2 * peak  # the raw masks do not
    assert np.abs(sum(filtered.values()) - x).max() < 1e-4 * peak
    assert fractions == sorted(fractions) and fractions.count(1.0) == 1
    # a subset is cut from the filter over all four stems
    sub = separate(x, SR, model=model, wiener=True, stems=["bass"])
    np.testing.assert_array_equal(sub["bass"], filtered["bass"])
    # mono through the stereo model: the stems' channel means sum to the mono mix
    mono = separate(x[0], SR, model=model, wiener=True)
    assert np.abs(sum(mono.values()) - x[0]).max() < 1e-4 * peak


def synthetic_sources(seconds: float = 2.0) -> torch.Tensor:
    """Four stereo sources: each a few amplitude-modulated tones of its own, panned apart."""
    t = torch.arange(int(seconds * SR), dtype=torch.float64) / SR
    rng = np.random.default_rng(1)
    freqs = [(220, 660, 1320), (300, 900, 4000), (55, 82, 110), (500, 2500, 7000)]
    pans = (0.2, 0.5, 0.8, 0.35)
    out = []
    for j, (fs, pan) in enumerate(zip(freqs, pans)):
        s = sum(torch.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in fs)
        s = s * (1 + 0.3 * torch.sin(2 * np.pi * 0.7 * (j + 1) * t))
        gains = torch.tensor([np.cos(pan * np.pi / 2), np.sin(pan * np.pi / 2)])
        out.append(0.1 * gains[:, None] * s)
    return torch.stack(out)[None].float()  # (1, 4, 2, time)


def sdr(ref: torch.Tensor, est: torch.Tensor) -> float:
    return float(10 * torch.log10(ref.square().sum() / (est - ref).square().sum()))


def test_wiener_keeps_true_stems_and_fixes_leaks():
    truth = synthetic_sources()
    mix = truth.sum(1)
    out = wiener_filter(mix, truth)
    assert out.shape == truth.shape and out.dtype == torch.float32
    # given the true stems, the filter gives them back: only bins where two sources' tones
    # overlap (Hann side lobes) are shared out by power; we measured 36-41 dB
    for j in range(4):
        assert sdr(truth[0, j], out[0, j]) > 30
    assert (out.sum(1) - mix).abs().max() < 1e-4 * mix.abs().max()
    # estimates with 30 % of a neighbour leaked in: the filter moves them towards the truth
    leaky = truth + 0.3 * (truth.roll(1, 1) - truth)
    fixed = wiener_filter(mix, leaky, iterations=2)
    err = lambda e: float((e - truth).square().sum() / truth.square().sum())  # noqa: E731
    assert err(fixed) < 0.5 * err(leaky)


def test_wiener_segments_channels_and_silence():
    g = torch.Generator().manual_seed(0)
    n = SR
    mix = 0.1 * torch.randn(1, 2, n, generator=g)
    est = 0.05 * torch.randn(1, 4, 2, n, generator=g)
    # short segments (40 frames, 0.46 s, cross-faded): each sums to its slice of the mix;
    # stereo and mono
    for frames, channels in ((40, 2), (40, 1)):
        y = wiener_filter(mix[:, :channels], est[:, :, :channels], segment_frames=frames)
        assert (y.sum(1) - mix[:, :channels]).abs().max() < 1e-4 * mix.abs().max()
    # float64 in, float64 out; silence stays silent (no NaN from 0 / 0)
    y64 = wiener_filter(mix.double(), est.double())
    assert y64.dtype == torch.float64
    assert (y64.sum(1) - mix.double()).abs().max() < 1e-9
    zero = wiener_filter(torch.zeros(1, 2, 4096), torch.zeros(1, 4, 2, 4096))
    assert torch.equal(zero, torch.zeros(1, 4, 2, 4096))
    with pytest.raises(ValueError, match="estimates"):
        wiener_filter(mix, est[:, :, :1])
    with pytest.raises(ValueError, match="iterations"):
        wiener_filter(mix, est, iterations=0)
    # the 2 x 2 closed-form solve equals LAPACK's
    c = torch.randn(50, 2, 2, dtype=torch.complex128, generator=g)
    c = c @ c.mH + 0.1 * torch.eye(2)
    b = torch.randn(50, 2, dtype=torch.complex128, generator=g)
    torch.testing.assert_close(sep._solve(c, b), torch.linalg.solve(c, b[..., None])[..., 0])


# ---- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad,kwargs,exc,match", [
    (np.full((2, 4410), np.nan, np.float32), {}, ValueError, "NaN or Inf"),
    (np.array([[0.0, np.inf]], np.float32), {}, ValueError, "NaN or Inf"),
    (np.zeros((2, 0), np.float32), {}, ValueError, "empty"),
    (np.zeros((2, 4410), np.int16), {}, TypeError, "float32 or float64.*int16"),
    (np.zeros((1, 2, 4410), np.float32), {}, ValueError, r"\(channels, samples\).*\(1, 2, 4410\)"),
    (np.zeros((3, 4410), np.float32), {}, ValueError, "1 or 2 channels.*mix it down"),
    (np.zeros((4410, 2), np.float32), {}, ValueError, "transpose"),
    ([0.0] * 4410, {}, TypeError, "NumPy array"),
    (None, {"sample_rate": 0}, ValueError, "sample_rate.*positive"),
    (None, {"sample_rate": float("nan")}, ValueError, "sample_rate"),
    (None, {"sample_rate": "44100"}, TypeError, "sample_rate.*str"),
    (None, {"sample_rate": True}, TypeError, "sample_rate"),
    (None, {"sample_rate": 22050.5}, ValueError, "whole number.*44100 Hz"),
    (None, {"sample_rate": 1000}, ValueError, r"\[4000, 384000\]"),
    (None, {"chunk_seconds": 0}, ValueError, "chunk_seconds > overlap_seconds"),
    (None, {"chunk_seconds": 1.0, "overlap_seconds": 1.0}, ValueError, "overlap_seconds"),
    (None, {"overlap_seconds": float("inf")}, TypeError, "overlap_seconds"),
    (None, {"progress": 3}, TypeError, "progress"),
    (None, {"wiener": "yes"}, TypeError, "wiener"),
    (None, {"device": "tpu"}, ValueError, "device"),
    (None, {"device": 0}, TypeError, "device"),
    (None, {"model": 3}, TypeError, "model"),
    (None, {"precision": "fp8"}, ValueError, "precision must be one of"),
    (None, {"flip": "yes"}, TypeError, "flip"),
    (None, {"shifts": -1}, ValueError, "shifts"),
    (None, {"shifts": 17}, ValueError, "shifts"),
    (None, {"shifts": 1.5}, ValueError, "shifts"),
    (None, {"shifts": True}, ValueError, "shifts"),
])
def test_bad_arguments(model, bad, kwargs, exc, match):
    audio = np.zeros((2, 4410), np.float32) if bad is None else bad
    args = {"model": model, **kwargs}
    rate = args.pop("sample_rate", SR)
    with pytest.raises(exc, match=match):
        separate(audio, rate, **args)


def test_cuda_without_a_gpu_falls_back_to_the_cpu(model_path):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    x = song(0.1)
    with pytest.warns(RuntimeWarning, match="running on the CPU"):
        gpu = separate(x, SR, model=model_path, device="cuda")
    cpu = separate(x, SR, model=model_path)
    for stem in cpu:
        np.testing.assert_array_equal(gpu[stem], cpu[stem])


def test_separation_on_the_gpu_matches_the_cpu(model_path):
    """Chunks batched on the GPU (hushboard's CUDA kernels) against the CPU; skipped without a
    GPU (HUSHBOARD_REQUIRE_CUDA=1 turns the skip into a failure)."""
    from helpers import require_cuda

    require_cuda()
    x = song(3.0)
    cpu = separate(x, SR, model=model_path, chunk_seconds=1.0, overlap_seconds=0.25)
    gpu = separate(x, SR, model=model_path, chunk_seconds=1.0, overlap_seconds=0.25,
                   device="cuda")
    for stem in cpu:
        np.testing.assert_allclose(gpu[stem], cpu[stem], atol=1e-4 * np.abs(cpu[stem]).max())
    half = separate(x, SR, model=model_path, chunk_seconds=1.0, overlap_seconds=0.25,
                    device="cuda", precision="bfloat16")
    for stem in cpu:
        assert np.abs(half[stem] - cpu[stem]).max() <= 0.02 * np.abs(cpu[stem]).max(), stem


# ---- models and the weights folder ---------------------------------------------------------------
def test_load_separator(model_path, tmp_path, monkeypatch):
    a = load_separator(model_path)
    assert load_separator(model_path) is a  # cached
    assert a.config.stems == STEMS and not a.training
    assert not any(p.requires_grad for p in a.parameters())
    # a denoiser file, a shipped denoiser's name, a missing file, an unknown name
    denoiser = tmp_path / "speech.safetensors"
    BSRNN("bsrnn-speech-16k-lite").save(denoiser)
    with pytest.raises(ValueError, match="is a denoiser"):
        load_separator(str(denoiser))
    with pytest.raises(ValueError, match="is a denoiser"):
        separate(song(0.1), SR, model=BSRNN("bsrnn-speech-16k-lite"))
    for name in shipped_weights():
        with pytest.raises(ValueError, match=f"shipped model '{name}' is a denoiser"):
            load_separator(name)
    with pytest.raises(FileNotFoundError, match="no weights file"):
        load_separator(str(tmp_path / "missing.safetensors"))
    with pytest.raises(ValueError, match="unknown separator 'nonesuch'"):
        load_separator("nonesuch")
    # "default": the shipped separator, or a clear error when none ships
    monkeypatch.setattr(sep, "shipped_separators", lambda: {})
    with pytest.raises(ValueError, match=f"no default separator ships.*{DEFAULT_SEPARATOR}"):
        load_separator()
    monkeypatch.setattr(sep, "shipped_separators", lambda: {DEFAULT_SEPARATOR: model_path})
    assert load_separator() is a and load_separator(DEFAULT_SEPARATOR) is a


def test_shipped_weights_partition(model_path, tmp_path, monkeypatch):
    """Each file of hushboard/weights is a denoiser (one stem) or a separator, never both."""
    from safetensors.numpy import save_file

    weights = tmp_path / "pkg" / "weights"
    weights.mkdir(parents=True)
    (weights / "music-sep.safetensors").write_bytes(open(model_path, "rb").read())
    BSRNN("bsrnn-speech-16k-lite").save(weights / "speech-bsrnn.safetensors")
    save_file({"w": np.zeros(2, np.float32)}, str(weights / "speech-dccrn.safetensors"),
              metadata={"model": "DCCRN", "config": json.dumps({})})
    (weights / "broken.safetensors").write_bytes(b"not a safetensors file")
    (weights / "music-sep.md").write_text("card")
    real_files = importlib.resources.files
    monkeypatch.setattr(importlib.resources, "files",
                        lambda pkg: tmp_path / "pkg" if pkg == "hushboard" else real_files(pkg))
    denoisers, separators = shipped_weights(), shipped_separators()
    assert list(separators) == ["music-sep"]
    # an unreadable file stays with the denoisers, whose loader reports what is wrong
    assert sorted(denoisers) == ["broken", "speech-bsrnn", "speech-dccrn"]
    assert weights_stems(separators["music-sep"]) == STEMS
    assert weights_stems(denoisers["speech-dccrn"]) == ("speech",)
    assert weights_stems(denoisers["broken"]) is None
    assert load_separator("music-sep").config.stems == STEMS
    from hushboard.fx import Denoise

    with pytest.raises(ValueError, match="unknown model 'music-sep'"):
        Denoise("music-sep")
    assert main(["info", "--json"]) == 0  # the listings in `hushboard info`


def test_info_names_the_separator(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["separators"] == list(shipped_separators())
    assert not set(info["separators"]) & set(info["models"])
    assert info["default_separator"] == (DEFAULT_SEPARATOR if DEFAULT_SEPARATOR in
                                         info["separators"] else None)
    assert main(["info"]) == 0
    assert "  separator      " in capsys.readouterr().out


# ---- the command line ----------------------------------------------------------------------------
def test_cli_separate_writes_stems(model_path, tmp_path, capsys):
    stereo, mono = tmp_path / "song one.wav", tmp_path / "mono.flac"
    x = song(seconds=2.0)
    write_audio(stereo, x, SR, bit_depth=32)
    xm = song(seconds=1.0, channels=1, sr=22050)
    write_audio(mono, xm, 22050, bit_depth=24)
    out = tmp_path / "stems"
    assert main(["separate", str(stereo), str(mono), "-o", str(out), "--model", model_path,
                 "--wiener"]) == 0
    text = capsys.readouterr().out
    assert text.count("real-time factor") == 2 and "2.0 s, 2 ch, 44100 Hz" in text
    total = 0
    for name in STEMS:
        y, sr = read_audio(out / "song one" / f"{name}.wav")  # 32-bit float WAV
        assert sr == SR and y.shape == x.shape
        total = total + y
        ym, srm = read_audio(out / "mono" / f"{name}.wav")
        assert srm == 22050 and ym.shape == xm.shape
    assert np.abs(total - x).max() < 1e-4 * np.abs(x).max()  # Wiener: the stems sum to the mix
    assert not list(out.rglob(".*partial*"))
    # FLAC, a subset of stems
    assert main(["separate", str(stereo), "-o", str(out / "flac"), "--model", model_path,
                 "--stems", "vocals,bass", "--format", "flac", "--chunk-seconds", "1"]) == 0
    written = sorted(p.name for p in (out / "flac" / "song one").iterdir())
    assert written == ["bass.flac", "vocals.flac"]
    y, sr = read_audio(out / "flac" / "song one" / "bass.flac")
    assert sr == SR and y.shape == x.shape
    # test-time augmentation from the command line: the same as from Python
    assert main(["separate", str(stereo), "-o", str(out / "tta"), "--model", model_path,
                 "--stems", "drums", "--flip", "--shifts", "1"]) == 0
    y, _ = read_audio(out / "tta" / "song one" / "drums.wav")
    want = separate(x, SR, model=model_path, stems=["drums"], flip=True, shifts=1)["drums"]
    np.testing.assert_allclose(y, want, atol=1e-6)


def test_cli_separate_errors(model_path, tmp_path, capsys, monkeypatch):
    src = tmp_path / "a.wav"
    write_audio(src, song(seconds=0.5), SR)
    out = str(tmp_path / "out")
    cases = [
        (["--model", model_path, "--stems", "bogus"], "unknown stem(s) 'bogus'"),
        (["--model", model_path, "--stems", ","], "none given"),
        (["--model", model_path, "--chunk-seconds", "0"], "--chunk-seconds"),
        (["--model", model_path, "--shifts", "17"], "--shifts must be in [0, 16]"),
        (["--model", str(tmp_path / "none.safetensors")], "no weights file"),
        (["--model", "bsrnn-speech-16k-lite"], "is a denoiser"),
    ]
    for extra, message in cases:
        assert main(["separate", str(src), "-o", out, *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("hushboard separate: error:") and message in err, err
    assert main(["separate", str(tmp_path / "missing.wav"), "-o", out, "--model",
                 model_path]) == 2
    assert "no such file" in capsys.readouterr().err
    write_audio(tmp_path / "a.flac", song(seconds=0.5), SR)
    assert main(["separate", str(src), str(tmp_path / "a.flac"), "-o", out, "--model",
                 model_path]) == 2
    assert "same file name" in capsys.readouterr().err
    monkeypatch.setattr(sep, "shipped_separators", lambda: {})
    assert main(["separate", str(src), "-o", out]) == 2
    assert "no default separator ships" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written on any error
    # bad samples: the error names the file, and no stem of it is written
    bad = song(seconds=0.5)
    bad[1, 7] = np.inf
    write_audio(tmp_path / "inf.wav", bad, SR, bit_depth=32)
    assert main(["separate", str(tmp_path / "inf.wav"), "-o", out, "--model", model_path]) == 2
    assert f"{tmp_path / 'inf.wav'}: audio contains NaN or Inf" in capsys.readouterr().err
    assert not (tmp_path / "out" / "inf").exists()
