"""Prepared datasets: parse a corpus once (in parallel, bad files skipped and reported), load it many times fast.

A dataset folder holds::

    manifest.json      format version, source, fingerprint, counts, dtypes
    notes.bin          every note of every piece, NOTE_DTYPE records back to back (memory-mapped on load)
    offsets.npy        int64 (pieces + 1,): piece i is notes[offsets[i]:offsets[i + 1]]
    tempos.npy         TEMPO_DTYPE records of every piece's tempo map, with tempo_offsets.npy
    timesigs.npy       TIMESIG_DTYPE records, with timesig_offsets.npy
    pieces.csv         path, split, composer, title, notes, seconds
    skipped.csv        path, reason: files that could not be read, and why
    warnings.csv       path, warning: files read after a repair (e.g. clamped data bytes)

The folder is written under a temporary name and renamed into place, so an interrupted run never leaves a
half-written dataset that a later run trusts. Parsed pieces are streamed to the files as workers finish (notes,
tempo maps, time signatures and the piece table alike), with a bounded number of parsed pieces in flight, and
the parser processes are forked before the file list is built, so memory stays flat however large the
collection: what grows is the list of file names, about a kilobyte per file
(``benchmarks/bench_prepare_scale.py``: 20 times MAESTRO, 25,640 files, in docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import sys
import time
import warnings
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .corpora import CHORALE_VOICE_PROGRAMS, SPLITS, Corpus, Item, Layout, read_item, resolve
from .corpora.bach import TUNE_GROUPING_VERSION, soprano_line, tune_groups
from .errors import DatasetError, ReadError
from .notes import NOTE_DTYPE, TEMPO_DTYPE, TIMESIG_DTYPE, Notes
from .progress import progress_bar
from .utils import atomic_dir, atomic_path, atomic_write_bytes, atomic_write_text, clear_stale_temporaries

FORMAT_VERSION = 1
#: score files, which may carry chord symbols (a lead sheet)
SCORE_SUFFIXES = (".mxl", ".musicxml", ".xml", ".abc", ".krn")
#: How many unreadable files (with their reasons) the error of a source none of whose files could be read lists.
REASONS_SHOWN = 10
PIECE_FIELDS = ("path", "split", "composer", "title", "notes", "seconds")


#: what is choosing now (a temperature, weights, a decoding), while it runs: see :func:`choosing`
_CHOOSING: ContextVar[str | None] = ContextVar("tunesmith_choosing", default=None)


@contextmanager
def choosing(what: str) -> Iterator[None]:
    """While ``what`` chooses something that shapes a reported figure (training and its checkpoint selection, a
    temperature, a decoding threshold), the test split cannot be read: :meth:`Dataset.indices` of the test split,
    or of every piece, raises a DatasetError naming ``what``. Choices are made on validation; the test split is
    read once, to report (docs/evaluation.md)."""
    token = _CHOOSING.set(what)
    try:
        yield
    finally:
        _CHOOSING.reset(token)


def hash_split(relpath: str) -> str:
    """A deterministic split for a piece the source gives none: 90% train, 5% validation, 5% test, by a hash
    of its path. Whole pieces only, so no window of a test piece can leak into training."""
    h = int.from_bytes(hashlib.sha256(relpath.encode("utf-8")).digest()[:8], "big") % 100
    return "train" if h < 90 else "validation" if h < 95 else "test"


def corpus_fingerprint(corpus: Corpus, limit: int | None = None) -> str:
    """A hash of what the dataset depends on: format version, every file's relative path, size, modification
    time, metadata and how it is read (the built-in chorales' voices: :meth:`Item.reading`). Cheap (stat only):
    an unchanged source gives the same fingerprint."""
    h = hashlib.sha256(f"tunesmith-dataset:{FORMAT_VERSION}:{limit}\n".encode())
    if corpus.split_by_tune:
        h.update(f"split by tune {TUNE_GROUPING_VERSION}\n".encode())
    for it in corpus.items[:limit] if limit else corpus.items:
        try:
            st = os.stat(it.path)
            stamp = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            stamp = "missing"
        line = f"{it.relpath}\t{stamp}\t{it.split}\t{it.composer}\t{it.title}"
        if it.extra:  # a source without extras keeps its fingerprint
            line += "\t" + json.dumps(dict(it.extra), sort_keys=True)
        if it.reading():  # a MIDI file adds nothing: datasets of MIDI files keep their fingerprints
            line += f"\t{it.reading()}"
        h.update(f"{line}\n".encode())
    for rel, reason in corpus.excluded:
        h.update(f"excluded\t{rel}\t{reason}\n".encode())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------- parsing workers
@dataclass
class _Parsed:
    index: int
    notes: np.ndarray | None = None
    tempos: np.ndarray | None = None
    timesigs: np.ndarray | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    chord_symbols: str = ""  # a lead sheet's (representations/chords.symbols_text), kept in pieces.csv's "extra"


def _parse_item(args: tuple[int, Item]) -> _Parsed:
    index, item = args
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            n = read_item(item)
        except ReadError as e:
            return _Parsed(index, error=e.reason)
        except Exception as e:  # a bug in a parser must not stop the run: report it as this file's problem
            return _Parsed(index, error=f"unexpected {type(e).__name__}: {e}")
    msgs = tuple(str(w.message).replace(f"{item.path}: ", "") for w in caught)
    if len(n) == 0:
        return _Parsed(index, error="no notes", warnings=msgs)
    chords = n.metadata.get("chord_symbols", "")
    return _Parsed(index, n.notes, n.tempos, n.time_signatures, warnings=msgs, chord_symbols=chords)


def _parse_chunk(jobs: list[tuple[int, Item]]) -> list[_Parsed]:
    return [_parse_item(job) for job in jobs]


def _parser_pool(workers: int) -> AbstractContextManager[Any]:
    """The parser processes (none for one worker). fork: workers start in milliseconds and inherit the imported
    parsers (spawn costs ~1 s each); fork them before the corpus is listed, so that they do not inherit (and
    count in their resident memory) a file list that grows with the collection."""
    if workers <= 1:
        return nullcontext(None)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    return multiprocessing.get_context(method).Pool(workers)


#: Chunks of files in flight per parser process: enough to keep them busy, few enough that the parsed pieces
#: waiting to be written stay a bounded amount of memory (pool.imap would queue every result of a fast worker
#: while the writer waits for a slow one).
CHUNKS_IN_FLIGHT = 4


def _parse_all(items: list[Item], pool: Any, workers: int) -> Iterator[_Parsed]:
    """Every item parsed, in order."""
    if pool is None or len(items) <= 1:
        yield from map(_parse_item, enumerate(items))
        return
    chunk = max(1, min(16, len(items) // (workers * 8)))
    pending: deque[Any] = deque()
    for a in range(0, len(items), chunk):
        pending.append(pool.apply_async(_parse_chunk, ([(i, items[i]) for i in range(a, min(a + chunk, len(items)))],)))
        if len(pending) >= workers * CHUNKS_IN_FLIGHT:
            yield from pending.popleft().get()
    while pending:
        yield from pending.popleft().get()


def _npy_from_raw(raw: Path, path: Path, dtype: np.dtype) -> None:
    """A ``.npy`` file of the records in the raw file ``raw`` (streamed: never all in memory), then ``raw`` gone."""
    n = raw.stat().st_size // dtype.itemsize
    with open(path, "wb") as f, open(raw, "rb") as src:
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (n,)}
        np.lib.format.write_array_header_1_0(f, header)
        shutil.copyfileobj(src, f, 1 << 20)
    raw.unlink()


# ---------------------------------------------------------------------------------------------- preparing
def _csv_text(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def prepare(
    source: str | os.PathLike[str] | Corpus,
    out: str | os.PathLike[str],
    *,
    workers: int | None = None,
    limit: int | None = None,
    layout: Layout = "auto",
    force: bool = False,
    progress: bool = True,
) -> Dataset:
    """Parse every file of ``source`` into a dataset folder ``out`` and return it loaded.

    Files that cannot be read are skipped and listed with their reason in ``skipped.csv`` (the run goes on);
    if no file at all can be read, a :class:`DatasetError` lists the reasons and nothing is written at ``out``.
    If ``out`` already holds a dataset of the same fingerprint (same files, sizes, times and options), it is
    reused without parsing anything, unless ``force``.
    """
    if limit is not None and limit <= 0:
        from .errors import ConfigError

        raise ConfigError(f"--limit must be positive, got {limit}")
    workers = default_workers() if workers is None else max(1, workers)
    with _parser_pool(workers) as pool:
        corpus = source if isinstance(source, Corpus) else resolve(source, layout)
        items = corpus.items[:limit] if limit else corpus.items
        fingerprint = corpus_fingerprint(corpus, limit)
        out = Path(out)
        # what an interrupted earlier prepare of ``out`` left beside it (also when the dataset is reused below)
        clear_stale_temporaries(out)
        if not force and (out / "manifest.json").is_file():
            try:
                ds = Dataset.load(out)
                if ds.manifest.get("fingerprint") == fingerprint and len(ds):
                    ds.reused = True
                    return ds
            except DatasetError:
                pass  # an old or broken dataset is rebuilt
        _write_dataset(corpus, items, fingerprint, limit, out, pool, workers, progress)
    return Dataset.load(out)


def _write_dataset(
    corpus: Corpus,
    items: list[Item],
    fingerprint: str,
    limit: int | None,
    out: Path,
    pool: Any,
    workers: int,
    progress: bool,
) -> None:
    """Parse ``items`` and stream every piece into the dataset folder ``out`` (written atomically)."""
    t0 = time.perf_counter()
    skipped: list[tuple[str, str]] = [(rel, reason) for rel, reason in corpus.excluded]
    repaired: list[tuple[str, str]] = []
    n_pieces = n_notes = n_tempos = n_timesigs = 0
    pitch_lo, pitch_hi = 127, 0
    rows: list[list[Any]] = []  # pieces.csv's, written once every split is known
    # a seventh column, "extra": what else the source says of a piece (and a lead sheet's chord symbols)
    has_extra = any(it.extra or Path(it.path).suffix.lower() in SCORE_SUFFIXES for it in items)
    sopranos: list[list[int]] = []
    with atomic_dir(out) as tmp:
        with (
            open(tmp / "notes.bin", "wb") as notes_file,
            open(tmp / "offsets.raw", "wb") as offsets_file,
            open(tmp / "tempos.raw", "wb") as tempo_file,
            open(tmp / "tempo_offsets.raw", "wb") as tempo_off_file,
            open(tmp / "timesigs.raw", "wb") as ts_file,
            open(tmp / "timesig_offsets.raw", "wb") as ts_off_file,
            open(tmp / "pieces.csv", "w", newline="", encoding="utf-8") as pieces_file,
        ):
            table = csv.writer(pieces_file, lineterminator="\n")
            table.writerow(PIECE_FIELDS + (("extra",) if has_extra else ()))
            for f in (offsets_file, tempo_off_file, ts_off_file):
                f.write(np.int64(0).tobytes())
            bar = progress_bar(total=len(items), desc=f"prepare {corpus.name}", unit="file", disable=not progress)
            for r in _parse_all(items, pool, workers):
                it = items[r.index]
                bar.update(1)
                repaired.extend((it.relpath, w) for w in r.warnings)
                if r.error is not None:
                    skipped.append((it.relpath, r.error))
                    continue
                assert r.notes is not None and r.tempos is not None and r.timesigs is not None
                notes_file.write(r.notes.tobytes())
                tempo_file.write(r.tempos.astype(TEMPO_DTYPE, copy=False).tobytes())
                ts_file.write(r.timesigs.astype(TIMESIG_DTYPE, copy=False).tobytes())
                n_pieces += 1
                n_notes += len(r.notes)
                n_tempos += len(r.tempos)
                n_timesigs += len(r.timesigs)
                offsets_file.write(np.int64(n_notes).tobytes())
                tempo_off_file.write(np.int64(n_tempos).tobytes())
                ts_off_file.write(np.int64(n_timesigs).tobytes())
                pitch_lo = min(pitch_lo, int(r.notes["pitch"].min()))
                pitch_hi = max(pitch_hi, int(r.notes["pitch"].max()))
                seconds = float(r.notes["end"].max())
                rows.append([it.relpath, it.split, it.composer, it.title, len(r.notes), f"{seconds:.3f}"])
                if has_extra:
                    extra = {**dict(it.extra or {}), **({"chord_symbols": r.chord_symbols} if r.chord_symbols else {})}
                    rows[-1].append(json.dumps(extra) if extra else "")
                if corpus.split_by_tune:
                    soprano = r.notes[r.notes["program"] == CHORALE_VOICE_PROGRAMS["soprano"]]
                    sopranos.append(soprano_line(soprano["pitch"][np.argsort(soprano["start_qn"], kind="stable")]))
            bar.close()
            tunes = _split_by_tune(rows, sopranos) if corpus.split_by_tune else None
            for row in rows:
                row[1] = row[1] or hash_split(row[0])
            table.writerows(rows)
        if n_pieces == 0:  # raised inside atomic_dir: the temporary folder goes, ``out`` is left as it was
            raise _nothing_read(corpus, skipped, out)
        for name, dtype in (
            ("offsets", np.dtype(np.int64)),
            ("tempos", TEMPO_DTYPE),
            ("tempo_offsets", np.dtype(np.int64)),
            ("timesigs", TIMESIG_DTYPE),
            ("timesig_offsets", np.dtype(np.int64)),
        ):
            _npy_from_raw(tmp / f"{name}.raw", tmp / f"{name}.npy", dtype)
        (tmp / "skipped.csv").write_text(_csv_text(("path", "reason"), skipped), encoding="utf-8")
        (tmp / "warnings.csv").write_text(_csv_text(("path", "warning"), repaired), encoding="utf-8")
        manifest = {
            "format_version": FORMAT_VERSION,
            "tunesmith_version": __version__,
            "source": corpus.name if corpus.name == "bach" else corpus.root,
            "corpus": corpus.name,
            "fingerprint": fingerprint,
            "limit": limit,
            "files": len(items),
            "pieces": n_pieces,
            "notes": n_notes,
            "skipped": len(skipped),
            "pitch_range": [pitch_lo, pitch_hi] if n_pieces else None,
            "note_dtype": NOTE_DTYPE.descr,
            "seconds_to_prepare": round(time.perf_counter() - t0, 3),
            **({"tune_groups": tunes} if tunes is not None else {}),
        }
        atomic_write_text(tmp / "manifest.json", json.dumps(manifest, indent=1))


def _split_by_tune(rows: list[list[Any]], sopranos: list[list[int]]) -> int:
    """Give the pieces of each tune group (rows without a split of their own) the split of the group's first file
    name, so that a group never straddles two splits; the number of groups."""
    groups = tune_groups(sopranos)
    first: dict[int, str] = {}
    for row, g in zip(rows, groups, strict=True):
        first[g] = min(first.get(g, row[0]), row[0])
    for row, g in zip(rows, groups, strict=True):
        row[1] = row[1] or hash_split(first[g])
    return len(first)


def _nothing_read(corpus: Corpus, skipped: list[tuple[str, str]], out: Path) -> DatasetError:
    """The error of a source none of whose files could be read: the folder, then the first reasons."""
    if not skipped:
        return DatasetError(f"{corpus.root}: no music files to read; nothing written to {out}")
    lines = [f"{corpus.root}: no file could be read ({len(skipped)} tried); nothing written to {out}:"]
    lines += [f"  {rel}: {reason}" for rel, reason in skipped[:REASONS_SHOWN]]
    if len(skipped) > REASONS_SHOWN:
        lines.append(f"  ... and {len(skipped) - REASONS_SHOWN} more")
    return DatasetError("\n".join(lines))


# ---------------------------------------------------------------------------------------------- loading
class Dataset:
    """A prepared dataset, loaded: notes memory-mapped, piece table in memory.

    ``ds[i]`` is piece i as :class:`Notes` (a view: nothing is copied); ``ds.indices("train")`` lists a
    split's pieces."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest
        self.reused = False
        n = int(manifest["notes"])
        path = root / "notes.bin"
        if path.stat().st_size != n * NOTE_DTYPE.itemsize:
            raise DatasetError(f"{path}: size does not match the manifest's {n} notes; prepare the dataset again")
        self.notes = np.memmap(path, dtype=NOTE_DTYPE, mode="r", shape=(n,)) if n else np.zeros(0, NOTE_DTYPE)
        self.offsets = np.load(root / "offsets.npy")
        self.tempos = np.load(root / "tempos.npy")
        self.tempo_offsets = np.load(root / "tempo_offsets.npy")
        self.timesigs = np.load(root / "timesigs.npy")
        self.timesig_offsets = np.load(root / "timesig_offsets.npy")
        # the piece table, column by column (never every row at once: about 0.4 kB a piece for 100,000 pieces);
        # splits and composer names repeat, so one string object serves all their rows
        self.paths: list[str] = []
        self.composers: list[str] = []
        self.titles: list[str] = []
        splits: list[str] = []
        seconds: list[float] = []
        #: what else the source says of each piece (JSON text, "" for nothing): Groove's style, bpm, beat type, ...
        self.extras: list[str] = []
        with open(root / "pieces.csv", newline="", encoding="utf-8") as f:
            rows = csv.reader(f)
            next(rows, None)
            for r in rows:
                self.paths.append(r[0])
                splits.append(sys.intern(r[1]))
                self.composers.append(sys.intern(r[2]))
                self.titles.append(r[3])
                seconds.append(float(r[5]))
                self.extras.append(r[6] if len(r) > 6 else "")
        self.splits = np.array(splits, dtype=object)
        self.seconds = np.array(seconds)
        if len(self.paths) + 1 != len(self.offsets):
            raise DatasetError(f"{root}: pieces.csv and offsets.npy disagree; prepare the dataset again")

    @classmethod
    def load(cls, root: str | os.PathLike[str]) -> Dataset:
        root = Path(root)
        mpath = root / "manifest.json"
        if not mpath.is_file():
            raise DatasetError(f"{root}: not a prepared dataset (no manifest.json); run 'tunesmith prepare' first")
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise DatasetError(f"{mpath}: unreadable manifest ({e}); prepare the dataset again") from e
        if manifest.get("format_version") != FORMAT_VERSION:
            raise DatasetError(
                f"{root}: dataset format {manifest.get('format_version')} but this tunesmith reads "
                f"{FORMAT_VERSION}; prepare the dataset again"
            )
        try:
            return cls(root, manifest)
        except (OSError, ValueError, IndexError) as e:
            raise DatasetError(f"{root}: incomplete or damaged dataset ({e}); prepare the dataset again") from e

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Notes:
        if not -len(self) <= i < len(self):
            raise IndexError(f"piece {i} out of range ({len(self)} pieces)")
        i %= len(self)
        a, b = self.offsets[i], self.offsets[i + 1]
        ta, tb = self.tempo_offsets[i], self.tempo_offsets[i + 1]
        sa, sb = self.timesig_offsets[i], self.timesig_offsets[i + 1]
        meta = {"split": str(self.splits[i]), "composer": self.composers[i], "title": self.titles[i]}
        if self.extras[i]:
            meta.update(json.loads(self.extras[i]))
        return Notes(
            np.asarray(self.notes[a:b]),
            self.tempos[ta:tb],
            self.timesigs[sa:sb],
            self.paths[i],
            {k: v for k, v in meta.items() if v},
        )

    def indices(self, split: str | None = None) -> np.ndarray:
        """Piece indices of one split (all pieces when ``split`` is None). Not the test split (nor every piece)
        while something is :func:`choosing`."""
        what = _CHOOSING.get()
        if what is not None and split in ("test", None):
            raise DatasetError(
                f"{self.root}: {what} chooses on the validation split and may not read "
                f"{'the test split' if split else 'every piece'} (the test split is read only to report)"
            )
        if split is None:
            return np.arange(len(self))
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        return np.flatnonzero(self.splits == split)

    def pieces(self, split: str | None = None) -> Iterator[Notes]:
        for i in self.indices(split):
            yield self[int(i)]

    def skipped(self) -> list[tuple[str, str]]:
        with open(self.root / "skipped.csv", newline="", encoding="utf-8") as f:
            return [(r[0], r[1]) for r in list(csv.reader(f))[1:]]

    def info(self) -> dict[str, Any]:
        """Pieces, notes and hours per split, pitch range, skipped files."""
        counts = np.diff(self.offsets)
        per_split = {}
        for s in SPLITS:
            idx = self.indices(s)
            per_split[s] = {
                "pieces": int(idx.size),
                "notes": int(counts[idx].sum()),
                "hours": round(float(self.seconds[idx].sum()) / 3600, 3),
            }
        skipped = self.skipped()
        return {
            "path": str(self.root),
            "source": self.manifest.get("source"),
            "pieces": len(self),
            "notes": int(self.manifest["notes"]),
            "hours": round(float(self.seconds.sum()) / 3600, 3),
            "splits": per_split,
            "pitch_range": self.manifest.get("pitch_range"),
            **({"tune_groups": self.manifest["tune_groups"]} if "tune_groups" in self.manifest else {}),
            "skipped": [{"path": p, "reason": r} for p, r in skipped],
        }


# ---------------------------------------------------------------------------------------------- derived arrays
#: what the processes that derive arrays work with: set before they are forked, so they inherit it
_DERIVE: dict[str, Any] = {}


class PieceArrays:
    """Arrays derived from every piece of a dataset by a pure function, kept beside it and memory-mapped: one
    concatenated array per field (``NAME.bin``, any numpy dtype, structured ones too) and its offsets per piece
    (``NAME.offsets.npy``), with ``meta.json`` and any files the deriver adds. Built once by :meth:`build` in every
    piece's order, by worker processes, written atomically; rebuilt when the dataset or the ``version`` changes.
    The dataset owns the disk, the workers and the reading; what is derived (tokens, say) is the caller's."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.meta = json.loads((self.root / "meta.json").read_text(encoding="utf-8"))
        self._offsets = {name: np.load(self.root / f"{name}.offsets.npy") for name in self.meta["fields"]}
        self._data = {}
        for name, descr in self.meta["fields"].items():
            dtype = np.lib.format.descr_to_dtype(_descr_from_json(descr))
            n = int(self._offsets[name][-1])
            path = self.root / f"{name}.bin"
            self._data[name] = np.memmap(path, dtype=dtype, mode="r", shape=(n,)) if n else np.zeros(0, dtype)

    def __len__(self) -> int:
        return len(next(iter(self._offsets.values()))) - 1 if self._offsets else 0

    def offsets(self, name: str) -> np.ndarray:
        return self._offsets[name]

    def data(self, name: str) -> np.ndarray:
        return self._data[name]

    def piece(self, name: str, i: int) -> np.ndarray:
        off = self._offsets[name]
        return np.asarray(self._data[name][off[i] : off[i + 1]])

    @classmethod
    def build(
        cls,
        ds: Dataset,
        root: Path,
        derive: Any,
        dtypes: dict[str, np.dtype],
        *,
        version: int,
        files: dict[str, bytes] | None = None,
        progress: bool = True,
        force: bool = False,
        workers: int | None = None,
        desc: str = "deriving",
    ) -> PieceArrays:
        """The arrays ``derive(notes) -> {field: 1-D array}`` gives for every piece of ``ds``, in ``root``: loaded
        when there, complete and of this dataset and ``version``, else computed (by ``workers`` processes: the
        cores, at most 8; chunks of 8 pieces in order) and written atomically, ``meta.json`` last."""
        root = Path(root)
        fingerprint = ds.manifest.get("fingerprint")
        if not force and (root / "meta.json").is_file():
            try:
                done = cls(root)
                if done.meta.get("fingerprint") == fingerprint and done.meta.get("version") == version:
                    return done
            except (OSError, ValueError, KeyError, TypeError):
                pass  # incomplete or damaged: built again below
        root.mkdir(parents=True, exist_ok=True)
        (root / "meta.json").unlink(missing_ok=True)  # a half-rewritten folder is never taken as complete
        dtypes = {name: np.dtype(d) for name, d in dtypes.items()}
        offsets = {name: [0] for name in dtypes}
        bar = progress_bar(total=len(ds), desc=desc, unit="piece", disable=not progress)
        workers = min(workers or default_workers(), max(-(-len(ds) // 8), 1))
        chunks = [range(a, min(a + 8, len(ds))) for a in range(0, len(ds), 8)]
        with contextlib.ExitStack() as stack:
            outs = {}
            for name in dtypes:
                tmp = stack.enter_context(atomic_path(root / f"{name}.bin"))
                outs[name] = stack.enter_context(open(tmp, "wb"))
            pool = stack.enter_context(_derive_pool(workers, ds, derive))
            for chunk in pool.imap(_derive_chunk, chunks) if pool else map(_derive_chunk, chunks):
                for arrays in chunk:
                    for name, dtype in dtypes.items():
                        a = np.asarray(arrays[name]).astype(dtype, copy=False)
                        outs[name].write(a.tobytes())
                        offsets[name].append(offsets[name][-1] + a.size)
                    bar.update(1)
        bar.close()
        for name, off in offsets.items():
            buf = io.BytesIO()
            np.save(buf, np.array(off, dtype=np.int64))
            atomic_write_bytes(root / f"{name}.offsets.npy", buf.getvalue())
        for name, data in (files or {}).items():
            atomic_write_bytes(root / name, data)
        meta = {
            "version": version,
            "fingerprint": fingerprint,
            "fields": {name: _descr_to_json(np.lib.format.dtype_to_descr(d)) for name, d in dtypes.items()},
            "pieces": len(ds),
            "notes": int(ds.manifest.get("notes", 0)),
        }
        atomic_write_bytes(root / "meta.json", json.dumps(meta, indent=1).encode())
        return cls(root)


def _descr_to_json(descr: Any) -> Any:
    return descr if isinstance(descr, str) else [list(map(_descr_to_json, f)) if isinstance(f, tuple) else f
                                                 for f in descr]


def _descr_from_json(descr: Any) -> Any:
    """numpy's descr back from JSON: structured fields as tuples, shapes as tuples."""
    if isinstance(descr, str):
        return descr
    out = []
    for field in descr:
        name, kind, *shape = field
        kind = _descr_from_json(kind)
        out.append((name, kind, tuple(shape[0])) if shape else (name, kind))
    return out


def _derive_chunk(indices: range) -> list[dict[str, np.ndarray]]:
    ds, derive = _DERIVE["ds"], _DERIVE["derive"]
    return [derive(ds[i]) for i in indices]


@contextmanager
def _derive_pool(workers: int, ds: Dataset, derive: Any) -> Iterator[Any]:
    """Worker processes (fork: they inherit the imported libraries and ``derive``), or None to work here."""
    _DERIVE.update(ds=ds, derive=derive)
    try:
        if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            yield None
        else:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                yield pool
    finally:
        _DERIVE.clear()
