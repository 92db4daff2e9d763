"""MIDI tokens through MidiTok: ``to_tokens`` / ``from_tokens`` over Notes, and token ids cached beside a dataset.

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
* the **token ids of a dataset, computed once** (:class:`TokenCache`): one memory-mapped file beside the dataset,
  keyed by the tokenizer's configuration, instead of re-tokenizing every epoch.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import miditok
import numpy as np
from miditok import TokenizerConfig, TokSequence

from ..dataset import Dataset, default_workers
from ..errors import CheckpointError, ConfigError, DatasetError
from ..io.midi import notes_to_score, score_to_notes
from ..notes import Notes
from ..progress import progress_bar
from ..utils import atomic_path, atomic_write_bytes

TOKENIZER_CLASSES = {"REMI": miditok.REMI, "TSD": miditok.TSD, "MIDILike": miditok.MIDILike}
#: the time-shift tokens of each tokenization (REMI has bars and positions instead)
TIME_SHIFTS = {"TSD": "TimeShift", "MIDILike": "TimeShift"}
CACHE_VERSION = 2  # 2: bar_stats.npy (the attribute controls' sums per bar)


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


def to_tokens(notes: Notes, tok: miditok.MusicTokenizer) -> np.ndarray:
    """The token ids of a piece (``int32``; BPE applied when the tokenizer has learned it; played chords snapped
    where the tokenizer says so, :func:`snap_chords`)."""
    if len(notes) == 0:
        return np.zeros(0, dtype=np.int32)
    seq = tok.encode(notes_to_score(snap_chords(notes, chord_width_qn(tok))))
    if isinstance(seq, list):  # pragma: no cover (one stream for all programs is configured)
        seq = seq[0]
    return np.asarray(seq.ids, dtype=np.int32)


def from_tokens(ids: np.ndarray | list[int], tok: miditok.MusicTokenizer, source: str = "") -> Notes:
    """The piece that token ids decode to (ids that MidiTok cannot place are skipped by its decoder)."""
    ids = [int(i) for i in ids]
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


def bar_lines_qn(notes: Notes, end_qn: float) -> np.ndarray:
    """The bar lines of a piece, in quarter notes, from its time signatures, up to ``end_qn``."""
    ts = notes.time_signatures
    if ts.size == 0 or ts["qn"][0] > 0:
        ts = np.concatenate([np.array([(0.0, 4, 4)], dtype=ts.dtype), ts])
    lines: list[float] = []
    for k in range(ts.size):
        start = float(ts["qn"][k])
        stop = float(ts["qn"][k + 1]) if k + 1 < ts.size else max(end_qn, start + 1e-9)
        length = 4.0 * int(ts["numerator"][k]) / max(int(ts["denominator"][k]), 1)
        if length <= 0:
            length = 4.0
        lines.extend(np.arange(start, stop, length).tolist())
    return np.array(lines or [0.0])


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


# ---------------------------------------------------------------------------------------------- the cache
class TokenCache:
    """Token ids of every piece of a dataset, memory-mapped, with each piece's bar starts.

    Lives in ``DATASET/tokens/<tokenizer key>/`` (``ids.bin``, ``offsets.npy``, ``bars.npy``, ``bar_offsets.npy``,
    ``bar_stats.npy``, ``tokenizer.json``): built once by :meth:`build`, reused by every run with the same tokenizer."""

    def __init__(self, root: Path) -> None:
        self.root = root
        meta = json.loads((root / "meta.json").read_text(encoding="utf-8"))
        self.offsets = np.load(root / "offsets.npy")
        self.bar_offsets = np.load(root / "bar_offsets.npy")
        self.bars = np.load(root / "bars.npy")
        self.bar_stats = np.load(root / "bar_stats.npy")
        n = int(self.offsets[-1])
        dtype = np.dtype(meta["dtype"])
        self.ids = np.memmap(root / "ids.bin", dtype=dtype, mode="r", shape=(n,)) if n else np.zeros(0, dtype)
        self.meta = meta

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def piece(self, i: int) -> np.ndarray:
        return np.asarray(self.ids[self.offsets[i] : self.offsets[i + 1]])

    def piece_bars(self, i: int) -> np.ndarray:
        return self.bars[self.bar_offsets[i] : self.bar_offsets[i + 1]]

    def piece_bar_stats(self, i: int) -> np.ndarray:
        """Each bar's sums for the attribute controls (``representations/controls.py``), as many as its bars."""
        return self.bar_stats[self.bar_offsets[i] : self.bar_offsets[i + 1]]

    @classmethod
    def folder(cls, ds: Dataset, tok: miditok.MusicTokenizer) -> Path:
        return ds.root / "tokens" / tokenizer_key(tok)

    @classmethod
    def build(
        cls,
        ds: Dataset,
        tok: miditok.MusicTokenizer,
        *,
        progress: bool = True,
        force: bool = False,
        workers: int | None = None,
    ) -> TokenCache:
        """The dataset's token cache for ``tok``: loaded when it is there and complete, else computed (every piece,
        in order, by ``workers`` processes: the cores, at most 8) and written atomically."""
        root = cls.folder(ds, tok)
        fingerprint = ds.manifest.get("fingerprint")
        if not force and (root / "meta.json").is_file():
            try:
                cache = cls(root)
                if cache.meta.get("fingerprint") == fingerprint and cache.meta.get("version") == CACHE_VERSION:
                    return cache
            except (OSError, ValueError, KeyError):
                pass  # incomplete or damaged: built again below
        root.mkdir(parents=True, exist_ok=True)
        dtype = np.uint16 if len(tok) < 2**16 else np.int32
        offsets, bar_offsets, bars, stats = [0], [0], [], []
        notes_total = 0
        bar = progress_bar(total=len(ds), desc="tokenizing", unit="piece", disable=not progress)
        workers = min(workers or default_workers(), max(-(-len(ds) // 8), 1))  # chunks of 8 pieces
        with atomic_path(root / "ids.bin") as tmp, open(tmp, "wb") as f, _pool(workers, ds, tok) as pool:
            chunks = [range(a, min(a + 8, len(ds))) for a in range(0, len(ds), 8)]
            results = pool.imap(_tokenize_chunk, chunks) if pool else map(_tokenize_chunk, chunks)
            for chunk in results:
                for ids, b, n, st in chunk:
                    f.write(ids.astype(dtype).tobytes())
                    offsets.append(offsets[-1] + ids.size)
                    bars.append(b)
                    stats.append(st)
                    bar_offsets.append(bar_offsets[-1] + b.size)
                    notes_total += n
                    bar.update(1)
        bar.close()
        for name, arr in (
            ("offsets", np.array(offsets, dtype=np.int64)),
            ("bar_offsets", np.array(bar_offsets, dtype=np.int64)),
            ("bars", np.concatenate(bars) if bars else np.zeros(0, dtype=np.int64)),
            ("bar_stats", np.concatenate(stats) if stats else np.zeros(0, dtype=_bar_dtype())),
        ):
            buf = io.BytesIO()
            np.save(buf, arr)
            atomic_write_bytes(root / f"{name}.npy", buf.getvalue())
        atomic_write_bytes(root / "tokenizer.json", save_tokenizer(tok))
        meta: dict[str, Any] = {
            "version": CACHE_VERSION,
            "fingerprint": fingerprint,
            "dtype": np.dtype(dtype).name,
            "tokens": int(offsets[-1]),
            "notes": notes_total,
        }
        atomic_write_bytes(root / "meta.json", json.dumps(meta, indent=1).encode())
        return cls(root)


#: what tokenizer processes work with: set before they are forked, so they inherit it
_WORKER: dict[str, Any] = {}


def _bar_dtype() -> np.dtype:
    from .controls import BAR_DTYPE

    return BAR_DTYPE


def grid_steps(tok: miditok.MusicTokenizer) -> int:
    """The tokenizer's finest grid: positions per quarter note."""
    return int(max(tok.config.beat_res.values()))


def _tokenize_chunk(indices: range) -> list[tuple[np.ndarray, np.ndarray, int, np.ndarray]]:
    from .controls import bar_lines, bar_stats  # controls reads bar lines from here: imported when used

    ds, tok = _WORKER["ds"], _WORKER["tok"]
    out = []
    for i in indices:
        piece = ds[i]
        ids = to_tokens(piece, tok)
        bars = bar_starts(ids, tok, piece)
        stats = bar_stats(piece, bar_lines(piece, len(bars)), grid_steps(tok))[: len(bars)]
        out.append((ids, bars, len(piece), stats))
    return out


@contextmanager
def _pool(workers: int, ds: Dataset, tok: miditok.MusicTokenizer) -> Iterator[Any]:
    """Tokenizer processes (fork: they inherit the imported libraries), or None to work in this process."""
    _WORKER.update(ds=ds, tok=tok)
    try:
        if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            yield None
        else:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                yield pool
    finally:
        _WORKER.clear()


def learn_bpe(ds: Dataset, tok: miditok.MusicTokenizer, vocab_size: int, *, max_pieces: int = 2000) -> None:
    """Learn BPE merges up to ``vocab_size`` on (up to ``max_pieces`` evenly spread) training pieces, in place."""
    idx = ds.indices("train")
    if idx.size == 0:
        raise DatasetError(f"{ds.root}: no training pieces to learn BPE on")
    pick = idx[np.linspace(0, idx.size - 1, min(idx.size, max_pieces)).round().astype(int)]
    if vocab_size <= len(tok):
        raise ConfigError(f"bpe_vocab {vocab_size} must exceed the base vocabulary's {len(tok)} tokens")

    def byte_strings():  # what MidiTok's own training iterator yields for a file: its bars, as byte strings
        for i in pick:
            piece = ds[int(i)]
            if len(piece):
                seq = tok.encode(notes_to_score(piece), encode_ids=False)
                bars = [b for b in (seq[0] if isinstance(seq, list) else seq).split_per_bars() if len(b)]
                out = tok._ids_to_bytes([b.ids for b in bars], as_one_str=True)
                yield [out] if isinstance(out, str) else out

    # MidiTok's trainer reads files (or such an iterator); the pieces are Notes already in memory
    tok.train(vocab_size=vocab_size, model="BPE", iterator=list(byte_strings()))
