"""Sentence generator and the split rule (no audio rendered)."""

from __future__ import annotations

import pytest
from hushboard.data import generate_sentences, plan_speech, split_groups, split_sentences
from hushboard.data.tts import ENGINES, all_voices


def test_sentences_distinct_and_seeded():
    a = generate_sentences(3000, seed=1)
    assert len(a) == 3000 and len({s.lower() for s in a}) == 3000
    assert a == generate_sentences(3000, seed=1)
    assert a[:100] == generate_sentences(100, seed=1)  # a prefix of a longer list
    assert a[:50] != generate_sentences(50, seed=2)
    assert all(s[0].isupper() and s[-1] in ".?" for s in a)


@pytest.mark.parametrize("kw,exc,name", [({"n": 0}, ValueError, "n"), ({"n": 2.5}, TypeError, "n"),
                                         ({"n": 3, "seed": "x"}, TypeError, "seed")])
def test_sentences_bad_args(kw, exc, name):
    n = kw.pop("n")
    with pytest.raises(exc, match=name):
        generate_sentences(n, **kw)


def test_voice_groups_split_disjoint():
    g = split_groups(0)
    assert set(g) == {v.group for v in all_voices()}
    for fam in ("espeak", "cmu"):
        splits = {s for k, s in g.items() if k.startswith(fam + ":")}
        assert splits == {"train", "valid", "test"}, fam
    # a shared speaker (flite kal16 and festival kal_diphone) is one group
    kal = {v.group for v in all_voices() if "kal" in v.name}
    assert kal == {"cmu:kal"}


@pytest.mark.parametrize("seed", [0, 7])
def test_plan_disjoint_by_sentence_and_voice(seed):
    items = plan_speech(2000, seed=seed, engines=list(ENGINES))
    by = {s: [i for i in items if i.split == s] for s in ("train", "valid", "test")}
    assert {s: len(v) for s, v in by.items()} == {"train": 1600, "valid": 200, "test": 200}
    for a in by:
        for b in by:
            if a < b:
                assert not {i.sentence_id for i in by[a]} & {i.sentence_id for i in by[b]}
                assert not {i.text for i in by[a]} & {i.text for i in by[b]}
                assert not {i.voice.id for i in by[a]} & {i.voice.id for i in by[b]}
                assert not {i.voice.group for i in by[a]} & {i.voice.group for i in by[b]}
    engines = {i.voice.engine for i in by["train"]}
    assert engines == set(ENGINES)
    assert all(0.8 <= i.rate <= 1.25 and 0.75 <= i.pitch <= 1.35 for i in items)
    assert plan_speech(2000, seed=seed, engines=list(ENGINES)) == items


def test_split_sentences_fractions():
    s = split_sentences(1000, 0)
    assert (s.count("train"), s.count("valid"), s.count("test")) == (800, 100, 100)
    assert s == split_sentences(1000, 0) and s != split_sentences(1000, 1)


def test_plan_bad_args():
    with pytest.raises(ValueError, match="n_sentences"):
        plan_speech(0, engines=["flite"])
    with pytest.raises(ValueError, match="engines"):
        plan_speech(5, engines=["sam"])
