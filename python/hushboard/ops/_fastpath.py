"""When an op may skip the ``torch.library`` dispatch and call its native kernel directly."""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import Tensor

from hushboard.ops._native import FORCE_REFERENCE

__all__ = ["TensorCache", "derived", "eager_native", "float32_under_autocast"]

_F = TypeVar("_F", bound=Callable[..., Any])

# Eager fast path: a plain eager call on CPU float32 tensors that needs no gradient goes to the
# native kernel directly, skipping the custom op's dispatch (about 50-100 us, more than the
# kernel itself for one frame). Anything else (autograd incl. forward AD, fake / meta tensors,
# tracing, torch.compile, functorch transforms, other devices or dtypes) goes through the op.
try:
    import torch.autograd.forward_ad as _forward_ad

    _forward_ad._current_level  # noqa: B018 - the dual-level counter must exist
    _NO_MODES = (torch._C._len_torch_dispatch_stack, torch._C._is_torch_function_mode_enabled,
                 torch._C._get_tracing_state, torch._C._functorch.peek_interpreter_stack,
                 torch.compiler.is_compiling)
except AttributeError:  # pragma: no cover - a torch without these internals: always dispatch
    _NO_MODES = None


_PLAIN = (torch.Tensor, torch.nn.Parameter)


def eager_native(*ts: Tensor | None) -> bool:
    """True for a plain eager call on CPU float32 tensors (None entries ignored) that needs no
    gradient: the caller may then run the native kernel directly."""
    if FORCE_REFERENCE or _NO_MODES is None:
        return False
    grad = torch.is_grad_enabled()
    for t in ts:
        if t is None:
            continue
        if (type(t) not in _PLAIN or not t.is_cpu or t.dtype is not torch.float32
                or (grad and t.requires_grad)):
            return False
    stack, fmode, tracing, functorch, compiling = _NO_MODES
    return not (stack() or fmode() or tracing() is not None or functorch() is not None
                or compiling() or _forward_ad._current_level >= 0)


# ---- autocast --------------------------------------------------------------------------------
_HALF = (torch.float16, torch.bfloat16)


def _autocast_on(device_type: str) -> bool:
    if device_type not in ("cpu", "cuda"):  # meta, fake...: no autocast of their own
        return False
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # pragma: no cover - torch < 2.4 had per-device functions
        if device_type == "cpu":
            return torch.is_autocast_cpu_enabled()
        return torch.is_autocast_enabled()


def _to_f32(v: Any) -> Any:
    if isinstance(v, Tensor) and v.dtype in _HALF:
        return v.float()
    if isinstance(v, (list, tuple)) and any(isinstance(i, Tensor) for i in v):
        return type(v)(_to_f32(i) for i in v)
    return v


def float32_under_autocast(fn: _F) -> _F:
    """Run a fused op in float32 inside a ``torch.autocast`` region, as autocast does with the
    precision-sensitive torch ops (layer_norm, softmax...): float16 / bfloat16 tensor arguments
    become float32 and the op runs with autocast off, so the torch math inside its kernels
    (e.g. the RNN's input GEMM) stays float32 too. Outside autocast the call is unchanged."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        for v in (*args, *kwargs.values()):
            if isinstance(v, Tensor):
                dev = v.device.type
                break
        else:
            return fn(*args, **kwargs)
        if not _autocast_on(dev):
            return fn(*args, **kwargs)
        args = tuple(_to_f32(a) for a in args)
        kwargs = {k: _to_f32(v) for k, v in kwargs.items()}
        with torch.autocast(dev, enabled=False):
            return fn(*args, **kwargs)

    return run  # type: ignore[return-value]


# ---- caches of objects built from tensors -------------------------------------------------------
_T = TypeVar("_T")


class TensorCache:
    """Objects built from tensors (packed-weight plans, transposed copies, a native network),
    reused while those tensors are the same live objects, unmodified.

    "Unmodified" is the version counter, which every in-place update (an optimizer step,
    ``load_state_dict``) bumps. Inference tensors (made under ``torch.inference_mode``) have no
    counter, yet can still be updated in place inside inference mode. With
    ``inference="value"`` an entry keeps a copy of them and compares values (cheap beside a
    forward pass on the CPU); with ``inference="rebuild"`` they are never cached (a comparison
    would sync a GPU, which a CUDA graph capture forbids). ``by_value`` tensors are always compared
    by value (e.g. a bias summed afresh by every caller). An entry goes when any of its tensors
    dies (weakref callbacks) or, past ``size`` entries, first in first out. ``per_thread`` keys
    entries by Python thread too (a plan that owns a scratch buffer). Copies and pickles of a
    cache (of a model holding one) start empty.
    """

    def __init__(self, size: int, *, per_thread: bool = False, inference: str = "value") -> None:
        if inference not in ("value", "rebuild"):
            raise ValueError(f"inference must be 'value' or 'rebuild' (got {inference!r})")
        self.size, self.per_thread, self.inference = size, per_thread, inference
        self._entries: dict = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __reduce__(self):
        # a copy or a pickle starts empty: the entries are derived (and native objects)
        return (type(self), (self.size,), {"per_thread": self.per_thread,
                                           "inference": self.inference, "_entries": {}})

    def clear(self) -> None:
        self._entries.clear()

    def values(self) -> list:
        return [e[2] for e in self._entries.values()]

    def get(self, key: tuple, tensors: tuple[Tensor | None, ...], build: Callable[[], _T],
            by_value: tuple[Tensor, ...] = ()) -> _T:
        """The object cached under ``key`` for ``tensors`` (None entries allowed), or
        ``build()``, cached."""
        ids = tuple([0 if t is None else id(t) for t in tensors])
        full = (key, threading.get_ident(), ids) if self.per_thread else (key, ids)
        inference: tuple[Tensor, ...] = ()
        try:
            versions = tuple([-1 if t is None else t._version for t in tensors])
        except RuntimeError:  # an inference tensor: no version counter
            inference = tuple(t for t in tensors if t is not None and t.is_inference())
            if self.inference == "rebuild":
                return build()
            versions = tuple([-1 if t is None or t.is_inference() else t._version
                              for t in tensors])
        values = (*by_value, *inference)
        hit = self._entries.get(full)
        # an entry lives only while all its tensors do (weakref callbacks drop it), so equal
        # ids mean the same tensors
        if hit is not None and hit[0] == versions and (not values or (
                len(hit[1]) == len(values)
                and all(a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
                        for a, b in zip(hit[1], values)))):
            return hit[2]
        obj = build()
        entries = self._entries
        try:
            refs = tuple(weakref.ref(t, lambda _r, k=full: entries.pop(k, None))
                         for t in tensors if t is not None)
        except TypeError:
            return obj
        entries.pop(full, None)
        if len(entries) >= self.size:
            entries.pop(next(iter(entries)))
        entries[full] = (versions, tuple(v.detach().clone() for v in values), obj, refs)
        return obj


# ---- derived weights ---------------------------------------------------------------------------
# Tensors made from weights on every call (a transposed copy for coalesced loads, the sum of two
# biases) are kept while their sources live unchanged: same objects, same version counters (an
# in-place update, e.g. an optimizer step, bumps it and the entry is rebuilt). Each launch of a
# GPU kernel then skips those copies, and a CUDA graph of a streaming hop holds none of them.
_DERIVED = TensorCache(256, inference="rebuild")


def derived(kind: str, tensors: tuple[Tensor, ...], build: Callable[..., Tensor]) -> Tensor:
    """``build(*tensors)`` (detached), cached under ``kind`` while every tensor in ``tensors``
    is alive and unmodified. Inference tensors (no version counter) are never cached."""
    return _DERIVED.get((kind,), tensors, lambda: build(*(t.detach() for t in tensors)))
