"""symusic scores <-> :class:`~tunesmith.notes.Notes`, in memory: what reading and writing MIDI files
(:mod:`tunesmith.io.midi`) and MidiTok's tokenizers (``representations/tokens.py``) both go through. No files.

What symusic does not do, and this module adds:

* **Seconds in float64**: symusic's ``Score.to("second")`` gives float32 times (about 0.1 ms off after 20 min);
  we compute seconds from ticks and the tempo map ourselves, in float64.
* **Re-struck keys**: symusic pairs note-offs first-in-first-out, so a key struck again before its release
  makes every later note of that pitch end one note-off late; we re-pair them (see ``_repair_restrikes``).
"""

from __future__ import annotations

import json

import numpy as np
import symusic

from .errors import ConfigError, MidiReadError
from .notes import NOTE_DTYPE, Notes, make_tempo_map, make_time_signatures

DEFAULT_TPQ = 480


def _tick_tempo_map(score: symusic.Score) -> tuple[np.ndarray, np.ndarray]:
    """(tick of each change, tempo map) from the score; tick and quarter-note positions agree by ``/ tpq``."""
    tpq = score.ticks_per_quarter
    if len(score.tempos):
        t = score.tempos.numpy()
        ticks = t["time"].astype(np.float64)
        qpm = 60e6 / t["mspq"].astype(np.float64)
    else:
        ticks, qpm = np.zeros(0), np.zeros(0)
    return ticks, make_tempo_map(ticks / tpq, qpm)


def _repair_restrikes(start: np.ndarray, end: np.ndarray, pitch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Re-pair note-ons and note-offs of a key struck again before it was released.

    symusic pairs the note-offs of one pitch first-in-first-out, so after a re-strike (on, on, off, on, off, ...)
    every later note of that pitch ends at the *next* note's note-off: notes that overlap their successor and
    drag on (a 61 s note in one MAESTRO performance). A key cannot sound twice, so we re-pair the same on and off
    times as a piano does: a re-strike ends the sounding note, and a note-off ends the note that is sounding
    (a note-off with none sounding is dropped). Tracks without a re-strike are returned untouched. The one
    note-on that symusic leaves unpaired per re-strike is already gone when we see the notes: that note is lost.
    """
    order = np.lexsort((start, pitch))
    s, e, p = start[order], end[order], pitch[order]
    same = p[1:] == p[:-1]
    if not np.any(same & (s[1:] < e[:-1])):
        return start, end
    new_end = end.copy()
    bounds = np.flatnonzero(np.diff(p.astype(np.int16))) + 1
    for a, b in zip(np.r_[0, bounds], np.r_[bounds, p.size], strict=True):
        if b - a < 2 or not np.any(s[a + 1 : b] < e[a : b - 1]):
            continue
        # replay this pitch's events in time order; at equal times note-offs come first
        events = sorted([(t, 0, -1) for t in e[a:b]] + [(t, 1, k) for k, t in enumerate(s[a:b])])
        ends = np.full(b - a, np.nan)
        sounding = -1
        for t, is_on, k in events:
            if sounding >= 0:  # a note-off, or a re-strike, ends the sounding note
                ends[sounding] = t
                sounding = -1
            if is_on:
                sounding = k
        ends[np.isnan(ends)] = s[a:b][np.isnan(ends)]  # never released: keep the onset (zero length)
        new_end[order[a:b]] = ends
    return start, new_end


def score_to_notes(score: symusic.Score, source: str = "") -> Notes:
    """Convert a symusic score in ticks to Notes; every track is kept, in score order (``track`` = index)."""
    if str(score.ttype).lower() != "tick":
        score = score.to("tick")
    tpq = float(score.ticks_per_quarter)
    if tpq <= 0:
        raise MidiReadError(source, f"invalid ticks per quarter note ({tpq:g}); SMPTE time is not supported")
    _, tempos = _tick_tempo_map(score)
    parts, names = [], {}
    for i, track in enumerate(score.tracks):
        if len(track.notes) == 0:
            continue
        if str(track.name).strip():
            names[str(i)] = str(track.name).strip()
        a = track.notes.numpy()
        arr = np.empty(a["time"].size, dtype=NOTE_DTYPE)
        arr["pitch"] = a["pitch"].astype(np.uint8)
        arr["velocity"] = a["velocity"].astype(np.uint8)
        arr["program"] = track.program
        arr["is_drum"] = track.is_drum
        arr["track"] = i
        on = a["time"].astype(np.int64)
        on, off = _repair_restrikes(on, on + a["duration"], a["pitch"])
        arr["start_qn"] = on / tpq
        arr["end_qn"] = off / tpq
        parts.append(arr)
    arr = np.concatenate(parts) if parts else np.zeros(0, dtype=NOTE_DTYPE)
    notes = Notes(arr, tempos=tempos, source=source, metadata={"track_names": json.dumps(names)} if names else {})
    arr["start"] = notes.qn_to_seconds(arr["start_qn"])
    arr["end"] = notes.qn_to_seconds(arr["end_qn"])
    if len(score.time_signatures):
        ts = score.time_signatures.numpy()
        notes.time_signatures = make_time_signatures(ts["time"] / tpq, ts["numerator"], ts["denominator"])
    return notes.sorted()


def notes_to_score(notes: Notes, tpq: int = DEFAULT_TPQ) -> symusic.Score:
    """Convert Notes to a symusic score in ticks (quarter-note times rounded to the nearest tick).

    One MIDI track per distinct ``track`` value, in their order, with its name (the one read from the file, in
    ``metadata["track_names"]``, else "track N"), program and drum flag (drums go to channel 10); a track that
    mixes programs, or drums and pitched notes, becomes one MIDI track for each.
    """
    if tpq <= 0 or tpq > 32767:
        raise ConfigError(f"ticks per quarter note must be in 1..32767, got {tpq}")
    score = symusic.Score(tpq)
    for t in notes.tempos:
        score.tempos.append(symusic.Tempo(int(round(t["qn"] * tpq)), mspq=int(round(60e6 / t["qpm"])), ttype="tick"))
    for ts in notes.time_signatures:
        score.time_signatures.append(
            symusic.TimeSignature(
                int(round(ts["qn"] * tpq)), int(ts["numerator"]), int(ts["denominator"]), ttype="tick"
            )
        )
    a = notes.notes
    names = notes.track_names()
    for track_id in np.unique(a["track"]):
        sel = a[a["track"] == track_id]
        # a track of mixed programs or of drums and pitched notes (possible after editing, or from arrays) is
        # split, one MIDI track per program and kind, so drum notes stay on channel 10
        for program, drum in np.unique(sel[["program", "is_drum"]]).tolist():
            s = sel[(sel["program"] == program) & (sel["is_drum"] == drum)]
            start = np.rint(s["start_qn"] * tpq).astype(np.int64)
            end = np.maximum(np.rint(s["end_qn"] * tpq).astype(np.int64), start)
            # a note that sounds (end after start) lasts at least a tick: rounding must not make it a zero-length
            # note, which players drop (a performed note may be 1e-3 quarter notes long, half a tick at 480)
            end[(end == start) & (s["end_qn"] > s["start_qn"])] += 1
            name = names.get(int(track_id), f"track {int(track_id)}")
            track = symusic.Track(name=name, program=int(program), is_drum=bool(drum), ttype="tick")
            track.notes = symusic.Note.from_numpy(
                time=start.astype(np.int32),
                duration=(end - start).astype(np.int32),
                pitch=s["pitch"].astype(np.int8),
                velocity=s["velocity"].astype(np.int8),
                ttype="tick",
            )
            score.tracks.append(track)
    return score
