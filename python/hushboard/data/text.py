"""A seeded generator of distinct English sentences (templates and word lists).

The templates cover statements, questions, requests, numbers, times and dates, so the rendered
speech has varied prosody. With the word lists below there are far more than a million distinct
sentences; :func:`generate_sentences` draws ``n`` distinct ones deterministically from a seed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["generate_sentences"]

_NAMES = ("Anna", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Henry", "Irene", "James",
          "Karen", "Leo", "Maria", "Nathan", "Olivia", "Peter", "Rachel", "Samuel", "Tina", "Victor",
          "Wendy", "Oscar", "Laura", "Martin", "Sophie", "Thomas", "Alice", "George", "Helen", "Paul")
_PEOPLE = ("the teacher", "my neighbour", "the doctor", "our manager", "the pilot", "a young boy",
           "the old farmer", "her brother", "the engineer", "my sister", "the baker", "the driver",
           "a tall woman", "the students", "the guide", "his uncle", "the nurse", "the children",
           "the musician", "the reporter", "a quiet man", "the captain", "the chef", "my cousin")
_ADJ = ("red", "small", "heavy", "bright", "quiet", "broken", "new", "wooden", "cold", "warm",
        "green", "empty", "old", "shiny", "strange", "tiny", "huge", "soft", "blue", "yellow",
        "narrow", "clean", "dusty", "golden", "silver", "round", "sharp", "famous", "simple", "wet")
_NOUNS = ("box", "letter", "window", "bicycle", "garden", "lamp", "table", "river", "kettle",
          "camera", "ticket", "jacket", "map", "basket", "piano", "bridge", "bottle", "book",
          "chair", "clock", "boat", "key", "phone", "umbrella", "blanket", "candle", "mirror",
          "ladder", "wallet", "guitar", "notebook", "carpet", "engine", "envelope", "painting")
_PLACES = ("the station", "the market", "the library", "the kitchen", "the office", "the park",
           "the harbour", "the village", "the museum", "the airport", "the beach", "the garage",
           "the hospital", "the school", "the bakery", "the hotel", "the forest", "the stadium",
           "the cinema", "the bank", "the farm", "the castle", "the city centre", "the island")
_VERBS_PAST = ("found", "bought", "carried", "painted", "opened", "cleaned", "dropped", "sold",
               "fixed", "moved", "borrowed", "wrapped", "lost", "washed", "checked", "hid",
               "brought", "returned", "measured", "ordered", "repaired", "packed", "noticed")
_VERBS_BASE = ("find", "buy", "carry", "paint", "open", "clean", "sell", "fix", "move", "borrow",
               "wrap", "wash", "check", "bring", "return", "measure", "order", "repair", "pack")
_TIMES = ("this morning", "last night", "yesterday", "on Monday", "on Friday evening",
          "after lunch", "before dawn", "at noon", "last week", "early today", "on Sunday",
          "in the afternoon", "at midnight", "two days ago", "last summer", "during the storm")
_FEELINGS = ("happy", "tired", "surprised", "worried", "excited", "calm", "nervous", "proud",
             "hungry", "curious", "relieved", "busy", "confused", "grateful", "bored")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_WEATHER = ("rain", "snow", "wind", "fog", "sunshine", "thunder", "frost", "heat")
_NUM = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "a hundred")
_ORD = ("first", "second", "third", "fourth", "fifth", "sixth", "tenth", "twelfth", "twentieth")
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_ADV = ("slowly", "carefully", "quickly", "quietly", "suddenly", "gently", "happily", "finally")


def _pick(rng: np.random.Generator, seq: tuple[str, ...]) -> str:
    return seq[int(rng.integers(len(seq)))]


def _plural(noun: str) -> str:
    return noun + ("es" if noun.endswith(("x", "ch", "sh", "s")) else "s")


def _cap(s: str) -> str:
    return s[0].upper() + s[1:]


def _sentence(rng: np.random.Generator) -> str:
    p = lambda seq: _pick(rng, seq)
    who = p(_NAMES) if rng.random() < 0.5 else p(_PEOPLE)
    thing = f"the {p(_ADJ)} {p(_NOUNS)}"
    t = int(rng.integers(16))
    if t == 0:
        s = f"{who} {p(_VERBS_PAST)} {thing} near {p(_PLACES)} {p(_TIMES)}."
    elif t == 1:
        s = f"Did {who} {p(_VERBS_BASE)} {thing} {p(_TIMES)}?"
    elif t == 2:
        s = f"Please {p(_VERBS_BASE)} {thing} and put it next to the {p(_ADJ)} {p(_NOUNS)}."
    elif t == 3:
        s = f"We counted {p(_NUM[1:])} {_plural(p(_NOUNS))} in {p(_PLACES)} {p(_TIMES)}."
    elif t == 4:
        s = f"{who} felt {p(_FEELINGS)} when the {p(_NOUNS)} {p(_ADV)} arrived."
    elif t == 5:
        s = (f"The meeting is on the {p(_ORD)} of {p(_MONTHS)} at "
             f"{p(_NUM[:12])} {'thirty' if rng.random() < 0.5 else 'o clock'}.")
    elif t == 6:
        s = f"Why did {who} leave {thing} at {p(_PLACES)}?"
    elif t == 7:
        d = " ".join(p(_DIGITS) for _ in range(int(rng.integers(4, 8))))
        s = f"The code for {thing} is {d}."
    elif t == 8:
        s = f"If the {p(_WEATHER)} stops, {who} will {p(_VERBS_BASE)} {thing} {p(_ADV)}."
    elif t == 9:
        s = f"I think {who} {p(_VERBS_PAST)} {p(_NUM[1:])} {p(_ADJ)} {_plural(p(_NOUNS))} for {p(_NAMES)}."
    elif t == 10:
        s = f"Where is {thing} that {who} {p(_VERBS_PAST)} {p(_TIMES)}?"
    elif t == 11:
        s = f"After the {p(_WEATHER)}, {who} walked {p(_ADV)} to {p(_PLACES)}."
    elif t == 12:
        s = f"{p(_NAMES)} told {p(_NAMES)} that {thing} was {p(_ADJ)} and {p(_ADJ)}."
    elif t == 13:
        s = f"Turn left at {p(_PLACES)}, then walk {p(_NUM[:10])} minutes past {thing}."
    elif t == 14:
        s = f"It costs {p(_NUM)} dollars and {p(_NUM[1:14])} cents to {p(_VERBS_BASE)} {thing}."
    else:
        s = (f"Tell {p(_NAMES)} that {who} will be {p(_FEELINGS)} to see {thing} "
             f"at {p(_PLACES)} {p(_TIMES)}.")
    return _cap(s)


def generate_sentences(n: int, *, seed: int = 0) -> list[str]:
    """``n`` distinct English sentences, the same list for the same ``seed``.

    Args:
        n: how many (1 to 1,000,000).
        seed: random seed.

    Returns:
        The sentences, in generation order.

    Raises:
        ValueError: ``n`` out of range.
        TypeError: ``n`` or ``seed`` not an integer.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an int (got {type(n).__name__})")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int (got {type(seed).__name__})")
    if not 1 <= n <= 1_000_000:
        raise ValueError(f"n must be in 1..1000000 (got {n})")
    rng = np.random.default_rng([int(seed), 0x5E17])
    seen: set[str] = set()
    out: list[str] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 50 * n + 1000:  # pragma: no cover - the space is far larger than 1e6
            raise RuntimeError("sentence space exhausted")
        s = _sentence(rng)
        key = s.lower()
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out
