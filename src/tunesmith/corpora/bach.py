"""The built-in default corpus: J. S. Bach's chorales, as shipped inside music21's corpus.

About 410 four-part chorales (cantata and passion movements, and the chorales BWV 250-438), most as compressed
MusicXML. They come with the music21 package: nothing is downloaded and no network is used.

What music21's ``corpus.getComposer('bach')`` gives and this module filters out:

* Roman-numeral analyses (``.rntxt``, in ``choraleAnalyses``): no notes, and not a format :func:`read_score`
  reads.
* The same chorale in two formats (``bwv277.krn`` beside ``bwv277.mxl``): the MusicXML one is kept.
* Works that are not chorales (``bwv846.mxl``, the C major prelude of the Well-Tempered Clavier): a chorale is
  a file named ``bwv<N>...`` with N at most 438.

How a chorale is read (:func:`read_chorale`): its four voices only, soprano to bass as tracks 0 to 3, each with
its own General MIDI program (:data:`CHORALE_VOICE_PROGRAMS`, a string quartet), so that a tokenizer putting every
track in one stream (MidiTok with programs) still tells the voices apart; as written, every part of these files
has program 0. The instrumental parts that 42 of the 409 files have besides the voices (horns, trumpets and
timpani, obbligato strings and woodwinds, continuo; mostly doubling a voice) are left out, as is the second
soprano of the two five-voice chorales of BWV 227 (the first part named for a voice is that voice).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..notes import Notes

#: The four voices of a chorale, highest first.
CHORALE_VOICES = ("soprano", "alto", "tenor", "bass")
#: Each chorale voice's General MIDI program (0-based): a string quartet, distinct programs that a General MIDI
#: SoundFont renders well. Soprano: Violin (40), alto: Viola (41), tenor: Cello (42), bass: Contrabass (43).
#: The one place this is decided: the chorale reader, the voice-leading statistics and harmonisation use it.
CHORALE_VOICE_PROGRAMS: dict[str, int] = {"soprano": 40, "alto": 41, "tenor": 42, "bass": 43}
#: Two chorales share a tune when at least :data:`TUNE_SHARE` of the shorter soprano's runs of :data:`TUNE_GRAM`
#: melodic intervals (repeated notes merged) occur in the other's (see :func:`tune_groups`).
TUNE_GRAM = 8
TUNE_SHARE = 0.5
#: Changes whenever the chorales are grouped by tune differently (part of the dataset's fingerprint).
TUNE_GROUPING_VERSION = 1
#: Changes whenever :func:`read_chorale` reads the chorales differently, so that a dataset prepared before is
#: prepared again (it is part of the dataset's fingerprint).
CHORALE_READING_VERSION = 1

# a part's name naming a voice: its first word (English, Latin, German and Italian names, and S/A/T/B); "Basso
# continuo" and "Continuo" name no voice, "Bass Continuo" (the bass voice doubled by the continuo) does
_VOICE_NAMES = (
    ("soprano", re.compile(r"(soprano|sopran|discantus|cantus|canto|s)\b")),
    ("alto", re.compile(r"(alto|altus|alt|contralto|a)\b")),
    ("tenor", re.compile(r"(tenor|tenore|t)\b")),
    ("bass", re.compile(r"(?!basso\W*continuo)(bass|bassus|basso|b)\b")),
)

#: Readable formats, in order of preference when one chorale comes in several.
_FORMATS = (".mxl", ".musicxml", ".xml", ".krn")
_LAST_CHORALE_BWV = 438  # BWV 250-438 are the four-part chorales; every higher number is something else
_BWV = re.compile(r"bwv(\d+)", re.IGNORECASE)


def bach_chorale_paths() -> list[Path]:
    """Paths of the Bach chorales in music21's corpus, sorted by file name, one file per chorale.

    Only score files :func:`tunesmith.io.score.read_score` reads are listed (``.mxl``, ``.musicxml``, ``.xml``,
    ``.krn``; not the ``.rntxt`` analyses); a chorale present in two formats is listed once, preferring
    ``.mxl``. Returns an empty list when music21's corpus has no Bach files.
    """
    from music21 import corpus

    best: dict[str, Path] = {}
    for entry in corpus.getComposer("bach"):
        p = Path(entry)
        ext = p.suffix.lower()
        if ext not in _FORMATS:
            continue
        m = _BWV.match(p.stem)
        if m is None or int(m.group(1)) > _LAST_CHORALE_BWV:
            continue
        key = p.stem.lower()
        if key not in best or _FORMATS.index(ext) < _FORMATS.index(best[key].suffix.lower()):
            best[key] = p
    return sorted(best.values(), key=lambda q: (q.name.lower(), q.name))


def voice_of(name: str) -> str | None:
    """The chorale voice (one of :data:`CHORALE_VOICES`) a part's name names, or None: ``"Soprano"``,
    ``"Soprano 1"``, ``"Alto\\rViolin 2"`` and ``"Bass Continuo"`` (a voice doubled by instruments), ``"Tenore"``,
    ``"B."``; not ``"Continuo"``, ``"Basso continuo"`` or ``"Violin"``. Case and leading spaces do not matter."""
    text = name.strip().lower()
    for voice, pattern in _VOICE_NAMES:
        if pattern.match(text):
            return voice
    return None


def chorale_voice_parts(names: Sequence[str]) -> list[tuple[int, int]]:
    """Which parts of a chorale are its voices: ``(track, program)`` for soprano, alto, tenor and bass, in that
    order (a :data:`tunesmith.io.score.PartSelector`).

    Each voice is the first part whose name names it (:func:`voice_of`); parts naming no voice are left out.
    A score of exactly four parts whose names do not name the four voices is taken in score order, soprano
    first. Raises ``ValueError`` for any other score."""
    found: dict[str, int] = {}
    for track, name in enumerate(names):
        voice = voice_of(name)
        if voice is not None and voice not in found:
            found[voice] = track
    if len(found) == len(CHORALE_VOICES):
        tracks = [found[v] for v in CHORALE_VOICES]
    elif len(names) == len(CHORALE_VOICES):
        tracks = list(range(len(names)))
    else:
        missing = ", ".join(v for v in CHORALE_VOICES if v not in found)
        raise ValueError(
            f"not a four-voice chorale: {len(names)} parts ({', '.join(repr(n) for n in names)}), none named {missing}"
        )
    return [(t, CHORALE_VOICE_PROGRAMS[v]) for t, v in zip(tracks, CHORALE_VOICES, strict=True)]


def read_chorale(path: str | os.PathLike[str]) -> Notes:
    """A Bach chorale of the built-in corpus as Notes: its four voices as tracks 0 (soprano) to 3 (bass), with
    the programs of :data:`CHORALE_VOICE_PROGRAMS` (see the module's description). Raises
    :class:`~tunesmith.errors.ScoreReadError` as :func:`~tunesmith.io.score.read_score` does, and for a score
    whose four voices cannot be told (:func:`chorale_voice_parts`)."""
    from ..io.score import read_score

    return read_score(path, parts=chorale_voice_parts)


def soprano_line(pitch: Sequence[int]) -> list[int]:
    """A soprano's pitches in time order with repeated notes merged: what stays of a tune across harmonisations
    that split or tie its notes differently."""
    line: list[int] = []
    for p in pitch:
        if not line or line[-1] != int(p):
            line.append(int(p))
    return line


def tune_groups(sopranos: Sequence[Sequence[int]], gram: int = TUNE_GRAM, share: float = TUNE_SHARE) -> list[int]:
    """A group number per chorale (the smallest index in its group): chorales whose sopranos (see
    :func:`soprano_line`) share at least ``share`` of the shorter one's runs of ``gram`` intervals are one tune,
    and so are the chains of such pairs. Transposition aside: intervals, not pitches.

    Measured on music21's 409 chorales: 258 groups, the largest of 10 (the "O Welt, ich muss dich lassen" tune,
    BWV 13.6, 244.10, 244.37, 245.11, 392-395, 44.7, 97.9), then 9 ("Herzlich tut mich verlangen": BWV 244.15, 17,
    44, 54, 62, 248.5, 270, 271, 135.6). Between pairs of different tunes the share is below 0.1 for 99% of pairs;
    runs of fewer intervals (6) or a lower share (0.3) chain scale fragments into one group of 185."""
    grams = []
    for line in sopranos:
        steps = [b - a for a, b in zip(line, line[1:], strict=False)]
        grams.append({tuple(steps[i : i + gram]) for i in range(len(steps) - gram + 1)})
    parent = list(range(len(grams)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in combinations(range(len(grams)), 2):
        a, b = grams[i], grams[j]
        if a and b and len(a & b) >= share * min(len(a), len(b)):
            ri, rj = root(i), root(j)
            parent[max(ri, rj)] = min(ri, rj)
    return [root(i) for i in range(len(grams))]
