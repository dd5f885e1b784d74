"""When an op may skip the ``torch.library`` dispatch and call its native kernel directly."""

from __future__ import annotations

import torch
from torch import Tensor

from hushboard.ops._native import FORCE_REFERENCE

__all__ = ["eager_native"]

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
