"""Single-layer LSTM / GRU over many independent sequences, as ``torch.library`` custom ops.

Semantics are torch's (``nn.LSTM`` / ``nn.GRU`` gate order and formulas) for one layer and one
direction, batch first:

* ``lstm_layer(x, w_ih, w_hh, bias, h0, c0, reverse) -> (y, h_n, c_n)``; gates ``i, f, g, o``:
  ``c' = f*c + i*g``, ``h' = o*tanh(c')``; ``bias`` is torch's ``b_ih + b_hh``.
* ``gru_layer(x, w_ih, w_hh, b_ih, b_hh, h0, reverse) -> (y, h_n)``; gates ``r, z, n``:
  ``n = tanh(W_in x + b_in + r*(W_hn h + b_hn))``, ``h' = (1-z)*n + z*h``.

``x`` is ``(S, L, I)``: S sequences of length L. ``y[:, l]`` is the hidden state after position
l; ``reverse=True`` walks ``l = L-1 .. 0`` (y keeps the original positions). A missing initial
state is zeros.

The ops' default bodies are the pure-torch references (``torch.lstm`` / ``torch.gru``, what
``nn.LSTM`` / ``nn.GRU`` call; any device and dtype). On CPU, float32 runs the native kernel
(``hushboard._C.LstmPlan`` / ``GruPlan``: fused gates, weights packed once and cached per weight
matrices + version counters and bias values, threads over sequences for large problems; the
result does not depend on the thread count, nor a sequence's on the others in the batch). float64
and other dtypes stay on the reference. On CUDA, float32 runs one GEMM for the input projections
and a fused persistent recurrence kernel. ``HUSHBOARD_BACKEND=reference`` keeps the references
everywhere. The native
kernel raises ``ValueError`` for non-finite weights (checked once per plan).

Autograd recomputes the reference under ``torch.func.vjp`` in the backward pass.
"""

from __future__ import annotations

import torch
from torch import Tensor

from hushboard.ops._fastpath import TensorCache, derived, eager_native, float32_under_autocast
from hushboard.ops._native import _C, register_native

__all__ = [
    "gru_layer",
    "gru_layer_reference",
    "lstm_layer",
    "lstm_layer_reference",
]


# ---- pure-torch references (default bodies) ---------------------------------------------------
def _flip(t: Tensor, reverse: bool) -> Tensor:
    return t.flip(1) if reverse else t


def lstm_layer_reference(
    x: Tensor, w_ih: Tensor, w_hh: Tensor, bias: Tensor, h0: Tensor | None = None,
    c0: Tensor | None = None, reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer through ``torch.lstm`` (no argument checks; see ``lstm_layer``).

    Shape:
        x ``(S, L, I)``, w_ih ``(4H, I)``, w_hh ``(4H, H)``, bias ``(4H,)``, h0/c0 ``(S, H)``
        -> y ``(S, L, H)``, h_n ``(S, H)``, c_n ``(S, H)``.
    """
    s, hidden = x.shape[0], w_hh.shape[1]
    zeros = None
    if h0 is None or c0 is None:
        zeros = x.new_zeros((s, hidden))
    h = (zeros if h0 is None else h0).unsqueeze(0)
    c = (zeros if c0 is None else c0).unsqueeze(0)
    params = [w_ih, w_hh, bias, torch.zeros_like(bias)]
    # train=True: the oneDNN CPU kernel keeps the workspace its backward needs (no dropout: p=0)
    y, h_n, c_n = torch.lstm(_flip(x, reverse), (h, c), params, True, 1, 0.0, True, False, True)
    return _flip(y, reverse), h_n[0], c_n[0]


def gru_layer_reference(
    x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor,
    h0: Tensor | None = None, reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One GRU layer through ``torch.gru`` (no argument checks; see ``gru_layer``).

    Shape:
        x ``(S, L, I)``, w_ih ``(3H, I)``, w_hh ``(3H, H)``, b_ih/b_hh ``(3H,)``, h0 ``(S, H)``
        -> y ``(S, L, H)``, h_n ``(S, H)``.
    """
    s, hidden = x.shape[0], w_hh.shape[1]
    h = (x.new_zeros((s, hidden)) if h0 is None else h0).unsqueeze(0)
    y, h_n = torch.gru(_flip(x, reverse), h, [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, True,
                       False, True)
    return _flip(y, reverse), h_n[0]


# torch's batch-first y is a transposed view: the ops return it contiguous (as register_fake says)
def _lstm_default(x, w_ih, w_hh, bias, h0, c0, reverse):
    y, h, c = lstm_layer_reference(x, w_ih, w_hh, bias, h0, c0, reverse)
    return y.contiguous(), h, c


def _gru_default(x, w_ih, w_hh, b_ih, b_hh, h0, reverse):
    y, h = gru_layer_reference(x, w_ih, w_hh, b_ih, b_hh, h0, reverse)
    return y.contiguous(), h


# ---- custom ops -------------------------------------------------------------------------------
@torch.library.custom_op("hushboard::lstm_layer", mutates_args=())
def _lstm_op(
    x: Tensor, w_ih: Tensor, w_hh: Tensor, bias: Tensor, h0: Tensor | None, c0: Tensor | None,
    reverse: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    return _lstm_default(x, w_ih, w_hh, bias, h0, c0, reverse)


@torch.library.custom_op("hushboard::gru_layer", mutates_args=())
def _gru_op(
    x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, h0: Tensor | None,
    reverse: bool,
) -> tuple[Tensor, Tensor]:
    return _gru_default(x, w_ih, w_hh, b_ih, b_hh, h0, reverse)


@_lstm_op.register_fake
def _(x, w_ih, w_hh, bias, h0, c0, reverse):
    s, l, hidden = x.shape[0], x.shape[1], w_hh.shape[1]
    return x.new_empty((s, l, hidden)), x.new_empty((s, hidden)), x.new_empty((s, hidden))


@_gru_op.register_fake
def _(x, w_ih, w_hh, b_ih, b_hh, h0, reverse):
    s, l, hidden = x.shape[0], x.shape[1], w_hh.shape[1]
    return x.new_empty((s, l, hidden)), x.new_empty((s, hidden))


# ---- native CPU kernels -----------------------------------------------------------------------
# Packed-weight plans, one per (weight matrices, Python thread): reused while w_ih and w_hh are
# the same objects, unmodified (``TensorCache``: an in-place update, e.g. an optimizer step,
# makes a new plan) and the biases hold the same values (compared by value: a model may pass
# b_ih + b_hh computed afresh on every call). Keyed per Python thread: a plan owns its scratch
# buffer.
_PLAN_CACHE = TensorCache(64, per_thread=True)
# threads only pay for problems of more than a few MFLOP (and need two sequences or more)
_THREAD_FLOPS = 4 << 20


def _plan_for(kind: str, mats: tuple[Tensor, Tensor], biases: tuple[Tensor, ...]):
    def build():
        arrs = [t.detach().contiguous().numpy() for t in (*mats, *biases)]
        return _C.LstmPlan(*arrs) if kind == "lstm" else _C.GruPlan(*arrs)

    return _PLAN_CACHE.get((kind,), mats, build, by_value=biases)


def _state(t: Tensor | None, s: int, hidden: int) -> Tensor:
    if t is None:
        return torch.zeros((s, hidden), dtype=torch.float32)
    return t.detach().clone(memory_format=torch.contiguous_format)


def _rows(x: Tensor) -> Tensor:
    """x with unit stride along I (any stride along S and L)."""
    return x if x.stride(2) == 1 or x.shape[2] == 1 else x.contiguous()


def _n_threads(gates: int, s: int, l: int, i: int, hidden: int) -> int:
    flops = 2 * gates * hidden * (i + hidden) * s * l
    return _C.get_num_threads() if s > 1 and flops > _THREAD_FLOPS else 1


@register_native("hushboard::lstm_layer", "cpu")
def _lstm_cpu(x, w_ih, w_hh, bias, h0, c0, reverse):
    ts = (x, w_ih, w_hh, bias, h0, c0)
    if any(t is not None and t.dtype != torch.float32 for t in ts):
        return _lstm_default(x, w_ih, w_hh, bias, h0, c0, reverse)
    plan = _plan_for("lstm", (w_ih, w_hh), (bias,))
    s, l, i = x.shape
    hidden = w_hh.shape[1]
    xr = _rows(x.detach())
    h, c = _state(h0, s, hidden), _state(c0, s, hidden)
    y = torch.empty((s, l, hidden), dtype=torch.float32)
    plan.forward_ptr(xr.data_ptr(), s, l, xr.stride(0), xr.stride(1), reverse, h.data_ptr(),
                     c.data_ptr(), y.data_ptr(), l * hidden, hidden,
                     _n_threads(4, s, l, i, hidden))
    return y, h, c


@register_native("hushboard::gru_layer", "cpu")
def _gru_cpu(x, w_ih, w_hh, b_ih, b_hh, h0, reverse):
    ts = (x, w_ih, w_hh, b_ih, b_hh, h0)
    if any(t is not None and t.dtype != torch.float32 for t in ts):
        return _gru_default(x, w_ih, w_hh, b_ih, b_hh, h0, reverse)
    plan = _plan_for("gru", (w_ih, w_hh), (b_ih, b_hh))
    s, l, i = x.shape
    hidden = w_hh.shape[1]
    xr = _rows(x.detach())
    h = _state(h0, s, hidden)
    y = torch.empty((s, l, hidden), dtype=torch.float32)
    plan.forward_ptr(xr.data_ptr(), s, l, xr.stride(0), xr.stride(1), reverse, h.data_ptr(),
                     y.data_ptr(), l * hidden, hidden, _n_threads(3, s, l, i, hidden))
    return y, h


# ---- native CUDA kernel (float32): the input projections of all positions as one GEMM
# (cuBLAS through torch), then the fused recurrence (csrc/cuda/rnn_cuda.cu: one persistent block
# per 4 sequences, W_hh in shared memory where it fits) ------------------------------------------
def _rnn_cuda(gru: bool, x, w_ih, w_hh, b_in, b_hh, h0, c0, reverse):
    s, l, i = x.shape
    hidden = w_hh.shape[1]
    gates = 3 if gru else 4
    gx = torch.addmm(b_in, x.reshape(s * l, i), w_ih.t()).view(s, l, gates * hidden)
    wt = derived("rnn_whh_t", (w_hh,), lambda w: w.t().contiguous())
    bh = None if b_hh is None else b_hh.contiguous()
    h0c = None if h0 is None else h0.contiguous()
    c0c = None if c0 is None else c0.contiguous()
    y = torch.empty((s, l, hidden), dtype=torch.float32, device=x.device)
    h_n = torch.empty((s, hidden), dtype=torch.float32, device=x.device)
    c_n = None if gru else torch.empty((s, hidden), dtype=torch.float32, device=x.device)

    def p(t):
        return 0 if t is None else t.data_ptr()

    if s:
        with torch.cuda.device(x.device):
            _C.rnn_forward_cuda(False, gru, gx.data_ptr(), wt.data_ptr(), p(bh), p(h0c), p(c0c),
                                s, l, hidden, reverse, y.data_ptr(), h_n.data_ptr(), p(c_n),
                                torch.cuda.current_stream().cuda_stream)
    return y, h_n, c_n


def _all_f32(*ts) -> bool:
    return all(t is None or t.dtype == torch.float32 for t in ts)


@register_native("hushboard::lstm_layer", "cuda")
def _lstm_cuda(x, w_ih, w_hh, bias, h0, c0, reverse):
    if not (_C.WITH_CUDA and _all_f32(x, w_ih, w_hh, bias, h0, c0)):
        return _lstm_default(x, w_ih, w_hh, bias, h0, c0, reverse)
    return _rnn_cuda(False, x, w_ih, w_hh, bias, None, h0, c0, reverse)


@register_native("hushboard::gru_layer", "cuda")
def _gru_cuda(x, w_ih, w_hh, b_ih, b_hh, h0, reverse):
    if not (_C.WITH_CUDA and _all_f32(x, w_ih, w_hh, b_ih, b_hh, h0)):
        return _gru_default(x, w_ih, w_hh, b_ih, b_hh, h0, reverse)
    y, h_n, _ = _rnn_cuda(True, x, w_ih, w_hh, b_ih, b_hh, h0, None, reverse)
    return y, h_n


# ---- autograd (the reference, recomputed under torch.func.vjp) --------------------------------
def _setup(ctx, inputs, output):
    ctx.n_tensors = len(inputs) - 1
    ctx.reverse = inputs[-1]
    ctx.present = tuple(t is not None for t in inputs[:-1])
    ctx.save_for_backward(*(t for t in inputs[:-1] if t is not None))


def _backward(ctx, reference, grads):
    # grad mode is on here only for a double backward (create_graph); otherwise detach. The vjp
    # itself runs with grad mode on: under no_grad, torch's oneDNN LSTM skips the workspace its
    # backward needs.
    create_graph = torch.is_grad_enabled()
    saved = iter(ctx.saved_tensors)
    args: list[Tensor | None] = []
    for present in ctx.present:
        t = next(saved) if present else None
        args.append(t if t is None or create_graph else t.detach())
    idx = [k for k, p in enumerate(ctx.present) if p and ctx.needs_input_grad[k]]
    if not idx:
        return (None,) * (ctx.n_tensors + 1)

    def f(*diff):
        a = list(args)
        for k, t in zip(idx, diff):
            a[k] = t
        return reference(*a, ctx.reverse)

    with torch.enable_grad():
        outs, vjp = torch.func.vjp(f, *(args[k] for k in idx))
        cot = tuple(torch.zeros_like(o) if g is None else g for o, g in zip(outs, grads))
        got = vjp(cot)
    res: list[Tensor | None] = [None] * (ctx.n_tensors + 1)
    for k, g in zip(idx, got):
        res[k] = g
    return tuple(res)


def _lstm_backward(ctx, gy, gh, gc):
    return _backward(ctx, lstm_layer_reference, (gy, gh, gc))


def _gru_backward(ctx, gy, gh):
    return _backward(ctx, gru_layer_reference, (gy, gh))


torch.library.register_autograd("hushboard::lstm_layer", _lstm_backward, setup_context=_setup)
torch.library.register_autograd("hushboard::gru_layer", _gru_backward, setup_context=_setup)


# ---- public functions -------------------------------------------------------------------------
def _check_tensor(name: str, t, ndim: int, shape: tuple[int, ...] | None, like: Tensor | None,
                  optional: bool = False) -> None:
    if t is None and optional:
        return
    if not isinstance(t, Tensor):
        kind = "a torch.Tensor or None" if optional else "a torch.Tensor"
        raise TypeError(f"{name} must be {kind} (got {type(t).__name__})")
    if like is None:
        if not t.is_floating_point():
            raise TypeError(f"{name} must have a floating dtype (got {t.dtype})")
    else:
        if t.dtype != like.dtype:
            raise TypeError(f"{name} must have dtype {like.dtype} like x (got {t.dtype})")
        if t.device != like.device:
            raise ValueError(f"{name} must be on {like.device} like x (got {t.device})")
    if t.dim() != ndim:
        raise ValueError(f"{name} must be {ndim}-D (got shape {tuple(t.shape)})")
    if shape is not None and tuple(t.shape) != shape:
        raise ValueError(f"{name} must have shape {shape} (got {tuple(t.shape)})")


def _check_common(x, w_ih, w_hh, gates: int) -> tuple[int, int, int, int]:
    _check_tensor("x", x, 3, None, None)
    if min(x.shape) < 1:
        raise ValueError(f"x must have shape (S, L, I) with S, L, I >= 1 (got {tuple(x.shape)})")
    s, l, i = x.shape
    _check_tensor("w_hh", w_hh, 2, None, x)
    hidden = w_hh.shape[1]
    if hidden < 1 or w_hh.shape[0] != gates * hidden:
        raise ValueError(f"w_hh must have shape ({gates}*H, H) with H >= 1 "
                         f"(got {tuple(w_hh.shape)})")
    _check_tensor("w_ih", w_ih, 2, (gates * hidden, i), x)
    return s, l, i, hidden


@float32_under_autocast
def lstm_layer(
    x: Tensor, w_ih: Tensor, w_hh: Tensor, bias: Tensor, h0: Tensor | None = None,
    c0: Tensor | None = None, reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer (torch's gates ``i, f, g, o``) over S independent sequences.

    Args:
        x: input sequences, batch first.
        w_ih: input weights (torch's ``weight_ih_l0``).
        w_hh: recurrent weights (``weight_hh_l0``).
        bias: ``bias_ih_l0 + bias_hh_l0``.
        h0, c0: initial hidden / cell state (zeros when None).
        reverse: walk the positions from ``L-1`` down to 0 (``y`` keeps the original order).

    Returns:
        ``(y, h_n, c_n)``: hidden state after each position, final hidden and cell state.

    Shape:
        x ``(S, L, I)``, w_ih ``(4H, I)``, w_hh ``(4H, H)``, bias ``(4H,)``, h0/c0 ``(S, H)``
        -> y ``(S, L, H)``, h_n ``(S, H)``, c_n ``(S, H)``.
    """
    s, _, _, hidden = _check_common(x, w_ih, w_hh, 4)
    _check_tensor("bias", bias, 1, (4 * hidden,), x)
    _check_tensor("h0", h0, 2, (s, hidden), x, optional=True)
    _check_tensor("c0", c0, 2, (s, hidden), x, optional=True)
    if eager_native(x, w_ih, w_hh, bias, h0, c0):  # skip the op dispatch (see _fastpath)
        return _lstm_cpu(x, w_ih, w_hh, bias, h0, c0, bool(reverse))
    return _lstm_op(x, w_ih, w_hh, bias, h0, c0, bool(reverse))


@float32_under_autocast
def gru_layer(
    x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, h0: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One GRU layer (torch's gates ``r, z, n``) over S independent sequences.

    Args:
        x: input sequences, batch first.
        w_ih: input weights (torch's ``weight_ih_l0``).
        w_hh: recurrent weights (``weight_hh_l0``).
        b_ih, b_hh: input and recurrent biases (kept apart: ``b_hn`` is scaled by ``r``).
        h0: initial hidden state (zeros when None).
        reverse: walk the positions from ``L-1`` down to 0 (``y`` keeps the original order).

    Returns:
        ``(y, h_n)``: hidden state after each position and the final hidden state.

    Shape:
        x ``(S, L, I)``, w_ih ``(3H, I)``, w_hh ``(3H, H)``, b_ih/b_hh ``(3H,)``, h0 ``(S, H)``
        -> y ``(S, L, H)``, h_n ``(S, H)``.
    """
    s, _, _, hidden = _check_common(x, w_ih, w_hh, 3)
    _check_tensor("b_ih", b_ih, 1, (3 * hidden,), x)
    _check_tensor("b_hh", b_hh, 1, (3 * hidden,), x)
    _check_tensor("h0", h0, 2, (s, hidden), x, optional=True)
    if eager_native(x, w_ih, w_hh, b_ih, b_hh, h0):
        return _gru_cpu(x, w_ih, w_hh, b_ih, b_hh, h0, bool(reverse))
    return _gru_op(x, w_ih, w_hh, b_ih, b_hh, h0, bool(reverse))
