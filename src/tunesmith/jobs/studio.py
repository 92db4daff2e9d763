"""The studio's job (its face is the page, ``studio/page.py``): which models there are and what each can do, the
pieces a person gives it (checked before anything reads them), and a request turned into the one ``tunesmith``
command that gives the same files, which is also the job it runs. No Gradio here: the page only shows this.

A request runs the jobs the command line runs (``jobs.generate.generate``, ``jobs.harmonize.harmonize``) with the
arguments the command line would pass them, so the command shown beside a result writes the same MIDI files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import re
import shlex
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import render
from ..errors import ConfigError, TunesmithError
from ..families import get_family, specs
from ..families.spec import CONTROLS as CONTROL_GROUP
from ..families.spec import declared_options
from ..io import read_midi, write_midi
from ..notes import Notes
from ..plots import plot_pianoroll, qn_to_bars
from ..pretrained import shipped_models
from ..representations.controls import INSTRUMENT_ALIASES, KEYS, LEVELS, TIME_SIGNATURES
from ..runfiles import CONFIG, WEIGHTS
from .drums import drums_for_song
from .generate import generate
from .harmonize import harmonize
from .live import LiveOptions, RunComposer, answer_phrase
from .runs import open_run

#: the largest file the page takes (the page's upload limit is the same)
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
#: the most variations one request writes
MAX_VARIATIONS = 8
#: the longest continuation a request asks for (new notes, or bars for a model whose length counts bars)
MAX_LENGTH = 1024
#: built-in pieces to start from (package data: a few bars of Bach chorales, their voices on string programs)
EXAMPLES = Path(__file__).resolve().parents[1] / "studio" / "examples"
#: how deep under ``--runs`` run folders are looked for
RUN_DEPTH = 4

#: what a request does, by name, and what the page calls it
MODES = {
    "continue": "Continue",
    "infill": "Regenerate bars",
    "keep": "Keep tracks, write the rest",
    "harmonize": "Harmonise",
    "drums": "Add drums",
}
#: the attribute controls: the generation option, its command-line flag (from the families' declarations)
CONTROLS = {
    name: d.cli_flag
    for name, d in declared_options(specs()).items()
    if d.group == CONTROL_GROUP and name != "guidance"  # guidance: one of the model's options, shown as declared
}
#: every declared option's command-line flag, by name (the flags the command shown uses)
FLAGS = {name: d.cli_flag for name, d in declared_options(specs()).items()}
#: options the page has widgets of its own for (modes, controls, the GAN's decoding); a family's other declared
#: options are shown as they are declared
WIDGETS = frozenset({"infill_bars", "keep_tracks", "threshold", "sample", *CONTROLS})
#: the folder the command line shown writes into (relative to where it is run)
COMMAND_OUT = "ideas"
#: the input choice that gives the model no piece (it begins from its own start, or from noise)
NO_INPUT = "none: the model begins on its own"

Progress = Callable[[float, str], None]


def _quiet(fraction: float, text: str) -> None:
    return None


# ---------------------------------------------------------------------------------------------- models
@dataclass(frozen=True)
class StudioModel:
    """A model the page offers: the RUN argument that names it (a shipped model's name or a run folder) and what
    its family and its config let a request ask for."""

    label: str
    run: str
    kind: str
    summary: str
    modes: tuple[str, ...]
    length_unit: str
    temperature: bool
    controls: bool
    decoding: bool  # the piano-roll GAN's threshold and cell-by-cell sampling
    primer: bool
    #: the family's own options that the page shows as they are declared (the ones with widgets of their own
    #: aside): a family's new option reaches the page with no change here
    options: tuple[str, ...] = ()

    def describe(self) -> str:
        can = ", ".join(MODES[m].lower() for m in self.modes)
        extra = " Trained with attribute controls." if self.controls else ""
        start = "" if self.primer else " It composes from noise and takes no input piece."
        return f"**{self.label}**: {self.kind}, {self.summary}. It can: {can}.{start}{extra}"


def describe_model(run: str | os.PathLike[str], label: str) -> StudioModel:
    """What the run ``run`` can do, from its family and its ``config.json`` (a CheckpointError if it is no run)."""
    loaded = open_run(run)
    fam = get_family(loaded.kind)
    fields = {f.name for f in dataclasses.fields(fam.options_cls)}
    modes = ["continue"]
    if fam.takes_primer and fam.can("infill"):
        modes.append("infill")
    if fam.takes_primer and fam.can("keep_tracks"):
        modes += ["keep", "harmonize"]
    if fam.takes_primer and fam.can("styles"):
        modes.append("drums")
    trained_with_controls = bool((loaded.config.get("model") or {}).get("controls"))
    return StudioModel(
        label=label,
        run=os.fspath(run),
        kind=loaded.kind,
        summary=fam.summary,
        modes=tuple(modes),
        length_unit=fam.length_unit,
        temperature=fam.takes_temperature,
        controls=trained_with_controls and fam.can("controls"),
        decoding={"threshold", "sample"} <= fields,
        primer=fam.takes_primer,
        options=tuple(n for n in declared_options({loaded.kind: fam}) if n not in WIDGETS),
    )


def run_folders(root: str | os.PathLike[str], depth: int = RUN_DEPTH) -> list[Path]:
    """Every run folder (a ``config.json`` with weights beside it) at most ``depth`` folders under ``root``,
    ``root`` itself included, sorted."""
    root = Path(root)
    found = []
    for level in range(depth + 1):
        for config in root.glob("/".join(["*"] * level + [CONFIG])):
            if (config.parent / WEIGHTS).is_file():
                found.append(config.parent)
    return sorted(set(found))


def find_models(runs: str | os.PathLike[str] | None = None) -> dict[str, StudioModel]:
    """The shipped models by name, then every run under ``runs`` by its folder (relative to ``runs``; the RUN
    argument is the folder's absolute path). Folders that are no readable run are left out."""
    models: dict[str, StudioModel] = {}
    for name in shipped_models():
        try:
            models[name] = describe_model(name, name)
        except TunesmithError:
            continue
    if runs is not None:
        root = Path(runs).resolve()
        for folder in run_folders(root):
            rel = folder.relative_to(root).as_posix()
            label = rel if rel != "." else folder.name
            if label in models:
                label = f"{label} (run)"
            try:
                models[label] = describe_model(folder, label)
            except TunesmithError:
                continue
    return models


# ---------------------------------------------------------------------------------------------- pieces
def examples() -> dict[str, Path]:
    """The built-in pieces by their name on the page."""
    return {f"example: {p.stem}": p for p in sorted(EXAMPLES.glob("*.mid"))}


def bar_count(notes: Notes) -> int:
    """Bars from the first to the one holding the last onset (time signatures followed; none: 4/4)."""
    if len(notes) == 0:
        return 0
    last = float(np.max(notes.notes["start_qn"]))
    return int(np.floor(qn_to_bars(np.array([last]), notes.time_signatures)[0] + 1e-6)) + 1


def program_name(program: int, drums: bool = False) -> str:
    if drums:
        return "drums"
    names = {v: k for k, v in reversed(list(INSTRUMENT_ALIASES.items()))}
    return names.get(program, f"program {program}")


def tracks_of(notes: Notes) -> list[str]:
    """Each track, counted from 1 as ``--keep-tracks`` and ``--tracks`` count them: its instrument and notes."""
    a = notes.notes
    out = []
    for i, t in enumerate(np.unique(a["track"])):
        sel = a["track"] == t
        out.append(f"{i + 1}: {program_name(int(a['program'][sel][0]), bool(a['is_drum'][sel][0]))}, {sel.sum()} notes")
    return out


def check_midi(path: str | os.PathLike[str], name: str | None = None) -> Notes:
    """The notes of an uploaded file, or a ConfigError that says, for a person, why it is refused: too large,
    not MIDI, unreadable, or without notes."""
    path = Path(path)
    name = name or path.name
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise ConfigError(
            f"{name}: {size / 1e6:.1f} MB; the studio takes MIDI files up to {MAX_UPLOAD_BYTES / 1e6:.1f} MB"
        )
    try:
        notes = read_midi(path.read_bytes(), name=name)
    except TunesmithError as e:
        raise ConfigError(str(e)) from None
    except Exception as e:  # noqa: BLE001  (whatever the parser says, the page says it too)
        raise ConfigError(f"{name}: not a readable MIDI file ({type(e).__name__}: {e})") from None
    if len(notes) == 0:
        raise ConfigError(f"{name}: a MIDI file without notes; give one with music in it")
    return notes


def describe_piece(label: str, notes: Notes) -> str:
    bars = bar_count(notes)
    tracks = "; ".join(tracks_of(notes))
    return f"**{label}**: {len(notes)} notes in {bars} bars. Tracks: {tracks}."


# ---------------------------------------------------------------------------------------------- requests
@dataclass(frozen=True)
class Request:
    """What the page asks for. ``primer`` is a file the studio holds (an example or a checked upload)."""

    model: StudioModel
    primer: Path | None = None
    mode: str = "continue"
    bars: str | None = None
    tracks: str | None = None
    n: int = 2
    length: int = 64
    temperature: float = 1.0
    seed: int = 0
    controls: dict[str, str] = field(default_factory=dict)
    threshold: float | None = None
    sample: bool = False
    #: the model's other options (:attr:`StudioModel.options`) as the page gives them: a switch on or off, a value
    #: or None
    options: dict[str, object] = field(default_factory=dict)


def page_options() -> dict[str, Any]:
    """Every family's declared options that the page shows as they are declared (:data:`WIDGETS` aside), by
    name: one widget each, shown for the models whose family takes it."""
    return {n: d for n, d in declared_options(specs()).items() if n not in WIDGETS}


def option_flags(req: Request) -> list[str]:
    """The command line's flags for the request's other options, from their declarations."""
    declared = declared_options({req.model.kind: get_family(req.model.kind)})
    argv: list[str] = []
    for name, value in req.options.items():
        d = declared[name]
        if d.kind == "bool":
            argv += [d.cli_flag] if value else []
        elif value not in (None, ""):
            argv += [d.cli_flag, str(value)]
    return argv


def option_values(req: Request) -> dict[str, object]:
    """The job's options for the request's other options, as the command line passes them."""
    declared = declared_options({req.model.kind: get_family(req.model.kind)})
    out: dict[str, object] = {}
    for name, value in req.options.items():
        d = declared[name]
        if d.kind == "bool":
            if value:
                out[name] = not d.invert
        elif value not in (None, ""):
            out[name] = {"int": int, "float": float}.get(d.kind, str)(value)
    return out


def check_request(req: Request) -> None:
    """A ConfigError for what the model cannot do or the request leaves out, before any work."""
    m = req.model
    if req.mode not in m.modes:
        raise ConfigError(
            f"{m.label} cannot {MODES.get(req.mode, req.mode).lower()}; it can: "
            f"{', '.join(MODES[x].lower() for x in m.modes)}"
        )
    if req.primer is not None and not m.primer:
        raise ConfigError(f"{m.label} composes from noise and takes no input piece; choose 'none' as the input")
    if req.mode != "continue" and req.primer is None:
        raise ConfigError(f"{MODES[req.mode]} works on a piece: upload a MIDI file or pick an example first")
    if req.mode == "infill" and not (req.bars or "").strip():
        raise ConfigError("Regenerate bars: say which bars, FIRST-LAST counted from 1 (e.g. 3-4)")
    if req.mode == "keep" and not (req.tracks or "").strip():
        raise ConfigError("Keep tracks: say which tracks to keep, counted from 1 (e.g. 1 or 1,3)")
    if not 1 <= req.n <= MAX_VARIATIONS:
        raise ConfigError(f"variations: 1 to {MAX_VARIATIONS}, got {req.n}")
    if req.mode == "continue" and not 1 <= req.length <= MAX_LENGTH:
        raise ConfigError(f"length: 1 to {MAX_LENGTH}, got {req.length}")
    if not m.temperature and req.temperature != 1.0:
        raise ConfigError(f"{m.label} has no temperature")
    if req.controls and not m.controls:
        raise ConfigError(f"{m.label} was trained without attribute controls")
    unknown = sorted(set(req.options) - set(m.options))
    if unknown:
        raise ConfigError(f"{m.label} takes no option {', '.join(unknown)}")


def _number(x: float) -> str:
    return repr(float(x))


def command(req: Request, out: str = COMMAND_OUT) -> list[str]:
    """The ``tunesmith`` command line (as argv) that writes the files ``req`` asks for into ``out``."""
    m = req.model
    controls = [x for k, v in req.controls.items() for x in (CONTROLS[k], v)]
    if req.mode == "harmonize":
        argv = ["tunesmith", "harmonize", str(req.primer), "--run", m.run, "--out", out, "-n", str(req.n)]
        argv += ["--tracks", req.tracks.strip()] if req.tracks and req.tracks.strip() else []
        argv += ["--seed", str(req.seed), "--temperature", _number(req.temperature)]
        return argv + controls
    if req.mode == "drums":  # the song's drum track, if any, is replaced: the page adds drums to what it is given
        argv = ["tunesmith", "drums", str(req.primer), "--run", m.run, "--out", out, "-n", str(req.n), "--replace"]
        argv += ["--seed", str(req.seed), "--temperature", _number(req.temperature)]
        style = req.options.get("style")
        return argv + (["--style", str(style)] if style else [])
    argv = ["tunesmith", "generate", m.run, "--out", out, "-n", str(req.n)]
    if req.mode == "continue":
        argv += ["--length", str(req.length)]
    if m.temperature:
        argv += ["--temperature", _number(req.temperature)]
    argv += ["--seed", str(req.seed)]
    if req.primer is not None:
        argv += ["--primer", str(req.primer)]
    if req.mode == "infill":
        argv += [FLAGS["infill_bars"], req.bars.strip()]
    if req.mode == "keep":
        argv += [FLAGS["keep_tracks"], req.tracks.strip()]
    if m.decoding and req.threshold is not None and not req.sample:
        argv += [FLAGS["threshold"], _number(req.threshold)]
    if m.decoding and req.sample:
        argv += [FLAGS["sample"]]
    return argv + controls + option_flags(req)


def run_job(req: Request, out: Path) -> list[Path]:
    """The job that :func:`command` names, with the arguments the command line passes it: the MIDI files."""
    m = req.model
    if req.mode == "harmonize":
        return list(
            harmonize(
                req.primer,
                m.run,
                out,
                n=req.n,
                tracks=(req.tracks or "").strip() or None,
                seed=req.seed,
                temperature=float(req.temperature),
                controls=dict(req.controls),
            )
        )
    if req.mode == "drums":
        style = req.options.get("style")
        r = drums_for_song(
            req.primer, out, run=m.run, style=str(style) if style else None, replace=True, n=req.n, seed=req.seed,
            temperature=float(req.temperature),
        )  # fmt: skip
        return list(r["files"])
    options: dict[str, object] = dict(req.controls)
    if req.mode == "infill":
        options["infill_bars"] = req.bars.strip()
    if req.mode == "keep":
        options["keep_tracks"] = req.tracks.strip()
    if m.decoding and req.sample:
        options["sample"] = True
    elif m.decoding and req.threshold is not None:
        options["threshold"] = float(req.threshold)
    options.update(option_values(req))
    return list(
        generate(
            m.run,
            out,
            n=req.n,
            length=req.length if req.mode == "continue" else 200,
            temperature=float(req.temperature),
            primer=req.primer,
            seed=req.seed,
            options=options,
        )
    )


@dataclass(frozen=True)
class Take:
    """One variation: its MIDI file, piano roll, sound, seed and size."""

    midi: Path
    png: Path
    wav: Path | None
    seed: int
    bars: int
    notes: int

    def caption(self, i: int) -> str:
        return f"Variation {i + 1}: seed {self.seed}, {self.notes} notes in {self.bars} bars"


@dataclass(frozen=True)
class Result:
    takes: list[Take]
    command: str
    folder: Path
    engine: str


# ---------------------------------------------------------------------------------------------- live
#: the most notes a phrase from the page's Live tab may hold
MAX_PHRASE_NOTES = 512
#: the most bars a Live tab answer lasts
MAX_ANSWER_BARS = 8
#: the notes the Live tab's answer is composed in at first (then as the engine goes on: up to 32 a call)
ANSWER_CHUNK = 48
_PHRASE_NOTE = re.compile(r"^(\d{1,3}):(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)(?::(\d{1,3}))?$")


def parse_phrase(text: str) -> Notes:
    """The Live tab's phrase: notes as ``PITCH:START-END[:VELOCITY]`` (seconds from the first note) separated by
    spaces or commas, e.g. ``60:0.000-0.400 62:0.500-0.900:90``. A ConfigError names a bad entry."""
    rows = []
    for item in re.split(r"[\s,]+", (text or "").strip()):
        if not item:
            continue
        m = _PHRASE_NOTE.match(item)
        if not m:
            raise ConfigError(f"{item!r} is not a note (PITCH:START-END, seconds, e.g. 60:0.0-0.4)")
        pitch, start, end, vel = int(m[1]), float(m[2]), float(m[3]), int(m[4] or 80)
        if pitch > 127 or not 1 <= vel <= 127 or end < start:
            raise ConfigError(f"{item!r}: a pitch 0..127, a velocity 1..127 and an end after the start")
        rows.append((pitch, start, end, vel))
    if not rows:
        raise ConfigError("the phrase has no notes: play something first")
    if len(rows) > MAX_PHRASE_NOTES:
        raise ConfigError(f"a phrase holds at most {MAX_PHRASE_NOTES} notes; this one has {len(rows)}")
    p, st, en, v = (np.array(c) for c in zip(*rows, strict=True))
    return Notes.from_arrays(p, st, en, velocity=v).sorted()


def phrase_text(notes: Notes) -> str:
    """Notes as the Live tab writes them (:func:`parse_phrase`'s form)."""
    return " ".join(
        f"{int(n['pitch'])}:{float(n['start']):.3f}-{float(n['end']):.3f}:{int(n['velocity'])}" for n in notes.notes
    )


@dataclass(frozen=True)
class LiveAnswer:
    """The Live tab's answer: its notes (:func:`phrase_text`'s form, seconds from its first note), its MIDI file,
    its sound, and the seconds it took to compose."""

    notes: str
    midi: Path
    wav: Path | None
    engine: str
    seconds: float
    bpm: float


class Studio:
    """The studio's state: where its files go, the models found, the inputs it holds (examples and checked
    uploads, by the name the page shows), and a lock around the figures (pyplot is not thread-safe)."""

    def __init__(self, work: str | os.PathLike[str], runs: str | os.PathLike[str] | None = None) -> None:
        self.work = Path(work).resolve()
        self.runs = None if runs is None else Path(runs).resolve()
        self.uploads = self.work / "uploads"
        self.results = self.work / "results"
        for d in (self.uploads, self.results):
            d.mkdir(parents=True, exist_ok=True)
        self.inputs: dict[str, Path] = dict(examples())
        self._models: dict[str, StudioModel] = {}
        self._lock = threading.Lock()
        self._draw = threading.Lock()  # pyplot's figures, and the synthesizer, one at a time
        self._count = itertools.count(1)
        self._composers: dict[str, RunComposer] = {}  # the Live tab's models, loaded once
        self._live = threading.Lock()  # one answer composed at a time (a model's calls are counted for seeds)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunesmith-live")
        self._prepared: dict[tuple, Future] = {}  # answers begun before they were asked for
        self.refresh()

    # models -----------------------------------------------------------------------------------------------
    def refresh(self) -> dict[str, StudioModel]:
        """Look for models again (runs that finished training since appear)."""
        found = find_models(self.runs)
        with self._lock:
            self._models = found
        return found

    @property
    def models(self) -> dict[str, StudioModel]:
        return self._models

    def model(self, label: str | None) -> StudioModel:
        if not label or label not in self._models:
            if not self._models:
                raise ConfigError("no model to generate with: train a run and start the studio with --runs FOLDER")
            raise ConfigError(f"no model called {label!r} here; choose one of the list")
        return self._models[label]

    # inputs -----------------------------------------------------------------------------------------------
    def add_upload(self, path: str | os.PathLike[str], name: str | None = None) -> tuple[str, Notes]:
        """Check an uploaded file and keep a copy under the studio's folder; its name on the page and its
        notes. A ConfigError says why a file is refused."""
        path = Path(path)
        name = Path(name or path.name).name
        notes = check_midi(path, name)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem)[:60] or "upload"
        kept = self.uploads / digest / f"{safe}.mid"
        if not kept.is_file():
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, kept)
        label = f"upload: {safe}.mid [{digest[:6]}]"
        with self._lock:
            self.inputs[label] = kept
        return label, notes

    def input(self, label: str | None) -> Path | None:
        """The file an input name stands for (None: no input); only files the studio holds are named."""
        if not label or label == NO_INPUT:
            return None
        if label not in self.inputs:
            raise ConfigError(f"no input called {label!r}: upload the file again or pick an example")
        return self.inputs[label]

    def preview(self, label: str, notes: Notes) -> Path:
        """The piano roll of an input, in bars."""
        folder = self.work / "previews"
        folder.mkdir(exist_ok=True)
        key = hashlib.sha256(label.encode()).hexdigest()[:12]
        return self.draw(notes, folder / f"{key}.png", label)

    def draw(self, notes: Notes, path: Path, title: str) -> Path:
        with self._draw:
            return plot_pianoroll(notes, path, title=title, unit="bars")

    # generating -------------------------------------------------------------------------------------------
    def run(self, req: Request, progress: Progress = _quiet, audio: bool = True) -> Result:
        """Write the request's variations into a new folder of results, each with a piano roll and a WAV."""
        check_request(req)
        folder = self.results / f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._count):04d}"
        progress(0.05, f"generating {req.n} variation{'s' if req.n > 1 else ''} with {req.model.label}")
        midis = run_job(req, folder)
        takes, engines = [], set()
        for i, midi in enumerate(midis):
            progress(0.5 + 0.5 * i / len(midis), f"drawing and rendering variation {i + 1} of {len(midis)}")
            notes = read_midi(midi)
            png = self.draw(notes, midi.with_suffix(".png"), f"variation {i + 1} (seed {req.seed + i})")
            wav = None
            if audio:
                with self._draw:
                    wav, engine = render(notes, midi.with_suffix(".wav"))
                engines.add(engine)
            takes.append(Take(midi, png, wav, req.seed + i, bar_count(notes), len(notes)))
        progress(1.0, "done")
        return Result(takes, shlex.join(command(req)), folder, "; ".join(sorted(engines)))

    # the Live tab -----------------------------------------------------------------------------------------
    def _composer(self, m: StudioModel, opts: LiveOptions) -> RunComposer:
        composer = self._composers.get(m.run)
        if composer is None:
            composer = self._composers[m.run] = RunComposer(m.run, opts)
        return composer

    def ready(self, label: str | None) -> None:
        """Load a model for the Live tab ahead of its first phrase (a model that cannot answer is left alone)."""
        m = self.model(label)
        if m.primer:
            with self._live:
                self._composer(m, LiveOptions(run=m.run))

    def answer(
        self,
        label: str | None,
        phrase: str,
        *,
        bars: int = 2,
        tempo: float | None = None,
        seed: int = 0,
        audio: bool = True,
    ) -> LiveAnswer:
        """Answer a phrase played on the page as ``tunesmith live answer`` answers one played on a keyboard
        (``jobs.live.answer_phrase``: the same engine), written as MIDI and rendered to WAV."""
        key = (label, phrase, int(bars), tempo or None, int(seed))
        with self._lock:
            begun = self._prepared.pop(key, None)
        if begun is not None:  # composed while the player waited (prepare): the same answer, sooner
            composed, spent = begun.result()
        else:
            composed, spent = self._compose(*key)
        folder = self.work / "live"
        folder.mkdir(exist_ok=True)
        midi = write_midi(composed, folder / f"answer-{next(self._count):04d}.mid")
        wav, engine = None, ""
        if audio and len(composed):
            with self._draw:
                wav, engine = render(composed, midi.with_suffix(".wav"))
        return LiveAnswer(phrase_text(composed), midi, wav, engine, spent, float(composed.tempos["qpm"][0]))

    def prepare(
        self, label: str | None, phrase: str, *, bars: int = 2, tempo: float | None = None, seed: int = 0
    ) -> None:
        """Begin composing the answer to ``phrase`` now, in the background (the page asks when the player lets go
        of every key, before the wait is over); :meth:`answer` with the same arguments takes it. Errors wait for
        :meth:`answer` to say them."""
        key = (label, phrase, int(bars), tempo or None, int(seed))
        with self._lock:
            if key in self._prepared:
                return
            for old, begun in list(self._prepared.items()):  # a phrase played on: its answer not begun is dropped
                if begun.cancel() or len(self._prepared) > 3:
                    del self._prepared[old]
            self._prepared[key] = self._pool.submit(self._compose, *key)

    def _compose(
        self, label: str | None, phrase: str, bars: int, tempo: float | None, seed: int
    ) -> tuple[Notes, float]:
        m = self.model(label)
        if not m.primer:
            raise ConfigError(f"{m.label} composes from noise and cannot continue a phrase: choose another model")
        if not 1 <= int(bars) <= MAX_ANSWER_BARS:
            raise ConfigError(f"an answer lasts 1 to {MAX_ANSWER_BARS} bars, not {bars}")
        notes = parse_phrase(phrase)
        # the whole answer in one call where it fits (a chunk of ANSWER_CHUNK notes): played, the first chunk is
        # small so that it is ready before the wait is over; here the phrase is whole and each call re-reads it
        opts = LiveOptions(run=m.run, bars=int(bars), tempo=tempo or None, seed=int(seed), first=ANSWER_CHUNK).check()
        t0 = time.perf_counter()
        with self._live:
            composer = self._composer(m, opts)
            composer.opts = opts  # its temperature; the seeds are the engine's: the same phrase, the same answer
            answer = answer_phrase(composer, notes, opts)
        return answer, time.perf_counter() - t0


__all__ = [  # what the page shows, read_midi and the controls' values among them
    "CONTROLS",
    "KEYS",
    "LiveAnswer",
    "MAX_ANSWER_BARS",
    "parse_phrase",
    "phrase_text",
    "LEVELS",
    "TIME_SIGNATURES",
    "MAX_UPLOAD_BYTES",
    "MAX_VARIATIONS",
    "MODES",
    "NO_INPUT",
    "Request",
    "Result",
    "Studio",
    "StudioModel",
    "Take",
    "bar_count",
    "check_midi",
    "command",
    "describe_model",
    "examples",
    "find_models",
    "run_job",
    "describe_piece",
    "page_options",
    "read_midi",
]
