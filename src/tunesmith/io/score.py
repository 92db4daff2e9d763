"""Score formats (MusicXML, ABC, Humdrum ``**kern``) -> :class:`~tunesmith.notes.Notes`, through music21.

A score is read as written: **repeats and da capo jumps are not expanded** (each note appears once, at its
place in the written score), ornaments are not realised and dynamics markings (p, f, ...) do not change
velocities; only an explicit per-note velocity (MusicXML ``dynamics=`` attributes or ``<sound dynamics>``) does.

What music21 does not do, or does in a way we do not want, and this module handles:

* **Typed errors**: music21 raises whatever its parser hits (``xml.etree.ElementTree.ParseError``,
  ``ABCHandlerException``, ``HumdrumException``, ``IndexError`` for a folder named ``x.xml``, ...); we raise
  :class:`~tunesmith.errors.ScoreReadError` naming the file and the reason. Missing and empty files are caught
  before music21 sees them.
* **No pickle cache**: by default ``converter.parse`` writes a pickle of every parsed file into a shared scratch
  folder and loads it back next time; we pass ``forceSource=True`` so reading a score never loads a pickle that
  someone else could have put there, and leaves no files behind.
* **A path is always a path**: ``converter.parse`` treats a string that is not an existing file as music data or
  a URL; we call ``converter.parseFile``.
* **Invented titles**: music21 fills a missing MusicXML ``movementName`` with the file's name; such a "title"
  is dropped.
* **Piano staves**: music21 splits a multi-staff MusicXML part into one ``PartStaff`` per staff; the staves of
  one part become one track again.
* **Ties** are merged here in one pass over each flattened part, without ``stripTies`` (which deep-copies the
  whole score, or, run in place on a flattened view, changes the caller's notes).
* **Pickups**: music21 starts a pickup measure (an anacrusis) at offset 0 like a whole bar, so bar lines counted
  from the time signature would fall the pickup's length early (in 284 of the 409 built-in chorales); the pickup
  becomes a short first bar instead, a time signature of its length at 0 (``1/4`` for one beat of 4/4) with the
  piece's own after it. Note times are not moved.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..chordnames import parse_symbols_text, symbols_text
from ..errors import EngineUnavailable, ScoreReadError
from ..notes import DEFAULT_VELOCITY, Notes, make_tempo_map, make_time_signatures

if TYPE_CHECKING:  # music21 is slow to import: only inside the functions that need it
    from music21 import stream as m21stream

SCORE_EXTENSIONS = (".mxl", ".musicxml", ".xml", ".abc", ".krn")

_FORMAT_NAMES = {".mxl": "MusicXML", ".musicxml": "MusicXML", ".xml": "MusicXML", ".abc": "ABC", ".krn": "Humdrum"}
_TEXT_FORMATS = {".abc": "abc", ".krn": "humdrum"}  # read by us, then handed to music21 as text
_EPS = 1e-9  # quarter notes; music21 offsets are floats or exact Fractions
_STAFF_SUFFIX = re.compile(r"-Staff\d+$")  # music21's id for the staves of one MusicXML part: "P1-Staff2"
#: Changes whenever scores are read into different Notes, so that datasets prepared from scores before are
#: prepared again (part of a dataset's fingerprint). 2: a pickup is a short first bar.
SCORE_READING_VERSION = 2

#: Chooses a score's parts: given every track's name (its part's name, else its id; score order), the
#: ``(track, program)`` pairs to keep, in the order they become tracks 0, 1, ...; each program replaces the one
#: of the part's instrument. Raises ``ValueError`` (with the reason) for a score it cannot take.
PartSelector = Callable[[Sequence[str]], Sequence[tuple[int, int]]]


def read_score(path: str | os.PathLike[str], *, parts: PartSelector | None = None) -> Notes:
    """Read a MusicXML (``.mxl``, ``.musicxml``, ``.xml``), ABC (``.abc``) or Humdrum (``.krn``) file into Notes.

    Each part is one track (score order), or, with ``parts``, the parts it chooses with the programs it gives
    them (the built-in chorales' voices: :func:`tunesmith.corpora.bach.read_chorale`); see
    :func:`stream_to_notes` for what is kept. Repeats are not expanded. An ABC file holding several tunes gives
    its first tune, with a ``UserWarning`` saying how many were ignored. A score without notes gives an empty
    Notes. Raises :class:`ScoreReadError` naming the file for a missing, empty or unparsable file, or one whose
    parts ``parts`` refuses.
    """
    path_str = os.fspath(path)
    p = Path(path_str)
    fmt = _FORMAT_NAMES.get(p.suffix.lower(), "score")
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise ScoreReadError(path_str, "no such file") from None
    except OSError as e:
        raise ScoreReadError(path_str, f"cannot be read ({e.strerror})") from None
    if p.is_dir():
        raise ScoreReadError(path_str, f"is a directory, not a {fmt} file")
    if size == 0:
        raise ScoreReadError(path_str, "empty file (0 bytes)")

    score = _parse(p, path_str, fmt)
    try:
        return _stream_to_notes(score, path_str, stacklevel=3, parts=parts)
    except ScoreReadError:
        raise
    except Exception as e:  # a music21 object in a state we did not expect, or notes Notes refuses
        raise ScoreReadError(path_str, f"music21 parsed the file but it could not be converted ({_describe(e)})") from e


#: music21's chord kinds (MusicXML's ``<kind>``) -> the recogniser's qualities (``representations/chords.py``):
#: extensions fold into their seventh chord, sixths and added tones into their triad
KIND_QUALITY = {
    "major": "maj", "minor": "min", "augmented": "aug", "diminished": "dim", "dominant-seventh": "7",
    "dominant": "7", "major-seventh": "maj7", "minor-seventh": "min7", "diminished-seventh": "dim7",
    "half-diminished-seventh": "hdim7", "half-diminished": "hdim7", "suspended-fourth": "sus4",
    "suspended-second": "maj", "major-sixth": "maj", "minor-sixth": "min", "dominant-ninth": "7",
    "major-ninth": "maj7", "minor-ninth": "min7", "dominant-11th": "7", "major-11th": "maj7", "minor-11th": "min7",
    "dominant-13th": "7", "major-13th": "maj7", "minor-13th": "min7", "augmented-seventh": "7",
    "augmented-major-seventh": "maj7", "major-minor": "min", "minor-major-seventh": "min", "power": "maj",
    "7sus4": "sus4", "seventh-flat-five": "7",
}  # fmt: skip


def read_lead_sheet(path: str | os.PathLike[str]) -> tuple[Notes, list[tuple[float, int, str, int]]]:
    """A lead sheet (MusicXML or ABC): its notes as :func:`read_score` reads them, and its chord symbols in time
    order as ``(quarter notes, root pitch class, quality, bass pitch class or -1)``; a symbol of a kind music21
    names but no quality covers (a pedal, "other") or "N.C." is ``(-1, "", -1)``: no chord from there."""
    notes = read_score(path)
    return notes, parse_symbols_text(notes.metadata.get("chord_symbols", ""))


def _chord_symbols(score: m21stream.Stream) -> list[tuple[float, int, str, int]]:
    """The chord symbols of a score (every part), as :func:`read_lead_sheet` gives them."""
    from music21 import harmony

    out = []
    for cs in score.recurse().getElementsByClass(harmony.Harmony):
        at = float(cs.getOffsetInHierarchy(score))
        quality = KIND_QUALITY.get(str(getattr(cs, "chordKind", "") or ""))
        if isinstance(cs, harmony.NoChord) or quality is None or cs.root() is None:
            out.append((at, -1, "", -1))
            continue
        root = int(cs.root().pitchClass)
        bass = int(cs.bass().pitchClass) if cs.bass() is not None else root
        out.append((at, root, quality, -1 if bass == root else bass))
    return sorted(out, key=lambda c: c[0])


def _parse(p: Path, path_str: str, fmt: str) -> Any:
    """The music21 score of a file, or a ScoreReadError naming it."""
    from music21 import converter

    try:
        if p.suffix.lower() in _TEXT_FORMATS:
            score = converter.parseData(_read_text(p), format=_TEXT_FORMATS[p.suffix.lower()])
        else:
            # parseFile, not parse: a path is never taken for data or a URL. forceSource: no pickle cache.
            score = converter.parseFile(p, forceSource=True)
    except OSError as e:
        raise ScoreReadError(path_str, f"cannot be read ({e.strerror or e})") from None
    except Exception as e:  # music21 raises anything from ParseError to IndexError on bad input
        raise ScoreReadError(path_str, f"not a readable {fmt} file ({_describe(e)})") from None
    return score


def stream_to_notes(score: m21stream.Stream, source: str = "", *, parts: PartSelector | None = None) -> Notes:
    """Convert a music21 stream (a Score, a Part, or an Opus, whose first score is taken) to Notes.

    * Each part is one ``track`` (its index in score order; the staves of one MusicXML part are one track),
      with ``program`` from the part's instrument ``midiProgram`` (0 when unknown). With ``parts`` (a
      :data:`PartSelector`), only the tracks it chooses, numbered and given programs as it says; tempo marks
      and time signatures still come from every part.
    * Tied notes are merged into one note; chords give one note per pitch; rests, grace notes (zero length)
      and unpitched or percussion notes are dropped.
    * ``start_qn``/``end_qn`` are offsets in quarter notes in the score's timeline; seconds follow the tempo
      map built from the MetronomeMarks (120 qpm when there are none). Time signatures from the
      TimeSignature objects (4/4 when there are none). Where parts disagree at one time, the first part wins.
    * ``velocity`` is the note's ``volume.velocity`` when set, else :data:`~tunesmith.notes.DEFAULT_VELOCITY`.
    * ``metadata`` holds ``composer`` and ``title`` when the score has them.

    Repeats are not expanded. The stream is not modified. Raises :class:`ScoreReadError` when ``parts``
    refuses the score's parts.
    """
    return _stream_to_notes(score, source, stacklevel=3, parts=parts)


def _stream_to_notes(score: m21stream.Stream, source: str, stacklevel: int, parts: PartSelector | None = None) -> Notes:
    from music21 import stream

    if isinstance(score, stream.Opus):
        scores = list(score.scores)
        if not scores:
            return Notes.empty(source=source)
        if len(scores) > 1:
            warnings.warn(
                f"{source or 'opus'}: holds {len(scores)} tunes; read the first, ignored {len(scores) - 1}",
                UserWarning,
                stacklevel=stacklevel,
            )
        score = scores[0]

    score_parts = list(score.getElementsByClass(stream.Part)) or [score]
    tracks: list[int] = []  # each part's track
    names: list[str] = []  # each track's name
    prev_key = None
    for part in score_parts:
        # the staves of one MusicXML part (P1-Staff1, P1-Staff2) follow each other: one track
        key = _STAFF_SUFFIX.sub("", str(part.id)) if isinstance(part, stream.PartStaff) else None
        if key is None or key != prev_key:
            names.append(str(getattr(part, "partName", None) or part.id or ""))
        tracks.append(len(names) - 1)
        prev_key = key
    # track as read -> (track as kept, program); None: every track as it is, with its instrument's program
    chosen: dict[int, tuple[int, int]] | None = None
    if parts is not None:
        try:
            chosen = {int(t): (i, int(program)) for i, (t, program) in enumerate(parts(names))}
        except ValueError as e:
            raise ScoreReadError(source or "score", str(e)) from None
    tempo_at: dict[float, float] = {}
    ts_at: dict[float, tuple[int, int]] = {}
    columns: list[dict[str, Any]] = []
    for part, track in zip(score_parts, tracks, strict=True):
        try:
            base = float(part.getOffsetBySite(score)) if part is not score else 0.0
        except Exception:  # a part whose site is not this score (a stream built by hand)
            base = 0.0
        flat = part.flatten()
        _collect_marks(flat, base, tempo_at, ts_at)
        part_program = _program(flat)
        if part_program is None:  # a drum part: its notes name drums, not pitches
            continue
        if chosen is not None:
            if track not in chosen:
                continue
            track, part_program = chosen[track]
        cols = _part_notes(flat, base)
        if cols["pitch"]:
            cols["track"] = track
            cols["program"] = part_program
            columns.append(cols)
    # marks placed on the score itself rather than in a part
    if score_parts[0] is not score:
        _collect_marks(score, 0.0, tempo_at, ts_at)
    _pickup_bar(score_parts[0], ts_at)

    tempo_qn = sorted(tempo_at)
    tempos = make_tempo_map(tempo_qn, [tempo_at[q] for q in tempo_qn])
    if ts_at:
        ts_qn = sorted(ts_at)
        time_signatures = make_time_signatures(ts_qn, [ts_at[q][0] for q in ts_qn], [ts_at[q][1] for q in ts_qn])
    else:
        time_signatures = make_time_signatures()
    metadata = _metadata(score, source)
    symbols = _chord_symbols(score)
    if symbols:  # a lead sheet's chords: a melody alone does not say them (representations/chords.py reads them)
        metadata["chord_symbols"] = symbols_text(symbols)

    if columns:
        pitch = np.concatenate([np.asarray(c["pitch"], dtype=np.int64) for c in columns])
        start_qn = np.concatenate([np.asarray(c["start"], dtype=np.float64) for c in columns])
        end_qn = np.concatenate([np.asarray(c["end"], dtype=np.float64) for c in columns])
        velocity = np.concatenate([np.asarray(c["velocity"], dtype=np.int64) for c in columns])
        track_col = np.concatenate([np.full(len(c["pitch"]), c["track"], dtype=np.int64) for c in columns])
        program = np.concatenate([np.full(len(c["pitch"]), c["program"], dtype=np.int64) for c in columns])
    else:
        pitch = velocity = track_col = program = np.zeros(0, dtype=np.int64)
        start_qn = end_qn = np.zeros(0, dtype=np.float64)
    notes = Notes.from_arrays(
        pitch,
        velocity=velocity,
        program=program,
        track=track_col,
        start_qn=start_qn,
        end_qn=end_qn,
        tempos=tempos,
        time_signatures=time_signatures,
        source=source,
        metadata=metadata,
    )
    return notes.sorted()


def _read_text(p: Path) -> str:
    """A text score's contents: UTF-8 (with or without a byte-order mark), else Latin-1 as old ABC and
    Humdrum collections often are. (music21 itself opens ABC as UTF-8 only, failing on Latin-1, and leaves the
    file open when the parse fails; Humdrum it opens as Latin-1 only, garbling UTF-8 titles.)"""
    data = p.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _describe(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if len(msg) > 200:
        msg = msg[:200] + "..."
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def _part_notes(flat: m21stream.Stream, base: float) -> dict[str, list]:
    """Pitched notes of one flattened part as columns, ties merged: {pitch, start, end, velocity}."""
    from music21 import chord, note, percussion

    pitch: list[int] = []
    start: list[float] = []
    end: list[float] = []
    velocity: list[int] = []
    open_ties: dict[int, int] = {}  # MIDI pitch -> index of the note a tie started from, still open
    for el in flat.notes:
        if isinstance(el, note.Unpitched | percussion.PercussionChord):
            continue
        ql = float(el.duration.quarterLength)
        if ql <= 0 or el.duration.isGrace:
            continue
        onset = base + float(flat.elementOffset(el))
        offset = onset + ql
        if isinstance(el, chord.Chord):
            chord_vel = el.volume.velocity if el.hasVolumeInformation() else None
            members = [(n, chord_vel) for n in el.notes]
        else:
            members = [(el, None)]
        for n, fallback_vel in members:
            if isinstance(n, note.Unpitched):
                continue
            midi = int(n.pitch.midi)
            tie = n.tie.type if n.tie is not None else None
            i = open_ties.get(midi)
            if i is not None and abs(end[i] - onset) < _EPS:
                # continues an open tie; a tie start promises a next note of this pitch, so a next note
                # lacking its "stop" (common in hand-made files) is merged too
                end[i] = offset
                if tie not in ("start", "continue"):
                    del open_ties[midi]
                continue
            if i is not None:  # the tie went nowhere (a gap, or a jump to another ending): drop it
                del open_ties[midi]
            vel = n.volume.velocity if n.hasVolumeInformation() else None
            if vel is None:
                vel = fallback_vel
            pitch.append(midi)
            start.append(onset)
            end.append(offset)
            velocity.append(DEFAULT_VELOCITY if vel is None else min(max(int(vel), 0), 127))
            if tie in ("start", "continue"):
                open_ties[midi] = len(pitch) - 1
    return {"pitch": pitch, "start": start, "end": end, "velocity": velocity}


def _collect_marks(
    s: m21stream.Stream, base: float, tempo_at: dict[float, float], ts_at: dict[float, tuple[int, int]]
) -> None:
    """Add the stream's metronome marks and time signatures (at their offsets in ``s``) to the dicts."""
    from music21 import meter, tempo

    for mm in s.getElementsByClass(tempo.MetronomeMark):
        try:
            qpm = mm.getQuarterBPM()
        except Exception:  # a mark music21 cannot turn into a number (text only, odd referent)
            qpm = None
        if qpm is not None and np.isfinite(qpm) and qpm > 0:
            tempo_at.setdefault(round(base + float(s.elementOffset(mm)), 9), float(qpm))
    for ts in s.getElementsByClass(meter.TimeSignature):
        num, den = int(ts.numerator), int(ts.denominator)
        if 0 < num < 256 and 0 < den < 256:
            ts_at.setdefault(round(base + float(s.elementOffset(ts)), 9), (num, den))


def _pickup_bar(part: m21stream.Stream, ts_at: dict[float, tuple[int, int]]) -> None:
    """Make a pickup measure at the start of ``part`` a short first bar in ``ts_at``: a time signature of its
    length at 0 (``1/4``, ``3/8``, ...) and the bar's own where the pickup ends. Nothing for a first measure that
    is whole, or whose length no time signature writes (denominators 4 to 64)."""
    from music21 import stream

    first = part.getElementsByClass(stream.Measure).first()
    if first is None or abs(float(first.offset)) > _EPS:
        return
    missing = float(first.paddingLeft or 0.0)
    length = float(first.duration.quarterLength)
    num, den = ts_at.get(0.0, (4, 4))
    if missing <= _EPS or length <= _EPS or abs(length + missing - num * 4.0 / den) > _EPS:
        return
    for pickup_den in (4, 8, 16, 32, 64):
        pickup_num = length * pickup_den / 4.0
        if abs(pickup_num - round(pickup_num)) < _EPS and 1 <= round(pickup_num) <= 255:
            end = round(length, 9)
            ts_at.setdefault(end, (num, den))
            ts_at[0.0] = (int(round(pickup_num)), pickup_den)
            return


def _program(flat: m21stream.Stream) -> int | None:
    """The MIDI program (0-based) of a flattened part's first instrument; 0 when unknown, None for a drum part
    (an unpitched percussion instrument, or MIDI channel 10)."""
    from music21 import instrument

    inst = flat.getElementsByClass(instrument.Instrument).first()
    if inst is None:
        return 0
    if isinstance(inst, instrument.UnpitchedPercussion) or inst.midiChannel == 9:
        return None
    program = inst.midiProgram
    return int(program) if program is not None and 0 <= int(program) <= 127 else 0


def _metadata(score: m21stream.Stream, source: str) -> dict[str, str]:
    md = score.metadata
    if md is None:
        return {}
    out: dict[str, str] = {}
    composer = md.composer
    if composer:
        out["composer"] = str(composer)
    title = md.title
    if not title:
        # music21 sets a missing MusicXML movement title to the file name: that is no title
        movement = md.movementName
        if movement and str(movement) != Path(source).name:
            title = movement
    if title:
        out["title"] = str(title)
    return out


# ---------------------------------------------------------------------------------------------- writing
#: Harte's qualities as music21's chord kinds (MusicXML's <kind>)
_KINDS = {
    "maj": "major", "min": "minor", "dim": "diminished", "aug": "augmented", "sus4": "suspended-fourth",
    "7": "dominant-seventh", "maj7": "major-seventh", "min7": "minor-seventh", "hdim7": "half-diminished-seventh",
    "dim7": "diminished-seventh",
}  # fmt: skip
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "D-", "D", "E-", "E", "F", "G-", "G", "A-", "A", "B-", "B")
#: a key of no sharps or flats (and no key): the black keys as C major's music spells them, its flat seventh B-
#: and its sharp fourth F# among them (not A#, which a chord symbol of B-flat would read as)
_NATURAL_NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
#: General MIDI programs 0-7: pianos, written on a grand staff
_PIANOS = range(8)
#: the split between a grand staff's staves: middle C and above on the upper one
_SPLIT = 60


def write_score(
    notes: Notes,
    path: str | os.PathLike[str],
    *,
    key: tuple[int, bool] | None = None,
    chords: Sequence[tuple[float, int, str, int]] = (),
    title: str = "",
) -> Path:
    """Write ``notes`` as MusicXML (``.musicxml``, or compressed ``.mxl``) through music21, atomically: one part per
    track (its instrument from its program; a piano on a grand staff, split at middle C; a drum track on a
    percussion staff), overlapping notes in voices, ties over bar lines, the time signatures and tempi of the
    piece, ``key`` (tonic pitch class, minor) as the key signature with every pitch spelled for it (flats in flat
    keys, sharps otherwise), and ``chords`` (start in quarter notes, root pitch class, Harte quality, bass pitch
    class or -1) as chord symbols above the top part. Times are written as they are: put them on a grid first
    (:func:`tunesmith.grid.on_beat_grid`)."""
    from fractions import Fraction

    from music21 import clef, harmony, instrument, layout, metadata, meter, note, stream
    from music21 import key as m21key
    from music21 import tempo as m21tempo

    from ..utils import atomic_path

    flats = False
    k = None
    if key is not None:
        tonic, minor = key
        names = ("C", "D-", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
        k = m21key.Key(names[tonic % 12], "minor" if minor else "major")
        flats = k.sharps < 0
    spell = _FLAT_NAMES if flats else _SHARP_NAMES if k is not None and k.sharps > 0 else _NATURAL_NAMES

    def when(x: float) -> Fraction:
        return Fraction(float(x)).limit_denominator(48)

    def furnish(part: stream.Stream, first: bool) -> None:
        for ts in notes.time_signatures:
            part.insert(when(ts["qn"]), meter.TimeSignature(f"{int(ts['numerator'])}/{int(ts['denominator'])}"))
        if k is not None:
            part.insert(0, m21key.Key(k.tonic.name, k.mode))
        if first:
            for t in notes.tempos:
                part.insert(when(t["qn"]), m21tempo.MetronomeMark(number=round(float(t["qpm"]), 2)))

    def fill(part: stream.Stream, rows: np.ndarray, drums: bool) -> None:
        for r in rows:
            length = when(r["end_qn"]) - when(r["start_qn"])
            if drums:
                n = note.Unpitched(quarterLength=length)
                n.displayStep, n.displayOctave = "C", 5
            else:
                name = spell[int(r["pitch"]) % 12]
                n = note.Note(f"{name}{int(r['pitch']) // 12 - 1}", quarterLength=length)
            n.volume.velocity = int(r["velocity"])
            part.insert(when(r["start_qn"]), n)

    score = stream.Score()
    # music21's MusicXML writer credits "Music21" as the composer of a score that names none: name one
    score.metadata = metadata.Metadata(
        title=title or notes.metadata.get("title", "") or "tunesmith",
        composer=notes.metadata.get("composer", "") or "tunesmith",
    )
    a = notes.notes
    tracks = sorted(set(zip(a["track"].tolist(), a["program"].tolist(), a["is_drum"].tolist(), strict=True)))
    first = True
    for track, program, drums in tracks:
        rows = a[(a["track"] == track) & (a["program"] == program) & (a["is_drum"] == drums)]
        rows = rows[np.lexsort((rows["pitch"], rows["start_qn"]))]
        inst = instrument.UnpitchedPercussion() if drums else instrument.instrumentFromMidiProgram(int(program))
        if program in _PIANOS and not drums:
            staves = []
            for upper in (True, False):
                staff = stream.PartStaff()
                staff.insert(0, instrument.Piano())
                staff.insert(0, clef.TrebleClef() if upper else clef.BassClef())
                furnish(staff, first and upper)
                fill(staff, rows[(rows["pitch"] >= _SPLIT) == upper], False)
                staves.append(staff)
            parts = staves
            group = layout.StaffGroup(staves, symbol="brace", barTogether=True)
        else:
            part = stream.Part()
            part.insert(0, inst)
            if drums:
                part.insert(0, clef.PercussionClef())
            furnish(part, first)
            fill(part, rows, bool(drums))
            if not drums and len(rows):  # the clef its notes lie in: treble or bass
                part.insert(0, clef.bestClef(part, recurse=True))
            parts, group = [part], None
        if first:
            for start, root, quality, bass in chords:
                if root < 0 or quality not in _KINDS:
                    continue
                symbol = harmony.ChordSymbol(
                    root=spell[root % 12], kind=_KINDS[quality], bass=spell[bass % 12] if bass >= 0 else None
                )
                symbol.writeAsChord = False
                parts[0].insert(when(start), symbol)
        for p in parts:
            if p.recurse().notes:
                p.makeVoices(inPlace=True)  # in place: the staff group holds these very staves
            score.insert(0, p)
        if group is not None:
            score.insert(0, group)
        first = False
    path = Path(path)
    with atomic_path(path) as tmp:
        fmt = "mxl" if path.suffix == ".mxl" else "musicxml"
        written = Path(score.write(fmt, fp=tmp.with_suffix(path.suffix)))
        if written != tmp:
            written.replace(tmp)
    return path


#: MuseScore's command-line names, newest first (Debian's musescore3 installs mscore3)
MUSESCORE = ("mscore4portable", "mscore4", "mscore3", "musescore3", "mscore", "musescore")


def engrave(score: str | os.PathLike[str], png: str | os.PathLike[str], timeout: float = 120.0) -> list[Path]:
    """Engrave a MusicXML score into PNG pages with MuseScore where it is installed (``png``'s name with ``-1``,
    ``-2``, ... for each page, as MuseScore writes them); an EngineUnavailable error says where it is not.
    MuseScore runs without a display (Qt's offscreen platform)."""
    import shutil
    import subprocess

    exe = next((shutil.which(n) for n in MUSESCORE if shutil.which(n)), None)
    if exe is None:
        raise EngineUnavailable("no MuseScore to engrave scores with (Debian: apt-get install musescore3)")
    png = Path(png)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    try:
        done = subprocess.run(
            [exe, "-o", str(png), str(score)], env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise EngineUnavailable(f"MuseScore took over {timeout:g} s to engrave {score}") from None
    pages = sorted(png.parent.glob(f"{png.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    if done.returncode != 0 or not pages:
        raise EngineUnavailable(f"MuseScore could not engrave {score}: {(done.stderr or done.stdout).strip()[-200:]}")
    return pages
