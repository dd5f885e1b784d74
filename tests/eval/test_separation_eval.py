"""`hushboard eval --task separation` on tiny generated songs: the baselines (oracle IRM above
the spectral separator above the mixture), the spectral stems adding up to the mixture, the
museval joint-silence rule of cSDR, separator models through hushboard.separation (a stand-in
and, when the module is there, a random-init BSRNN), the CLI's outputs and argument errors."""

from __future__ import annotations

import csv
import json
import math
import shutil
import sys
import types

import numpy as np
import pytest
from hushboard.cli import main
from hushboard.eval.separation import (
    evaluate_separation,
    find_songs,
    format_separation_report,
    irm_oracle,
    paired_comparison,
    sign_test,
    spectral_separate,
)
from hushboard.io import read_audio, write_audio
from hushboard.metrics import bss_eval_images, chunk_sdr, si_sdr_decomposition, usdr

SR = 44100
STEMS = ("vocals", "drums", "bass", "other")


def make_song(seconds: float = 2.0, seed: int = 0, sr: int = SR) -> dict[str, np.ndarray]:
    """Four stereo stems: a sawtooth-like bass line (55-82 Hz, harmonics up to ~650 Hz,
    centred), drums (a falling-sine kick and noise snare hits every 0.25 s, nearly centred), a
    centred vibrato tone as the vocals (220/277 Hz, 8 harmonics) and two chords panned left and
    right as the other stem. Peak of the mixture below 1."""
    rng = np.random.default_rng(seed)
    n = int(sr * seconds)
    t = np.arange(n) / sr

    def env(period, attack=0.01, decay=1.5):
        u = t % period
        return np.minimum(1, u / attack) * np.exp(-decay * u)

    notes = np.array([55.0, 73.42, 82.41, 61.74])
    ph = 2 * np.pi * np.cumsum(notes[(t // 0.5).astype(int) % 4]) / sr
    b = 0.35 * sum(np.sin(k * ph) / k for k in range(1, 9)) * env(0.5)
    d = np.zeros(n)
    for k in range(int(seconds / 0.25)):
        i0 = int(k * 0.25 * sr) + 100
        m = min(n - i0, int(0.15 * sr))
        u = np.arange(m) / sr
        if k % 2 == 0:
            d[i0:i0 + m] += (np.sin(2 * np.pi * np.cumsum(50 + 80 * np.exp(-u / 0.03)) / sr)
                             * np.exp(-u / 0.06))
        else:
            d[i0:i0 + m] += 0.6 * rng.standard_normal(m) * np.exp(-u / 0.02)
    f0 = 220 * (1 + 0.02 * np.sin(2 * np.pi * 5.5 * t)) * np.where((t // 0.75) % 2, 1.0, 1.26)
    ph = 2 * np.pi * np.cumsum(f0) / sr
    v = 0.25 * sum(np.sin(k * ph) / k for k in range(1, 9)) * env(0.75, 0.05, 0.8)
    ca = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)) * 0.1
    cb = sum(np.sin(2 * np.pi * f * t + 1.0) for f in (220.0, 277.18, 329.63)) * 0.1
    stems = {"vocals": np.stack([v, v]), "drums": np.stack([d, 0.9 * d]),
             "bass": np.stack([b, b]), "other": np.stack([ca + 0.5 * cb, 0.5 * ca + cb])}
    return {k: 0.4 * a for k, a in stems.items()}


def write_split(root, songs: dict[str, dict[str, np.ndarray]], ext: str = "flac"):
    """The layout of `hushboard data music`: mix/<song>.flac, stems/<song>/<stem>.flac."""
    (root / "mix").mkdir(parents=True)
    for name, stems in songs.items():
        (root / "stems" / name).mkdir(parents=True)
        for stem, a in stems.items():
            write_audio(root / "stems" / name / f"{stem}.{ext}", a, SR, bit_depth=24)
        write_audio(root / "mix" / f"{name}.{ext}", sum(stems.values()), SR, bit_depth=24)
    with open(root / "metadata.csv", "w", newline="") as f:
        csv.writer(f).writerows([["song", "soundfont"], *([s, "test"] for s in songs)])
    return root / "mix", root / "stems"


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    root = tmp_path_factory.mktemp("music")
    return write_split(root, {"song_a": make_song(2.0, seed=0), "song_b": make_song(2.5, seed=1)})


# -- baselines ----------------------------------------------------------------------------------
def test_irm_beats_spectral_beats_mix(split):
    result = evaluate_separation(*split, baselines=["irm", "spectral", "mix"], progress=False)
    assert result.systems == ["irm", "spectral", "mix"] and result.stems == list(STEMS)
    summ = result.summary
    for stem in STEMS:
        irm, spec, mix = summ["irm"][stem], summ["spectral"][stem], summ["mix"][stem]
        assert irm["n"] == spec["n"] == 2
        for m in ("csdr", "usdr", "si_sdr"):
            assert irm[m] > spec[m] + 1.0, (stem, m)
            assert spec[m] > mix[m] + 1.0, (stem, m)
        assert irm["csdr"] > 6.0
        assert summ["spectral"][stem]["csdr_gap_irm"] == pytest.approx(spec["csdr"] - irm["csdr"])
        assert summ["irm"][stem]["csdr_gap_irm"] == 0.0
    # the aggregates: cSDR median over songs, uSDR and SI-SDR means
    rows = [r for r in result.rows if r["system"] == "spectral" and r["stem"] == "bass"]
    assert [r["song"] for r in rows] == ["song_a", "song_b"]
    assert summ["spectral"]["bass"]["csdr"] == pytest.approx(np.median([r["csdr"] for r in rows]))
    assert summ["spectral"]["bass"]["usdr"] == pytest.approx(np.mean([r["usdr"] for r in rows]))
    assert summ["spectral"]["mean"]["usdr"] == pytest.approx(
        np.mean([summ["spectral"][s]["usdr"] for s in STEMS]))
    assert {r["chunks"] for r in result.rows} == {2}  # 2 s and 2.5 s songs: two 1-s chunks
    # the mixture baseline's uSDR is the stem's input SDR, from the files
    mix, _ = read_audio(split[0] / "song_a.flac")
    vocals, _ = read_audio(split[1] / "song_a" / "vocals.flac")
    row = next(r for r in result.rows if (r["song"], r["system"], r["stem"])
               == ("song_a", "mix", "vocals"))
    assert row["usdr"] == pytest.approx(usdr(vocals, mix), abs=1e-9)
    text = format_separation_report(result)
    assert "Per song (dB)" in text and "Overall (2 songs" in text and "cSDR-IRM" in text


def test_spectral_stems_sum_to_the_mixture():
    stems = make_song(1.5, seed=4)
    mix = sum(stems.values())
    est = spectral_separate(mix, SR)
    assert list(est) == list(STEMS)
    for a in est.values():
        assert a.shape == mix.shape and a.dtype == np.float64 and np.all(np.isfinite(a))
    np.testing.assert_allclose(sum(est.values()), mix, atol=1e-12)
    # every stem gets a real share of the signal
    assert all(np.sum(a**2) > 1e-3 * np.sum(mix**2) for a in est.values())
    # mono: the same sum, shapes (samples,); a subset of stems comes back in the order asked
    mono = spectral_separate(mix[0], SR)
    assert mono["vocals"].shape == mix[0].shape
    np.testing.assert_allclose(sum(mono.values()), mix[0], atol=1e-12)
    sub = spectral_separate(mix, SR, stems=["bass", "drums"])
    assert list(sub) == ["bass", "drums"]
    np.testing.assert_allclose(sub["bass"], est["bass"])
    # other rates work (the STFT and filters follow the rate)
    low = spectral_separate(mix[:, ::2], SR // 2)
    np.testing.assert_allclose(sum(low.values()), mix[:, ::2], atol=1e-12)
    with pytest.raises(ValueError, match="stems must be distinct names"):
        spectral_separate(mix, SR, stems=["voice"])
    with pytest.raises(ValueError, match="sample_rate must be a number of Hz"):
        spectral_separate(mix, 0)
    with pytest.raises(ValueError, match="mix contains NaN"):
        spectral_separate(np.full((2, 100), np.nan), SR)


def test_irm_oracle():
    stems = make_song(1.0, seed=2)
    mix = sum(stems.values())
    # a single active source: its mask is 1, the estimate is the mixture
    one = irm_oracle(stems["bass"], {"bass": stems["bass"], "vocals": np.zeros_like(mix)})
    np.testing.assert_allclose(one["bass"], stems["bass"], atol=1e-5)
    assert np.abs(one["vocals"]).max() < 1e-5
    # power 2 (the default, IRM2) and power 1 (IRM1) both separate; masks sum to ~1
    for power in (1.0, 2.0):
        est = irm_oracle(mix, stems, power=power)
        np.testing.assert_allclose(sum(est.values()), mix, atol=1e-4)
        assert all(usdr(stems[s], est[s]) > 5 for s in STEMS)
    # a subset of the references: the rest of the mixture is one more source
    sub = irm_oracle(mix, {"vocals": stems["vocals"]})
    assert list(sub) == ["vocals"] and usdr(stems["vocals"], sub["vocals"]) > 5
    with pytest.raises(ValueError, match=r"references\['bass'\] must have the mixture's shape"):
        irm_oracle(mix, {"bass": stems["bass"][:, :-1]})
    with pytest.raises(ValueError, match="power must be a number > 0"):
        irm_oracle(mix, stems, power=0)


def test_csdr_uses_museval_joint_silence_rule(tmp_path):
    stems = make_song(3.0, seed=3)
    stems["vocals"][:, :SR] = 0.0  # the vocals come in after one second
    mix_dir, stems_dir = write_split(tmp_path, {"s": stems})
    result = evaluate_separation(mix_dir, stems_dir, baselines=["mix"], progress=False)
    mix, _ = read_audio(mix_dir / "s.flac")
    for stem in STEMS:
        ref, _ = read_audio(stems_dir / "s" / f"{stem}.flac")
        per_chunk = chunk_sdr(ref, mix, SR)
        row = next(r for r in result.rows if r["stem"] == stem)
        # chunk 0 is left out for every stem, not only for the silent vocals
        assert row["chunks"] == 2
        assert row["csdr"] == pytest.approx(np.median(per_chunk[1:]), abs=1e-9)
    drums = next(r for r in result.rows if r["stem"] == "drums")
    ref, _ = read_audio(stems_dir / "s" / "drums.flac")
    assert drums["csdr"] != pytest.approx(np.median(chunk_sdr(ref, mix, SR)), abs=1e-6)


def test_a_stem_silent_throughout_has_no_sdr(tmp_path):
    """An instrumental song's vocals: no cSDR, uSDR or SI-SDR (NaN, left out of the means),
    where the challenge formula would score the mixture's leak at about -70 dB."""
    stems = make_song(2.0, seed=5)
    stems["vocals"][:] = 0.0
    other = make_song(2.0, seed=6)
    mix_dir, stems_dir = write_split(tmp_path, {"instrumental": stems, "sung": other})
    result = evaluate_separation(mix_dir, stems_dir, baselines=["mix"], progress=False)
    row = next(r for r in result.rows if (r["song"], r["stem"]) == ("instrumental", "vocals"))
    assert all(math.isnan(row[m]) for m in ("csdr", "usdr", "si_sdr"))
    sung = next(r for r in result.rows if (r["song"], r["stem"]) == ("sung", "vocals"))
    assert result.summary["mix"]["vocals"]["usdr"] == pytest.approx(sung["usdr"])
    bass = [r["usdr"] for r in result.rows if r["stem"] == "bass"]
    assert result.summary["mix"]["bass"]["usdr"] == pytest.approx(np.mean(bass))


# -- models through hushboard.separation ---------------------------------------------------------
def test_models_run_through_separate(split, monkeypatch, tmp_path):
    calls = []

    def separate(audio, sample_rate, *, model="default", stems=None, wiener=False,
                 chunk_seconds=10.0, overlap_seconds=1.0, device="cpu", progress=None,
                 flip=False, shifts=0):
        calls.append({"shape": audio.shape, "sr": sample_rate, "model": model,
                      "stems": list(stems), "wiener": wiener, "device": device,
                      "flip": flip, "shifts": shifts})
        if model == "broken":
            return {s: audio[:, :-1] for s in stems}
        return {s: audio / 4 for s in stems}

    fake = types.ModuleType("hushboard.separation")
    fake.separate = separate
    fake.STEMS = STEMS
    monkeypatch.setitem(sys.modules, "hushboard.separation", fake)
    result = evaluate_separation(*split, models=["default", str(tmp_path / "mine.safetensors")],
                                 baselines=[], stems=["vocals", "bass"], wiener=True,
                                 progress=False, flip=True, shifts=2)
    assert result.systems == ["default", "mine"] and result.stems == ["vocals", "bass"]
    assert len(calls) == 4 and {c["wiener"] for c in calls} == {True}
    assert calls[0] == {"shape": (2, 2 * SR), "sr": SR, "model": "default",
                        "stems": ["vocals", "bass"], "wiener": True, "device": "cpu",
                        "flip": True, "shifts": 2}
    assert result.config["flip"] is True and result.config["shifts"] == 2
    assert calls[1]["model"] == str(tmp_path / "mine.safetensors")
    assert len(result.rows) == 2 * 2 * 2 and "irm" not in result.summary["default"]
    assert "csdr_gap_irm" not in result.summary["default"]["vocals"]
    # the second model against the first, song by song: the same estimates, no difference
    assert list(result.paired) == ["mine"] and list(result.paired["mine"]) == ["vocals", "bass",
                                                                                "mean"]
    tie = result.paired["mine"]["mean"]
    assert (tie["n"], tie["higher"], tie["lower"], tie["sign_p"]) == (4, 0, 0, 1.0)
    assert tie["csdr_diff_mean"] == tie["usdr_diff_mean"] == 0.0
    text = format_separation_report(result)
    assert "Paired against default, song by song" in text
    paired_rows = text.split("Paired against default")[1].split("Timing")[0].splitlines()
    assert paired_rows[-2].split() == ["mine", "mean", "0", "0", "+0.00", "+0.00", "1.000",
                                       "+0.00", "+0.00"]
    with pytest.raises(ValueError, match=r"broken returned a vocals stem of shape \(2, 88199\)"):
        evaluate_separation(*split, models=["broken"], baselines=[], progress=False)
    with pytest.raises(ValueError, match="clashes with the name 'irm'"):
        evaluate_separation(*split, models=["irm"], progress=False)
    with pytest.raises(ValueError, match="--shifts"):
        evaluate_separation(*split, models=["default"], progress=False, shifts=-1)


def test_sign_test_exact_values():
    assert sign_test(0, 0) == 1.0 and sign_test(3, 3) == 1.0
    assert sign_test(12, 1) == sign_test(1, 12) == 2 * (1 + 13) / 2 ** 13
    assert sign_test(5, 0) == 2 / 32
    assert math.isclose(sign_test(10, 3), 2 * sum(math.comb(13, k) for k in range(4)) / 2 ** 13)
    for bad in ((-1, 2), (2.0, 1), (True, 1)):
        with pytest.raises(ValueError, match="must be a count >= 0"):
            sign_test(*bad)


def test_paired_comparison_on_known_rows():
    """Per-song differences of a constructed table; a NaN (a stem silent in a song) is left out
    of its stem and of the pooled mean; a median over songs that falls while most songs rise."""
    nan = float("nan")
    table = {  # song: (a vocals, b vocals, a bass, b bass) cSDR; uSDR = cSDR + 1, SI-SDR = cSDR
        "s1": (5.0, 4.0, 9.0, 8.5),
        "s2": (6.0, 5.5, 3.0, 4.0),
        "s3": (2.0, 7.0, nan, nan),
        "s4": (7.5, 7.0, 6.0, 6.0),
    }
    rows = []
    for song, (av, bv, ab, bb) in table.items():
        for system, stem, v in (("a", "vocals", av), ("b", "vocals", bv), ("a", "bass", ab),
                                ("b", "bass", bb)):
            rows.append({"song": song, "system": system, "stem": stem, "csdr": v,
                         "usdr": v + 1, "si_sdr": v})
    p = paired_comparison(rows, "a", "b", ["vocals", "bass"])
    v, b, m = p["vocals"], p["bass"], p["mean"]
    assert (v["n"], v["higher"], v["lower"]) == (4, 3, 1)
    assert v["csdr_diff_mean"] == pytest.approx((1.0 + 0.5 - 5.0 + 0.5) / 4)
    assert v["csdr_diff_median"] == pytest.approx(0.5)
    assert v["sign_p"] == pytest.approx(sign_test(3, 1)) and v["sign_p"] == 0.625
    assert v["usdr_diff_mean"] == pytest.approx(v["csdr_diff_mean"])
    # the median over songs says the other thing: a's 5.5 against b's 6.25
    assert np.median([t[0] for t in table.values()]) < np.median([t[1] for t in table.values()])
    assert (b["n"], b["higher"], b["lower"]) == (3, 1, 1)  # s3's NaN out, s4 a tie
    assert b["csdr_diff_mean"] == pytest.approx((0.5 - 1.0 + 0.0) / 3)
    assert (m["n"], m["higher"], m["lower"]) == (7, 4, 2)
    assert m["csdr_diff_mean"] == pytest.approx((1.0 + 0.5 - 5.0 + 0.5 + 0.5 - 1.0) / 7)
    assert m["si_sdr_diff_mean"] == pytest.approx(m["csdr_diff_mean"])
    empty = paired_comparison(rows, "a", "missing", ["vocals"])["vocals"]
    assert empty["n"] == 0 and math.isnan(empty["csdr_diff_mean"]) and empty["sign_p"] == 1.0


def test_random_bsrnn_separator(split, tmp_path):
    """The real path: a random-init bsrnn-music-44k-lite written by BSRNN.save."""
    separation = pytest.importorskip("hushboard.separation")
    assert separation.STEMS == STEMS
    import torch
    from hushboard.models.bsrnn import BSRNN

    torch.manual_seed(0)
    path = tmp_path / "random-sep.safetensors"
    BSRNN("bsrnn-music-44k-lite").save(path)
    result = evaluate_separation(*split, models=[str(path)], baselines=["irm"],
                                 stems=["vocals", "drums"], progress=False)
    assert result.systems == ["random-sep", "irm"]
    for stem in ("vocals", "drums"):
        st = result.summary["random-sep"][stem]
        assert np.isfinite(st["csdr"]) and np.isfinite(st["usdr"])
        assert st["csdr"] < result.summary["irm"][stem]["csdr"]
    assert result.timing["random-sep"]["rtf"] > 0


# -- the command line ---------------------------------------------------------------------------
def test_cli_separation_end_to_end(split, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["eval", "--task", "separation", "--mix", str(split[0]), "--stems", str(split[1]),
               "--baselines", "mix,spectral", "--targets", "bass,drums", "--out", str(out),
               "--no-progress"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Per song (dB)" in text and "Overall (2 songs" in text and "2 songs, 4.5 s" in text
    assert "cSDR-IRM" not in text  # no oracle in this run
    for name in ("separation_results.csv", "separation_summary.csv",
                 "separation_results.json", "separation_report.txt"):
        assert (out / name).stat().st_size > 100, name
    data = json.loads((out / "separation_results.json").read_text())
    assert data["systems"] == ["mix", "spectral"] and data["stems"] == ["bass", "drums"]
    assert len(data["per_song"]) == 2 * 2 * 2
    assert data["config"]["baselines"] == ["mix", "spectral"]
    with open(out / "separation_results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and set(rows[0]) == {
        "song", "system", "stem", "seconds", "csdr", "usdr", "si_sdr", "si_sir", "si_sar",
        "isr", "sir", "sar", "chunks", "leak_from_bass", "leak_from_drums"}
    # museval's ISR, SIR and SAR only with --bss-eval
    assert all(r["sir"] == "nan" for r in rows) and "ISR" not in text
    row = next(r for r in data["per_song"]
               if (r["song"], r["system"], r["stem"]) == ("song_b", "mix", "drums"))
    mix, _ = read_audio(split[0] / "song_b.flac")
    drums, _ = read_audio(split[1] / "song_b" / "drums.flac")
    bass, _ = read_audio(split[1] / "song_b" / "bass.flac")
    assert row["usdr"] == pytest.approx(usdr(drums, mix), abs=1e-9)
    # the decomposition projects on the evaluated stems only (bass, drums), in their order
    d = si_sdr_decomposition(np.stack([bass, drums]), mix, 1)
    assert row["si_sir"] == pytest.approx(d["si_sir"], abs=1e-9)
    assert row["si_sar"] == pytest.approx(d["si_sar"], abs=1e-9)
    assert row["leak_db"] == {"bass": pytest.approx(d["leak_db"][0], abs=1e-9)}
    assert "Leaks (" in text and "from bass" in text
    with open(out / "separation_summary.csv", newline="") as f:
        summary = list(csv.DictReader(f))
    assert {(r["system"], r["stem"]) for r in summary} == {
        (s, k) for s in ("spectral", "mix") for k in ("bass", "drums", "mean")}


def test_cli_bss_eval_reports_museval_images(split, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["eval", "--task", "separation", "--mix", str(split[0]), "--stems", str(split[1]),
               "--baselines", "spectral", "--bss-eval", "--out", str(out), "--no-progress"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "ISR" in text and "SIR" in text and "museval v4 images" in text
    data = json.loads((out / "separation_results.json").read_text())
    assert data["config"]["bss_eval"] is True
    mix, _ = read_audio(split[0] / "song_b.flac")
    refs = np.stack([read_audio(split[1] / "song_b" / f"{s}.flac")[0] for s in STEMS])
    est = spectral_separate(mix, SR)
    images = bss_eval_images(refs, np.stack([est[s] for s in STEMS]), SR)
    for i, stem in enumerate(STEMS):
        row = next(r for r in data["per_song"]
                   if (r["song"], r["system"], r["stem"]) == ("song_b", "spectral", stem))
        for m in ("isr", "sir", "sar"):
            assert row[m] == pytest.approx(float(np.nanmedian(images[m][i])), abs=1e-9), m
        # the same chunks as the cSDR, whose values are the images' SDR
        assert row["csdr"] == pytest.approx(float(np.nanmedian(images["sdr"][i])), abs=1e-9)
    per_stem = data["summary"]["spectral"]["vocals"]
    assert per_stem["sir"] == pytest.approx(float(np.median(
        [r["sir"] for r in data["per_song"]
         if (r["system"], r["stem"]) == ("spectral", "vocals")])), abs=1e-12)
    with open(out / "separation_summary.csv", newline="") as f:
        summary = list(csv.DictReader(f))
    assert all(math.isfinite(float(r["sar_median"])) for r in summary)


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    return capsys.readouterr().err


def test_cli_argument_errors(split, tmp_path, capsys):
    mix, stems = map(str, split)
    base = ["--out", str(tmp_path / "o"), "--no-progress"]
    err = _error(capsys, ["eval", "--task", "separation", "--stems", stems, *base])
    assert "--task separation needs --mix and --stems; missing: --mix" in err
    err = _error(capsys, ["eval", "--task", "separation", *base])
    assert "missing: --mix, --stems" in err
    err = _error(capsys, ["eval", "--clean", mix, *base])
    assert "--task denoise needs --clean and --noisy; missing: --noisy" in err
    err = _error(capsys, ["eval", "--task", "separation", "--mix", mix, "--stems", stems,
                          "--peers", "wiener", *base])
    assert "--peers applies to --task denoise only" in err
    err = _error(capsys, ["eval", "--clean", mix, "--noisy", mix, "--wiener", "--baselines",
                          "irm", *base])
    assert "--baselines, --wiener apply to --task separation only" in err
    err = _error(capsys, ["eval", "--clean", mix, "--noisy", mix, "--flip", "--shifts", "1",
                          *base])
    assert "--flip, --shifts apply to --task separation only" in err
    err = _error(capsys, ["eval", "--clean", mix, "--noisy", mix, "--bss-eval", *base])
    assert "--bss-eval applies to --task separation only" in err
    err = _error(capsys, ["eval", "--task", "separation", "--mix", mix, "--stems", stems,
                          "--baselines", "irm,oracle", *base])
    assert "unknown baseline 'oracle'" in err
    err = _error(capsys, ["eval", "--task", "separation", "--mix", mix, "--stems", stems,
                          "--baselines", "none", *base])
    assert "nothing to evaluate" in err
    err = _error(capsys, ["eval", "--task", "separation", "--mix", mix, "--stems", stems,
                          "--targets", "vocals,piano", *base])
    assert "stems must be distinct names from vocals, drums, bass, other" in err
    err = _error(capsys, ["eval", "--task", "separation", "--mix", str(tmp_path / "nope"),
                          "--stems", stems, *base])
    assert "--mix must be a directory" in err and "does not exist" in err


def test_find_songs_errors(tmp_path):
    song = make_song(1.0)
    mix_dir, stems_dir = write_split(tmp_path, {"a": song, "b": song})
    assert [s.name for s in find_songs(mix_dir, stems_dir)] == ["a", "b"]
    (stems_dir / "c").mkdir()
    with pytest.raises(ValueError, match="in --stems without a mixture in --mix: c"):
        find_songs(mix_dir, stems_dir)
    (stems_dir / "c").rmdir()
    (stems_dir / "b" / "bass.flac").unlink()
    with pytest.raises(ValueError, match=r"song 'b': .* has no file for the stem\(s\) bass"):
        find_songs(mix_dir, stems_dir)
    assert [s.name for s in find_songs(mix_dir, stems_dir, ["vocals"])] == ["a", "b"]
    (mix_dir / "b.flac").unlink()
    with pytest.raises(ValueError, match="in --stems without a mixture in --mix: b"):
        find_songs(mix_dir, stems_dir)
    # a stem at another rate or length is named
    shutil.rmtree(stems_dir / "b")
    write_audio(stems_dir / "a" / "drums.flac", song["drums"][:, :-10], SR, bit_depth=24)
    with pytest.raises(ValueError, match=r"a: the drums stem has shape .*\(2, 44090\).*"
                                         r"the mixture \(2, 44100\)"):
        evaluate_separation(mix_dir, stems_dir, baselines=["mix"], progress=False)
    write_audio(stems_dir / "a" / "drums.flac", song["drums"][:, ::2], SR // 2, bit_depth=24)
    with pytest.raises(ValueError, match="a: the drums stem is at 22050 Hz, the mixture at 44100"):
        evaluate_separation(mix_dir, stems_dir, baselines=["mix"], progress=False)
