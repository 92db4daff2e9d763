"""Where music comes from: the built-in Bach chorales, any folder of files, and MAESTRO with its official split.

:func:`resolve` turns what a user types (``bach``, a folder, a MAESTRO folder, a single file) into a
:class:`Corpus`: the list of files to read, each with the metadata the source knows (split, composer, title).
Reading the files is the dataset's job (:mod:`tunesmith.dataset`), each through :func:`read_item`: as any file of
its format, except the built-in chorales, whose voices are read as :mod:`tunesmith.corpora.bach` says.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import SourceError
from ..io import SCORE_EXTENSIONS, SUPPORTED_EXTENSIONS, read
from ..io.score import SCORE_READING_VERSION
from ..notes import Notes
from .bach import CHORALE_READING_VERSION, CHORALE_VOICE_PROGRAMS, CHORALE_VOICES, read_chorale

SPLITS = ("train", "validation", "test")
Layout = Literal["auto", "folder", "maestro", "groove"]
_MAESTRO_CSV = re.compile(r"maestro-v(\d+)\.(\d+)\.(\d+)\.csv$")


@dataclass(frozen=True)
class Item:
    """One file of a corpus. ``relpath`` (relative to the corpus root, with ``/``) identifies it in reports and
    decides its split when the source gives none. ``chorale``: a chorale of the built-in corpus, read by
    :func:`~tunesmith.corpora.bach.read_chorale` (its four voices, each with its own program)."""

    path: str
    relpath: str
    split: str | None = None
    composer: str = ""
    title: str = ""
    chorale: bool = False
    #: what else the source says of the piece, as (name, value) pairs kept in the dataset and in each piece's
    #: metadata (the Groove MIDI Dataset: style, bpm, beat_type, time_signature, drummer)
    extra: tuple[tuple[str, str], ...] = ()

    def reading(self) -> str:
        """How the file is read, for the dataset's fingerprint: the versions of the score reader and of the
        chorale reader where they apply; empty for a MIDI file."""
        if self.chorale:
            return f"chorale voices {CHORALE_READING_VERSION}, score {SCORE_READING_VERSION}"
        return f"score {SCORE_READING_VERSION}" if self.path.lower().endswith(SCORE_EXTENSIONS) else ""


def read_item(item: Item) -> Notes:
    """Read one file of a corpus into Notes (raises :class:`~tunesmith.errors.ReadError` as
    :func:`tunesmith.io.read` does)."""
    return read_chorale(item.path) if item.chorale else read(item.path)


@dataclass
class Corpus:
    name: str
    root: str
    items: list[Item]
    #: files the source itself rules out, as (relpath, reason), e.g. MIDI files a MAESTRO csv does not list
    excluded: list[tuple[str, str]] = field(default_factory=list)
    #: the built-in chorales: pieces that share a tune (:func:`~tunesmith.corpora.bach.tune_groups`, by their
    #: sopranos) land in one split, so that no test melody was harmonised in training
    split_by_tune: bool = False


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def folder_corpus(root: str | os.PathLike[str]) -> Corpus:
    """Every supported file under ``root`` (recursive, extensions matched case-insensitively), sorted by path.

    Hidden files and folders are ignored. For files one folder below the root (``root/Composer/piece.mid``, as
    in the C-RNN-GAN collection) the folder name is taken as the composer."""
    root_path = Path(root).resolve()
    items = []
    for dirpath, dirnames, filenames in os.walk(root_path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in filenames:
            if fn.startswith(".") or not fn.lower().endswith(SUPPORTED_EXTENSIONS):
                continue
            p = Path(dirpath) / fn
            rel = _rel(p, root_path)
            parts = rel.split("/")
            items.append(Item(str(p), rel, None, parts[0] if len(parts) == 2 else "", p.stem))
    items.sort(key=lambda it: it.relpath)
    if not items:
        raise SourceError(f"{root}: no music files found (looked recursively for {', '.join(SUPPORTED_EXTENSIONS)})")
    return Corpus("folder", str(root_path), items)


def _listed(root: Path, csv_path: Path, fields: Any) -> tuple[list[Item], list[tuple[str, str]]]:
    """The pieces a dataset's csv lists (``midi_filename`` and ``split`` columns; ``fields(row)``: the Item's other
    fields) that are in the folder ``root``, sorted by path, and what is excluded: listed files missing from the
    folder, and MIDI files of the folder the csv does not list (reported, not silently mixed in)."""
    items, excluded, listed = [], [], set()
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rel = row["midi_filename"].replace("\\", "/")
            listed.add(rel)
            split = row["split"].strip()
            if split not in SPLITS:
                raise SourceError(f"{csv_path}: unknown split {split!r} for {rel}")
            p = root / rel
            if not p.is_file():
                excluded.append((rel, f"listed in {csv_path.name} but missing from the folder"))
                continue
            items.append(Item(str(p), rel, split, **fields(row)))
    for p in sorted(root.rglob("*.mid*")):
        rel = _rel(p, root)
        if p.suffix.lower() in (".mid", ".midi") and rel not in listed:
            excluded.append((rel, f"not listed in {csv_path.name}"))
    items.sort(key=lambda it: it.relpath)
    return items, excluded


def find_maestro_csv(root: str | os.PathLike[str]) -> Path | None:
    """The newest ``maestro-vX.Y.Z.csv`` directly in ``root``, or None."""
    found = []
    for p in Path(root).glob("maestro-v*.csv"):
        m = _MAESTRO_CSV.search(p.name)
        if m:
            found.append((tuple(int(g) for g in m.groups()), p))
    return max(found)[1] if found else None


def maestro_corpus(root: str | os.PathLike[str]) -> Corpus:
    """A MAESTRO folder: the pieces its newest ``maestro-v*.csv`` lists, with that csv's split, composer and
    title (v3.0.0: train 962 / validation 137 / test 177). MIDI files in the folder that the csv does not list
    (v3 dropped six chamber pieces of 2018 that v2 had) are excluded and reported, not silently mixed in."""
    root_path = Path(root).resolve()
    csv_path = find_maestro_csv(root_path)
    if csv_path is None:
        raise SourceError(f"{root}: no maestro-v*.csv in this folder, so it is not a MAESTRO folder")
    with open(csv_path, newline="", encoding="utf-8") as f:
        header = csv.DictReader(f).fieldnames or ()
    need = {"canonical_composer", "canonical_title", "split", "midi_filename"}
    if not need <= set(header):
        raise SourceError(f"{csv_path}: missing columns {sorted(need - set(header))}")
    items, excluded = _listed(
        root_path, csv_path, lambda row: {"composer": row["canonical_composer"], "title": row["canonical_title"]}
    )
    return Corpus(f"maestro ({csv_path.stem})", str(root_path), items, excluded)


def bach_corpus() -> Corpus:
    """The built-in default: J. S. Bach's chorales shipped inside music21's corpus (no download), each read as
    its four voices with the programs of :data:`CHORALE_VOICE_PROGRAMS`."""
    from .bach import bach_chorale_paths

    paths = bach_chorale_paths()
    if not paths:
        raise SourceError("bach: music21's corpus has no Bach chorales here (is music21 fully installed?)")
    root = Path(paths[0]).parent
    items = [Item(str(p), Path(p).name, None, "J. S. Bach", Path(p).stem, chorale=True) for p in paths]
    return Corpus("bach", str(root), items, split_by_tune=True)


#: the columns of the Groove MIDI Dataset's ``info.csv`` that recognise it and that each piece keeps
GROOVE_COLUMNS = ("drummer", "session", "id", "style", "bpm", "beat_type", "time_signature", "midi_filename", "split")
GROOVE_KEPT = ("style", "bpm", "beat_type", "time_signature", "drummer")


def is_groove(root: str | os.PathLike[str]) -> bool:
    """Whether ``root`` holds the Groove MIDI Dataset's ``info.csv`` (its header has the dataset's columns)."""
    path = Path(root) / "info.csv"
    if not path.is_file():
        return False
    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f), [])
    return set(GROOVE_COLUMNS) <= set(header)


def groove_corpus(root: str | os.PathLike[str]) -> Corpus:
    """The Groove MIDI Dataset (Gillick et al. 2019): the performances its ``info.csv`` lists, with that csv's split,
    the drummer as composer, the session's id as title, and per piece its style (e.g. ``funk/groove1``), tempo
    (``bpm``), ``beat_type`` (beat or fill), time signature and drummer. MIDI files it does not list are excluded
    and reported."""
    root_path = Path(root).resolve()
    csv_path = root_path / "info.csv"
    if not is_groove(root_path):
        raise SourceError(f"{root}: no info.csv with the Groove MIDI Dataset's columns ({', '.join(GROOVE_COLUMNS)})")
    items, excluded = _listed(
        root_path,
        csv_path,
        lambda row: {
            "composer": row["drummer"], "title": row["id"], "extra": tuple((k, row[k].strip()) for k in GROOVE_KEPT)
        },
    )
    if not items:
        raise SourceError(f"{csv_path}: lists no MIDI file that is in the folder")
    return Corpus("groove", str(root_path), items, excluded)


def resolve(source: str | os.PathLike[str], layout: Layout = "auto") -> Corpus:
    """Turn ``source`` into a Corpus: ``"bach"``, a folder (MAESTRO when it holds a ``maestro-v*.csv`` and
    ``layout`` is auto or maestro), or a single music file."""
    s = os.fspath(source)
    if s == "bach" and not Path(s).exists():
        return bach_corpus()
    p = Path(s)
    if p.is_dir():
        if layout == "groove" or (layout == "auto" and is_groove(p)):
            return groove_corpus(p)
        if layout == "maestro" or (layout == "auto" and find_maestro_csv(p) is not None):
            return maestro_corpus(p)
        return folder_corpus(p)
    if p.is_file():
        rp = p.resolve()
        if not rp.name.lower().endswith(SUPPORTED_EXTENSIONS):
            raise SourceError(f"{s}: not a supported music file (extensions: {', '.join(SUPPORTED_EXTENSIONS)})")
        return Corpus("file", str(rp.parent), [Item(str(rp), rp.name, None, "", rp.stem)])
    raise SourceError(
        f"{s}: no such file or folder, and not a built-in corpus name (use 'bach'; "
        "'--download maestro' fetches MAESTRO)"
    )


__all__ = [
    "CHORALE_VOICES",
    "CHORALE_VOICE_PROGRAMS",
    "SPLITS",
    "Corpus",
    "Item",
    "bach_corpus",
    "find_maestro_csv",
    "folder_corpus",
    "groove_corpus",
    "maestro_corpus",
    "read_item",
    "resolve",
]
