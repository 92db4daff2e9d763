"""The ``demo`` job: music from the shipped models first (where any are shipped), then the built-in Bach chorales
prepared, the paper's models trained on them within one time budget, and evaluated side by side into a report
with samples to hear and see."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..evaluation.protocol import EvalOptions
from ..families import get_family
from ..plots import plot_dataset, plot_runs
from ..pretrained import shipped_models
from ..runfiles import METRICS
from .generate import generate
from .plan import DEMO_MODELS
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


def demo(
    out: str | Path = "out",
    *,
    models: list[str] | None = None,
    epochs: int = 30,
    max_time: float = 200.0,
    n: int = 64,
    workers: int | None = None,
    limit: int | None = None,
    progress: bool = True,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the demo into ``out``; ``say`` receives one line per stage. Returns the evaluation report."""
    out = Path(out)
    models = list(DEMO_MODELS) if models is None else models
    unknown = [m for m in models if m not in DEMO_MODELS]
    if unknown or not models:
        raise ConfigError(f"demo: --models takes a comma-separated list of {', '.join(DEMO_MODELS)}")
    say(f"[1/5] music from the shipped models into {out / 'shipped'} (MIDI, WAV, piano roll)")
    demo_shipped(out, say=say)
    say(f"[2/5] preparing the built-in Bach chorales into {out / 'data'}")
    ds = prepare_dataset("bach", out / "data", workers=workers, limit=limit, progress=progress)
    say(describe(ds.info()))
    say(f"      {plot_dataset(ds, out / 'data.png')}")
    share = sum(DEMO_MODELS[m][0] for m in models)
    say(f"[3/5] training {', '.join(models)} in {max_time:g} s in all, into {out / 'runs'}")
    runs = []
    for kind in models:
        weight, settings = DEMO_MODELS[kind]
        run = out / "runs" / kind
        if run.exists():
            shutil.rmtree(run)
        seconds = max_time * weight / share
        summary = train(
            kind,
            out / "data",
            run,
            preset="default",
            progress=progress,
            overrides={"epochs": str(epochs), **settings, "max_time": f"{seconds:.1f}"},
        )
        epochs_done = f"{summary['epochs']} epoch(s) in {seconds:.0f} s"
        say(f"      {kind}: {summary['stopped']}, {epochs_done}, {best_weights(summary)}")
        runs.append(run)
    logged = [r for r in runs if (r / METRICS).is_file()]  # a run stopped before its first log has none
    if logged:
        say(f"      {plot_runs(logged, out / 'training.png')}")
    say(f"[4/5] evaluating against the test split ({n} pieces per model), samples into {out / 'samples'}")
    report = evaluate(runs, out / "data", out, EvalOptions(n=n, seed=0), progress=progress)
    for m in report["models"]:
        say(f"      {m['name']:<10} MSE {m['mse']:.4f}  RMSE {m['rmse']:.4f}  overlap {m['overlap']:.3f}")
    r = report["real"]
    say(f"      {'real':<10} MSE {r['mse']:.4f}  RMSE {r['rmse']:.4f}  overlap {r['overlap']:.3f}")
    say(f"[5/5] done: {out / 'report.md'} compares the models; listen to {out / 'samples'}/*.wav")
    return report
