"""Many live streams through one causal BSRNN, a hop at a time: the GPU serving path.

``StreamServer`` holds a batch of independent streams (callers) and advances all of them by one
STFT hop per call: analysis frame, window and FFT, band split, the dual-path RNN layers with each
stream's carried state, the mask MLP, the mask, inverse FFT and overlap-add, all on the model's
device. On a CUDA device the whole hop is captured once as a CUDA graph and replayed, so a hop
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

__all__ = ["StreamServer"]


class StreamServer:
    """A batch of live streams through one causal BSRNN, one hop per call (CUDA graph on a GPU).

    Each call of ``process`` takes ``hop_length`` new samples (or a multiple) of every stream and
    returns as many. Stream ``i``'s output equals the model's offline output for stream ``i``'s
    audio (``model(audio)``) delayed by ``latency_samples`` (``n_fft - hop_length`` where
    ``n_fft / 2`` is a multiple of the hop: 384 samples, 24 ms, for bsrnn-speech-16k-lite; 480
    samples, 10 ms, for bsrnn-speech-48k-lite), float rounding aside. That is less than the
    C++ engine's ``n_fft - 1``, which takes blocks of any size.

    Args:
        model: a causal ``BSRNN``, the name of a shipped one, ``"default"`` (the default model
            for ``sample_rate``) or a weights file. The server works on its own copy of the
            weights; later changes to ``model`` do not reach it.
        streams: how many streams (>= 1).
        device: where the streams run ("cuda", "cuda:1", "cpu"...); "cuda" without a usable
            GPU falls back to the CPU with a ``RuntimeWarning``.
        graph: capture the hop as a CUDA graph (default: True on CUDA). False runs the same
            kernels eagerly, one launch each.
        sample_rate: picks the default model when ``model="default"`` (16 kHz when None).

    Shape:
        ``process``: ``(streams, n)`` for mono one-stem models (the speech presets), otherwise
        ``(streams, C, n)`` in and ``(streams, stems, C, n)`` out; ``n`` a multiple of
        ``hop_length``. NumPy in gives NumPy out; a tensor in gives a tensor on its device.
    """

    def __init__(self, model: BSRNN | str | os.PathLike = "default", streams: int = 1, *,
                 device: Any = "cuda", graph: bool | None = None,
                 sample_rate: float | None = None) -> None:
        from hushboard.backend import resolve_device

        if not isinstance(streams, int) or isinstance(streams, bool) or streams < 1:
            raise ValueError(f"streams must be a positive int (got {streams!r})")
        dev = resolve_device(device)
        if isinstance(model, BSRNN):  # a copy (deepcopy would copy caches of native plans)
            net = BSRNN(model.config)
            net.load_state_dict(model.state_dict())
            net.use_kernels = True
        elif isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a BSRNN (got {type(model).__name__}); "
                            "StreamServer serves the BSRNN presets")
        else:
            from hushboard.batch import load_denoiser_model

            net = load_denoiser_model(model, sample_rate=sample_rate, device="cpu")
            if not isinstance(net, BSRNN):
                raise TypeError(f"model must be a BSRNN (got {type(net).__name__}); "
                                "StreamServer serves the BSRNN presets")
        cfg = net.config
        if not cfg.causal:
            raise ValueError("model must be causal to stream (this BSRNN's time path is "
                             "bidirectional); run it offline with model.separate")
        net = net.to(device=dev, dtype=torch.float32).eval().requires_grad_(False)
        self.model, self.config, self.device = net, cfg, dev
        self.streams = streams
        self.sample_rate = cfg.sample_rate
        self.hop_length = hop = cfg.hop_length
        n_fft = cfg.n_fft
        half = n_fft // 2
        # frame t (offline: samples [t*hop - n_fft/2, t*hop + n_fft/2)) is complete after the
        # call whose input ends at a hop boundary at or past its end: `lead` hops into the
        # stream, with `pad` samples of the buffer after the frame
        self._lead = -(-half // hop)
        self._pad = self._lead * hop - half
        self.latency_samples = (self._lead - 1) * hop + half
        if n_fft % 2:
            raise ValueError(f"model n_fft must be even to stream (got {n_fft})")
        self.channels = c = cfg.audio_channels
        self.stems = len(cfg.stems)
        self._flat = c == 1 and self.stems == 1
        s, k, h = streams, cfg.num_bands, cfg.hidden_size
        z = dict(device=dev, dtype=torch.float32)
        self._window = net.window.to(**z)
        self._win_sq = self._window.square()
        # the static tensors one hop reads and writes (a CUDA graph replays on these addresses)
        self._in = torch.zeros(s, c, hop, **z)
        self._out = torch.zeros(s, self.stems, c, hop, **z)
        self._abuf = torch.zeros(s, c, n_fft + self._pad, **z)  # analysis: the newest samples
        self._ola = torch.zeros(s, self.stems, c, n_fft, **z)  # overlap-add of frames so far
        self._env = torch.zeros(s, 1, 1, n_fft, **z)  # their summed squared windows
        self._calls = torch.zeros(s, dtype=torch.int64, device=dev)  # hops since reset
        lstm = cfg.rnn == "lstm"
        self._state = [tuple(torch.zeros(s * k, h, **z) for _ in range(2 if lstm else 1))
                       for _ in range(cfg.num_layers)]
        self._past = torch.zeros(s, c, cfg.n_bins, max(cfg.mask_frames - 1, 0),
                                 dtype=torch.complex64, device=dev)
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
        cfg, net, hop = self.config, self.model, self.hop_length
        s, k = self.streams, cfg.num_bands
        n_fft = cfg.n_fft
        # frame t = calls - lead + 1 exists once the stream has seen `lead` hops
        active = self._calls >= self._lead - 1  # (S,)
        self._calls.add_(1)
        act = active.to(torch.float32)
        self._abuf.copy_(torch.cat([self._abuf[..., hop:], self._in], -1))
        frame = self._abuf[..., :n_fft] * self._window
        spec = torch.fft.rfft(frame)[..., None]  # (S, C, F, 1)
        x = net.band_split(net.features(spec), True)  # (S, 1, K, N)
        rows = active[:, None].expand(s, k).reshape(s * k, 1)  # the time-path rows
        for layer, state in zip(net.layers, self._state):
            x, new = layer(x, True, state if len(state) == 2 else state[0])
            new = new if isinstance(new, tuple) else (new,)
            for old, nw in zip(state, new):
                old.copy_(torch.where(rows, nw, old))
        hist = torch.cat([self._past, spec], -1)  # (S, C, F, taps), oldest first
        outs = []
        for m in net.masks:
            mask = net._mask_tensor(m(x, True), s, 1)[..., 0, :]
            outs.append((mask * hist.flip(-1)).sum(-1))
        if self._past.shape[-1]:
            keep = active[:, None, None, None]
            self._past.copy_(torch.where(keep, hist[..., 1:], self._past))
        y = torch.fft.irfft(torch.stack(outs, 1), n=n_fft) * self._window  # (S, stems, C, n_fft)
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
        tensors = [self._in, self._out, self._abuf, self._ola, self._env, self._calls,
                   self._past, *(t for st in self._state for t in st)]
        if idx is None:
            for t in tensors:
                t.zero_()
            return
        k = self.config.num_bands
        rows = (idx[:, None] * k + torch.arange(k, device=idx.device)).reshape(-1)
        for t in tensors:
            t.index_fill_(0, rows if t.shape[0] == self.streams * k else idx, 0)

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
