"""Effects by name: the denoiser models and a small chain language for the command line.

A chain spec is a comma-separated list of ``name[:arg[:arg]]``, e.g.
``"highpass:80,denoise,gain:3"``; ``denoise`` stands for the chosen model.
"""

from __future__ import annotations

from typing import Any, Callable

from hushboard.fx.base import Effect
from hushboard.fx.chain import Chain
from hushboard.fx.denoise import SpectralGate, WienerDenoiser
from hushboard.fx.gain import Gain
from hushboard.fx.model import Denoise
from hushboard.fx.rebalance import Rebalance

__all__ = ["EFFECTS", "make_denoiser", "parse_chain"]

def make_denoiser(name: str) -> Effect:
    """A fresh ``Denoise`` effect for a model name (see ``hushboard.fx.model.MODELS``)."""
    return Denoise(name)


def _rebalance(*gains_db: float) -> Rebalance:
    """The shipped separator's stems (vocals, drums, bass, other) at the gains given, in that
    order; ``-inf`` mutes a stem (``rebalance:-inf``: the song without its vocals)."""
    return Rebalance(gains_db=dict(zip(("vocals", "drums", "bass", "other"), gains_db)))


def _pedalboard(cls_name: str) -> Callable[..., Any]:
    def make(*args: float) -> Any:
        import pedalboard

        return getattr(pedalboard, cls_name)(*args)

    return make


# name -> (factory, allowed argument counts, help)
EFFECTS: dict[str, tuple[Callable[..., Any], tuple[int, ...], str]] = {
    "wiener": (lambda *a: WienerDenoiser(gain_floor_db=a[0]) if a else WienerDenoiser(), (0, 1),
               "wiener[:gain_floor_db]"),
    "gate": (lambda *a: SpectralGate(n_std=a[0]) if a else SpectralGate(), (0, 1), "gate[:n_std]"),
    "gain": (lambda db: Gain(db), (1,), "gain:db"),
    "highpass": (_pedalboard("HighpassFilter"), (1,), "highpass:cutoff_hz (pedalboard)"),
    "lowpass": (_pedalboard("LowpassFilter"), (1,), "lowpass:cutoff_hz (pedalboard)"),
    "compressor": (_pedalboard("Compressor"), (0, 1, 2),
                   "compressor[:threshold_db[:ratio]] (pedalboard)"),
    "limiter": (_pedalboard("Limiter"), (0, 1), "limiter[:threshold_db] (pedalboard)"),
    "rebalance": (_rebalance, (0, 1, 2, 3, 4),
                  ("rebalance[:vocals_db[:drums_db[:bass_db[:other_db]]]] (the music "
                   "separator's stems at these gains, -inf mutes; offline: 10 s latency, not "
                   "for live)")),
}


def parse_chain(spec: str, model: str = "default") -> Chain:
    """Build a Chain from a spec; ``denoise`` in it is replaced by ``model``."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("chain spec must be a non-empty string such as 'highpass:80,denoise'")
    chain = Chain()
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            raise ValueError(f"empty item in chain spec {spec!r}")
        name, *raw = item.split(":")
        if name == "denoise":
            if raw:
                raise ValueError("'denoise' takes no arguments (choose the model with --model)")
            chain.append(make_denoiser(model))
            continue
        if name not in EFFECTS:
            raise ValueError(
                f"unknown effect {name!r} in chain spec; available: denoise, "
                + ", ".join(h for _, _, h in EFFECTS.values())
            )
        factory, counts, usage = EFFECTS[name]
        try:
            args = [float(a) for a in raw]
        except ValueError:
            raise ValueError(f"arguments of {name!r} must be numbers (usage: {usage})") from None
        if len(args) not in counts:
            raise ValueError(f"{name!r} takes {counts} argument(s) (usage: {usage})")
        chain.append(factory(*args))
    return chain
