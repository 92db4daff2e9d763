"""Originality: the longest run of a piece's notes that also occurs in a training piece, transposed or not,
faster or slower or not.

A piece becomes a sequence of symbols, one per note after the first: the pitch interval from the previous note
and the ratio of its inter-onset interval to the previous one's (in quarter tones of a log2 scale, 0 for notes
of one chord). Both are the same for a transposed copy and for a copy played at another tempo, so such copies
match. A run of ``k`` notes is ``k - 1`` symbols.

The index (:class:`OriginalityIndex`) hashes every window of ``WINDOW`` symbols of every training piece and keeps
the hashes sorted with their piece and position: built once per dataset and split (kept beside the dataset as
``originality/<split>.npz``), queried in milliseconds a piece. A piece's longest copied run is the longest chain
of its consecutive windows found at consecutive positions of one training piece.

A shipped model carries its training split in the **compact** form (:func:`save_compact`): the symbol sequences
alone, as two byte planes (interval, inter-onset ratio) under LZMA, and the hashes are made again when it is
loaded. MAESTRO's train split, 5.7 million notes, takes 5.1 MB so (its hash table, 45 MB) and loads in about
2 seconds; the answers are the full index's, exactly. The symbols hold neither pitches, durations, velocities
nor times: the music cannot be played back from them.
"""

from __future__ import annotations

import io
import json
import lzma
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..dataset import Dataset
from ..errors import DatasetError
from ..notes import Notes
from ..utils import atomic_write_bytes

WINDOW = 8  # symbols per hashed window: runs of WINDOW + 1 notes and longer are found
COPY_NOTES = 16  # a run of this many notes or more counts as a copy
MAX_HITS = 4096  # occurrences of one window looked at (windows this common are scales and repeated notes)
INDEX_VERSION = 1
COMPACT_VERSION = 1
_MUL = np.uint64(0x9E3779B97F4A7C15)


def symbols(notes: Notes) -> np.ndarray:
    """One symbol per note after the first (notes in time order, a chord from low to high): the pitch interval
    (clipped to +-48) and the inter-onset ratio to the previous non-zero inter-onset interval, in steps of a
    quarter of an octave of tempo (clipped to +-8; 0 when the note starts with the previous one)."""
    if len(notes) < 2:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((notes.pitch, notes.start_qn))
    pitch = notes.pitch[order].astype(np.int64)
    start = notes.start_qn[order]
    interval = np.clip(np.diff(pitch), -48, 48)
    ioi = np.diff(start)
    chord = ioi < 1e-3
    prev = np.where(chord, np.nan, ioi)
    # the previous non-zero inter-onset interval, carried over chords
    idx = np.where(~chord, np.arange(ioi.size), -1)
    idx = np.maximum.accumulate(idx)
    before = np.concatenate([[-1], idx[:-1]])
    ratio = np.zeros(ioi.size, dtype=np.int64)
    has = (~chord) & (before >= 0)
    ratio[has] = np.clip(np.round(4 * np.log2(ioi[has] / prev[before[has]])), -8, 8).astype(np.int64)
    ratio[chord] = 9  # "with the previous note"
    return (interval + 48) * 32 + (ratio + 16)


def window_hashes(sym: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """A 64-bit hash of each window of ``window`` consecutive symbols (``len - window + 1`` of them)."""
    if sym.size < window:
        return np.zeros(0, dtype=np.uint64)
    view = np.lib.stride_tricks.sliding_window_view(sym.astype(np.uint64), window)
    h = np.zeros(view.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(window):  # wrapping arithmetic modulo 2**64 is the hash
            h = (h ^ view[:, j]) * _MUL
            h ^= h >> np.uint64(29)
    return h


@dataclass
class Match:
    notes: int  # the longest run of this piece's notes found in one training piece (0: none of WINDOW + 1)
    piece: str  # that training piece
    at_note: int  # where the run starts in the piece (its note index in time order)


class OriginalityIndex:
    def __init__(self, hashes: np.ndarray, piece: np.ndarray, pos: np.ndarray, names: list[str]) -> None:
        self.hashes, self.piece, self.pos, self.names = hashes, piece, pos, names

    @classmethod
    def build(cls, ds: Dataset, split: str = "train", *, cache: bool = True) -> OriginalityIndex:
        """The index of ``split``'s pieces, loaded from beside the dataset when it is there and current."""
        path = index_path(ds, split)
        fingerprint = ds.manifest.get("fingerprint")
        if cache and path.is_file():
            try:
                with np.load(path, allow_pickle=False) as z:
                    meta = json.loads(str(z["meta"]))
                    if meta["fingerprint"] == fingerprint and meta["version"] == INDEX_VERSION:
                        return cls(z["hashes"], z["piece"], z["pos"], meta["names"])
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                pass  # damaged or old: built again
        names, seqs = split_symbols(ds, split)
        index = cls.from_symbols(seqs, names)
        if cache:
            index.save(path, fingerprint)
        return index

    @classmethod
    def from_symbols(cls, seqs: list[np.ndarray], names: list[str]) -> OriginalityIndex:
        """The index of pieces given as their :func:`symbols` (one sequence per name)."""
        if len(seqs) != len(names):
            raise ValueError(f"{len(seqs)} symbol sequences for {len(names)} names")
        parts, pieces, positions = [], [], []
        for k, sym in enumerate(seqs):
            h = window_hashes(sym)
            parts.append(h)
            pieces.append(np.full(h.size, k, dtype=np.int32))
            positions.append(np.arange(h.size, dtype=np.int32))
        hashes = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
        order = np.argsort(hashes, kind="stable")
        piece = np.concatenate(pieces)[order] if pieces else np.zeros(0, np.int32)
        pos = np.concatenate(positions)[order] if positions else np.zeros(0, np.int32)
        return cls(hashes[order], piece, pos, list(names))

    def save(self, path: Path, fingerprint: str | None = None) -> Path:
        """Write the index to ``path`` (npz; ``fingerprint``: the dataset's, to tell a stale copy)."""
        buf = io.BytesIO()
        meta = {"fingerprint": fingerprint, "version": INDEX_VERSION, "names": self.names}
        np.savez_compressed(buf, hashes=self.hashes, piece=self.piece, pos=self.pos, meta=np.array(json.dumps(meta)))
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buf.getvalue())
        return path

    @classmethod
    def load(cls, path: Path) -> OriginalityIndex:
        """An index written by :meth:`save` (a dataset's) or by :func:`save_compact` (a shipped model's); a
        DatasetError names a file that is not one."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("form") == "compact":
                    return cls.from_symbols(_unpack(z["planes"], meta, path), list(meta["names"]))
                if meta.get("version") != INDEX_VERSION:
                    raise DatasetError(f"{path}: an originality index of another version; build it again")
                return cls(z["hashes"], z["piece"].astype(np.int32), z["pos"].astype(np.int32), list(meta["names"]))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
            raise DatasetError(f"{path}: not an originality index ({e})") from None

    def longest(self, notes: Notes, *, exclude: str | None = None) -> Match:
        """The longest run of ``notes`` found in one indexed piece (``exclude``: a piece name not to count, for a
        piece checked against its own split)."""
        h = window_hashes(symbols(notes))
        best = Match(0, "", -1)
        runs: dict[tuple[int, int], int] = {}
        lo = np.searchsorted(self.hashes, h, side="left")
        hi = np.searchsorted(self.hashes, h, side="right")
        skip = self.names.index(exclude) if exclude in self.names else -1
        for i in range(h.size):
            nxt: dict[tuple[int, int], int] = {}
            for j in range(lo[i], min(hi[i], lo[i] + MAX_HITS)):
                p, q = int(self.piece[j]), int(self.pos[j])
                if p == skip:
                    continue
                r = runs.get((p, q - 1), 0) + 1
                nxt[(p, q)] = r
                notes_run = r + WINDOW  # r windows in a row: r + WINDOW - 1 symbols, one note more
                if notes_run > best.notes:
                    best = Match(notes_run, self.names[p], i - r + 1)
            runs = nxt
        return best


def originality(pieces: list[Notes], index: OriginalityIndex, *, exclude_self: bool = False) -> dict:
    """Per piece its longest copied run and where from; the share of pieces with a run of ``COPY_NOTES`` or
    more notes."""
    found = [index.longest(p, exclude=p.source if exclude_self else None) for p in pieces]
    copies = [m.notes >= COPY_NOTES for m in found]
    return {
        "pieces": [{"source": p.source, "longest": m.notes, "from": m.piece, "at_note": m.at_note}
                   for p, m in zip(pieces, found, strict=True)],
        "copied_share": float(np.mean(copies)) if copies else 0.0,
        "longest": max((m.notes for m in found), default=0),
        "copy_notes": COPY_NOTES,
        "shortest_found": WINDOW + 1,  # a longest of 0: no run this long or longer
    }


def split_symbols(ds: Dataset, split: str) -> tuple[list[str], list[np.ndarray]]:
    """The names and :func:`symbols` of ``split``'s pieces; a DatasetError where the split is empty."""
    idx = ds.indices(split)
    if idx.size == 0:
        raise DatasetError(f"{ds.root}: no {split} pieces to check originality against")
    return [ds.paths[int(i)] for i in idx], [symbols(ds[int(i)]) for i in idx]


def save_compact(path: Path, seqs: list[np.ndarray], names: list[str]) -> Path:
    """Write pieces' symbol sequences as a compact index (see the module's notes): :meth:`OriginalityIndex.load`
    reads it and hashes them again."""
    if len(seqs) != len(names):
        raise ValueError(f"{len(seqs)} symbol sequences for {len(names)} names")
    sym = np.concatenate(seqs) if seqs else np.zeros(0, np.int64)
    # a symbol is (interval + 48) * 32 + (ratio + 16): interval + 48 in 0..96, ratio + 16 in 7..25, a byte each;
    # two planes compress better than the interleaved pairs (MAESTRO: 5.1 MB against 5.6 MB)
    planes = np.concatenate([sym // 32, sym % 32]).astype(np.uint8)
    packed = lzma.compress(planes.tobytes(), preset=9 | lzma.PRESET_EXTREME)
    meta = {"form": "compact", "version": COMPACT_VERSION, "names": list(names),
            "lengths": [int(s.size) for s in seqs]}
    buf = io.BytesIO()
    np.savez(buf, planes=np.frombuffer(packed, dtype=np.uint8), meta=np.array(json.dumps(meta)))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _unpack(planes: np.ndarray, meta: dict, path: Path) -> list[np.ndarray]:
    if meta.get("version") != COMPACT_VERSION:
        raise DatasetError(f"{path}: a compact originality index of another version; ship it again")
    try:
        raw = np.frombuffer(lzma.decompress(planes.tobytes()), dtype=np.uint8)
    except lzma.LZMAError as e:
        raise DatasetError(f"{path}: a damaged originality index ({e})") from None
    lengths = np.asarray(meta["lengths"], dtype=np.int64)
    n = int(lengths.sum())
    if raw.size != 2 * n:
        raise DatasetError(f"{path}: a damaged originality index ({raw.size} bytes for {n} symbols)")
    sym = raw[:n].astype(np.int64) * 32 + raw[n:]
    return np.split(sym, np.cumsum(lengths)[:-1]) if lengths.size else []


def index_path(ds: Dataset, split: str) -> Path:
    return ds.root / "originality" / f"{split}.npz"
