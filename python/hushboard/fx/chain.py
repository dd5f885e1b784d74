"""``Chain``: effects in series, hushboard's own and pedalboard's plugins side by side."""

from __future__ import annotations

from collections.abc import Iterable, MutableSequence
from typing import Any

import numpy as np

from hushboard.fx.base import Effect, NativeEffect
from hushboard.ops._native import _C

__all__ = ["Chain"]


def _is_pedalboard_plugin(obj: Any) -> bool:
    try:
        import pedalboard
    except ImportError:  # pragma: no cover - pedalboard is optional
        return False
    return isinstance(obj, pedalboard.Plugin)


class Chain(Effect, MutableSequence):
    """Effects in series; itself an effect (chains nest) and a mutable list.

    Members are hushboard effects or pedalboard plugins (``pedalboard.Compressor()``,
    ``pedalboard.HighpassFilter(...)``, loaded VST3/AU plugins). Consecutive native effects run
    as one C++ loop with the GIL released; pedalboard plugins are called in between with
    ``reset=False``. The chain's latency is the sum of its members'; ``process(..., reset=True)``
    compensates it, ``reset=False`` streams with that delay.

    Notes:
        * pedalboard's Python API does not report a plugin's latency; members from pedalboard
          count as zero-latency (true of its built-in effects). A plugin with latency delays the
          chain's output by that much more.
        * pedalboard cannot host Python-defined effects (spotify/pedalboard#12), so a Chain
          cannot go inside a ``pedalboard.Pedalboard``; put the pedalboard plugins inside the
          Chain instead.
        * pedalboard guesses which axis holds the channels from the first block of a stream;
          when a stream starts with blocks of at most as many samples as channels, the chain
          first feeds its pedalboard plugins 16 samples of silence so the guess is right
          (modulation effects such as Chorus then start 16 samples into their LFO).
        * An effect instance belongs to one chain at a time (its state is not shared); editing
          the chain restarts it.
    """

    def __init__(self, effects: Iterable[Any] = ()) -> None:
        Effect.__init__(self)
        self._effects: list[Any] = []
        self._segments: list[tuple[str, Any]] = []
        self._fresh = True
        for fx in effects:
            self.append(fx)

    # -- list protocol ----------------------------------------------------------------------
    def _check_member(self, fx: Any, replacing: Any = None) -> Any:
        if fx is self:
            raise ValueError("a Chain cannot contain itself")
        if not (isinstance(fx, Effect) or _is_pedalboard_plugin(fx)):
            raise TypeError(
                f"Chain members must be hushboard effects or pedalboard plugins "
                f"(got {type(fx).__name__})"
            )
        if any(fx is e for e in self._effects if e is not replacing):
            raise ValueError(f"{fx!r} is already in this chain (an effect instance holds state)")
        return fx

    def _invalidate(self) -> None:
        self._fast = None
        self._sample_rate = None
        self._channels = None
        self._segments = []

    def __getitem__(self, index):
        return self._effects[index]

    def __setitem__(self, index, value) -> None:
        if isinstance(index, slice):
            raise TypeError("Chain does not support slice assignment")
        self._effects[index] = self._check_member(value, replacing=self._effects[index])
        self._invalidate()

    def __delitem__(self, index) -> None:
        del self._effects[index]
        self._invalidate()

    def __len__(self) -> int:
        return len(self._effects)

    def insert(self, index: int, value: Any) -> None:
        self._effects.insert(index, self._check_member(value))
        self._invalidate()

    @property
    def realtime(self) -> bool:  # type: ignore[override]
        """True when every hushboard effect in the chain can run live."""
        return all(fx.realtime for fx in self._effects if isinstance(fx, Effect))

    # -- effect protocol --------------------------------------------------------------------
    def _configure(self, sample_rate: float, channels: int) -> None:
        segments: list[tuple[str, Any]] = []
        run: list[NativeEffect] = []

        def flush() -> None:
            if run:
                chain = _C.EffectChain(channels)
                for fx in run:
                    chain.append(fx._native)
                segments.append(("native", chain))
                run.clear()

        for fx in self._effects:
            if isinstance(fx, Effect):
                fx._configure(sample_rate, channels)
                fx._sample_rate, fx._channels = sample_rate, channels
            if isinstance(fx, NativeEffect):
                run.append(fx)
                continue
            flush()
            segments.append(("effect" if isinstance(fx, Effect) else "pedalboard", fx))
        flush()
        self._segments = segments
        self._fresh = True
        # all native: streaming blocks go straight to the C++ chain
        self._fast = (segments[0][1].process_block
                      if len(segments) == 1 and segments[0][0] == "native" else None)

    def _reset_state(self) -> None:
        self._fresh = True
        for fx in self._effects:
            if isinstance(fx, Effect):
                fx._reset_state()
            else:
                fx.reset()

    def _latency_for(self, sample_rate: float) -> int:
        return sum(fx._latency_for(sample_rate) for fx in self._effects if isinstance(fx, Effect))

    def _prime_pedalboard(self, block: np.ndarray) -> None:
        """pedalboard tells channels from samples by shape and remembers the answer for the
        stream; a stream that starts with blocks no longer than the channel count would be
        misread. Feed its plugins 16 samples of silence first (harmless for filters, dynamics and
        reverbs; it advances the LFO of modulation effects by 16 samples)."""
        channels, n = block.shape
        if n > channels:
            return
        silence = np.zeros((channels, 16), np.float32)
        for kind, obj in self._segments:
            if kind == "pedalboard":
                obj.process(silence, self._sample_rate, buffer_size=16, reset=False)

    def _stream(self, block: np.ndarray, buffer_size: int) -> np.ndarray:
        if self._fresh:
            self._prime_pedalboard(block)
            self._fresh = False
        for kind, obj in self._segments:
            if kind == "native":
                out = np.empty_like(block)
                obj.process_into(block, out, buffer_size)
                block = out
            elif kind == "effect":
                block = obj._stream(block, buffer_size)
            else:
                out = obj.process(block, self._sample_rate, buffer_size=buffer_size, reset=False)
                out = np.ascontiguousarray(out, dtype=np.float32)
                if out.shape != block.shape:
                    raise RuntimeError(
                        f"{obj!r} returned shape {out.shape} for a block of {block.shape}"
                    )
                block = out
        return block

    def __repr__(self) -> str:
        return f"Chain([{', '.join(repr(fx) for fx in self._effects)}])"
