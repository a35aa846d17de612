"""How a name the catalog has no alias for is matched: its signature, the equipment apart from
the movement, so that "Bench Press (Dumbbell)" and "Dumbbell Bench Press" are one exercise.

A signature is `equipment|movement`: the equipment a name states (empty when it states none)
and the words of the movement, folded to ASCII, singular, in sorted order. The catalog keeps the
signatures of its names (exercises.match_keys); a name whose signature exactly one exercise has
maps to it, anything else stays unmapped: the matcher never guesses.
"""

from __future__ import annotations

import re
import unicodedata

# Equipment as names state it, in English and the other languages the readers meet, each
# under the Free Exercise DB's own word for it (smith and trap bar are ours). Earlier entries
# win: "Smith Machine Squat" is on a smith machine, not a machine.
EQUIPMENT = (
    ("smith", r"smith(?: machine)?"),
    ("e-z curl bar", r"e-?z(?:[- ]?curl)?[- ]?bar|barra ez|ez"),
    ("trap bar", r"(?:trap|hex) ?bar"),
    ("barbell", r"barbells?|bilanciere"),
    ("dumbbell", r"dumbbells?|db|manubri|manubrio|mancuernas?|halteres?"),
    ("kettlebells", r"kettlebells?|kb"),
    ("cable", r"cables?|cavo|cavi|polea|poulie"),
    ("machine", r"machines?|leverage|lever|macchina|maquina|plate loaded"),
    ("bands", r"(?:resistance )?bands?|elastico"),
    ("body only", r"body ?weight|body only"),
)
# One pattern for all of them: at each place the earliest alternative that matches wins.
_EQUIPMENT = re.compile(
    r"\b(?:" + "|".join(f"(?P<e{i}>{pattern})" for i, (_, pattern) in enumerate(EQUIPMENT)) + r")\b"
)
_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHE = re.compile("['’`]")
# Words that say nothing about the movement: "Curl with Dumbbells", "Squat con bilanciere".
FILLER = frozenset(
    {
        *("a", "an", "and", "at", "for", "in", "of", "on", "the", "to", "with"),
        *("al", "alla", "alle", "allo", "ai", "agli", "con", "da", "dei", "del", "della"),
        *("delle", "di", "e", "gli", "i", "il", "la", "le", "lo", "su", "un", "una"),  # Italian
        *("de", "el", "en", "las", "los", "y"),  # Spanish
        *("au", "aux", "avec", "des", "du", "et", "les", "sur"),  # French
    }
)
# The second word of these joins the first: "Pull Up", "Pull-Up" and "Pullups" are one word.
PARTICLES = frozenset({"up", "down", "over"})
IRREGULAR = {"calves": "calf", "flies": "fly", "flyes": "fly", "flye": "fly"}


def fold(text: str) -> str:
    """Lower case, accents and apostrophes dropped: "Élévations" and "elevations" are one
    word, and so are "Farmer's" and "Farmers"."""
    text = _APOSTROPHE.sub("", text.lower())
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def singular(word: str) -> str:
    if word in IRREGULAR:
        return IRREGULAR[word]
    if len(word) > 3 and word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]  # crunches, presses
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]  # curls, sit-ups; not press
    return word


def signature(name: str) -> str:
    """`equipment|movement` of a name: "Bench Press (Barbell)" is `barbell|bench press`."""
    text = fold(name)
    stated = [int(m.lastgroup[1:]) for m in _EQUIPMENT.finditer(text) if m.lastgroup]
    equipment = EQUIPMENT[min(stated)][0] if stated else ""
    words: list[str] = []
    for raw in _WORD.findall(_EQUIPMENT.sub(" ", text) if stated else text):
        if raw in FILLER:
            continue
        word = singular(raw)
        if words and (word in PARTICLES or (len(words[-1]) == 1 and words[-1].isalpha())):
            words[-1] += word  # pull up -> pullup; t bar -> tbar
        else:
            words.append(word)
    return f"{equipment}|{' '.join(sorted(words))}"


def with_equipment(key: str, equipment: str | None) -> str | None:
    """The signature `key` would have if its name stated `equipment` (an exercise's own, for
    a name that states none): "Leg Press" is a machine exercise, so "Leg Press (Machine)" is
    it too. None when the name states equipment of its own, or there is none to add."""
    stated, movement = key.split("|", 1)
    if stated or not equipment:
        return None
    return f"{equipment}|{movement}"


def garmin_parts(key: str) -> tuple[str, str | None]:
    """A Garmin name, `category: subtype` (or the category alone): its two parts."""
    category, _, subtype = key.partition(":")
    return category.strip(), subtype.strip() or None
