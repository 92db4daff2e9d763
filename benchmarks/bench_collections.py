"""Benchmark: quality at equal time on several collections, the `small` Transformer against the RNN.

    .venv/bin/python benchmarks/bench_collections.py --collection maestro=data/maestro@400 \\
        --collection classical=data/classical@400 --collection openewld=data/openewld@100 \\
        --minutes 5 20 --runs runs/collections --split validation --seeds 0 1

Each collection is a folder written by ``tunesmith prepare`` (``@N``: the notes per generated piece and per
reference excerpt; OpenEWLD's melodies are about 100 notes long). For each collection and each budget, the RNN's
default preset and the Transformer's ``small`` preset are trained on the train split for the **steps** that budget
buys on an idle 2-core machine (so a busy or slower machine trains the same weights, only later): the RNN 1,400
steps a minute (its 20 minutes in two threads were 28,133 steps, docs/rnn.md), the Transformer 120 (2,400 steps in
19 minutes, docs/transformer.md). Both then generate ``-n`` pieces at each seed and are compared with the held-out
split by ``tunesmith evaluate`` (each collection its own ceiling: its training excerpts against the same held-out
excerpts). Choices are made with ``--split validation``; the test split is read once, to report.

The table gives, per collection, budget and seed, the MSE of the 12 set statistics, the overlap as a fraction of
the ceiling, and the errors of scale consistency and of the repetitions of 2, 3 and 4 notes, and says where the
Transformer leads at every seed. Runs already trained to their budget are reused (``--runs``), so a rerun only
evaluates; ``--set KEY=VALUE`` changes a Transformer setting (a run folder per setting: ``--tag``).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from datetime import datetime
from pathlib import Path

#: optimizer steps per idle minute on the 2-core machine of docs/rnn.md and docs/transformer.md
STEPS_PER_MINUTE = {"rnn": 1_400, "transformer": 120}
ROWS = (
    ("mse", "MSE of the 12 statistics", "mse"),
    ("overlap", "overlap, of the ceiling", "overlap_fraction_of_ceiling"),
    ("scale", "scale consistency error", "scale_consistency"),
    ("rep2", "repetitions of 2 notes, error", "repetitions_2"),
    ("rep3", "repetitions of 3 notes, error", "repetitions_3"),
    ("rep4", "repetitions of 4 notes, error", "repetitions_4"),
)
HIGHER_IS_BETTER = {"overlap"}


def parse_collection(text: str) -> tuple[str, Path, int]:
    """``NAME=DIR[@NOTES]`` -> (name, folder, notes per piece)."""
    name, sep, rest = text.partition("=")
    if not sep or not name:
        raise SystemExit(f"--collection wants NAME=DIR[@NOTES], got {text!r}")
    folder, _, notes = rest.partition("@")
    if not (Path(folder) / "manifest.json").is_file():
        raise SystemExit(f"--collection {name}: {folder} is not a prepared dataset (run 'tunesmith prepare' first)")
    return name, Path(folder), int(notes or 400)


def tunesmith(*args: str, log: Path) -> None:
    """Run the command line in this interpreter's environment; a failure shows the end of its log."""
    cmd = [sys.executable, "-m", "tunesmith", *args]
    with open(log, "a") as f:
        f.write(" ".join(cmd) + "\n")
        f.flush()
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
    if rc:
        tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
        raise SystemExit(f"failed ({rc}): {' '.join(args)}\n{tail}")


def trained(run: Path, steps: int) -> bool:
    """Whether ``run`` holds a finished run of ``steps`` (its budget reached, or stopped early before it)."""
    from tunesmith.training.checkpoint import load_trainer_state

    if not (run / "model.safetensors").is_file() or not (run / "trainer_state.pt").is_file():
        return False
    config = json.loads((run / "config.json").read_text())
    if config["train"].get("max_steps") != steps:
        raise SystemExit(f"{run} was trained for {config['train'].get('max_steps')} steps, not {steps}: another --runs")
    return bool(load_trainer_state(run / "trainer_state.pt").get("finished"))


def train(kind: str, data: Path, run: Path, steps: int, settings: list[str], threads: int, log: Path) -> None:
    if trained(run, steps):
        return
    # a resumed run keeps its settings: --set only for a new one
    fresh = not (run / "trainer_state.pt").is_file()
    preset = ["--preset", "small"] + (["--set", "val_every=100"] if fresh else []) if kind == "transformer" else []
    extra = [x for s in settings for x in ("--set", s)] if kind == "transformer" and fresh else []
    threads_set = ["--set", f"threads={threads}"] if fresh else []
    resume = [] if fresh else ["--resume"]
    tunesmith(
        "train", kind, "--data", str(data), "--out", str(run), "--max-steps", str(steps), *preset, *extra,
        *threads_set, "-q", *resume, log=log,
    )  # fmt: skip


def figures(report: Path) -> dict[str, dict[str, float]]:
    """{model name: {row key: value}} from an evaluation's report.json."""
    out = {}
    for m in json.loads((report / "report.json").read_text())["models"]:
        errors = m["per_statistic_error"]
        out[m["name"]] = {key: (m[src] if src in m else errors[src]) for key, _, src in ROWS}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--collection", action="append", required=True, metavar="NAME=DIR[@NOTES]")
    ap.add_argument("--minutes", type=int, nargs="+", default=[5, 20], help="budgets, in idle minutes")
    ap.add_argument("--runs", type=Path, required=True, help="folder for the runs and the reports")
    ap.add_argument("--split", choices=("validation", "test"), default="validation")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("-n", type=int, default=64, help="pieces per model and seed")
    ap.add_argument("--threads", type=int, default=2, help="threads per training run")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a Transformer setting")
    ap.add_argument(
        "--transformer-rate", type=int, default=STEPS_PER_MINUTE["transformer"],
        help="the Transformer's steps per idle minute (another size: measured against small's 120)",
    )  # fmt: skip
    ap.add_argument("--tag", default="", help="suffix of the Transformer's run folders (for --set experiments)")
    ap.add_argument("--json", type=Path, help="also write every figure here")
    args = ap.parse_args()
    args.runs.mkdir(parents=True, exist_ok=True)
    log = args.runs / "log.txt"
    results = []
    for name, data, notes in map(parse_collection, args.collection):
        for minutes in args.minutes:
            rnn, tf = args.runs / f"{name}_rnn{minutes}", args.runs / f"{name}_tf{minutes}{args.tag}"
            train("rnn", data, rnn, STEPS_PER_MINUTE["rnn"] * minutes, [], args.threads, log)
            train("transformer", data, tf, args.transformer_rate * minutes, args.set, args.threads, log)
            for seed in args.seeds:
                report = args.runs / f"eval_{name}{minutes}{args.tag}_{args.split}_s{seed}"
                if not (report / "report.json").is_file():
                    tunesmith(
                        "evaluate", str(rnn), str(tf), "--data", str(data), "--out", str(report), "-n", str(args.n),
                        "--length", str(notes), "--split", args.split, "--seed", str(seed), "--no-audio", "-q",
                        log=log,
                    )  # fmt: skip
                fig = figures(report)
                row = {"collection": name, "minutes": minutes, "seed": seed}
                results.append({**row, "rnn": fig[rnn.name], "transformer": fig[tf.name]})
    print(f"# {datetime.now():%Y-%m-%d %H:%M}, {platform.processor() or platform.machine()}, split {args.split}, "
          f"{args.n} pieces per model and seed, seeds {' / '.join(map(str, args.seeds))}")  # fmt: skip
    for name, _, _ in map(parse_collection, args.collection):
        for minutes in args.minutes:
            rows = [r for r in results if r["collection"] == name and r["minutes"] == minutes]
            print(f"\n{name}, {minutes} min ({STEPS_PER_MINUTE['rnn'] * minutes:,} / "
                  f"{args.transformer_rate * minutes:,} steps)\n")  # fmt: skip
            print("| | RNN | Transformer (`small`) | Transformer leads at every seed |")
            print("| --- | ---: | ---: | :---: |")
            for key, label, _ in ROWS:
                a = [r["rnn"][key] for r in rows]
                b = [r["transformer"][key] for r in rows]
                better = all((y > x) if key in HIGHER_IS_BETTER else (y < x) for x, y in zip(a, b, strict=True))
                fmt = " / ".join
                print(f"| {label} | {fmt(f'{x:.3f}' for x in a)} | {fmt(f'{y:.3f}' for y in b)} | "
                      f"{'yes' if better else 'no'} |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
