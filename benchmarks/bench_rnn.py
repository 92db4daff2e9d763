"""Benchmark: the RNN note model against TensorFlow's "Generate music with an RNN" tutorial, side by side.

Run from the project root (the tutorial needs its own virtualenv, see ../shared/anchors/README.md)::

    .venv/bin/python benchmarks/bench_rnn.py [--tf-python ~/.venvs/tf/bin/python] [--threads 2]

Both train on the first 40 sorted MIDI files of MAESTRO's 2018 folder. The next 10 files shaped the default
preset's timing design (docs/rnn.md's probe runs), so they are skipped (``--skip 10``) and the 10 after them are
held out: no figure below is measured on files a choice was made on. It measures, in one run:

1. seconds per epoch at the paper's hyperparameters (LSTM 128, windows of 25, batch 64, Adam 0.005), the
   achieved FLOP/s and its fraction of this machine's measured matrix-multiply peak, for both;
2. training losses after 3 epochs (paper preset) and held-out losses beside them;
3. time to quality: how long tunesmith's default preset takes to reach the tutorial's held-out losses after its
   3 epochs (pitch cross-entropy, step and duration squared error of the next note after a 25-note window), like
   for like: the tutorial's step and duration losses carry a positive-pressure penalty, so its plain squared
   errors are computed beside them (``tf_anchor_plain.py``, the anchor run unchanged) and are the targets. The
   validation cadence is fixed before the run (``--val-every``, 200 steps, the cadence of the published figure),
   and the time counted is that of the first validation from which every later one within the budget stays at or
   below all three targets (not the first that dips below: with many validations, one dips by chance);
4. generation speed: notes per second for 256 sequences in one batch and for a single sequence.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

from tunesmith.dataset import prepare
from tunesmith.families.rnn.sample import generate_rnn
from tunesmith.jobs.runs import load_run
from tunesmith.jobs.train import train

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("TUNESMITH_DATA", ROOT.parent / "shared" / "data"))
ANCHOR = ROOT.parent / "shared" / "anchors" / "tf_tutorial_rnn.py"
PLAIN = Path(__file__).resolve().parent / "tf_anchor_plain.py"  # the anchor, and its losses without the penalty


def matmul_peak(threads: int) -> float:
    """Measured fp32 matrix-multiply throughput (GFLOP/s) with ``threads`` threads: the best of 5 runs of 2048^3."""
    torch.set_num_threads(threads)
    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(5):
            a @ b
        best = max(best, 5 * 2 * 2048**3 / (time.perf_counter() - t) / 1e9)
    return best


def flops_per_batch(batch: int = 64, t: int = 25, inputs: int = 3, hidden: int = 128) -> float:
    """Multiply-adds x 2 of one training step of the paper's model: LSTM forward over the window, the heads on the
    last step, and a backward pass counted as twice the forward (gradients for weights and for activations)."""
    lstm = 2 * batch * t * 4 * hidden * (inputs + hidden)
    heads = 2 * batch * hidden * (128 + 1 + 1)
    return 3 * (lstm + heads)


def make_source(
    data: Path, n_train: int, n_heldout: int, root: Path, skip: int = 0
) -> tuple[list[Path], list[Path], Path]:
    """A MAESTRO-style folder of links: the first ``n_train`` files of maestro/2018 as train, then (after ``skip``
    files) ``n_heldout`` as validation (a csv says so), so both tools see exactly the same files."""
    files = sorted((data / "maestro" / "2018").glob("*.midi"))
    train, held = files[:n_train], files[n_train + skip : n_train + skip + n_heldout]
    src = root / "src"
    (src / "2018").mkdir(parents=True)
    rows = ["canonical_composer,canonical_title,split,year,midi_filename,audio_filename,duration"]
    for split, group in (("train", train), ("validation", held)):
        for f in group:
            (src / "2018" / f.name).symlink_to(f)
            rows.append(f"x,{f.stem},{split},2018,2018/{f.name},x.wav,0")
    (src / "maestro-v3.0.0.csv").write_text("\n".join(rows) + "\n")
    return train, held, src


def run_anchor(tf_python: str, train: list[Path], held: list[Path], epochs: int, root: Path) -> dict:
    lst, val = root / "train.txt", root / "heldout.txt"
    lst.write_text("\n".join(map(str, train)) + "\n")
    val.write_text("\n".join(map(str, held)) + "\n")
    out = root / "anchor.json"
    env = {**os.environ, "VAL_LIST": str(val), "TF_CPP_MIN_LOG_LEVEL": "2"}
    t0 = time.perf_counter()
    subprocess.run(
        [tf_python, str(PLAIN), str(ANCHOR), str(lst), str(len(train)), str(epochs), str(out)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    res = json.loads(out.read_text())
    res["wall_s"] = time.perf_counter() - t0
    return res


def epochs_of(run: Path) -> list[dict]:
    return [r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if r["kind"] == "epoch"]


def train_paper(ds: Path, run: Path, epochs: int, precision: str) -> dict:
    train(
        "rnn",
        ds,
        run,
        preset="paper",
        progress=False,
        overrides={"epochs": str(epochs), "patience": "none", "val_max_batches": "none", "precision": precision},
    )
    eps = epochs_of(run)
    times = np.diff([0.0] + [e["train_time"] for e in eps]).tolist()
    last = eps[-1]
    return {
        "epoch_s": times,
        "train": {k: last[f"train/{k}"] for k in ("pitch", "step", "duration")},
        "val": {k: last[f"val/{k}"] for k in ("pitch", "step", "duration", "step_mse", "duration_mse")},
    }


def time_to_quality(ds: Path, run: Path, target: dict, budget_s: float, val_every: int) -> dict:
    """Train the default preset, validating every ``val_every`` steps; the first validation at or below every
    target from which every later validation within ``budget_s`` of training time stays at or below them
    (training time: validation excluded, as the tutorial's epoch times exclude its evaluation) gives the time to
    quality. Training runs past the budget in wall time (that includes the validations); validations after the
    budget of training time do not count."""
    train(
        "rnn",
        ds,
        run,
        preset="default",
        progress=False,
        overrides={
            "max_time": str(4 * budget_s),  # the tutorial's whole time: how long it takes where a quarter is short
            "val_every": str(val_every),
            "val_max_batches": "none",
            "epochs": "100",
        },
    )
    lines = (run / "metrics.jsonl").read_text().splitlines()
    recs = [r for r in map(json.loads, lines) if r["kind"] in ("val", "epoch")]
    result = _sustained(recs, target, budget_s)
    if not result["reached"]:  # how long it takes, within the tutorial's own time
        later = _sustained(recs, target, 4 * budget_s)
        result["within_tutorial_time_s"] = later["train_time_s"]
    result["curve"] = [
        [round(r["train_time"], 1), *(r.get(f"val/last_{k}") for k in ("pitch", "step_mse", "duration_mse"))]
        for r in recs
    ]
    return result


def _sustained(recs: list[dict], target: dict, budget_s: float) -> dict:
    """The first validation within ``budget_s`` of training time from which every later one within it is at or
    below every target."""
    within = [r for r in recs if r["train_time"] <= budget_s]
    met = [all(r.get(f"val/last_{k}") is not None and r[f"val/last_{k}"] <= target[k] for k in target) for r in within]
    for i, r in enumerate(within):
        if all(met[i:]):  # met here and at every later validation within the budget
            got = {k: r.get(f"val/last_{k}") for k in ("pitch", "step_mse", "duration_mse")}
            first = next(j for j, m in enumerate(met) if m)
            return {
                "reached": True,
                "train_time_s": r["train_time"],
                "step": r["step"],
                "val": got,
                "first_dip_s": within[first]["train_time"],
                "validations": len(within),
            }
    last = within[-1] if within else {}
    return {
        "reached": False,
        "train_time_s": None,
        "budget_s": budget_s,
        "val": {k: last.get(f"val/last_{k}") for k in ("pitch", "step_mse", "duration_mse")},
    }


def generation_speed(run: Path) -> dict:
    _, _, model = load_run(run)
    pool = torch.as_tensor(np.load(run / "primers.npy"))
    out = {}
    for n, length in ((256, 200), (1, 2000)):
        x = pool[torch.arange(n) % len(pool)]
        g = torch.Generator().manual_seed(0)
        generate_rnn(model, x, 20, generator=g)  # warm-up
        t = time.perf_counter()
        generate_rnn(model, x, length, generator=g)
        out[f"n{n}_notes_per_s"] = n * length / (time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    ap.add_argument(
        "--tf-python",
        default=str(Path.home() / ".venvs" / "tf" / "bin" / "python"),
        help="python of a virtualenv with tensorflow-cpu, pretty_midi and pandas",
    )
    ap.add_argument(
        "--skip-anchor",
        type=Path,
        default=None,
        metavar="JSON",
        help="reuse the 'anchor' entry of an earlier --out JSON instead of running the tutorial (for "
        "development only: published figures come from a run side by side)",
    )
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--heldout", type=int, default=10)
    ap.add_argument(
        "--skip", type=int, default=10, help="files after the training ones left out (they shaped the default preset)"
    )
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--val-every", type=int, default=200, help="steps between validations in the time-to-quality run")
    ap.add_argument("--out", type=Path, default=None, help="write the results JSON here too")
    args = ap.parse_args()
    if not (args.data / "maestro" / "2018").is_dir():
        sys.exit(f"no MAESTRO data at {args.data}/maestro (use --data)")
    peak = matmul_peak(args.threads)
    res: dict = {
        "date": datetime.now().strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {platform.processor()}",
        "cpus": os.cpu_count(),
        "threads": args.threads,
        "torch": torch.__version__,
        "matmul_peak_gflops": peak,
    }
    print(
        f"machine: {res['machine']}, {res['cpus']} cpus, torch threads {args.threads}; "
        f"fp32 matmul peak {peak:.0f} GFLOP/s"
    )

    def save() -> None:  # after every phase: a failure late in the run keeps what was measured
        if args.out:
            args.out.write_text(json.dumps(res, indent=1))

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        train, held, src = make_source(args.data, args.files, args.heldout, root, args.skip)
        if args.skip_anchor:
            anchor = json.loads(args.skip_anchor.read_text())
            anchor = anchor.get("anchor", anchor)
        else:
            print(f"running the TensorFlow tutorial ({args.epochs} epochs on {len(train)} files) ...", flush=True)
            anchor = run_anchor(args.tf_python, train, held, args.epochs, root)
        res["anchor"] = anchor
        save()
        ds = prepare(src, root / "ds", progress=False)
        torch.set_num_threads(args.threads)
        print("training tunesmith, paper preset ...", flush=True)
        ours = train_paper(root / "ds", root / "paper", args.epochs, "fp32")
        res["paper"] = ours
        save()
        print("training tunesmith, paper preset, bf16 ...", flush=True)
        ours_bf16 = train_paper(root / "ds", root / "paper_bf16", args.epochs, "bf16")
        res["paper_bf16"] = ours_bf16
        save()
        n_batches = json.loads((root / "paper" / "config.json").read_text())["data"]["train_windows"] // 64
        tf_batches = anchor["windows"] // 64
        fl = flops_per_batch()
        tf_epoch = float(np.mean(anchor["epoch_s"]))
        for r in (ours, ours_bf16):
            r["mean_epoch_s"] = float(np.mean(r["epoch_s"]))
            r["ms_per_batch"] = 1e3 * r["mean_epoch_s"] / n_batches
            r["gflops"] = fl * n_batches / r["mean_epoch_s"] / 1e9
            r["speedup"] = (tf_epoch / tf_batches) / (r["mean_epoch_s"] / n_batches)
        anchor["ms_per_batch"] = 1e3 * tf_epoch / tf_batches
        anchor["gflops"] = fl * tf_batches / tf_epoch / 1e9
        res["paper"], res["paper_bf16"] = ours, ours_bf16
        plain = anchor.get("val_plain") or {}
        if not plain:  # an anchor result from before tf_anchor_plain.py: its losses carry the penalty
            print("warning: the anchor's plain squared errors are missing; its penalised losses are the targets")
        target = {
            "pitch": anchor["val"]["pitch_loss"],
            "step_mse": plain.get("step_mse", anchor["val"]["step_loss"]),
            "duration_mse": plain.get("duration_mse", anchor["val"]["duration_loss"]),
        }
        budget = sum(anchor["epoch_s"]) / 4
        print(f"training tunesmith, default preset, for {budget:.0f} s (a quarter of the tutorial's time)", flush=True)
        res["time_to_quality"] = {
            "target": target,
            "tutorial_s": sum(anchor["epoch_s"]),
            **time_to_quality(root / "ds", root / "default", target, budget, args.val_every),
        }
        res["generation"] = generation_speed(root / "paper")
        res["generation_default"] = generation_speed(root / "default")
        res["windows"] = {"tunesmith": n_batches * 64, "tutorial": anchor["windows"]}
        save()
        del ds
    a, p, b, q, g = anchor, res["paper"], res["paper_bf16"], res["time_to_quality"], res["generation"]
    print()
    print(f"{'':44}{'tutorial':>12}{'tunesmith':>12}{'bf16':>10}")
    print(f"{'seconds per epoch':44}{tf_epoch:>12.1f}{p['mean_epoch_s']:>12.1f}{b['mean_epoch_s']:>10.1f}")
    print(f"{'ms per batch of 64':44}{a['ms_per_batch']:>12.2f}{p['ms_per_batch']:>12.2f}{b['ms_per_batch']:>10.2f}")
    print(f"{'speed-up over the tutorial':44}{1:>12.2f}{p['speedup']:>12.2f}{b['speedup']:>10.2f}")
    print(
        f"{'GFLOP/s (fraction of fp32 matmul peak)':44}{a['gflops']:>6.0f} ({a['gflops'] / peak:.2f})"
        f"{p['gflops']:>6.0f} ({p['gflops'] / peak:.2f}){b['gflops']:>5.0f} ({b['gflops'] / peak:.2f})"
    )
    for k in ("pitch", "step", "duration"):
        print(
            f"{'train loss after 3 epochs: ' + k:44}{a['losses'][k + '_loss'][-1]:>12.4f}{p['train'][k]:>12.4f}"
            f"{b['train'][k]:>10.4f}"
        )
    for k in ("pitch", "step", "duration"):
        print(
            f"{'held-out loss after 3 epochs: ' + k:44}{a['val'][k + '_loss']:>12.4f}{p['val'][k]:>12.4f}"
            f"{b['val'][k]:>10.4f}"
        )
    for k in ("step", "duration"):
        if a.get("val_plain"):
            print(f"{'  the tutorial without its penalty: ' + k:44}{a['val_plain'][k + '_mse']:>12.4f}")
    tq = f"{q['train_time_s']:.1f} s" if q["reached"] else f"not within {q['budget_s']:.0f} s"
    print(f"{'time to the tutorial held-out losses':44}{q['tutorial_s']:>11.1f}s{tq:>12}")
    if not q["reached"]:
        t = q.get("within_tutorial_time_s")
        said = f"{t:.1f} s ({q['tutorial_s'] / t:.2f}x faster)" if t else "not within the tutorial's time either"
        print(f"{'  within the tutorial own time':44}{'':>12}{said:>12}")
    print(f"{'generation, notes/s, n=256':44}{'':>12}{g['n256_notes_per_s']:>12.0f}")
    print(f"{'generation, notes/s, n=1':44}{a['gen_notes_per_s']:>12.1f}{g['n1_notes_per_s']:>12.0f}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
