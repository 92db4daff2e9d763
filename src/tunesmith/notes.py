"""``Notes``: the one in-memory type for music in tunesmith.

A piece is a table of notes (a NumPy structured array, so slicing is a view and saving is one write) plus the
piece's tempo map, time signatures, source path and free-form metadata (composer, title, split, ...).

Times are kept twice, in seconds and in quarter notes, both float64: seconds for performance models and audio,
quarter notes for anything on a beat grid (piano rolls, C-RNN-GAN's ticks). The tempo map converts between them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ConfigError, DatasetError

#: One note. Packed (38 bytes) so that a memory-mapped dataset is as small as it can be.
NOTE_DTYPE = np.dtype(
    [
        ("pitch", np.uint8),
        ("velocity", np.uint8),
        ("program", np.uint8),
        ("is_drum", np.bool_),
        ("track", np.uint16),
        ("start", np.float64),
        ("end", np.float64),
        ("start_qn", np.float64),
        ("end_qn", np.float64),
    ]
)
#: One tempo change: where it starts (quarter notes and seconds) and its tempo in quarter notes per minute.
TEMPO_DTYPE = np.dtype([("qn", np.float64), ("seconds", np.float64), ("qpm", np.float64)])
#: One time-signature change, at a time in quarter notes.
TIMESIG_DTYPE = np.dtype([("qn", np.float64), ("numerator", np.uint8), ("denominator", np.uint8)])

DEFAULT_QPM = 120.0
DEFAULT_VELOCITY = 80


def make_tempo_map(qn: Sequence[float] | np.ndarray, qpm: Sequence[float] | np.ndarray) -> np.ndarray:
    """Build a tempo map from change points (quarter notes) and tempi (quarter notes per minute).

    The map always starts at 0 (with 120 qpm unless a change sits at 0); of several changes at one time the last
    wins, as in a MIDI file. Seconds at each change are accumulated in float64.
    """
    qn = np.asarray(qn, dtype=np.float64).ravel()
    qpm = np.asarray(qpm, dtype=np.float64).ravel()
    if qn.shape != qpm.shape:
        raise ConfigError(f"tempo map: {qn.size} change times but {qpm.size} tempi")
    if qpm.size and (not np.all(np.isfinite(qpm)) or np.any(qpm <= 0)):
        raise ConfigError("tempo map: every tempo must be a positive number of quarter notes per minute")
    order = np.argsort(qn, kind="stable")
    qn, qpm = qn[order], qpm[order]
    # keep the last of several changes at the same time
    keep = np.ones(qn.size, dtype=bool)
    keep[:-1] = qn[1:] != qn[:-1]
    qn, qpm = qn[keep], qpm[keep]
    if qn.size == 0 or qn[0] > 0:
        qn = np.concatenate([[0.0], qn])
        qpm = np.concatenate([[DEFAULT_QPM], qpm])
    tempos = np.empty(qn.size, dtype=TEMPO_DTYPE)
    tempos["qn"] = qn
    tempos["qpm"] = qpm
    seconds = np.zeros(qn.size)
    seconds[1:] = np.cumsum(np.diff(qn) * 60.0 / qpm[:-1])
    tempos["seconds"] = seconds
    return tempos


def make_time_signatures(
    qn: Sequence[float] | np.ndarray = (0.0,),
    numerator: Sequence[int] | np.ndarray = (4,),
    denominator: Sequence[int] | np.ndarray = (4,),
) -> np.ndarray:
    ts = np.empty(len(qn), dtype=TIMESIG_DTYPE)
    ts["qn"], ts["numerator"], ts["denominator"] = qn, numerator, denominator
    return ts[np.argsort(ts["qn"], kind="stable")]


@dataclass(eq=False)
class Notes:
    """A piece of music: a table of notes and the piece's tempo map, time signatures and metadata.

    ``notes`` is a structured array of :data:`NOTE_DTYPE`; ``tempos`` of :data:`TEMPO_DTYPE` (never empty, first
    change at 0); ``time_signatures`` of :data:`TIMESIG_DTYPE`. ``metadata`` holds strings such as composer,
    title and split. Slicing (``notes[10:20]``, a boolean mask) returns a new ``Notes`` sharing the piece data.
    """

    notes: np.ndarray
    tempos: np.ndarray = field(default_factory=lambda: make_tempo_map([], []))
    time_signatures: np.ndarray = field(default_factory=make_time_signatures)
    source: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.notes, np.ndarray) or self.notes.dtype != NOTE_DTYPE:
            raise ConfigError("Notes.notes must be a structured array of tunesmith.notes.NOTE_DTYPE")
        if self.tempos.dtype != TEMPO_DTYPE or self.tempos.size == 0:
            raise ConfigError("Notes.tempos must be a non-empty array of TEMPO_DTYPE (use make_tempo_map)")

    # ------------------------------------------------------------------ construction
    @classmethod
    def empty(cls, **kwargs: Any) -> Notes:
        return cls(np.zeros(0, dtype=NOTE_DTYPE), **kwargs)

    @classmethod
    def from_arrays(
        cls,
        pitch: Iterable[int] | np.ndarray,
        start: Iterable[float] | np.ndarray | None = None,
        end: Iterable[float] | np.ndarray | None = None,
        *,
        velocity: Iterable[int] | np.ndarray | int = DEFAULT_VELOCITY,
        program: Iterable[int] | np.ndarray | int = 0,
        track: Iterable[int] | np.ndarray | int = 0,
        is_drum: Iterable[bool] | np.ndarray | bool = False,
        start_qn: Iterable[float] | np.ndarray | None = None,
        end_qn: Iterable[float] | np.ndarray | None = None,
        tempos: np.ndarray | None = None,
        time_signatures: np.ndarray | None = None,
        source: str = "",
        metadata: dict[str, str] | None = None,
    ) -> Notes:
        """Build Notes from columns. Give times in seconds (``start``/``end``) or in quarter notes
        (``start_qn``/``end_qn``) or both; the missing pair is derived from the tempo map (120 qpm by default).
        Values are checked: pitch and velocity in 0..127, program in 0..127, end >= start."""
        pitch = np.asarray(pitch)
        n = pitch.size
        tempos = make_tempo_map([], []) if tempos is None else tempos
        if start is None and start_qn is None:
            raise ConfigError("Notes.from_arrays needs start/end in seconds or start_qn/end_qn in quarter notes")
        arr = np.zeros(n, dtype=NOTE_DTYPE)
        for name, values, lo, hi in (
            ("pitch", pitch, 0, 127),
            ("velocity", velocity, 0, 127),
            ("program", program, 0, 127),
        ):
            v = np.broadcast_to(np.asarray(values), (n,))
            if n and (np.any(v < lo) or np.any(v > hi)):
                raise ConfigError(f"{name} must lie in {lo}..{hi}")
            arr[name] = v
        arr["track"] = np.broadcast_to(np.asarray(track), (n,))
        arr["is_drum"] = np.broadcast_to(np.asarray(is_drum), (n,))
        tmp = cls(arr, tempos=tempos)
        if start is not None:
            arr["start"] = np.asarray(start, dtype=np.float64)
            arr["end"] = np.asarray(end if end is not None else start, dtype=np.float64)
        if start_qn is not None:
            arr["start_qn"] = np.asarray(start_qn, dtype=np.float64)
            arr["end_qn"] = np.asarray(end_qn if end_qn is not None else start_qn, dtype=np.float64)
        if start is None:
            arr["start"] = tmp.qn_to_seconds(arr["start_qn"])
            arr["end"] = tmp.qn_to_seconds(arr["end_qn"])
        if start_qn is None:
            arr["start_qn"] = tmp.seconds_to_qn(arr["start"])
            arr["end_qn"] = tmp.seconds_to_qn(arr["end"])
        if n and (not np.all(np.isfinite(arr["start"])) or not np.all(np.isfinite(arr["end"]))):
            raise ConfigError("note times must be finite")
        if n and (np.any(arr["start"] < 0) or np.any(arr["end"] < arr["start"])):
            raise ConfigError("note times must satisfy 0 <= start <= end")
        return cls(
            arr,
            tempos=tempos,
            time_signatures=make_time_signatures() if time_signatures is None else time_signatures,
            source=source,
            metadata=dict(metadata or {}),
        )

    # ------------------------------------------------------------------ columns and basic ops
    def __len__(self) -> int:
        return int(self.notes.shape[0])

    def __getitem__(self, index: Any) -> Notes:
        sub = self.notes[index]
        if sub.ndim == 0:
            sub = sub.reshape(1)
        return Notes(sub, self.tempos, self.time_signatures, self.source, self.metadata)

    def __repr__(self) -> str:
        return f"Notes({len(self)} notes, {self.duration:.1f} s, source={self.source!r})"

    @property
    def pitch(self) -> np.ndarray:
        return self.notes["pitch"]

    @property
    def velocity(self) -> np.ndarray:
        return self.notes["velocity"]

    @property
    def start(self) -> np.ndarray:
        return self.notes["start"]

    @property
    def end(self) -> np.ndarray:
        return self.notes["end"]

    @property
    def start_qn(self) -> np.ndarray:
        return self.notes["start_qn"]

    @property
    def end_qn(self) -> np.ndarray:
        return self.notes["end_qn"]

    @property
    def duration(self) -> float:
        """Seconds from 0 to the end of the last note."""
        return float(self.notes["end"].max()) if len(self) else 0.0

    def copy(self) -> Notes:
        return Notes(
            self.notes.copy(), self.tempos.copy(), self.time_signatures.copy(), self.source, dict(self.metadata)
        )

    def sorted(self) -> Notes:
        """A copy in the canonical order: by start time, then track, then pitch."""
        order = np.lexsort((self.notes["pitch"], self.notes["track"], self.notes["start_qn"], self.notes["start"]))
        return self[order]

    def with_qn_times(self, arr: np.ndarray) -> Notes:
        """The note table ``arr``, whose quarter-note times were changed, in this piece (tempo map, time signatures,
        source, metadata); its seconds recomputed from the tempo map."""
        out = Notes(arr, self.tempos, self.time_signatures, self.source, dict(self.metadata))
        arr["start"] = out.qn_to_seconds(arr["start_qn"])
        arr["end"] = out.qn_to_seconds(arr["end_qn"])
        return out

    def with_metadata(self, **values: str) -> Notes:
        return Notes(self.notes, self.tempos, self.time_signatures, self.source, {**self.metadata, **values})

    @staticmethod
    def concatenate(parts: Sequence[Notes]) -> Notes:
        """Stack the note tables of ``parts`` (a view of many pieces as one table, times untouched).
        Tempo map, time signatures, source and metadata are the first part's."""
        if not parts:
            return Notes.empty()
        first = parts[0]
        return Notes(
            np.concatenate([p.notes for p in parts]),
            first.tempos,
            first.time_signatures,
            first.source,
            dict(first.metadata),
        )

    def track_names(self) -> dict[int, str]:
        """The names of the piece's tracks as its file gave them (``metadata["track_names"]``), by ``track``."""
        try:
            return {int(k): str(v) for k, v in json.loads(self.metadata.get("track_names", "{}")).items()}
        except (ValueError, AttributeError):
            return {}

    def into_tracks(self, like: Notes, *, exclude: Sequence[int] = ()) -> Notes:
        """These notes (new ones, e.g. generated) filed into the tracks of ``like`` (the piece they belong to): each
        note goes to the track of ``like`` that has its program and drum flag, the one whose median pitch is
        nearest where several do (a chorale's voices on one instrument); notes of a program ``like`` has no track
        for get new tracks after its last, one per program. ``exclude``: tracks of ``like`` that take no new note
        (tracks kept note for note)."""
        out = self.copy()
        a, ref = out.notes, like.notes
        avoid = np.isin(ref["track"], np.asarray(list(exclude), dtype=ref["track"].dtype))
        candidates: dict[tuple[int, bool], list[tuple[int, float]]] = {}
        for t in np.unique(ref["track"][~avoid]).tolist():
            sel = ref[ref["track"] == t]
            for program, drum in np.unique(sel[["program", "is_drum"]]).tolist():
                pitches = sel["pitch"][(sel["program"] == program) & (sel["is_drum"] == drum)]
                candidates.setdefault((int(program), bool(drum)), []).append((int(t), float(np.median(pitches))))
        nxt = int(ref["track"].max()) + 1 if ref.size else 0
        for program, drum in np.unique(a[["program", "is_drum"]]).tolist():
            sel = (a["program"] == program) & (a["is_drum"] == drum)
            options = candidates.get((int(program), bool(drum)))
            if not options:
                a["track"][sel] = nxt
                nxt += 1
                continue
            tracks = np.array([t for t, _ in options])
            medians = np.array([m for _, m in options])
            nearest = np.abs(a["pitch"][sel].astype(np.float64)[:, None] - medians[None, :]).argmin(axis=1)
            a["track"][sel] = tracks[nearest]
        return out

    # ------------------------------------------------------------------ tempo map
    def qn_to_seconds(self, qn: np.ndarray | float) -> np.ndarray:
        """Quarter notes -> seconds through the tempo map (piecewise linear)."""
        t = self.tempos
        qn = np.asarray(qn, dtype=np.float64)
        i = np.clip(np.searchsorted(t["qn"], qn, side="right") - 1, 0, None)
        return t["seconds"][i] + (qn - t["qn"][i]) * 60.0 / t["qpm"][i]

    def seconds_to_qn(self, seconds: np.ndarray | float) -> np.ndarray:
        """Seconds -> quarter notes through the tempo map (piecewise linear)."""
        t = self.tempos
        seconds = np.asarray(seconds, dtype=np.float64)
        i = np.clip(np.searchsorted(t["seconds"], seconds, side="right") - 1, 0, None)
        return t["qn"][i] + (seconds - t["seconds"][i]) * t["qpm"][i] / 60.0

    # ------------------------------------------------------------------ saving
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write to a ``.npz`` file atomically."""
        from .utils import atomic_path

        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(
                f,
                notes=self.notes,
                tempos=self.tempos,
                time_signatures=self.time_signatures,
                header=np.frombuffer(
                    json.dumps({"source": self.source, "metadata": self.metadata}).encode(), dtype=np.uint8
                ),
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Notes:
        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(bytes(z["header"]).decode())
                return cls(z["notes"], z["tempos"], z["time_signatures"], header["source"], header["metadata"])
        except (OSError, ValueError, KeyError) as e:
            raise DatasetError(f"{os.fspath(path)}: not a tunesmith Notes file ({e})") from e
