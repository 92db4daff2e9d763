"""The ``demo`` job: the built-in Bach chorales prepared, the paper's models trained on them within one time
budget, then evaluated side by side into a report with samples to hear and see."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..evaluation.protocol import EvalOptions
from ..plots import plot_dataset, plot_runs
from ..runfiles import METRICS
from .prepare import describe, prepare_dataset
from .report import evaluate
from .train import train

#: The demo's models: kind -> (share of the training budget, settings), each with its default preset.
#: C-RNN-GAN and its baseline (the same generator) are 64 units wide instead of the paper's 350: at 350 a 2-core
#: machine gives them 3 to 4 epochs in their shares, all still playing one or two tones (a generator trained by
#: squared error first plays the mean tone, and leaves it after about 20 epochs). C-RNN-GAN pretrains for 30 epochs
#: (its baseline's number in the demo) and spends the rest of its 70 s on adversarial epochs (35% of the budget:
#: with 30% it kept a set whose tone span was just under half the real one's); the weights whose music scores
#: best on validation are kept (docs/crnngan.md, "In make demo").
DEMO_MODELS: dict[str, tuple[float, dict[str, str]]] = {
    "rnn": (0.3, {"val_every": "250"}),  # an epoch of the default preset outlasts the demo's budget
    "gan": (0.2, {"epochs": "100000"}),  # a GAN epoch on the chorales is a few iterations: its time share limits it
    "crnngan": (0.35, {"pretrain_epochs": "30", "epochs": "100", "hidden": "64", "d_hidden": "64"}),
    "baseline": (0.15, {"hidden": "64"}),
}


def best_weights(summary: dict[str, Any]) -> str:
    """How a training summary's kept weights were chosen, in words."""
    best, select_by = summary["best_val"], summary.get("select_by", "loss")
    if select_by == "statistics" and best != float("inf"):
        return f"kept the weights whose music scored best on validation (MSE {best:.4f})"
    if best != float("inf"):
        return f"best validation loss {best:.4f}"
    return "latest weights kept" + (" (no validation loss to choose by)" if select_by == "loss" else "")


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
    say(f"[1/4] preparing the built-in Bach chorales into {out / 'data'}")
    ds = prepare_dataset("bach", out / "data", workers=workers, limit=limit, progress=progress)
    say(describe(ds.info()))
    say(f"      {plot_dataset(ds, out / 'data.png')}")
    share = sum(DEMO_MODELS[m][0] for m in models)
    say(f"[2/4] training {', '.join(models)} in {max_time:g} s in all, into {out / 'runs'}")
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
    say(f"[3/4] evaluating against the test split ({n} pieces per model), samples into {out / 'samples'}")
    report = evaluate(runs, out / "data", out, EvalOptions(n=n, seed=0), progress=progress)
    for m in report["models"]:
        say(f"      {m['name']:<10} MSE {m['mse']:.4f}  RMSE {m['rmse']:.4f}  overlap {m['overlap']:.3f}")
    r = report["real"]
    say(f"      {'real':<10} MSE {r['mse']:.4f}  RMSE {r['rmse']:.4f}  overlap {r['overlap']:.3f}")
    say(f"[4/4] done: {out / 'report.md'} compares the models; listen to {out / 'samples'}/*.wav")
    return report
