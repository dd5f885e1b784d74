"""TensorCache (the plan / derived-weight caches of the ops and models) and the models under
``torch.inference_mode``, whose tensors have no version counter."""

from __future__ import annotations

import copy
import gc
import pickle
import threading

import pytest
import torch
from hushboard.models import BSRNN, DCCRN
from hushboard.ops import complex_conv2d, lstm_layer
from hushboard.ops._fastpath import TensorCache


class Builds:
    """A build function that counts its calls."""

    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1
        return object()


def test_reused_while_unchanged_rebuilt_after_in_place_update():
    cache, build = TensorCache(8), Builds()
    w, b = torch.randn(3, 4), torch.randn(3)
    first = cache.get(("k",), (w, b), build)
    assert cache.get(("k",), (w, b), build) is first and build.n == 1
    with torch.no_grad():
        w.mul_(2)  # an optimizer-like step bumps the version counter
    assert cache.get(("k",), (w, b), build) is not first and build.n == 2
    assert len(cache) == 1  # the stale entry was replaced
    assert cache.get(("other",), (w, b), build) is not None and build.n == 3  # key matters
    assert cache.get(("k",), (w.clone(), b), build) is not None and build.n == 4  # identity


def test_entry_goes_with_its_tensor():
    cache, build = TensorCache(8), Builds()
    w = torch.randn(5)
    cache.get(("k",), (w, None), build)
    assert len(cache) == 1
    del w
    gc.collect()
    assert len(cache) == 0


def test_none_entries_and_by_value():
    cache, build = TensorCache(8), Builds()
    w = torch.randn(2, 2)
    first = cache.get(("k",), (w, None), build, by_value=(torch.ones(2),))
    assert cache.get(("k",), (w, None), build, by_value=(torch.ones(2),)) is first
    assert cache.get(("k",), (w, None), build, by_value=(torch.full((2,), 2.0),)) is not first
    assert build.n == 2


def test_size_bound_first_in_first_out():
    cache, build = TensorCache(2), Builds()
    ws = [torch.randn(1) for _ in range(3)]
    for w in ws:
        cache.get(("k",), (w,), build)
    assert len(cache) == 2
    cache.get(("k",), (ws[0],), build)  # evicted: built again
    assert build.n == 4


def test_per_thread_entries():
    cache, build = TensorCache(8, per_thread=True), Builds()
    w = torch.randn(3)
    mine = cache.get(("k",), (w,), build)
    theirs = []
    t = threading.Thread(target=lambda: theirs.append(cache.get(("k",), (w,), build)))
    t.start()
    t.join()
    assert theirs[0] is not mine and build.n == 2
    assert cache.get(("k",), (w,), build) is mine


def test_inference_tensors_compared_by_value_or_never_cached():
    with torch.inference_mode():
        w = torch.randn(4, 4)
    assert w.is_inference()
    cache, build = TensorCache(8), Builds()
    first = cache.get(("k",), (w,), build)
    assert cache.get(("k",), (w,), build) is first and build.n == 1
    with torch.inference_mode():
        w.add_(1.0)  # in place, no version counter: only the values tell
    assert cache.get(("k",), (w,), build) is not first and build.n == 2
    rebuild, build2 = TensorCache(8, inference="rebuild"), Builds()
    rebuild.get(("k",), (w,), build2)
    rebuild.get(("k",), (w,), build2)
    assert build2.n == 2 and len(rebuild) == 0
    with pytest.raises(ValueError, match="inference"):
        TensorCache(8, inference="sometimes")


# ---- the ops and models on inference tensors ----------------------------------------------------
def test_ops_on_inference_weights_follow_in_place_updates():
    x = torch.randn(2, 4, 9, 7)
    wr, wi = torch.randn(3, 2, 3, 2), torch.randn(3, 2, 3, 2)
    want = complex_conv2d(x, wr, wi)
    with torch.inference_mode():
        wr_i, wi_i, x_i = wr.clone(), wi.clone(), x.clone()
        assert torch.equal(complex_conv2d(x_i, wr_i, wi_i), want)
        wr_i.mul_(-1.0)  # same tensor, new values: the cached plan must not be reused
        got = complex_conv2d(x_i, wr_i, wi_i)
    assert torch.equal(got, complex_conv2d(x, -wr, wi))
    s, n, i, h = 3, 5, 4, 6
    xs = torch.randn(s, n, i)
    w = [torch.randn(4 * h, i), torch.randn(4 * h, h), torch.randn(4 * h)]
    with torch.inference_mode():
        wi_ = [t.clone() for t in w]
        a = lstm_layer(xs, *wi_)[0]
        wi_[1].mul_(0.5)
        b = lstm_layer(xs, *wi_)[0]
    assert torch.equal(a, lstm_layer(xs, *w)[0])
    assert torch.equal(b, lstm_layer(xs, w[0], w[1] * 0.5, w[2])[0])


@pytest.mark.parametrize("kind", ["bsrnn", "dccrn"])
def test_models_made_under_inference_mode(kind):
    """A model made and loaded inside ``torch.inference_mode`` (no version counters) runs, equals
    the same model made outside, and sees a later ``load_state_dict`` (no stale native plans)."""
    torch.manual_seed(0)

    def make():
        if kind == "bsrnn":
            return BSRNN("bsrnn-speech-16k-lite").eval()
        return DCCRN("dccrn-lite").eval()

    a, b = make(), make()
    audio = 0.1 * torch.randn(2, 4000)
    with torch.no_grad():
        want_a, want_b = a(audio), b(audio)
        bins = a.config.n_fft // 2 + 1
        frame = torch.randn(*((2, 1, bins) if kind == "bsrnn" else (2, bins)),
                            dtype=torch.complex64)
        step_a = a.step(frame)[0]
    with torch.inference_mode():
        m = make()
        m.load_state_dict(a.state_dict())
        assert all(p.is_inference() for p in m.parameters())
        got_a = m(audio)
        got_step = m.step(frame)[0]
        m.load_state_dict(b.state_dict())  # in place: same tensors, new values
        got_b = m(audio)
    assert torch.equal(got_a, want_a) and torch.equal(got_b, want_b)
    assert torch.equal(got_step, step_a)


def test_model_with_a_built_network_copies_and_pickles():
    """The per-model network cache holds a native object: copies and pickles start it empty."""
    m = BSRNN("bsrnn-speech-16k-lite").eval()
    audio = 0.1 * torch.randn(4000)
    with torch.no_grad():
        want = m(audio)
        assert len(m._net_cache) == 1
        for other in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
            assert len(other._net_cache) == 0
            assert torch.equal(other(audio), want)
    cache = TensorCache(3, per_thread=True, inference="rebuild")
    cache.get(("k",), (torch.ones(1),), Builds())
    twin = copy.deepcopy(cache)
    assert (len(twin), twin.size, twin.per_thread, twin.inference) == (0, 3, True, "rebuild")
