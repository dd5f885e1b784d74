"""``Rebalance``: a music separator as an effect. The song comes back with each stem at its own
gain: mute the vocals for a karaoke track, lift the bass, keep only the drums (as iZotope RX's
Music Rebalance does). It runs in chains beside pedalboard's plugins, offline or streamed.

The separator is bidirectional and sees whole chunks, so this effect is not for live audio: its
latency is a chunk (10 s by default), and the block that completes a chunk runs the network on
all of it. ``hushboard.live`` refuses it (``Effect.realtime`` is False).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from hushboard.fx.base import Effect
from hushboard.ops._native import _C

__all__ = ["Rebalance"]


#: a gain change ramps in linearly over this long (no click)
_RAMP_SECONDS = 0.01


def _check_db(db: Any, name: str) -> float:
    if isinstance(db, bool) or not isinstance(db, numbers.Real) or math.isnan(db) \
            or db == math.inf:
        raise ValueError(f"{name} must be a number of dB or -inf (got {db!r})")
    return float(db)


def _preroll(outer: int, inner: int) -> int:
    """ResampledEffect's pre-roll: after N outer samples the two rate changes have produced at
    least N - 1 - outer/inner."""
    return 2 + (outer + inner - 1) // inner


class Rebalance(Effect):
    """A music separator's stems summed back at chosen gains, as a streaming effect.

    The audio is resampled to the model's rate inside when the stream's differs (polyphase, in
    C++, as ``Denoise`` does), mono is duplicated to a stereo model's two channels (and the
    result averaged back), and the separator runs on chunks of ``chunk_seconds`` cross-faded
    over ``overlap_seconds`` on a fixed grid from the stream's start: the chunks of
    ``BSRNN.separate_long``, so away from the end of the audio the output equals the gains
    applied to ``hushboard.separate``'s stems with the same chunking. The output does not depend
    on the block size or on how a stream is split into calls.

    Args:
        model: the separator: ``"default"``, a shipped separator's name, a weights file, a
            multi-stem ``BSRNN``, or a bag ``"A+B"`` whose stems are B's, each from the first
            model that has it (see ``hushboard.separation.separate``).
        gains_db: stem name -> gain in dB (``-inf`` mutes it); stems not named stay at 0 dB.
        keep: stem name(s) kept at 0 dB, every other stem muted (``keep="vocals"``: an a
            cappella). Not with ``gains_db``.
        chunk_seconds, overlap_seconds: the separator's chunks and their cross-fade; the
            latency is one chunk.
        device: where the network runs (``"cpu"``, or ``"cuda"``, with a warning and the CPU
            where CUDA is unavailable).

    ``latency_samples`` is one chunk at the stream's rate (plus the resampling filters' delay
    when the stream's rate is not the model's). Every stem is separated whatever its gain, and
    the stems stay apart until they leave the effect, so ``set_gain`` changes what is heard
    from the next call on (a mixing desk over the separated song, ramped over 10 ms).
    """

    realtime = False

    def __init__(self, model: Any = "default", *, gains_db: Mapping[str, float] | None = None,
                 keep: str | Iterable[str] | None = None, chunk_seconds: float = 10.0,
                 overlap_seconds: float = 1.0, device: str = "cpu") -> None:
        super().__init__()
        from hushboard.separation import _check_seconds, _check_stems, load_separators

        self._model_arg = model
        nets = load_separators(model, device=device)
        net = nets[-1]
        cfg = net.config
        self._net = net
        stems = cfg.stems
        if gains_db is not None and keep is not None:
            raise ValueError("give gains_db or keep, not both")
        gains = {s: 0.0 for s in stems}
        if keep is not None:
            try:
                kept = _check_stems(keep, stems)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"keep: {exc}") from None
            gains = {s: (0.0 if s in kept else -math.inf) for s in stems}
        elif gains_db is not None:
            if not isinstance(gains_db, Mapping):
                raise TypeError(f"gains_db must be a mapping of stem name to dB (got "
                                f"{type(gains_db).__name__})")
            for s, db in gains_db.items():
                gains[self._check_stem(s, "gains_db")] = _check_db(db, f"gains_db[{s!r}]")
        self._gains_db = gains
        # per model of a bag: (model, the indices of the stems it gives among its own stems,
        # and among ours): each stem comes from the first model that has it
        self._runs: list[tuple[Any, list[int], list[int]]] = []
        for j, m in enumerate(nets):
            mine = [s for s in stems
                    if next(k for k, n in enumerate(nets) if s in n.config.stems) == j]
            if mine:
                self._runs.append((m, [m.config.stems.index(s) for s in mine],
                                   [stems.index(s) for s in mine]))
        # linear gains: applied as the output leaves the effect, so a change is heard at once;
        # it ramps in over _RAMP_SECONDS (from _g_from to _g_to, _ramp_pos samples done)
        self._g_to = self._linear()
        self._g_from = self._g_to.copy()
        self._ramp = max(1, round(_RAMP_SECONDS * cfg.sample_rate))
        self._ramp_pos = self._ramp
        self._chunk_seconds, self._overlap_seconds = _check_seconds(chunk_seconds,
                                                                    overlap_seconds)
        # separate_long's chunks and cross-fades
        from hushboard.models.bsrnn import crossfade

        self._chunk, self._overlap = net.chunk_samples(self._chunk_seconds, self._overlap_seconds)
        self._fade = crossfade(self._overlap, net.window.dtype).numpy().astype(np.float32)
        self._stream_channels = 0
        self._down = self._up = None

    # -- gains ----------------------------------------------------------------------------
    @property
    def gains_db(self) -> dict[str, float]:
        """Stem name -> gain in dB (``-inf``: muted); change one with ``set_gain``."""
        return dict(self._gains_db)

    @property
    def stems(self) -> tuple[str, ...]:
        return self._net.config.stems

    def _check_stem(self, stem: Any, where: str) -> str:
        if stem not in self.stems:
            raise ValueError(f"{where}: unknown stem {stem!r}; the model has "
                             f"{', '.join(self.stems)}")
        return stem

    def _linear(self) -> np.ndarray:
        return np.array([0.0 if self._gains_db[s] == -math.inf
                         else 10.0 ** (self._gains_db[s] / 20.0) for s in self.stems], np.float32)

    def set_gain(self, stem: str, gain_db: float) -> None:
        """Set one stem's gain (dB, ``-inf`` mutes) while the effect runs, as a pedalboard
        parameter: the output from the next ``process`` call on has it (the stems are kept
        apart until they leave the effect), ramped in over 10 ms."""
        stem = self._check_stem(stem, "stem")
        gain_db = _check_db(gain_db, "gain_db")
        self._g_from = self._gains_now()
        self._gains_db[stem] = gain_db
        self._g_to = self._linear()
        self._ramp_pos = 0

    def _gains_now(self) -> np.ndarray:
        """The gains at the current point of a ramp."""
        f = min(1.0, self._ramp_pos / self._ramp)
        return (self._g_from + (self._g_to - self._g_from) * f).astype(np.float32)

    def _mix(self, stems: np.ndarray) -> np.ndarray:
        """(S, C, n) stems -> (C, n) at the current gains (ramping where a change is under
        way). Summed stem by stem, element-wise, so that every sample comes out the same
        however the stream is cut into blocks (a BLAS product would not promise that)."""
        n = stems.shape[-1]
        if self._ramp_pos >= self._ramp:
            g = self._g_to[:, None, None]
        else:
            f = np.minimum(1.0, (self._ramp_pos + np.arange(1, n + 1)) / self._ramp)
            g = (self._g_from[:, None] + (self._g_to - self._g_from)[:, None] * f[None, :])
            g = g.astype(np.float32)[:, None, :]
            self._ramp_pos = min(self._ramp, self._ramp_pos + n)
        out = g[0] * stems[0]
        for k in range(1, stems.shape[0]):
            out += g[k] * stems[k]
        return out

    def _inner_latency(self) -> int:
        # output sample t of the model-rate stream is final once the chunk starting at the
        # last grid point <= t is complete: t's latency is at most chunk - 1 samples
        return self._chunk - 1

    def _latency_for(self, sample_rate: float) -> int:
        msr = self._net.config.sample_rate
        if sample_rate == msr:
            return self._inner_latency()
        sr = int(sample_rate)
        down = _C.Resampler(sr, msr, 1)
        up = _C.Resampler(msr, sr, 1)
        delay = (down.delay_out * sr / msr + self._inner_latency() * sr / msr + up.delay_out)
        return _preroll(sr, msr) + round(delay)

    def _configure(self, sample_rate: float, channels: int) -> None:
        from hushboard.separation import _check_rate

        cfg = self._net.config
        if channels not in (1, 2) or (cfg.audio_channels == 1 and channels != 1):
            raise ValueError(f"audio must be mono or stereo for this {cfg.audio_channels}-channel "
                             f"separator (got {channels} channels)")
        rate = _check_rate(sample_rate, cfg.sample_rate)
        self._stream_channels = channels
        if rate != cfg.sample_rate:
            self._down = _C.Resampler(rate, cfg.sample_rate, channels)
            self._up = _C.Resampler(cfg.sample_rate, rate, channels)
            self._preroll = _preroll(rate, cfg.sample_rate)
        else:
            self._down = self._up = None
        self._reset_state()

    def _reset_state(self) -> None:
        c = self._stream_channels
        mc = self._net.config.audio_channels
        self._buf = np.zeros((mc, self._chunk), np.float32)  # the chunk being filled
        self._fill = 0
        self._chunks = 0  # chunks separated so far
        ns = len(self.stems)
        # each stem's output of the chunk in progress, kept apart until it leaves the effect
        self._acc = np.zeros((ns, c, self._chunk), np.float32)
        self._g_from = self._g_to.copy()  # a restart has no ramp under way
        self._ramp_pos = self._ramp
        # model-rate output FIFO of the stems, primed with the inner latency's zeros
        self._skip = 0
        if self._down is not None:
            # the downsampled stream comes late by the filter's delay: start the chunk grid that
            # many samples in, so the chunks fall where separate()'s do (it resamples aligned),
            # and hold the output back as much longer (the total latency is unchanged)
            self._skip = round(self._down.delay_out)
        self._out = np.zeros((ns, c, self._inner_latency() + self._skip), np.float32)
        if self._down is not None:
            self._down.reset()
            self._up.reset()
            # the outer FIFO starts with ResampledEffect's pre-roll (enough that every call
            # can return as many samples as it was given); the filters' delays and the inner
            # latency then arise on their own, and latency_samples rounds their sum
            self._fifo = np.zeros((c, self._preroll), np.float32)

    def _separate_chunk(self) -> None:
        """Separate the full chunk in ``_buf`` and cross-fade each stem into its output; the
        samples no later chunk overlaps go to the output FIFO."""
        import torch

        ys = np.empty((len(self.stems),) + self._buf.shape, np.float32)  # (S, C, chunk)
        with torch.inference_mode():
            for net, theirs, ours in self._runs:
                x = torch.from_numpy(self._buf).to(net.window.device, net.window.dtype)[None]
                ys[ours] = net.separate(x)[0, theirs].float().cpu().numpy()
        if self._stream_channels == 1 and ys.shape[1] != 1:
            ys = ys.mean(1, keepdims=True)
        o = self._overlap
        if o:
            if self._chunks:
                ys[..., :o] *= self._fade
            ys[..., -o:] *= self._fade[::-1]
        self._acc += ys
        step = self._chunk - o
        self._out = np.concatenate([self._out, self._acc[..., :step]], axis=-1)
        self._acc[..., :o] = self._acc[..., step:]
        self._acc[..., o:] = 0.0
        self._buf[:, :o] = self._buf[:, step:]
        self._fill = o
        self._chunks += 1

    def _inner(self, x: np.ndarray) -> np.ndarray:
        """The model-rate stream: (C, n) in, (C, n) out, ``_inner_latency()`` samples late."""
        n = x.shape[1]
        mc = self._buf.shape[0]
        pos = min(n, self._skip)
        self._skip -= pos
        while pos < n:
            take = min(n - pos, self._chunk - self._fill)
            part = x[:, pos:pos + take]
            self._buf[:, self._fill:self._fill + take] = part if part.shape[0] == mc else part[0]
            self._fill += take
            pos += take
            if self._fill == self._chunk:
                self._separate_chunk()
        y, self._out = self._out[..., :n], self._out[..., n:]
        return self._mix(y)

    def _stream(self, block: np.ndarray, buffer_size: int) -> np.ndarray:
        if self._down is None:
            return np.ascontiguousarray(self._inner(block))
        n = block.shape[1]
        a = self._down.push(np.ascontiguousarray(block))
        b = self._inner(a)
        r = self._up.push(np.ascontiguousarray(b, dtype=np.float32))
        self._fifo = np.concatenate([self._fifo, r], axis=1)
        if self._fifo.shape[1] < n:
            raise RuntimeError("internal: Rebalance resampling FIFO underflow")
        y, self._fifo = self._fifo[:, :n], self._fifo[:, n:]
        return np.ascontiguousarray(y)

    def _params(self) -> dict[str, Any]:
        model = self._model_arg if isinstance(self._model_arg, str) else "BSRNN(...)"
        return {"model": model, "gains_db": self._gains_db,
                "chunk_seconds": self._chunk_seconds}
