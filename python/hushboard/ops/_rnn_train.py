"""One LSTM layer for training on CPU: native forward that saves its gates, native backward.

``lstm_train_layer(x, w_ih, w_hh, b_ih, b_hh, h0=None, c0=None, reverse=False)`` computes what
one direction of ``nn.LSTM(batch_first=True)`` does (torch's gates ``i, f, g, o``) and returns
``(y, h_n, c_n)``; gradients flow to every tensor input (x, both weight matrices, both biases,
h0, c0). On CPU float32 it runs ``hushboard._C.LstmTrainPlan`` (a ``torch.autograd.Function``):
the forward keeps the activated gates and cell states of every step, and the backward computes
all gradients in one native pass (no recomputation, no oneDNN). Results do not depend on the
thread count. Other devices and dtypes (and ``HUSHBOARD_BACKEND=reference``) go through
``torch.lstm`` with autograd. No double backward on the native path.
"""

from __future__ import annotations

import threading

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from hushboard.ops._fastpath import float32_under_autocast
from hushboard.ops._native import _C, FORCE_REFERENCE
from hushboard.ops._rnn import _check_common, _check_tensor, _n_threads, lstm_layer_reference

__all__ = ["lstm_train_layer"]


def _ptr(t: Tensor | None) -> int:
    return 0 if t is None else t.data_ptr()


def _rows(x: Tensor) -> Tensor:
    """x with unit stride along the last axis (any stride along S and L)."""
    return x if x.stride(2) == 1 or x.shape[2] == 1 else x.contiguous()


# Saved-state buffers and workspaces are reused from call to call. A training step's saved
# buffers are tens of MB each; fresh ones come from mmap and page-fault on first touch (costing
# about as long as the forward kernel itself), so a backward hands its buffer back for the next
# step's forwards. A buffer's generation counts its hand-outs: a backward that finds its buffer
# handed out again (a second backward through a retained graph) recomputes the forward first.
class _Buf:
    __slots__ = ("t", "gen")

    def __init__(self, n: int) -> None:
        self.t = torch.empty(n, dtype=torch.float32)
        self.gen = 0


_POOL: list[_Buf] = []
_POOL_LOCK = threading.Lock()
_POOL_MAX = 32
_POOL_MAX_BYTES = 3 << 30


def _take(n: int) -> _Buf:
    """A buffer of at least n floats (from the pool when one fits: the smallest that holds n
    and is at most twice as large)."""
    n = max(1, n)
    with _POOL_LOCK:
        best = None
        for k, b in enumerate(_POOL):
            if n <= b.t.numel() <= 2 * n and (best is None or b.t.numel() < _POOL[best].t.numel()):
                best = k
        if best is not None:
            buf = _POOL.pop(best)
            buf.gen += 1
            return buf
    return _Buf(n)


def _give(buf: _Buf) -> None:
    with _POOL_LOCK:
        if any(b is buf for b in _POOL):
            return
        _POOL.append(buf)
        total = sum(b.t.numel() * 4 for b in _POOL)
        while len(_POOL) > _POOL_MAX or total > _POOL_MAX_BYTES:
            total -= _POOL.pop(0).t.numel() * 4


def _forward(plan, xr, h0c, c0c, reverse, threads, y, h_n, c_n) -> _Buf:
    s, n, _ = xr.shape
    hidden = plan.hidden_size
    saved = _take(plan.saved_floats(s, n))
    ws = _take(plan.forward_workspace_floats(s)) if h0c is None else None
    plan.forward_ptr(xr.data_ptr(), s, n, xr.stride(0), xr.stride(1), reverse, _ptr(h0c),
                     _ptr(c0c), y.data_ptr(), n * hidden, hidden, h_n.data_ptr(),
                     c_n.data_ptr(), saved.t.data_ptr(), 0 if ws is None else ws.t.data_ptr(),
                     threads)
    if ws is not None:
        _give(ws)
    return saved


class _LstmTrain(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse):
        s, n, i = x.shape
        hidden = w_hh.shape[1]
        w_ih_c, w_hh_c = w_ih.detach().contiguous(), w_hh.detach().contiguous()
        bias = (b_ih.detach() + b_hh.detach()).contiguous()
        plan = _C.LstmTrainPlan(i, hidden, w_ih_c.data_ptr(), w_hh_c.data_ptr(), bias.data_ptr())
        xr = _rows(x.detach())
        h0c = None if h0 is None else h0.detach().contiguous()
        c0c = None if c0 is None else c0.detach().contiguous()
        y = torch.empty((s, n, hidden), dtype=torch.float32)
        h_n = torch.empty((s, hidden), dtype=torch.float32)
        c_n = torch.empty((s, hidden), dtype=torch.float32)
        threads = _n_threads(4, s, n, i, hidden)
        saved = _forward(plan, xr, h0c, c0c, reverse, threads, y, h_n, c_n)
        ctx.set_materialize_grads(False)
        ctx.plan, ctx.reverse, ctx.threads = plan, reverse, threads
        ctx.has_h0, ctx.has_c0 = h0 is not None, c0 is not None
        # the saved gates are internal (no autograd-visible tensor): back to the pool after use
        ctx.saved, ctx.gen = saved, saved.gen
        ctx.save_for_backward(xr, h0c, c0c, y)
        return y, h_n, c_n

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dh_n, dc_n):
        xr, h0c, c0c, y = ctx.saved_tensors
        plan = ctx.plan
        if ctx.saved.gen != ctx.gen:  # handed out again since: recompute (same values)
            tmp = [torch.empty_like(t) for t in (y, y[:, 0], y[:, 0])]
            ctx.saved = _forward(plan, xr, h0c, c0c, ctx.reverse, ctx.threads, *tmp)
            ctx.gen = ctx.saved.gen
        saved = ctx.saved.t
        s, n, i = xr.shape
        hidden = plan.hidden_size
        dy = None if dy is None else _rows(dy.to(torch.float32))
        if dy is not None and dy.stride(2) != 1:
            dy = dy.contiguous()
        dh_n = None if dh_n is None else dh_n.contiguous()
        dc_n = None if dc_n is None else dc_n.contiguous()
        need = ctx.needs_input_grad
        dx = torch.empty((s, n, i), dtype=torch.float32) if need[0] else None
        dw_ih = torch.empty((4 * hidden, i), dtype=torch.float32)
        dw_hh = torch.empty((4 * hidden, hidden), dtype=torch.float32)
        db = torch.empty(4 * hidden, dtype=torch.float32)
        dh0 = torch.empty((s, hidden), dtype=torch.float32) if ctx.has_h0 and need[5] else None
        dc0 = torch.empty((s, hidden), dtype=torch.float32) if ctx.has_c0 and need[6] else None
        ws = _take(plan.backward_workspace_floats(s))
        plan.backward_ptr(
            xr.data_ptr(), s, n, xr.stride(0), xr.stride(1), ctx.reverse, _ptr(h0c),
            y.data_ptr(), n * hidden, hidden, saved.data_ptr(),
            _ptr(dy), 0 if dy is None else dy.stride(0), 0 if dy is None else dy.stride(1),
            _ptr(dh_n), _ptr(dc_n), _ptr(dx), n * i, i, dw_ih.data_ptr(), dw_hh.data_ptr(),
            db.data_ptr(), _ptr(dh0), _ptr(dc0), ws.t.data_ptr(), ctx.threads)
        _give(ws)
        _give(ctx.saved)
        return (dx, dw_ih if need[1] else None, dw_hh if need[2] else None,
                db if need[3] else None, db.clone() if need[4] else None, dh0, dc0, None)


def _native_ok(*ts: Tensor | None) -> bool:
    return not FORCE_REFERENCE and all(
        t is None or (t.is_cpu and t.dtype == torch.float32) for t in ts)


@float32_under_autocast
def lstm_train_layer(
    x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor,
    h0: Tensor | None = None, c0: Tensor | None = None, reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer with autograd (torch's gates ``i, f, g, o``) over S independent sequences.

    Args:
        x: input sequences, batch first.
        w_ih, w_hh: input and recurrent weights (``weight_ih_l0``, ``weight_hh_l0``).
        b_ih, b_hh: the two biases (``bias_ih_l0``, ``bias_hh_l0``), each getting the gradient.
        h0, c0: initial hidden / cell state (zeros when None).
        reverse: walk the positions from ``L-1`` down to 0 (``y`` keeps the original order).

    Returns:
        ``(y, h_n, c_n)``: hidden state after each position, final hidden and cell state.

    Shape:
        x ``(S, L, I)``, w_ih ``(4H, I)``, w_hh ``(4H, H)``, b_ih/b_hh ``(4H,)``, h0/c0 ``(S, H)``
        -> y ``(S, L, H)``, h_n ``(S, H)``, c_n ``(S, H)``.
    """
    s, _, _, hidden = _check_common(x, w_ih, w_hh, 4)
    _check_tensor("b_ih", b_ih, 1, (4 * hidden,), x)
    _check_tensor("b_hh", b_hh, 1, (4 * hidden,), x)
    _check_tensor("h0", h0, 2, (s, hidden), x, optional=True)
    _check_tensor("c0", c0, 2, (s, hidden), x, optional=True)
    if _native_ok(x, w_ih, w_hh, b_ih, b_hh, h0, c0):
        return _LstmTrain.apply(x, w_ih, w_hh, b_ih, b_hh, h0, c0, bool(reverse))
    y, h_n, c_n = lstm_layer_reference(x, w_ih, w_hh, b_ih + b_hh, h0, c0, bool(reverse))
    return y, h_n, c_n
