"""``hushboard data``: build a training corpus and a fixed test set on disk."""

from __future__ import annotations

import argparse
import time

__all__ = ["add_data_parser"]


def _cmd_speech(args: argparse.Namespace) -> int:
    from collections import Counter

    from hushboard.data.corpus import build_speech

    t0 = time.perf_counter()
    engines = args.engines.split(",") if args.engines else None
    rows = build_speech(args.out, n_sentences=args.sentences, sample_rate=args.sample_rate,
                        seed=args.seed, engines=engines, workers=args.workers,
                        extend_band=args.extend_band)
    c = Counter(r["split"] for r in rows)
    hours = sum(float(r["duration_s"]) for r in rows) / 3600
    print(f"{len(rows)} utterances ({hours:.2f} h; train {c['train']}, valid {c['valid']}, "
          f"test {c['test']}) in {args.out}/speech, manifest {args.out}/speech_manifest.csv "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def _cmd_noise(args: argparse.Namespace) -> int:
    from collections import Counter

    from hushboard.data.corpus import build_noise

    t0 = time.perf_counter()
    types = args.types.split(",") if args.types else None
    rows = build_noise(args.out, clips=tuple(args.clips), seconds=args.seconds,
                       sample_rate=args.sample_rate, seed=args.seed, types=types,
                       real_noise_dir=args.real)
    c = Counter(r["type"] for r in rows)
    print(f"{len(rows)} noise clips ({', '.join(f'{k} {v}' for k, v in sorted(c.items()))}) in "
          f"{args.out}/noise, manifest {args.out}/noise_manifest.csv "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def _cmd_real(args: argparse.Namespace) -> int:
    from hushboard.data.real import import_real_speech

    t0 = time.perf_counter()
    r = import_real_speech(args.out, args.dir, sample_rate=args.sample_rate, seed=args.seed,
                           speaker_pattern=args.speaker_pattern)
    sp = r["splits"]
    print(f"{r['files']} real utterances from {r['speakers']} speakers (split by "
          f"{r['split_by']}: train {sp['train']}, valid {sp['valid']}, test {sp['test']}) added "
          f"to {args.out}/speech_manifest.csv"
          + (f"; {r['pairs']} noisy-minus-clean residuals in {args.out}/real_noise/pairs "
             "(imported as noise type 'pairs' by `hushboard data noise`)" if r["pairs"] else "")
          + f" ({time.perf_counter() - t0:.1f} s)")
    return 0


def _cmd_testset(args: argparse.Namespace) -> int:
    from hushboard.data.mix import write_testset

    rows = write_testset(args.corpus, args.out, split=args.split, n=args.n,
                         sample_rate=args.sample_rate, seconds=args.seconds, seed=args.seed,
                         reverb_prob=args.reverb_prob)
    print(f"{len(rows)} pairs in {args.out}/clean and {args.out}/noisy, metadata "
          f"{args.out}/metadata.csv (evaluate: hushboard eval --clean {args.out}/clean "
          f"--noisy {args.out}/noisy)")
    return 0


def _cmd_music(args: argparse.Namespace) -> int:
    from collections import Counter

    from hushboard.data.music import add_music_songs, build_music

    t0 = time.perf_counter()
    if args.add_train is not None:
        rows = add_music_songs(args.out, args.add_train, soundfonts=args.soundfont,
                               seed=args.seed, sung_prob=args.sung_prob, workers=args.workers)
        fonts = Counter(r["soundfont"] for r in rows)
        print(f"{len(rows)} training songs added to {args.out} ("
              + ", ".join(f"{sf} {k}" for sf, k in sorted(fonts.items()))
              + f"; {rows[0]['song']} to {rows[-1]['song']}) "
              f"({time.perf_counter() - t0:.1f} s)")
        return 0
    rows = build_music(args.out, songs=tuple(args.songs), seconds=args.seconds,
                       seed=0 if args.seed is None else args.seed,
                       soundfonts=args.soundfont or None, held_out=args.held_out or None,
                       sung_prob=0.5 if args.sung_prob is None else args.sung_prob,
                       workers=args.workers)
    c = Counter(r["split"] for r in rows)
    fonts = Counter((r["split"], r["soundfont"]) for r in rows)
    print(f"{len(rows)} songs (train {c['train']}, valid {c['valid']}, test {c['test']}; "
          + ", ".join(f"{sp}/{sf} {k}" for (sp, sf), k in sorted(fonts.items()))
          + f") in {args.out}: <split>/mix/<song>.flac and <split>/stems/<song>/<stem>.flac "
          f"({time.perf_counter() - t0:.1f} s); evaluate a separator with: hushboard eval "
          f"--task separation --mix {args.out}/test/mix --stems {args.out}/test/stems")
    return 0


def add_data_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``data {speech,noise,real-speech,music,testset}`` to the top-level sub-parsers."""
    p = sub.add_parser("data", help="build a training corpus (TTS speech, noise) and test sets")
    ds = p.add_subparsers(dest="data_command", metavar="STEP", required=True)
    sp = ds.add_parser("speech", help="render distinct sentences with espeak-ng/flite/festival "
                                      "voices, split by voice and sentence (resumable)")
    sp.add_argument("--out", required=True, metavar="DIR", help="corpus directory")
    sp.add_argument("--sentences", type=int, default=1000, help="distinct sentences (default 1000)")
    sp.add_argument("--sample-rate", type=int, default=16000, help="Hz (default 16000)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--engines", default=None, help="comma list (default: all installed)")
    sp.add_argument("--workers", type=int, default=None, help="parallel jobs (default: CPUs)")
    sp.add_argument("--extend-band", action="store_true",
                    help="give the TTS speech a synthetic upper band above its engine's band "
                    "edge (7-14 kHz), for fullband (48 kHz) corpora")
    sp.set_defaults(func=_cmd_speech)
    sn = ds.add_parser("noise", help="generate labelled noise clips (white, pink, brown, hum, fan, "
                                     "clicks, bursts, babble, music); run after `speech`")
    sn.add_argument("--out", required=True, metavar="DIR", help="corpus directory")
    sn.add_argument("--clips", type=int, nargs=3, default=(24, 4, 4),
                    metavar=("TRAIN", "VALID", "TEST"), help="clips per type (default 24 4 4)")
    sn.add_argument("--seconds", type=float, default=10.0, help="clip length (default 10)")
    sn.add_argument("--sample-rate", type=int, default=16000, help="Hz (default 16000)")
    sn.add_argument("--seed", type=int, default=0)
    sn.add_argument("--types", default=None, help="comma list (default: all)")
    sn.add_argument("--real", default=None, metavar="DIR",
                    help="also import real noise recordings from DIR (sub-folder = type)")
    sn.set_defaults(func=_cmd_noise)
    sr = ds.add_parser("real-speech", help="import a folder of real speech (clean/, or clean/ + "
                                           "noisy/ pairs as DNS or VCTK-DEMAND) into a corpus, "
                                           "split by speaker; run before `noise`")
    sr.add_argument("dir", metavar="DIR", help="folder of real speech")
    sr.add_argument("--out", required=True, metavar="DIR", help="corpus directory")
    sr.add_argument("--sample-rate", type=int, default=None,
                    help="Hz (default: the corpus's TTS speech rate, else 16000)")
    sr.add_argument("--seed", type=int, default=0)
    sr.add_argument("--speaker-pattern", default=None, metavar="REGEX",
                    help="regular expression with one group giving the speaker from each file's "
                    "relative path (default: reader_<id>, else the parent folder, else the "
                    "name's prefix before '_')")
    sr.set_defaults(func=_cmd_real)
    sm = ds.add_parser("music", help="generate multi-track songs (MIDI parts rendered per stem "
                                     "with GM soundfonts by fluidsynth; sung vocals by festival) "
                                     "with exact vocals/drums/bass/other stems (resumable)")
    sm.add_argument("--out", required=True, metavar="DIR", help="music corpus directory")
    sm.add_argument("--songs", type=int, nargs=3, default=(100, 8, 16),
                    metavar=("TRAIN", "VALID", "TEST"), help="songs per split (default 100 8 16)")
    sm.add_argument("--seconds", type=float, default=30.0, help="song length (default 30)")
    sm.add_argument("--seed", type=int, default=None,
                    help="corpus seed (default 0; with --add-train, the corpus's)")
    sm.add_argument("--add-train", type=int, default=None, metavar="N",
                    help="append N training songs to the existing corpus at --out, rendered "
                    "with the --soundfont files (which must not render its validation/test "
                    "songs); --songs, --seconds and --held-out do not apply; an interrupted "
                    "call is finished by running it again as it was")
    sm.add_argument("--soundfont", action="append", default=[], metavar="SF2",
                    help="a soundfont file, .sf2 or .sf3 (repeatable; default: every installed "
                    "Debian GM soundfont); an .sf3 is converted once to an .sf2 in "
                    "$HUSHBOARD_CACHE/soundfonts (default ~/.cache/hushboard/soundfonts)")
    sm.add_argument("--held-out", action="append", default=[], metavar="NAME",
                    help="a soundfont name (file name without extension) that renders only the "
                    "validation and test songs (repeatable; default TimGM6mb, else the last)")
    sm.add_argument("--sung-prob", type=float, default=None,
                    help="share of songs whose vocals festival sings (default 0.5; with "
                    "--add-train, the corpus's)")
    sm.add_argument("--workers", type=int, default=None, help="parallel renders (default: CPUs)")
    sm.set_defaults(func=_cmd_music)
    st = ds.add_parser("testset", help="write fixed noisy/clean WAV pairs + metadata.csv for "
                                       "`hushboard eval`")
    st.add_argument("--corpus", required=True, metavar="DIR")
    st.add_argument("--out", required=True, metavar="DIR")
    st.add_argument("--split", default="test", choices=("valid", "test"))
    st.add_argument("-n", type=int, default=None, help="pairs (default: one per utterance)")
    st.add_argument("--sample-rate", type=int, default=16000)
    st.add_argument("--seconds", type=float, default=None,
                    help="fixed length (default: whole utterances)")
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--reverb-prob", type=float, default=0.3)
    st.set_defaults(func=_cmd_testset)
