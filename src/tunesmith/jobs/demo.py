"""The ``demo`` job: music from the shipped models first (where any are shipped), then the built-in Bach chorales
prepared, the paper's models trained on them to fixed step budgets (one thread each, as many at a time as there
are cores), and evaluated side by side into a report with samples to hear and see."""

from __future__ import annotations

import json
import multiprocessing
import shutil
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..evaluation.protocol import EvalOptions
from ..families import get_family
from ..plots import plot_dataset, plot_runs
from ..pretrained import shipped_models
from ..progress import progress_bar
from ..runfiles import METRICS
from ..threads import usable_cores
from .generate import generate
from .plan import DEMO_MODELS, PAPER_KINDS
from .prepare import describe, prepare_dataset
from .report import evaluate
from .train import train


def best_weights(summary: dict[str, Any]) -> str:
    """How a training summary's kept weights were chosen, in words."""
    best, select_by = summary["best_val"], summary.get("select_by", "loss")
    if select_by == "statistics" and best != float("inf"):
        return f"kept the weights whose music scored best on validation (MSE {best:.4f})"
    if best != float("inf"):
        return f"best validation loss {best:.4f}"
    return "latest weights kept" + (" (no validation loss to choose by)" if select_by == "loss" else "")


#: Pieces the demo generates with each shipped model, and their length (new notes; bars for a model that counts bars)
SHIPPED_PIECES = 2
SHIPPED_LENGTH = {"events": 200, "bars": 8}


def demo_shipped(
    out: str | Path, *, n: int = SHIPPED_PIECES, say: Callable[[str], None] = print
) -> dict[str, list[Path]]:
    """``n`` pieces from each shipped model into ``out/shipped/NAME`` as MIDI, WAV and piano-roll PNG; where none is
    shipped, a line says so and nothing is written. Returns the MIDI files written by model name."""
    models = shipped_models()
    if not models:
        say("      no models are shipped with this tunesmith yet (docs/models.md): skipping their music")
        return {}
    written: dict[str, list[Path]] = {}
    for name, model in models.items():
        length = SHIPPED_LENGTH[get_family(str(model.card["kind"])).length_unit]
        files = generate(name, Path(out) / "shipped" / name, n=n, length=length, wav=True, png=True)
        say(f"      {name} ({model.summary}): {len(files)} pieces in {Path(out) / 'shipped' / name}")
        written[name] = list(files)
    return written


def _train_one(kind: str, data: str, run: str, overrides: dict[str, str]) -> dict[str, Any]:
    """One demo run in a worker process: one thread, no progress bar of its own (the demo draws one for all)."""
    return train(kind, data, run, preset="default", progress=False, overrides={**overrides, "threads": "1"})


def _steps_done(run: Path) -> int:
    """The latest step a run has logged (0 before its first line)."""
    try:
        lines = (run / METRICS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    for line in reversed(lines):
        try:
            return int(json.loads(line).get("step", 0))
        except (ValueError, AttributeError):
            continue
    return 0


def train_models(
    plan: dict[str, dict[str, str]],
    data: Path,
    runs: Path,
    *,
    workers: int,
    progress: bool = True,
    say: Callable[[str], None] = print,
) -> dict[str, dict[str, Any]]:
    """Train every model of ``plan`` (kind -> settings, each with its ``max_steps``) into ``runs/KIND``, ``workers``
    at a time in separate processes of one thread each: the weights do not depend on ``workers``, nor on the
    machine's speed or load. One progress bar counts the steps of all of them, with the time left. Returns each
    run's training summary by kind, in the plan's order."""
    for kind in plan:
        if (runs / kind).exists():
            shutil.rmtree(runs / kind)
    total = sum(int(settings["max_steps"]) for settings in plan.values())
    bar = progress_bar(total=total, desc="training", unit="step", disable=not progress)
    summaries: dict[str, dict[str, Any]] = {}
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: its own torch, its own single thread
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(plan))), mp_context=ctx) as pool:
        futures = {
            pool.submit(_train_one, kind, str(data), str(runs / kind), settings): kind
            for kind, settings in plan.items()
        }
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                kind = futures[future]
                summaries[kind] = future.result()  # a worker's error is raised here, naming its model
                s = summaries[kind]
                with bar.external_write_mode():  # the line above the live bar, through the caller's say
                    say(f"      {kind}: {s['stopped']}, {s['epochs']} epoch(s), {s['step']} steps, {best_weights(s)}")
            steps = sum(
                int(summaries[k]["step"]) if k in summaries else min(_steps_done(runs / k), int(plan[k]["max_steps"]))
                for k in plan
            )
            bar.update(max(0, min(steps, total) - bar.n))
    bar.close()
    return {kind: summaries[kind] for kind in plan}


def demo(
    out: str | Path = "out",
    *,
    models: list[str] | None = None,
    scale: float = 1.0,
    n: int = 64,
    workers: int | None = None,
    limit: int | None = None,
    progress: bool = True,
    with_shipped: bool = True,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the demo into ``out``; ``say`` receives one line per stage. ``scale`` multiplies every model's step
    budget (1: the demo's plan). ``with_shipped``: the paper's models shipped with tunesmith are evaluated beside
    the ones trained here. Returns the evaluation report."""
    out = Path(out)
    models = list(DEMO_MODELS) if models is None else models
    unknown = [m for m in models if m not in DEMO_MODELS]
    if unknown or not models:
        raise ConfigError(f"demo: --models takes a comma-separated list of {', '.join(DEMO_MODELS)}")
    if scale <= 0:
        raise ConfigError(f"demo: --scale must be positive, got {scale:g}")
    say(f"[1/5] music from the shipped models into {out / 'shipped'} (MIDI, WAV, piano roll)")
    demo_shipped(out, say=say)
    say(f"[2/5] preparing the built-in Bach chorales into {out / 'data'}")
    ds = prepare_dataset("bach", out / "data", workers=workers, limit=limit, progress=progress)
    say(describe(ds.info()))
    say(f"      {plot_dataset(ds, out / 'data.png')}")
    plan = {
        kind: {**DEMO_MODELS[kind], "max_steps": str(max(1, round(int(DEMO_MODELS[kind]["max_steps"]) * scale)))}
        for kind in models
    }
    parallel = min(usable_cores(), len(plan))
    steps = ", ".join(f"{kind} {settings['max_steps']}" for kind, settings in plan.items())
    say(f"[3/5] training into {out / 'runs'}: {steps} steps, {parallel} at a time, one thread each")
    train_models(plan, out / "data", out / "runs", workers=parallel, progress=progress, say=say)
    runs = [out / "runs" / kind for kind in plan]
    logged = [r for r in runs if (r / METRICS).is_file()]  # a run stopped before its first log has none
    if logged:
        say(f"      {plot_runs(logged, out / 'training.png')}")
    # the paper's models shipped with tunesmith (trained longer, on other data), as rows beside the demo's own
    shipped = [m for m in shipped_models().values() if m.card.get("kind") in PAPER_KINDS] if with_shipped else []
    names = [*plan, *(f"shipped-{m.name}" for m in shipped)]
    say(f"[4/5] evaluating against the test split ({n} pieces per model; {len(shipped)} shipped models beside), "
        f"samples into {out / 'samples'}")  # fmt: skip
    report = evaluate(
        [*runs, *(m.path for m in shipped)], out / "data", out, EvalOptions(n=n, seed=0), progress=progress,
        names=names,
    )
    for m in report["models"]:
        say(f"      {m['name']:<18} MSE {m['mse']:.4f}  RMSE {m['rmse']:.4f}  overlap {m['overlap']:.3f}")
    if shipped:
        say("      (shipped-*: the paper's models as shipped, trained longer on other music, MAESTRO's piano and the "
            "classical collection: how far that music is from the chorales, with their one loudness, not a ranking)")
    r = report["real"]
    say(f"      {'real':<18} MSE {r['mse']:.4f}  RMSE {r['rmse']:.4f}  overlap {r['overlap']:.3f}")
    say(f"[5/5] done: {out / 'report.md'} compares the models; listen to {out / 'samples'}/*.wav")
    return report
