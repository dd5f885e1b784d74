"""Many live streams through one causal denoiser, a hop at a time: the GPU serving path.

``StreamServer`` holds a batch of independent streams (callers) and advances all of them by one
STFT hop per call: analysis frame, window and FFT, the network with each stream's carried state
(BSRNN: band split, the dual-path RNN layers, the mask MLP; DCCRN: the causal complex encoder,
LSTM and decoder), the mask, inverse FFT and overlap-add, all on the model's device. On a CUDA device the whole hop is captured once as a CUDA graph and replayed, so a hop
costs one graph launch however many kernels it holds. On the CPU the same step runs eagerly (the
C++ engine behind ``hushboard.Denoise`` is the faster way to run a few CPU streams).

Streams are independent: each has its own RNN state, analysis buffer and overlap-add tail, and
``reset(streams=[i])`` starts stream ``i`` from silence (a caller hangs up and another joins)
without touching the others.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hushboard.models.bsrnn import BSRNN
from hushboard.models.dccrn import DCCRN

__all__ = ["StreamServer"]


class _BsrnnStep:
    """BSRNN's network for one frame of every stream, its state in static tensors updated in
    place for the active streams only."""

    def __init__(self, net: BSRNN, streams: int, dev: torch.device) -> None:
        cfg = net.config
        if not cfg.causal:
            raise ValueError("model must be causal to stream (this BSRNN's time path is "
                             "bidirectional); run it offline with model.separate")
        self.net, self.streams = net, streams
        s, k, h = streams, cfg.num_bands, cfg.hidden_size
        z = {"device": dev, "dtype": torch.float32}
        n_state = 2 if cfg.rnn == "lstm" else 1
        self.rnn = [tuple(torch.zeros(s * k, h, **z) for _ in range(n_state))
                    for _ in range(cfg.num_layers)]
        self.past = torch.zeros(s, cfg.audio_channels, cfg.n_bins, max(cfg.mask_frames - 1, 0),
                                dtype=torch.complex64, device=dev)
        # (tensor, batch dim, rows per stream) of every state tensor
        time_rows = torch.arange(s * k, device=dev) // k
        self.tensors = ([(t, 0, time_rows) for st in self.rnn for t in st]
                        + [(self.past, 0, torch.arange(s, device=dev))])

    def __call__(self, spec: Tensor, active: Tensor) -> Tensor:
        """spec ``(S, C, F)`` complex -> masked ``(S, stems, C, F)``."""
        net, s = self.net, self.streams
        k = net.config.num_bands
        spec = spec[..., None]  # (S, C, F, 1)
        x = net.band_split(net.features(spec), True)  # (S, 1, K, N)
        rows = active[:, None].expand(s, k).reshape(s * k, 1)  # the time-path rows
        for layer, state in zip(net.layers, self.rnn):
            x, new = layer(x, True, state if len(state) == 2 else state[0])
            new = new if isinstance(new, tuple) else (new,)
            for old, nw in zip(state, new):
                old.copy_(torch.where(rows, nw, old))
        hist = torch.cat([self.past, spec], -1)  # (S, C, F, taps), oldest first
        outs = []
        for m in net.masks:
            mask = net._mask_tensor(m(x, True), s, 1)[..., 0, :]
            outs.append((mask * hist.flip(-1)).sum(-1))
        if self.past.shape[-1]:
            self.past.copy_(torch.where(active[:, None, None, None], hist[..., 1:], self.past))
        return torch.stack(outs, 1)


def _leaves(tree: Any) -> list[Tensor]:
    if isinstance(tree, Tensor):
        return [tree]
    if isinstance(tree, dict):
        return [t for k in sorted(tree) for t in _leaves(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [t for v in tree for t in _leaves(v)]
    if tree is None:
        return []
    raise TypeError(f"unexpected state entry {type(tree).__name__}")


def _rebuild(tree: Any, it) -> Any:
    if isinstance(tree, Tensor):
        return next(it)
    if isinstance(tree, dict):
        return {k: _rebuild(tree[k], it) for k in sorted(tree)}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_rebuild(v, it) for v in tree)
    return tree


class _ModelStep:
    """A model with ``step(frame (S, bins), state) -> (frame, state)`` (DCCRN): its state
    pytree in static tensors, each stream's rows updated only while the stream is active.

    Which rows of a state tensor belong to which stream is found by probing ``step``: a frame
    for stream 0 (and for the last stream) alone changes exactly that stream's rows, one block of
    rows per stream or, as for DCCRN's complex LSTM (real rows, then imaginary rows), one row
    in each of several blocks of ``streams`` rows."""

    def __init__(self, net: DCCRN, streams: int, dev: torch.device) -> None:
        self.net, self.streams = net, streams
        bins = net.config.n_fft // 2 + 1
        zero = torch.zeros(streams, bins, dtype=torch.complex64, device=dev)
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            self.template = net.step(zero)[1]
            base = _leaves(self.template)
            probes = {}
            for j in sorted({0, streams - 1}):
                f = zero.clone()
                f[j] = torch.randn(bins, dtype=torch.complex64, generator=g).to(dev)
                probes[j] = _leaves(net.step(f)[1])
        self.state = [torch.zeros_like(t) for t in base]
        self.tensors = []
        for i, t in enumerate(base):
            found = _stream_axis(t, [probes[j][i] for j in (0, streams - 1)], streams)
            if found is None:
                raise ValueError(f"cannot tell the stream axis of a {type(net).__name__} state "
                                 f"tensor of shape {tuple(t.shape)}")
            dim, owner = found
            self.tensors.append((self.state[i], dim, owner.to(dev)))

    def __call__(self, spec: Tensor, active: Tensor) -> Tensor:
        state = _rebuild(self.template, iter(self.state))
        out, new = self.net.step(spec[:, 0], state)
        for (old, dim, owner), nw in zip(self.tensors, _leaves(new)):
            shape = [1] * old.dim()
            shape[dim] = owner.numel()
            old.copy_(torch.where(active[owner].view(shape), nw, old))
        return out[:, None, None]  # (S, 1 stem, 1 channel, F)


def _stream_axis(base: Tensor, probes: list[Tensor], streams: int
                 ) -> tuple[int, Tensor] | None:
    """(axis, owner stream of each row along it) of a state tensor, from the rows that a frame
    of stream 0 alone (probes[0]) and of the last stream alone (probes[1]) change."""
    for d in range(base.dim()):
        n = base.shape[d]
        if n % streams:
            continue
        k = n // streams

        def changed(p: Tensor, d: int = d, n: int = n) -> list[int]:
            diff = (p != base).movedim(d, 0).reshape(n, -1).any(1)
            return diff.nonzero().flatten().tolist()

        first, last = changed(probes[0]), changed(probes[1])
        rows = torch.arange(n)
        if first == [m * streams for m in range(k)] and last == [
                m * streams + streams - 1 for m in range(k)]:
            return d, rows % streams  # blocks of `streams` rows, one row per stream each
        if first == list(range(k)) and last == list(range(n - k, n)):
            return d, rows // k  # `k` consecutive rows per stream
    return None


def _load(model: Any, sample_rate: float | None) -> BSRNN | DCCRN:
    if isinstance(model, (BSRNN, DCCRN)):  # a copy (deepcopy would copy native plan caches)
        net = type(model)(model.config)
        net.load_state_dict(model.state_dict())
        if isinstance(net, BSRNN):
            net.use_kernels = True
        return net
    if isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a BSRNN or DCCRN denoiser (got {type(model).__name__})")
    from hushboard.batch import load_denoiser_model

    return load_denoiser_model(model, sample_rate=sample_rate, device="cpu")


class StreamServer:
    """A batch of live streams through one causal denoiser, one hop per call (a CUDA graph per
    hop on a GPU).

    Each call of ``process`` takes ``hop_length`` new samples (or a multiple) of every stream and
    returns as many. Stream ``i``'s output equals the model's offline output for stream ``i``'s
    audio (``model(audio)``) delayed by ``latency_samples``: ``n_fft - hop_length`` where
    ``n_fft / 2`` is a multiple of the hop (384 samples, 24 ms, for bsrnn-speech-16k-lite; 480
    samples, 10 ms, for bsrnn-speech-48k-lite), in general
    ``(ceil(n_fft / 2 / hop_length) - 1) * hop_length + n_fft / 2``; float rounding aside.
    That is less than the C++ engine's ``n_fft - 1``, which takes blocks of any size.

    Args:
        model: a causal ``BSRNN`` or a ``DCCRN``, the name of a shipped model, ``"default"`` (the
            default model for ``sample_rate``) or a weights file. The server works on its own
            copy of the weights; later changes to ``model`` do not reach it.
        streams: how many streams (>= 1).
        device: where the streams run ("cuda", "cuda:1", "cpu"...); "cuda" without a usable
            GPU falls back to the CPU with a ``RuntimeWarning``.
        graph: capture the hop as a CUDA graph (default: True on CUDA). False runs the same
            kernels eagerly, one launch each.
        sample_rate: picks the default model when ``model="default"`` (16 kHz when None).

    Shape:
        ``process``: ``(streams, n)`` for mono one-stem models (the speech presets, DCCRN),
        otherwise ``(streams, C, n)`` in and ``(streams, stems, C, n)`` out; ``n`` a multiple of
        ``hop_length``. NumPy in gives NumPy out; a tensor in gives a tensor on its device.
    """

    def __init__(self, model: BSRNN | DCCRN | str | os.PathLike = "default", streams: int = 1,
                 *, device: Any = "cuda", graph: bool | None = None,
                 sample_rate: float | None = None) -> None:
        from hushboard.backend import resolve_device

        if not isinstance(streams, int) or isinstance(streams, bool) or streams < 1:
            raise ValueError(f"streams must be a positive int (got {streams!r})")
        dev = resolve_device(device)
        net = _load(model, sample_rate)
        cfg = net.config
        if isinstance(net, BSRNN) and not cfg.causal:
            raise ValueError("model must be causal to stream (this BSRNN's time path is "
                             "bidirectional); run it offline with model.separate")
        net = net.to(device=dev, dtype=torch.float32).eval().requires_grad_(False)
        self.model, self.config, self.device = net, cfg, dev
        self.streams = streams
        self.sample_rate = cfg.sample_rate
        self.hop_length = hop = cfg.hop_length
        n_fft = cfg.n_fft
        if n_fft % 2:
            raise ValueError(f"model n_fft must be even to stream (got {n_fft})")
        half = n_fft // 2
        # frame t (offline: samples [t*hop - n_fft/2, t*hop + n_fft/2)) is complete after the
        # call whose input ends at a hop boundary at or past its end: `lead` hops into the
        # stream, with `pad` samples of the buffer after the frame
        self._lead = -(-half // hop)
        self._pad = self._lead * hop - half
        self.latency_samples = (self._lead - 1) * hop + half
        self.channels = c = getattr(cfg, "audio_channels", 1)
        self.stems = len(getattr(cfg, "stems", ("speech",)))
        self._flat = c == 1 and self.stems == 1
        s = streams
        z = {"device": dev, "dtype": torch.float32}
        if isinstance(net, BSRNN):
            self._net: _BsrnnStep | _ModelStep = _BsrnnStep(net, s, dev)
            window = net.window
        else:
            self._net = _ModelStep(net, s, dev)
            window = net._padded_window()
        self._window = window.to(**z)
        self._win_sq = self._window.square()
        # the static tensors one hop reads and writes (a CUDA graph replays on these addresses)
        self._in = torch.zeros(s, c, hop, **z)
        self._out = torch.zeros(s, self.stems, c, hop, **z)
        self._abuf = torch.zeros(s, c, n_fft + self._pad, **z)  # analysis: the newest samples
        self._ola = torch.zeros(s, self.stems, c, n_fft, **z)  # overlap-add of frames so far
        self._env = torch.zeros(s, 1, 1, n_fft, **z)  # their summed squared windows
        self._calls = torch.zeros(s, dtype=torch.int64, device=dev)  # hops since reset
        self._graph = None
        use_graph = dev.type == "cuda" if graph is None else bool(graph)
        if use_graph and dev.type != "cuda":
            raise ValueError(f"graph=True needs a CUDA device (got {dev})")
        if use_graph:
            self._capture()

    # ---- the hop ----------------------------------------------------------------------------------
    @torch.no_grad()
    def _step(self) -> None:
        """Advance every stream by one hop: reads ``_in``, writes ``_out`` and the state, all in
        place (so a CUDA graph of it replays on the same tensors)."""
        hop, n_fft = self.hop_length, self.config.n_fft
        # frame t = calls - lead + 1 exists once the stream has seen `lead` hops
        active = self._calls >= self._lead - 1  # (S,)
        self._calls.add_(1)
        act = active.to(torch.float32)
        self._abuf.copy_(torch.cat([self._abuf[..., hop:], self._in], -1))
        spec = torch.fft.rfft(self._abuf[..., :n_fft] * self._window)  # (S, C, F)
        masked = self._net(spec, active)  # (S, stems, C, F)
        y = torch.fft.irfft(masked, n=n_fft) * self._window  # (S, stems, C, n_fft)
        a = act[:, None, None, None]
        ola = self._ola + y * a
        env = self._env + self._win_sq * a
        # the first hop of the buffer is complete: divide by the windows that covered it
        e = env[..., :hop]
        done = torch.where(e > 1e-11, ola[..., :hop] / e.clamp_min(1e-11), torch.zeros_like(e))
        self._out.copy_(done)
        self._ola.copy_(torch.nn.functional.pad(ola[..., hop:], (0, hop)))
        self._env.copy_(torch.nn.functional.pad(env[..., hop:], (0, hop)))

    def _zero_state(self, idx: Tensor | None = None) -> None:
        own = [self._in, self._out, self._abuf, self._ola, self._env, self._calls]
        every = torch.arange(self.streams, device=self.device)
        for t, dim, owner in [(t, 0, every) for t in own] + self._net.tensors:
            if idx is None:
                t.zero_()
            else:
                t.index_fill_(dim, torch.isin(owner, idx).nonzero().flatten(), 0)

    def _capture(self) -> None:
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):  # warm up: plans, the allocator, lazy module state
            for _ in range(3):
                self._step()
        torch.cuda.current_stream(self.device).wait_stream(side)
        self._zero_state()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._step()
        self._graph = graph
        self._zero_state()

    # ---- public -------------------------------------------------------------------------------
    @property
    def graph(self) -> bool:
        """Whether a hop replays a captured CUDA graph."""
        return self._graph is not None

    def _check_audio(self, audio: Any) -> tuple[Tensor, bool]:
        numpy_in = isinstance(audio, np.ndarray)
        if numpy_in:
            if audio.dtype not in (np.float32, np.float64):
                raise TypeError(f"audio must be float32 or float64 (got {audio.dtype})")
            t = torch.from_numpy(np.ascontiguousarray(audio))
        elif isinstance(audio, Tensor):
            if audio.dtype not in (torch.float32, torch.float64):
                raise TypeError(f"audio must be float32 or float64 (got {audio.dtype})")
            t = audio
        else:
            raise TypeError(f"audio must be a numpy.ndarray or torch.Tensor "
                            f"(got {type(audio).__name__})")
        want = "(streams, n)" if self._flat else "(streams, channels, n)"
        if self._flat and t.dim() == 2:
            t = t[:, None]
        if t.dim() != 3 or t.shape[0] != self.streams or t.shape[1] != self.channels:
            raise ValueError(f"audio must have shape {want} = ({self.streams}, "
                             f"{'' if self._flat else f'{self.channels}, '}n) "
                             f"(got {tuple(audio.shape)})")
        n = t.shape[-1]
        if n == 0 or n % self.hop_length:
            raise ValueError(f"audio must hold a positive multiple of hop_length = "
                             f"{self.hop_length} samples per stream (got {n})")
        if not bool(torch.isfinite(t).all()):
            raise ValueError("audio contains NaN or Inf")
        return t, numpy_in

    def process(self, audio: np.ndarray | Tensor) -> np.ndarray | Tensor:
        """Advance every stream by ``n / hop_length`` hops; returns ``n`` samples per stream,
        ``latency_samples`` late (see the class). Bad input raises before any state changes."""
        t, numpy_in = self._check_audio(audio)
        hop = self.hop_length
        src = t.to(self.device, torch.float32)
        out = torch.empty(self.streams, self.stems, self.channels, t.shape[-1],
                          dtype=torch.float32, device=self.device)
        for j in range(0, t.shape[-1], hop):
            self._in.copy_(src[..., j:j + hop])
            if self._graph is not None:
                self._graph.replay()
            else:
                self._step()
            out[..., j:j + hop] = self._out
        if self._flat:
            out = out[:, 0, 0]
        if numpy_in:
            return out.cpu().numpy().astype(audio.dtype, copy=False)
        return out.to(t.device, t.dtype)

    __call__ = process

    def reset(self, streams: Sequence[int] | None = None) -> None:
        """Start streams from silence: all of them (None), or the listed indices (a caller
        joins or leaves) with the others untouched."""
        if streams is None:
            self._zero_state()
            return
        idx = list(streams)
        if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in idx):
            raise TypeError(f"streams must be a sequence of ints (got {streams!r})")
        bad = [int(i) for i in idx if not 0 <= int(i) < self.streams]
        if bad:
            raise ValueError(f"streams holds indices outside [0, {self.streams}): {bad}")
        if idx:
            self._zero_state(torch.tensor([int(i) for i in idx], dtype=torch.int64,
                                          device=self.device))

    def __repr__(self) -> str:
        return (f"StreamServer(streams={self.streams}, sample_rate={self.sample_rate}, "
                f"hop_length={self.hop_length}, latency_samples={self.latency_samples}, "
                f"device={str(self.device)!r}, graph={self.graph})")
