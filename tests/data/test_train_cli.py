"""`hushboard train` end to end on a tiny real corpus (TTS speech, generated noise)."""

from __future__ import annotations

import csv


def test_train_cli_on_tiny_corpus(tiny_corpus, tmp_path):
    from hushboard.cli import main
    from hushboard.models import DCCRN

    out = tmp_path / "run"
    args = ["train", "dccrn-lite", "--data", str(tiny_corpus), "--out", str(out), "--steps", "2",
            "--batch-size", "2", "--segment-seconds", "0.5", "--valid-every", "2",
            "--checkpoint-every", "2", "--valid-items", "2", "--warmup-steps", "1", "--quiet"]
    assert main(args) == 0
    with open(out / "log.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["step"] for r in rows] == ["2"]
    assert DCCRN.load(out / "model.safetensors").config.channels == DCCRN("dccrn-lite").config.channels
    card = (out / "MODEL_CARD.md").read_text()
    assert "training utterances" in card and "dccrn-lite" in card
    # resuming a finished run does nothing more and keeps the weights
    assert main(args + ["--resume"]) == 0
