"""The names of chords, below every floor that reads or writes them: Harte's syntax (Harte et al. 2005, "Symbolic
representation of musical chords": ``C:maj``, ``A:min7``, ``G:7/3``, ``N`` for no chord), the qualities tunesmith
knows, and a line of timed chord symbols as a piece's metadata keeps a lead sheet's (``chord_symbols``), which score
reading (``io``) writes and the chord representations (``representations/chords.py``) read."""

from __future__ import annotations

from .errors import ConfigError

#: Harte's shorthands and their intervals above the root (semitones)
QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus4": (0, 5, 7),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "hdim7": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
}
#: each quality's triad, the unit of the accuracy measured against Roman-numeral analyses
TRIAD_OF = {
    "maj": "maj", "7": "maj", "maj7": "maj", "min": "min", "min7": "min", "dim": "dim", "hdim7": "dim",
    "dim7": "dim", "aug": "aug", "sus4": "sus4",
}  # fmt: skip
NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
#: the bass as Harte writes it: a degree above the root
DEGREES = ("1", "b2", "2", "b3", "3", "4", "b5", "5", "#5", "6", "b7", "7")


def harte(root: int, quality: str, bass: int = -1) -> str:
    """``C:maj``, ``G:7/3`` (the bass a degree above the root, where it is not the root), or ``N``."""
    if root < 0 or not quality:
        return "N"
    label = f"{NAMES[root]}:{quality}"
    if bass >= 0 and bass != root:
        label += "/" + DEGREES[(bass - root) % 12]
    return label


def parse_harte(label: str) -> tuple[int, str, int]:
    """``"G:7/3"`` -> (7, "7", 11): root pitch class, quality, bass pitch class (-1, "", -1 for ``N``). Accepts
    flats and sharps in the root (``Bb``, ``A#``) and a bare root for ``:maj``."""
    text = label.strip()
    if text in ("N", "X"):
        return -1, "", -1
    body, _, bass_text = text.partition("/")
    root_text, _, quality = body.partition(":")
    quality = quality or "maj"
    letters = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
    if not root_text or root_text[0].upper() not in letters or quality not in QUALITIES:
        raise ConfigError(
            f"{label!r} is no chord in Harte's syntax (e.g. C:maj, A:min7, G:7/3); qualities: {', '.join(QUALITIES)}"
        )
    root = letters[root_text[0].upper()] + root_text[1:].count("#") - root_text[1:].count("b")
    bass = -1
    if bass_text:
        if bass_text not in DEGREES:
            raise ConfigError(f"{label!r}: the bass is written as a degree above the root ({', '.join(DEGREES)})")
        bass = (root + DEGREES.index(bass_text)) % 12
    return root % 12, quality, bass


def symbols_text(symbols: list[tuple[float, int, str, int]]) -> str:
    """Chord symbols as one line (``"C:maj@0;G:7/3@4;N@10"``: Harte's label at its time in quarter notes), as a
    piece's metadata keeps them (``chord_symbols``)."""
    return ";".join(f"{harte(root, quality, bass)}@{at:g}" for at, root, quality, bass in symbols)


def parse_symbols_text(text: str) -> list[tuple[float, int, str, int]]:
    """:func:`symbols_text` read back."""
    out = []
    for part in filter(None, text.split(";")):
        label, _, at = part.rpartition("@")
        root, quality, bass = parse_harte(label)
        out.append((float(at), root, quality, -1 if bass == root else bass))
    return out
