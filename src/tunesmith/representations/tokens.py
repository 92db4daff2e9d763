"""MIDI tokens through MidiTok: ``to_tokens`` / ``from_tokens`` over Notes, and what a token cache keeps of a piece.

The tokenizer is MidiTok's (REMI, TSD or MIDILike, optionally with its BPE), built on symusic as tunesmith's MIDI
I/O is. Its whole configuration (and BPE model) is saved as ``tokenizer.json`` in a run, so generation decodes
exactly as training encoded.

What the grid changes (docs/transformer.md measures it): onsets and durations are rounded to the tokenizer's
positions (``steps_per_quarter`` per quarter note for the first four beats of a duration or time shift, four per
quarter up to 12 beats, longer durations cut to 12 beats), velocities to ``velocity_bins`` bins, tempi to 43
bins between 40 and 250 qpm (every 5 qpm); pitches outside 21-109 (the piano) are dropped. Times in quarter
notes of notes on
the grid come back exactly (``tests/test_tokens.py``); seconds follow the binned tempo.

Fixed here, what MidiTok leaves to its user:

* a **piece's bars in its token sequence** (:func:`bar_starts`): the REMI tokens that open a bar, or, for the
  time-shift tokenizations, the first token at or after each bar line of the piece's own time signatures, so
  that fill-in-the-middle can cut whole bars out of any tokenization;
* what a **token cache** keeps of each piece (:func:`tokenize_piece`): its ids, bar starts and bar sums. The cache
  itself (disk, workers, reading the dataset) is the dataset's (``PieceArrays`` in ``dataset.py``), used by the
  Transformer's ``TokenCache``; this module reads no files.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import miditok
import numpy as np
from miditok import TokenizerConfig, TokSequence

from ..errors import CheckpointError, ConfigError
from ..notes import Notes
from ..scores import notes_to_score, score_to_notes
from .bars import bar_lines, bar_lines_qn, bar_stats
from .chords import piece_bar_chords

TOKENIZER_CLASSES = {"REMI": miditok.REMI, "TSD": miditok.TSD, "MIDILike": miditok.MIDILike}
#: the time-shift tokens of each tokenization (REMI has bars and positions instead)
TIME_SHIFTS = {"TSD": "TimeShift", "MIDILike": "TimeShift"}


@dataclass(frozen=True)
class TokenizerSpec:
    """What a tokenizer is built from (the Transformer config's tokenizer settings)."""

    tokenization: str = "REMI"
    steps_per_quarter: int = 8
    velocity_bins: int = 32
    use_tempos: bool = True
    use_programs: bool = True
    #: chords of played music put on one grid position (:func:`snap_chords`): notes that start within this many grid
    #: steps of a chord's first note are one chord (0: off, as before 2026-12-03; under 0.5, so that notes on
    #: distinct grid positions are never merged)
    chord_window: float = 0.0

    def build(self) -> miditok.MusicTokenizer:
        check_chord_window(self.chord_window)
        if self.tokenization not in TOKENIZER_CLASSES:
            raise ConfigError(
                f"unknown tokenization {self.tokenization!r}; choose one of {', '.join(TOKENIZER_CLASSES)}"
            )
        config = TokenizerConfig(
            beat_res={(0, 4): self.steps_per_quarter, (4, 12): min(4, self.steps_per_quarter)},
            num_velocities=self.velocity_bins,
            use_tempos=self.use_tempos,
            use_time_signatures=True,
            use_programs=self.use_programs,
            one_token_stream_for_programs=True,
            # a Program token only where the instrument changes: 3.6 tokens a note for piano music instead of 4.6
            program_changes=self.use_programs,
            # tempo bins every 5 qpm from 40 to 250, so that 120 qpm (most MIDI files' tempo) is exact: MidiTok's 32
            # default bins turn it into 121.29 qpm, which moves a 20-minute piece's last notes by 15 s
            num_tempos=43,
            special_tokens=["PAD", "BOS", "EOS", "MASK"],
            # kept in the tokenizer's own file (MidiTok's additional_params), so that whoever encodes with it snaps
            # as training did, and tokenizers that differ in it have caches of their own
            **({"chord_window": self.chord_window} if self.chord_window else {}),
        )
        return TOKENIZER_CLASSES[self.tokenization](config)


def tokenizer_name(tok: miditok.MusicTokenizer) -> str:
    return type(tok).__name__


def describe_tokenizer(tok: miditok.MusicTokenizer) -> str:
    """A tokenizer in a few words: tokenization, grid, velocity bins, tempo/program tokens, vocabulary."""
    c = tok.config
    grid = ", ".join(f"{v} a quarter note over quarters {a}-{b}" for (a, b), v in sorted(c.beat_res.items()))
    bpe = ", BPE" if getattr(tok, "is_trained", False) else ""
    window = float(c.additional_params.get("chord_window", 0.0) or 0.0)
    chords = f", chords snapped within {window:g} grid steps" if window else ""
    return (
        f"{tokenizer_name(tok)} (positions {grid}, {c.num_velocities} velocity bins, tempos "
        f"{'on' if c.use_tempos else 'off'}, programs {'on' if c.use_programs else 'off'}{chords}{bpe}; "
        f"{len(tok)} tokens)"
    )


def check_chord_window(window: float) -> None:
    if not 0 <= window < 0.5:
        raise ConfigError(f"chord_window must lie in [0, 0.5) grid steps, got {window}")


def set_chord_window(tok: miditok.MusicTokenizer, window: float) -> None:
    """Make ``tok`` snap played chords within ``window`` grid steps (0: not at all) when it encodes. The window
    decides where notes land on the grid before encoding, not what an id means: a model trained with one window
    reads data snapped with another (fine-tuning a model trained without snapping on snapped chords)."""
    check_chord_window(window)
    params = tok.config.additional_params
    if window:
        params["chord_window"] = float(window)
    else:
        params.pop("chord_window", None)


def save_tokenizer(tok: miditok.MusicTokenizer) -> bytes:
    """The tokenizer's whole configuration (and BPE model) as JSON bytes, for a run's ``tokenizer.json``."""
    d = tok.to_dict() if hasattr(tok, "to_dict") else None
    if d is None:  # pragma: no cover (every MidiTok 3 tokenizer has to_dict)
        raise ConfigError("this MidiTok cannot describe its tokenizer")
    return json.dumps({"tokenization": tokenizer_name(tok), **d}, default=str).encode()


def load_tokenizer(path: str | os.PathLike[str]) -> miditok.MusicTokenizer:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; the run has no tokenizer to decode with")
    try:
        name = json.loads(path.read_text(encoding="utf-8"))["tokenization"]
        return TOKENIZER_CLASSES[name](params=path)
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: not a tokenizer this tunesmith reads ({e})") from e


def tokenizer_key(tok: miditok.MusicTokenizer) -> str:
    """A short hash of everything that decides a tokenizer's ids (for the token cache's folder); of its settings in
    key order, so that a tokenizer whose snapping was set after it was built (:func:`set_chord_window`) shares the
    cache of one built so."""
    canonical = json.dumps(json.loads(save_tokenizer(tok)), sort_keys=True).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- conversions
def chord_width_qn(tok: miditok.MusicTokenizer) -> float:
    """How close (quarter notes) onsets must be to form one chord for ``tok`` (0: chords are not snapped)."""
    window = float(tok.config.additional_params.get("chord_window", 0.0) or 0.0)
    return window / grid_steps(tok) if window else 0.0


def chord_groups(start_qn: np.ndarray, width_qn: float) -> np.ndarray:
    """For onsets in ascending order, the chord of each: a chord opens at a note and takes every later note that
    starts within ``width_qn`` of that first one (no chaining: a chord spans at most ``width_qn``)."""
    group = np.zeros(start_qn.size, dtype=np.int64)
    k, first = -1, -np.inf
    for i, t in enumerate(start_qn.tolist()):
        if t - first > width_qn:
            k, first = k + 1, t
        group[i] = k
    return group


def snap_chords(notes: Notes, width_qn: float) -> Notes:
    """Played chords put on one onset before the grid: the notes of each chord (:func:`chord_groups`) start at the
    chord's mean onset, each end moved with its start.

    Why: MidiTok rounds each onset to the grid on its own, so a chord whose notes a pianist spread over 20 ms
    straddles a grid line as often as not: in MAESTRO one chord in five (notes within 0.05 quarter notes) lands on
    two positions, at random, and a passage played twice is then tokenized two ways. Snapped, the tokens say
    "chord" where the music has one (``benchmarks/bench_perform.py``; docs/transformer.md). Notes on the grid
    already (scores, quantised MIDI) are left as they are as long as ``width_qn`` is under half a grid step."""
    if width_qn <= 0 or len(notes) < 2:
        return notes
    arr = notes.notes.copy()
    order = np.argsort(arr["start_qn"], kind="stable")
    start = arr["start_qn"][order]
    group = chord_groups(start, width_qn)
    mean = np.bincount(group, start) / np.bincount(group)
    move = np.empty(arr.size)
    move[order] = mean[group] - start
    if not np.any(move):
        return notes
    arr["start_qn"] += move
    arr["end_qn"] += move
    return notes.with_qn_times(arr)


def tokenizable_metres(notes: Notes, tok: miditok.MusicTokenizer) -> Notes:
    """``notes`` with each time signature the tokenizer has no token for written as one of the same bar length that
    it has, over a quarter where it can (2/2 as 4/4, 3/2 as 6/4). MidiTok drops a time signature outside its
    vocabulary and lets the one before it hold: a song in cut time after a 2/4 pick-up (a sixth of OpenEWLD's lead
    sheets are in 2/2) was tokenized in bars of 2/4, twice as many as its bar lines, so a progression given bar by
    bar ran at twice its speed. A bar length the vocabulary lacks (1/8) is left to MidiTok."""
    have = sorted({(int(n), int(d)) for n, d in getattr(tok, "time_signatures", ())}, key=lambda t: (t[1] != 4, t))
    ts = notes.time_signatures
    if not have or ts.size == 0:
        return notes
    out = ts.copy()
    for i, (n, d) in enumerate(zip(ts["numerator"].tolist(), ts["denominator"].tolist(), strict=True)):
        same = [t for t in have if t[0] * d == n * t[1]]  # the same length: n/d == a/b
        if (n, d) not in have and same:
            out["numerator"][i], out["denominator"][i] = same[0]
    if np.array_equal(out, ts):
        return notes
    return Notes(notes.notes, notes.tempos, out, notes.source, notes.metadata)


def to_tokens(notes: Notes, tok: miditok.MusicTokenizer) -> np.ndarray:
    """The token ids of a piece (``int32``; BPE applied when the tokenizer has learned it; played chords snapped
    where the tokenizer says so, :func:`snap_chords`; metres outside the vocabulary as one of the same bar length,
    :func:`tokenizable_metres`)."""
    if len(notes) == 0:
        return np.zeros(0, dtype=np.int32)
    seq = tok.encode(notes_to_score(snap_chords(tokenizable_metres(notes, tok), chord_width_qn(tok))))
    if isinstance(seq, list):  # pragma: no cover (one stream for all programs is configured)
        seq = seq[0]
    return np.asarray(seq.ids, dtype=np.int32)


def from_tokens(ids: np.ndarray | list[int], tok: miditok.MusicTokenizer, source: str = "") -> Notes:
    """The piece that token ids decode to (ids that MidiTok cannot place are skipped by its decoder; a model's own
    ids past the tokenizer's, its sentinels, controls and chords, are no events and are left out)."""
    n = len(tok)
    ids = [int(i) for i in ids if int(i) < n]
    if not ids:
        return Notes.empty(source=source)
    seq = TokSequence(ids=ids, are_ids_encoded=tok.is_trained)
    score = tok.decode(seq)
    return score_to_notes(score, source)


def base_tokens(tok: miditok.MusicTokenizer) -> list[list[str]]:
    """For every id, the base tokens it stands for (one, or several merged by BPE)."""
    if not tok.is_trained:
        return [[t] for t in tok.vocab]
    out = []
    for i in range(len(tok)):
        token = tok._model.id_to_token(i)  # MidiTok keeps the merged bytes -> base tokens map privately
        # the pre-tokenizer's word marker stands for no base token: typed as padding, never generated
        out.append(list(tok._vocab_learned_bytes_to_tokens.get(token) or ["PAD_None"]))
    return out


def token_types(tok: miditok.MusicTokenizer) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The base token types (``Bar``, ``Position``, ``Pitch``, ...), and per id the index of its first and its
    last base token's type."""
    bases = base_tokens(tok)
    types = sorted({t.split("_")[0] for b in bases for t in b})
    index = {t: i for i, t in enumerate(types)}
    first = np.array([index[b[0].split("_")[0]] for b in bases], dtype=np.int64)
    last = np.array([index[b[-1].split("_")[0]] for b in bases], dtype=np.int64)
    return types, first, last


def shift_value_ticks(value: str, tpq: int) -> int:
    """Ticks of a MidiTok time value ``"beats.positions.resolution"`` at ``tpq`` ticks per quarter."""
    beats, pos, res = (int(x) for x in value.split("."))
    return beats * tpq + pos * tpq // res


def note_counts(tok: miditok.MusicTokenizer) -> np.ndarray:
    """Notes each id starts (its ``Pitch`` / ``NoteOn`` base tokens): the per-note figures' denominator."""
    starts = ("Pitch", "NoteOn", "PitchDrum", "DrumOn")
    return np.array([sum(t.split("_")[0] in starts for t in b) for b in base_tokens(tok)], dtype=np.int64)


def shift_ticks(tok: miditok.MusicTokenizer) -> np.ndarray:
    """Per id, the ticks (at ``tok.time_division`` per quarter) its time-shift base tokens move time by."""
    tpq = int(tok.time_division)
    out = np.zeros(len(tok), dtype=np.int64)
    for i, bases in enumerate(base_tokens(tok)):
        for t in bases:
            kind, _, value = t.partition("_")
            if kind in ("TimeShift", "Rest"):
                out[i] += shift_value_ticks(value, tpq)
    return out


def bar_starts(ids: np.ndarray, tok: miditok.MusicTokenizer, notes: Notes | None = None) -> np.ndarray:
    """Token indices where each bar of the piece begins.

    REMI: the tokens whose first base token is ``Bar``. Time-shift tokenizations (TSD, MIDILike): for each bar line
    of ``notes``' time signatures (4/4 when not given), the first token at or after it, where a token's time is the
    sum of the time shifts before it; bars with no token of their own share the next one's index."""
    ids = np.asarray(ids)
    if tokenizer_name(tok) == "REMI":
        types, first, _ = token_types(tok)
        return np.flatnonzero(first[ids] == types.index("Bar")).astype(np.int64)
    before = np.concatenate([[0], np.cumsum(shift_ticks(tok)[ids])])[:-1]  # ticks before each token
    notes = notes if notes is not None else Notes.empty()
    end_qn = float(before[-1]) / tok.time_division + 1e-6 if ids.size else 0.0  # the last onset's bar counts
    end_qn = max(end_qn, float(notes.end_qn.max()) if len(notes) else 0.0)
    lines = bar_lines_qn(notes, end_qn)
    ticks = np.round(lines * tok.time_division).astype(np.int64)
    return np.searchsorted(before, ticks, side="left").astype(np.int64)


def grid_steps(tok: miditok.MusicTokenizer) -> int:
    """The tokenizer's finest grid: positions per quarter note."""
    return int(max(tok.config.beat_res.values()))


def tokenize_piece(notes: Notes, tok: miditok.MusicTokenizer) -> dict[str, np.ndarray]:
    """What a token cache keeps of a piece: its token ids, the index where each bar starts, each bar's sums for
    the attribute controls (``bars.py``) and each bar's chords (``chords.py``), as many as its bars."""
    ids = to_tokens(notes, tok)
    bars = bar_starts(ids, tok, notes)
    lines = bar_lines(notes, len(bars))
    stats = bar_stats(notes, lines, grid_steps(tok))[: len(bars)]
    return {"ids": ids, "bars": bars, "bar_stats": stats, "chords": piece_bar_chords(notes, lines[: len(bars)])}
