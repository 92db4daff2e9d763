"""Behaviour fingerprint: fixed-step training runs of every model family and seeded generation, hashed.

A restructuring of the code must not change what it computes. This script prepares a few built-in Bach chorales,
trains each family for a fixed number of steps with a fixed seed (one thread, so the float results do not depend
on the scheduling of threads), generates with a fixed seed, and prints the SHA-256 of every ``model.safetensors``
and every generated MIDI file. Run it on two source trees (``--src``) and compare:

    python benchmarks/bench_identity.py --json before.json --src /path/to/old/src
    python benchmarks/bench_identity.py --json after.json --compare before.json

It runs the command line (``python -m tunesmith``) in a subprocess, so it works for any version of the package
whose commands are the same. Exit status 1 when ``--compare`` finds a difference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CRNN = ["--set", "batch_size=8", "--set", "max_length=32"]
#: primers for the Transformer's infilling and kept tracks (package data, the same in every tree)
EXAMPLES = ROOT / "src" / "tunesmith" / "studio" / "examples"
#: (name, model, preset, steps, extra train options, generate options)
CASES: list[tuple[str, str, str, int, list[str], list[list[str]]]] = [
    (
        "rnn-default",
        "rnn",
        "default",
        30,
        [],
        [["-n", "3", "--length", "24"], ["--temperature", "0.8", "--top-k", "4"]],
    ),  # noqa: E501
    ("rnn-bins", "rnn", "default", 30, ["--set", "timing=bins"], [["-n", "2", "--length", "24", "--top-p", "0.8"]]),
    ("rnn-paper", "rnn", "paper", 20, [], [["-n", "2", "--length", "16", "--top-p", "0.9"]]),
    (
        "gan-default",
        "gan",
        "default",
        6,
        ["--set", "batch_size=8"],
        [["-n", "2", "--length", "4", "--sample"], ["--threshold", "0.06", "--hold", "0.04"], ["--threshold", "0.05"]],
    ),
    ("gan-musegan", "gan", "musegan", 2, ["--set", "batch_size=4"], [["-n", "2", "--length", "2", "--sample"]]),
    ("crnngan", "crnngan", "default", 12, [*CRNN, "--set", "pretrain_epochs=1"], [["-n", "2", "--length", "24"]]),
    ("crnngan3", "crnngan3", "default", 12, [*CRNN, "--set", "pretrain_epochs=1"], [["-n", "2", "--length", "24"]]),
    ("baseline", "baseline", "default", 12, CRNN, [["-n", "2", "--length", "24"]]),
    (
        "transformer",
        "transformer",
        "tiny",
        8,
        [],
        [
            ["-n", "2", "--length", "32", "--temperature", "0.9"],
            ["-n", "1", "--length", "24", "--key", "D minor", "--density", "high"],
            ["-n", "1", "--primer", str(EXAMPLES / "chorale-bwv66.6.mid"), "--infill-bars", "2-3"],
            ["-n", "1", "--primer", str(EXAMPLES / "chorale-bwv66.6.mid"), "--keep-tracks", "1"],
        ],
    ),
]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "tunesmith", *cmd], env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"tunesmith {' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")


def fingerprint(src: Path, work: Path, limit: int) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out: dict[str, str] = {}
    data = work / "data"
    run(["prepare", "bach", "--out", str(data), "--limit", str(limit), "--workers", "1", "-q"], env)
    out["data/notes.bin"] = sha(data / "notes.bin")
    for name, model, preset, steps, extra, gens in CASES:
        t0 = time.perf_counter()
        rundir = work / "runs" / name
        run(
            [
                "train",
                model,
                "--data",
                str(data),
                "--out",
                str(rundir),
                "--preset",
                preset,
                "--max-steps",
                str(steps),
                "--seed",
                "0",
                "--set",
                "threads=1",
                "-q",
                *extra,
            ],
            env,
        )
        out[f"{name}/model.safetensors"] = sha(rundir / "model.safetensors")
        for k, opts in enumerate(gens):
            gen_dir = work / "gen" / f"{name}-{k}"
            run(["generate", str(rundir), "--out", str(gen_dir), "--seed", "7", *opts], env)
            for f in sorted(gen_dir.glob("*.mid")):
                out[f"{name}/generate-{k}/{f.name}"] = sha(f)
        print(f"{name:<14} {time.perf_counter() - t0:6.1f} s", file=sys.stderr, flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the source tree to fingerprint (its src/ folder)")
    ap.add_argument("--limit", type=int, default=40, help="chorales to prepare")
    ap.add_argument("--json", type=Path, default=None, help="write the fingerprints here")
    ap.add_argument("--compare", type=Path, default=None, help="fingerprints of another tree to compare with")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        prints = fingerprint(args.src.resolve(), Path(tmp), args.limit)
    for k, v in prints.items():
        print(f"{v[:16]}  {k}")
    if args.json:
        args.json.write_text(json.dumps(prints, indent=1) + "\n")
    if args.compare:
        before = json.loads(args.compare.read_text())
        differ = sorted(k for k in set(before) | set(prints) if before.get(k) != prints.get(k))
        same = len(set(before) | set(prints)) - len(differ)
        print(f"{same} identical, {len(differ)} different")
        for k in differ:
            print(f"  differs: {k}  {before.get(k, 'missing')[:16]} -> {prints.get(k, 'missing')[:16]}")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
