"""Retrain the shipped models from their data, with their seeds and budgets, ship them and print their figures
(``make pretrained``; docs/models.md).

    python benchmarks/pretrained.py                       # every model, its budget below, into the package
    python benchmarks/pretrained.py --models piano --maestro PATH/TO/maestro-v3.0.0
    python benchmarks/pretrained.py --models bach --preset tiny --minutes 0.2 --limit 40 -n 4 --length 40 \\
        --out /tmp/models --work /tmp/work                # the whole path in about a minute (a check, not a model)
    python benchmarks/pretrained.py --models piano --maestro DIR --start-from piano   # only piano's second stage

Per model: prepare its data (``bach``: the built-in chorales; ``piano``: MAESTRO, from ``--maestro`` or
``$TUNESMITH_MAESTRO``, skipped with a message where neither names a folder), train the Transformer with the
model's preset, seed and time budget (then, for a model with a second stage, fine-tune that run with the stage's
settings and budget: ``train --init``), ship it (bf16 weights, ``config.json``, tokenizer, arrays, log) into a
staging folder, and measure *that* (what ships, not the float32 run): held-out bits per note on the test split
and the overlap with the test split as a fraction of the ceiling (``tunesmith evaluate``'s report, pieces of
``--length`` notes), and the originality check (``tunesmith originality``) of generated pieces against the training
split. Then it ships the model with its card into ``--out`` (the package's folder by default) and prints the
figures and the card's row for docs/models.md. The budgets are the constants in :data:`MODELS`; the flags override
them for every model named. ``--start-from RUN`` skips the first stage and fine-tunes RUN (a run folder or a
shipped model's name: the model shipped now); ``--resume`` continues each stage's run in ``--work`` where it stopped
(exactly; a finished one is taken as it is), so that a failure after hours of training costs no retraining.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tunesmith.dataset import Dataset
from tunesmith.evaluation.protocol import EvalOptions
from tunesmith.families import get_family
from tunesmith.jobs.drums import measure as measure_drums
from tunesmith.jobs.generate import generate
from tunesmith.jobs.humanize import measure, summary
from tunesmith.jobs.originality import check_originality
from tunesmith.jobs.prepare import prepare_dataset
from tunesmith.jobs.pretrained import SHIPPED_DTYPES, add_originality_index, share_originality_index, ship_run
from tunesmith.jobs.report import evaluate
from tunesmith.jobs.train import train
from tunesmith.pretrained import CARD, PACKAGE_MODELS, get_model, read_card, resolve_run, shipped_models
from tunesmith.runfiles import STATE, WEIGHTS
from tunesmith.training.checkpoint import load_config, load_trainer_state

MAESTRO_ENV = "TUNESMITH_MAESTRO"
#: a model trained on at most this many notes ships the originality index of them (compact: MAESTRO's train split,
#: 5.7 million notes, in 5.1 MB; the classical collection's 9 million would add 8 MB to each of three models)
MAX_INDEXED_NOTES = 6_000_000


@dataclass(frozen=True)
class Spec:
    """One shipped model: what it is, its data and its budget."""

    summary: str
    data: str
    split: str
    license: str
    minutes: float  # training budget (wall clock, validation included), on the hardware the card names; 0: steps
    preset: str = "small"
    kind: str = "transformer"
    #: the corpus: "bach" (built in), "maestro" (--maestro) or "classical" (--classical)
    source: str = "bach"
    #: a budget of optimizer steps instead of minutes (the same weights on any machine), each run in one thread
    steps: int = 0
    seed: int = 0
    length: int = 100  # notes per generated piece for the evaluation and the originality check
    pieces: int = 64  # generated pieces for the evaluation and the originality check
    #: settings beyond the preset's, for a model whose card predates a change of the presets
    settings: tuple[tuple[str, str], ...] = ()
    #: a second stage: the first stage's run fine-tuned (``train --init``) with these settings for these minutes
    finetune_settings: tuple[tuple[str, str], ...] = ()
    finetune_minutes: float = 0.0
    #: the model's own generation defaults, where the house's do not suit it (config.json's ``generation``)
    generation: tuple[tuple[str, float], ...] = ()


#: The shipped models and their budgets: bach 1,500 steps in one thread, piano 100 minutes on 2 cores (docs/models.md).
MODELS: dict[str, Spec] = {
    "bach": Spec(
        summary="four-part chorales in the style of J. S. Bach: continues a primer or one of its own openings",
        data="J. S. Bach's chorales (music21's corpus, built in: tunesmith prepare bach)",
        split="tunesmith's split of the chorales by tune (chorales that share a tune in one split; 258 tunes), by "
        "a hash of each tune's first file name: 90% train, 5% validation, 5% test",
        license="MIT, as tunesmith; the chorales are public-domain music, encoded in music21's corpus (BSD-3-Clause)",
        minutes=0,
        steps=1_500,  # one thread: the same weights on any machine (1,446 steps were its 20 minutes before)
        length=100,
        # trained before the presets changed: fill-in-the-middle in the PSM order, a constant rate after warm-up
        settings=(("fim_order", "PSM"), ("lr_decay", "0")),
    ),
    "piano": Spec(
        source="maestro",
        summary="solo piano performances (MAESTRO): continues a primer or one of its own openings, with expression",
        data="MAESTRO v3.0.0, train split (962 performances, about 160 hours of solo piano)",
        split="MAESTRO v3.0.0's own split: train 962, validation 137, test 177",
        license="CC BY-NC-SA 4.0, as MAESTRO (its training data): non-commercial use, share alike, credit MAESTRO",
        minutes=100,
        length=400,
        # trained before the presets snapped played chords (100 minutes on an Intel Xeon with bf16: 17,371 steps),
        # then fine-tuned on snapped chords at half the rate (docs/models.md)
        settings=(("chord_window", "0"),),
        finetune_settings=(("chord_window", "0.4"), ("lr", "1e-3")),
        finetune_minutes=60,
    ),
}


#: the humanizer's budget, in one thread: its validation loss was lowest at 1,911 steps (the 7th epoch) and rose
#: after (docs/drums.md); the weights of the best validation are the ones shipped
GROOVE_STEPS = 2_800
MAESTRO_DATA = "MAESTRO v3.0.0, train split (962 performances, about 160 hours of solo piano)"
MAESTRO_SPLIT = "MAESTRO v3.0.0's own split: train 962, validation 137, test 177"
MAESTRO_LICENSE = "CC BY-NC-SA 4.0, as MAESTRO (its training data): non-commercial use, share alike, credit MAESTRO"
CLASSICAL_DATA = "the C-RNN-GAN paper's classical MIDI collection (3029 files; those that read), train split"
CLASSICAL_SPLIT = "tunesmith's hash split of the file paths: 90% train, 5% validation, 5% test"
CLASSICAL_LICENSE = "MIT, as tunesmith; the training data is the C-RNN-GAN paper's public collection"

#: The paper's models, each on the data and at the length of its best figures in docs/rnn.md, docs/gan.md and
#: docs/crnngan.md, as budgets of steps (one thread each): the RNN 28,000 steps on MAESTRO (its 20 minutes of
#: docs/rnn.md were 28,133 steps in two threads),
#: the GAN's best validation score (446 of 654 iterations on MAESTRO), C-RNN-GAN and C-RNN-GAN-3 9 epochs each
#: (6 of pretraining) and the baseline 25 epochs on the classical collection (135 steps an epoch).
PAPER_MODELS: dict[str, Spec] = {
    "rnn": Spec(
        summary="the paper's RNN note model (LSTM; pitch, step, duration, velocity), tunesmith's default preset",
        data=MAESTRO_DATA, split=MAESTRO_SPLIT, license=MAESTRO_LICENSE, minutes=0, preset="default",
        kind="rnn", source="maestro", steps=28_000, length=400,
    ),
    "gan": Spec(
        summary="the paper's piano-roll GAN (WGAN-GP, octave convolutions): 4-bar phrases chained into pieces",
        data=MAESTRO_DATA, split=MAESTRO_SPLIT, license=MAESTRO_LICENSE, minutes=0, preset="default",
        kind="gan", source="maestro", steps=650, length=8,
    ),
    "crnngan": Spec(
        summary="C-RNN-GAN (Mogren 2016): a recurrent GAN over tone events",
        data=CLASSICAL_DATA, split=CLASSICAL_SPLIT, license=CLASSICAL_LICENSE, minutes=0, preset="default",
        kind="crnngan", source="classical", steps=1_215, length=100,
    ),
    "crnngan3": Spec(
        summary="C-RNN-GAN-3: up to three tones that start together per step",
        data=CLASSICAL_DATA, split=CLASSICAL_SPLIT, license=CLASSICAL_LICENSE, minutes=0, preset="default",
        kind="crnngan3", source="classical", steps=1_215, length=100,
    ),
    "baseline": Spec(
        summary="C-RNN-GAN's baseline: its generator alone, trained to predict the next tone event",
        data=CLASSICAL_DATA, split=CLASSICAL_SPLIT, license=CLASSICAL_LICENSE, minutes=0, preset="default",
        kind="baseline", source="classical", steps=3_375, length=100,
    ),
}
MODELS.update(PAPER_MODELS)
#: the drum models, on the Groove MIDI Dataset (its own split; CC BY 4.0)
GROOVE_DATA = "the Groove MIDI Dataset v1.0.0, train split (897 performances by 10 drummers on a Roland TD-11)"
GROOVE_SPLIT = "the Groove MIDI Dataset's own split (info.csv): train 897, validation 124, test 129"
GROOVE_LICENSE = "CC BY 4.0, as the Groove MIDI Dataset (Gillick et al. 2019, the Magenta team): credit it"
MODELS["groove"] = Spec(
    summary="the humanizer: programmed drums played as the Groove MIDI Dataset's drummers play them "
    "('tunesmith humanize')",
    data=GROOVE_DATA, split=GROOVE_SPLIT, license=GROOVE_LICENSE, minutes=0, preset="default", kind="humanizer",
    source="groove", steps=GROOVE_STEPS, seed=0,
)
#: the drummer's budget, in one thread: 3,000 steps of 32 windows of 8 bars (about 5.5 epochs of the train split)
DRUMS_STEPS = 3_000
MODELS["drums"] = Spec(
    summary="grooves by style (18 of the Groove MIDI Dataset's) with fills, played with a drummer's timing and "
    "velocity: 'tunesmith generate drums --style funk --bars 8 --fill-every 4'",
    data=GROOVE_DATA, split=GROOVE_SPLIT, license=GROOVE_LICENSE, minutes=0, preset="default", kind="drummer",
    source="groove", steps=DRUMS_STEPS, seed=0, length=8,
)
#: the lead-sheet model's budget, in one thread: the quick preset's validation loss was lowest at 864 steps; 1,320
#: lets the trainer stop early there and bring the rate to zero (docs/chords.md)
LEADSHEET_STEPS = 1_320
MODELS["leadsheet"] = Spec(
    summary="melodies over a chord progression, as lead sheets write them: "
    "'tunesmith generate leadsheet --chords \"C | G | Am | F\" --bars 8'",
    data="OpenEWLD, train split (the public-domain part of the Enhanced Wikifonia Leadsheet Dataset: 502 lead "
    "sheets, one melody with its chord symbols)",
    split="tunesmith's hash split of the file paths: 90% train, 5% validation, 5% test",
    license="MIT, as tunesmith and the OpenEWLD collection; the songs are public domain",
    minutes=0, preset="quick", source="openewld", steps=LEADSHEET_STEPS, seed=0, length=100,
    # a melody keeps its passing notes: strictness 0 gave 80.4% of its sounding time on the chords' tones (real
    # melodies 77.3%) and the best overlap of 0, 1, 2 and 4 on the validation split (docs/chords.md)
    generation=(("chord_strictness", 0.0),),
)
CLASSICAL_ENV = "TUNESMITH_CLASSICAL"
GROOVE_ENV = "TUNESMITH_GROOVE"
OPENEWLD_ENV = "TUNESMITH_OPENEWLD"


def hardware() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU"
    return f"{cpu}, {os.cpu_count()} cores{gpu}; torch {torch.__version__}, {torch.get_num_threads()} threads"


def source_of(name: str, spec: Spec, args: argparse.Namespace) -> str | None:
    """The corpus to prepare for a model, or None (with the reason printed) where it is absent."""
    if spec.source == "bach":
        return "bach"
    flag, env, what, how = {
        "maestro": (args.maestro, MAESTRO_ENV, "MAESTRO", "'tunesmith prepare --download maestro' fetches it"),
        "classical": (args.classical, CLASSICAL_ENV, "classical collection", "the collection"),
        "groove": (args.groove, GROOVE_ENV, "Groove MIDI Dataset", "'tunesmith prepare --download groove' fetches it"),
        "openewld": (args.openewld, OPENEWLD_ENV, "OpenEWLD", "its MusicXML lead sheets"),
    }[spec.source]
    folder = flag or os.environ.get(env)
    if not folder or not Path(folder).is_dir():
        print(f"{name}: skipped: no {what} folder (give --{spec.source} DIR or set ${env}; {how})", flush=True)
        return None
    return folder


def build(name: str, spec: Spec, args: argparse.Namespace) -> dict[str, Any] | None:
    source = source_of(name, spec, args)
    if source is None:
        return None
    work = Path(args.work) / name
    preset = args.preset or spec.preset
    minutes = spec.minutes if args.minutes is None else args.minutes
    steps = (spec.steps if args.steps is None else args.steps) if args.minutes is None else 0
    seed = spec.seed if args.seed is None else args.seed
    length = args.length or spec.length
    n = args.n or spec.pieces
    finetune = spec.finetune_minutes if args.finetune_minutes is None else args.finetune_minutes
    finetune_steps = args.finetune_steps or 0
    tune_settings = {**dict(spec.finetune_settings), **dict(kv.split("=", 1) for kv in args.finetune_set or [])}
    if finetune_steps:
        finetune = finetune or 1.0  # a stage there is; its budget is the steps
    if args.start_from and not finetune:
        print(
            f"{name}: skipped: --start-from fine-tunes a model, and {name} has no second stage "
            "(give --finetune-minutes)",
            flush=True,
        )
        return None
    print(f"{name}: preparing {source}", flush=True)
    data = prepare_dataset(source, Path(args.work) / "data" / spec.source, limit=args.limit, progress=False).root
    t0 = time.perf_counter()
    stages: list[dict[str, Any]] = []
    resumed: list[Path] = []  # stages continued from --work (--resume): this job's clock says nothing of them
    if args.start_from:
        start = resolve_run(args.start_from)
        stages.append(stage_of(start, f"--start-from {args.start_from}"))
        run = start
    else:
        run = work / "run"
        budget = {"max_steps": str(steps), "epochs": "100000", "threads": "1"} if steps else {}
        budget = budget or {"max_time": f"{minutes * 60:.1f}"}
        said = f"{steps} steps in one thread" if steps else f"{minutes:g} minutes"
        print(f"{name}: training {spec.kind}, preset {preset}, seed {seed}, {said}", flush=True)
        over = {**dict(spec.settings), "seed": str(seed), **budget}
        summary = train_stage(
            run, data, args.resume, resumed, spec.kind, progress=not args.quiet, preset=preset, overrides=over
        )
        spent = {"budget_steps": steps} if steps else {"budget_minutes": minutes}
        stages.append(stage_of(run, "trained from scratch", summary) | spent)
    if finetune:
        said = f"{finetune_steps} steps in one thread" if finetune_steps else f"{finetune:g} minutes"
        print(f"{name}: fine-tuning {run}, {tune_settings}, {said}", flush=True)
        tuned = work / "finetuned"
        budget = (
            {"max_steps": str(finetune_steps), "epochs": "100000", "threads": "1"}
            if finetune_steps
            else {"max_time": f"{finetune * 60:.1f}"}
        )
        over = {**tune_settings, "seed": str(seed), **budget}
        summary = train_stage(
            tuned, data, args.resume, resumed, spec.kind, progress=not args.quiet, init=str(run), overrides=over
        )
        how = f"fine-tuned with {tune_settings}"
        spent = {"budget_steps": finetune_steps} if finetune_steps else {"budget_minutes": finetune}
        stages.append(stage_of(tuned, how, summary) | spent)
        run = tuned
    wall = time.perf_counter() - t0
    budget_flag = ["--steps", str(steps)] if not args.start_from and steps else ["--minutes", f"{minutes:g}"]
    command = shlex.join(
        ["python", "benchmarks/pretrained.py", "--models", name, "--preset", preset, *budget_flag]
        + ["--seed", str(seed), "--length", str(length), "-n", str(n)]
        + (["--finetune-steps", str(finetune_steps)] if finetune_steps else [])
        + (["--finetune-minutes", f"{finetune:g}"] if finetune and not finetune_steps else [])
        + [f"--finetune-set={kv}" for kv in args.finetune_set or []]
        + (["--limit", str(args.limit)] if args.limit else [])
        + (["--start-from", str(args.start_from)] if args.start_from else [])
        + ([f"--{spec.source}", f"{spec.source.upper()}_FOLDER"] if spec.source != "bach" else [])
    )
    keys = ("steps", "epochs", "train_seconds", "budget_minutes", "budget_steps")
    total = {k: sum(st.get(k) or 0 for st in stages) for k in keys}
    card: dict[str, Any] = {
        "summary": spec.summary,
        "data": spec.data if not args.limit else f"{spec.data}; only the first {args.limit} files",
        "split": spec.split,
        "license": spec.license,
        **total,  # over the stages; train_seconds: the trainer's clock, which the budgets limit
        # this job's training (tokenizing the data once, training, validating); none where a stage was resumed
        "wall_seconds": None if resumed else round(wall, 1),
        "stages": stages,
        "stopped": summary["stopped"],
        "best_validation_loss": summary["best_val"],
        "hardware": hardware(),
        "command": command,
    }
    own = dict(spec.generation)
    staged = ship_run(run, name, card, root=work / "staged", dtype=args.dtype, generation=own)
    print(f"{name}: {summary['step']} steps in {wall:.0f} s; measuring the shipped weights ({args.dtype})", flush=True)
    if get_family(spec.kind).can("humanize"):
        figures = humanize_figures(staged.path, data)
        ship_run(run, name, {**card, **figures}, root=args.out, dtype=args.dtype, generation=own)
        return get_model(name, roots=[Path(args.out)]).card
    bars = get_family(spec.kind).length_unit == "bars"
    opts = EvalOptions(n=n, seed=0, length=100 if bars else length, bars=length if bars else 8)
    report = evaluate([staged.path], data, work / "evaluation", opts, progress=not args.quiet, audio=False)
    m = report["models"][0]
    samples = work / "samples"
    if samples.exists():
        shutil.rmtree(samples)
    generate(staged.path, samples, n=n, length=length, seed=0)
    orig = check_originality(samples, data, "train")
    figures = {
        "held_out_bits_per_note": (m["likelihood"] or {}).get("bits_per_note"),
        "held_out_split": "test",
        "overlap_fraction_of_ceiling": m["overlap_fraction_of_ceiling"],
        "overlap": m["overlap"],
        "ceiling_overlap": m["ceiling_overlap"],
        "evaluation": {"pieces": n, "notes_per_piece": length, "seed": 0},
        "originality": {
            "copied_share": orig["copied_share"],
            "longest_run": max((p["longest"] for p in orig["pieces"]), default=0),
            "copy_notes": orig["copy_notes"],
            "pieces": len(orig["pieces"]),
        },
    }
    if get_family(spec.kind).can("styles"):
        figures["drums"] = drum_figures(staged.path, data, m)
        # the pitched statistics say nothing of drums: the overlap is the drum features' (docs/drums.md)
        drums = figures["drums"]
        figures["overlap"] = drums["feature_overlap_mean"]
        figures["ceiling_overlap"] = drums["feature_ceiling_mean"]
        figures["overlap_fraction_of_ceiling"] = drums["feature_overlap_mean"] / drums["feature_ceiling_mean"]
    ship_run(run, name, {**card, **figures}, root=args.out, dtype=args.dtype, generation=own)
    # the index of its training split, where it is small, or the one a model trained on the same split ships
    train_notes = int(Dataset.load(data).info()["splits"]["train"]["notes"])
    twin = indexed_twin(name, args.out)
    if twin:
        share_originality_index(name, twin, root=args.out)
        print(f"{name}: uses {twin}'s originality index (the same training split)", flush=True)
    elif train_notes <= MAX_INDEXED_NOTES and add_originality_index(name, data, root=args.out):
        print(f"{name}: shipped with the originality index of its {train_notes:,} training notes", flush=True)
    return get_model(name, roots=[Path(args.out)]).card


def humanize_figures(staged: Path, data: Path) -> dict[str, Any]:
    """A humanizer's card figures: its errors against the drummers of the test split beside the three baselines'
    (``benchmarks/bench_humanize.py``'s protocol); it writes no music of its own, so no likelihood, overlap or
    originality."""
    result = measure(staged, data, "test")
    return {
        "held_out_bits_per_note": None,
        "overlap_fraction_of_ceiling": None,
        "held_out_split": "test",
        "humanize": {"pieces": result["pieces"], "hits": result["hits"],
                     "programmed_velocity": result["programmed_velocity"], **summary(result)},
        "originality": None,
    }


def drum_figures(staged: Path, data: Path, m: dict[str, Any]) -> dict[str, Any]:
    """A drum model's card figures: styles recognised and fills where asked against the classifiers' ceiling on
    real test drumming (``benchmarks/bench_drums.py``), and the drum features' overlap with the test split."""
    r = measure_drums(staged, data, "test")
    keep = (
        "styles", "style_real_mean", "style_generated_mean", "fill_real", "fill_generated", "break_edge",
        "break_real_fills", "break_generated_fills", "break_generated_beats", "per_style", "bars",
    )  # fmt: skip
    drums = m.get("drums") or {}
    comparison, ceiling = drums.get("comparison") or {}, drums.get("ceiling") or {}
    return {
        **{k: r[k] for k in keep},
        "feature_overlap": {f: round(c["overlap"], 3) for f, c in comparison.items()},
        "feature_ceiling": {f: round(c["overlap"], 3) for f, c in ceiling.items()},
        "feature_overlap_mean": float(np.mean([c["overlap"] for c in comparison.values()])) if comparison else 0.0,
        "feature_ceiling_mean": float(np.mean([c["overlap"] for c in ceiling.values()])) if ceiling else 1.0,
    }


def indexed_twin(name: str, root: str | Path) -> str | None:
    """A shipped model in ``root`` other than ``name``, trained on the same data and split, that ships its own
    originality index."""
    models = shipped_models([Path(root)])
    card = models[name].card
    for other, m in sorted(models.items()):
        same = (m.card.get("data"), m.card.get("split")) == (card.get("data"), card.get("split"))
        if other != name and same and "pieces" in (m.card.get("originality_index") or {}) and \
                "same_as" not in m.card["originality_index"]:
            return other
    return None


def train_stage(
    run: Path, data: Path, resume: bool, resumed: list[Path], kind: str = "transformer", **kwargs: Any
) -> dict[str, Any]:
    """Train one stage into ``run``: anew (replacing what is there), or with ``resume`` continue the run there
    exactly as far as its budget (a finished run is taken as it is; ``run`` is added to ``resumed``)."""
    if resume and (run / STATE).is_file():
        state = load_trainer_state(run / STATE)
        if state.get("finished"):  # stopped early, or at its budget: as it is (resuming would train on)
            print(f"  taking the finished run {run} as it is", flush=True)
            resumed.append(run)
            seconds = float(state["elapsed"])
            return {
                "step": state["step"], "epochs": state["epoch"], "seconds": seconds, "best_val": state["best_val"],
                "stopped": state["stop_reason"], "train_seconds": seconds - float(state.get("val_time", 0.0)),
            }  # fmt: skip
        print(f"  resuming {run}", flush=True)
        resumed.append(run)
        limits = {k: v for k, v in kwargs["overrides"].items() if k in ("max_time", "max_steps", "threads")}
        return train(kind, data, run, resume=True, overrides=limits, progress=kwargs["progress"])
    if run.exists():
        shutil.rmtree(run)
    return train(kind, data, run, **kwargs)


def stage_of(run: Path, how: str, summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """One training stage as the card records it: how, the settings that tell the stages apart, and what it took
    (from the trainer's summary, or from the card of the shipped model started from; none for a run folder)."""
    config = load_config(run)
    m = config["model"]
    out: dict[str, Any] = {
        "how": how,
        "preset": config.get("preset"),
        "lr": config["train"]["lr"],
        "lr_decay": config["train"].get("lr_decay", 0.0),
        # the settings that told the Transformer's stages apart, where the model has them
        **{k: m[k] for k in ("chord_window", "fim_order") if k in m},
    }
    if summary is not None:
        out |= {
            "steps": summary["step"],
            "epochs": summary["epochs"],
            "train_seconds": summary["seconds"],
            "best_validation_loss": summary["best_val"],
            "stopped": summary["stopped"],
            "hardware": hardware(),
            "date": str(config.get("created", ""))[:10],
        }
    else:  # a shipped model: its card says what its training took (its own stages, where it had them, summed)
        card = read_card(run) if (run / CARD).is_file() else {}
        keys = ("steps", "epochs", "train_seconds", "budget_minutes", "best_validation_loss", "hardware")
        out |= {k: card.get(k) for k in keys}
        out |= {"date": card.get("date_trained"), "weights_sha256": card.get("files", {}).get(WEIGHTS)}
    return out


def card_row(c: dict[str, Any]) -> str:
    """The card's figures as one row of docs/models.md's table."""
    bits = c["held_out_bits_per_note"]
    frac = c["overlap_fraction_of_ceiling"]
    return (
        f"| {c['name']} | {c['kind']} | {c['parameters']:,} | {c['size_bytes'] / 1e6:.1f} MB | {c['preset']} | "
        f"{c['steps']:,} | "
        f"{c['train_seconds'] / 60:.1f} min | {'–' if bits is None else f'{bits:.3f}'} | "
        f"{'–' if frac is None else f'{frac:.2f}'} | "
        f"{'–' if not c.get('originality') else format(c['originality']['copied_share'], '.0%')} | "
        f"{c['date_trained']} |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated, of {', '.join(MODELS)}, or 'paper' for the paper's five (default: all; a model whose "
        "data is not given is skipped, saying so)",
    )
    ap.add_argument("--maestro", default=None, help=f"the MAESTRO folder (piano, rnn, gan; default: ${MAESTRO_ENV})")
    ap.add_argument(
        "--classical",
        default=None,
        help=f"the classical collection (crnngan, crnngan3, baseline; default: ${CLASSICAL_ENV})",
    )
    ap.add_argument("--groove", default=None, help=f"the Groove MIDI Dataset (groove; default: ${GROOVE_ENV})")
    ap.add_argument(
        "--openewld", default=None, help=f"the OpenEWLD lead sheets (leadsheet; default: ${OPENEWLD_ENV})"
    )
    ap.add_argument("--steps", type=int, default=None, help="first stage's budget in steps, instead of minutes")
    ap.add_argument("--out", default=str(PACKAGE_MODELS), help="where the shipped models go (default: the package)")
    ap.add_argument("--work", default="out/pretrained", help="datasets, runs and evaluations (default: %(default)s)")
    ap.add_argument("--minutes", type=float, default=None, help="first stage's budget of every model named")
    ap.add_argument("--preset", default=None, help="Transformer preset (default: each model's, small)")
    ap.add_argument("--seed", type=int, default=None, help="training seed (default: each model's, 0)")
    ap.add_argument(
        "--finetune-minutes", type=float, default=None, help="second stage's budget (default: each model's; 0: none)"
    )
    ap.add_argument(
        "--finetune-steps", type=int, default=None, help="second stage's budget in steps, in one thread, instead"
    )
    ap.add_argument(
        "--finetune-set", action="append", metavar="KEY=VALUE",
        help="a setting of the second stage beyond the model's (repeatable), e.g. chords=true",
    )  # fmt: skip
    ap.add_argument(
        "--start-from",
        default=None,
        metavar="RUN",
        help="skip the first stage: fine-tune RUN (a run folder or a shipped model's name, e.g. the model shipped now)",
    )
    ap.add_argument(
        "--resume",
        action="store_true",
        help="continue each stage's run in --work where it stopped (a finished one "
        "is taken as it is) instead of training it anew",
    )
    ap.add_argument("--limit", type=int, default=None, help="prepare only the first N files (checks, not models)")
    ap.add_argument("-n", type=int, default=None, help="generated pieces to measure (default: 64)")
    ap.add_argument("--length", type=int, default=None, help="notes per generated piece (default: bach 100, piano 400)")
    ap.add_argument("--dtype", choices=list(SHIPPED_DTYPES), default="bfloat16", help="the shipped weights' type")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    names = [m.strip() for m in args.models.replace("paper", ",".join(PAPER_MODELS)).split(",") if m.strip()]
    unknown = [m for m in names if m not in MODELS]
    if unknown or not names:
        ap.error(f"--models: choose among {', '.join(MODELS)}")
    cards = [c for c in (build(name, MODELS[name], args) for name in names) if c]
    if not cards:
        print("nothing shipped")
        return 0
    print()
    head = "model | kind | parameters | size | preset | steps | time | bits/note (test) | overlap / ceiling | copies | "
    print(f"| {head}trained |")
    print("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for c in cards:
        print(card_row(c))
    total = sum(c["size_bytes"] for c in cards)
    print(f"\nshipped into {args.out}: {len(cards)} model(s), {total / 1e6:.1f} MB in all (the limit is 50 MB)")
    for c in cards:
        orig = c.get("originality")
        copies = f"copies: runs of {orig['copy_notes']}+ notes" if orig else "writes no music"
        print(f"{c['name']}: {c['hardware']}; {c['stopped']}; {copies}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
