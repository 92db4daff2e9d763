"""Benchmark: preparing MAESTRO with tunesmith, against symusic alone and pretty_midi (the TF tutorial's parser).

Run from the project root::

    .venv/bin/python benchmarks/bench_prepare.py [--data DIR] [--workers 2] [--pretty-midi-files N]

The shared data folder is ``../shared/data`` from the project root unless ``--data`` or ``TUNESMITH_DATA`` says
otherwise. Every MIDI file is read once before timing, so all figures are with a warm page cache. Peak memory of
a preparation is the largest sum of resident memory (RSS) over the child process and all its workers, sampled
every 20 ms from /proc (shared copy-on-write pages count once per process, so it is an upper bound).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from importlib.metadata import version
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pretty_midi
import symusic

from tunesmith.dataset import Dataset

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (0 for processes gone meanwhile)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def run_measured(cmd: list[str]) -> tuple[float, int]:
    """Run ``cmd``; return its wall seconds and the peak RSS summed over its process tree (bytes)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.read()}")
    return wall, peak


def prepare_run(maestro: Path, out: Path, layout: str, workers: int) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "tunesmith",
        "prepare",
        str(maestro),
        "--out",
        str(out),
        "--layout",
        layout,
        "--workers",
        str(workers),
        "--force",
        "-q",
    ]
    wall, peak = run_measured(cmd)
    m = json.loads((out / "manifest.json").read_text())
    return {
        "wall_s": round(wall, 3),
        "peak_tree_rss_mb": round(peak / MB),
        "prepare_s": m["seconds_to_prepare"],
        "files": m["files"],
        "pieces": m["pieces"],
        "notes": m["notes"],
        "skipped": m["skipped"],
    }


LOAD_SNIPPET = """
import json, sys, time
t0 = time.perf_counter()
from tunesmith.dataset import Dataset
t1 = time.perf_counter()
ds = Dataset.load(sys.argv[1])
t2 = time.perf_counter()
n = sum(len(ds[i]) for i in range(len(ds)))
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "touch_s": t3 - t2, "notes": n}))
"""


def load_run(path: Path) -> dict:
    fresh = json.loads(
        subprocess.run(
            [sys.executable, "-c", LOAD_SNIPPET, str(path)], capture_output=True, text=True, check=True
        ).stdout
    )
    loads, touches = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        ds = Dataset.load(path)
        t1 = time.perf_counter()
        sum(len(ds[i]) for i in range(len(ds)))
        loads.append(t1 - t0)
        touches.append(time.perf_counter() - t1)
    return {
        "fresh_process_load_s": round(fresh["load_s"], 4),
        "fresh_process_touch_s": round(fresh["touch_s"], 4),
        "load_median_s": round(statistics.median(loads), 4),
        "touch_median_s": round(statistics.median(touches), 4),
        "pieces": len(ds),
        "notes": fresh["notes"],
    }


def parse_pretty_midi(path: str) -> tuple[int, float]:
    t0 = time.perf_counter()
    pm = pretty_midi.PrettyMIDI(path)
    return sum(len(i.notes) for i in pm.instruments), time.perf_counter() - t0


def machine() -> dict:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PHYS_PAGES") * PAGE / 1024**3, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "symusic": version("symusic"),
        "pretty_midi": version("pretty_midi"),
        "tunesmith": version("tunesmith"),
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("TUNESMITH_DATA", DEFAULT_DATA)),
        help="shared data folder holding maestro/ (default: $TUNESMITH_DATA or ../shared/data)",
    )
    ap.add_argument("--workers", type=int, default=2, help="worker processes for tunesmith and pretty_midi")
    ap.add_argument(
        "--pretty-midi-files",
        type=int,
        default=None,
        metavar="N",
        help="parse only the first N files with pretty_midi (default: all; ~0.35 s per file)",
    )
    args = ap.parse_args()
    maestro = args.data / "maestro"
    files = sorted(str(p) for p in maestro.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    if not files:
        sys.exit(f"{maestro}: no MIDI files (give --data or set TUNESMITH_DATA)")
    n_pm = min(args.pretty_midi_files or len(files), len(files))
    for f in files:  # warm the page cache: every measurement below reads from memory, none from disk
        Path(f).read_bytes()
    res: dict = {"machine": machine(), "files": len(files), "workers": args.workers}
    print(f"{len(files)} MIDI files in {maestro}, {args.workers} workers", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench_prepare_") as tmp:
        res["prepare_folder"] = prepare_run(maestro, Path(tmp, "folder"), "folder", args.workers)
        print("prepare (folder):", res["prepare_folder"], flush=True)
        res["prepare_maestro"] = prepare_run(maestro, Path(tmp, "maestro"), "maestro", args.workers)
        print("prepare (maestro):", res["prepare_maestro"], flush=True)
        res["load"] = load_run(Path(tmp, "folder"))
        print("load:", res["load"], flush=True)

    per_file = []
    for f in files:
        t0 = time.perf_counter()
        symusic.Score(f)
        per_file.append(time.perf_counter() - t0)
    res["symusic"] = {"seconds": round(sum(per_file), 3), "first_n_seconds": round(sum(per_file[:n_pm]), 3)}
    print("symusic:", res["symusic"], flush=True)

    t0 = time.perf_counter()
    with Pool(args.workers) as pool:
        parsed = pool.map(parse_pretty_midi, files[:n_pm], chunksize=4)
    pm_wall = time.perf_counter() - t0
    res["pretty_midi"] = {
        "files": n_pm,
        "wall_s": round(pm_wall, 3),
        "notes": sum(n for n, _ in parsed),
        "cpu_s_per_file": round(sum(s for _, s in parsed) / n_pm, 4),
    }

    ts, sym = res["prepare_folder"], res["symusic"]
    pm_per_file = pm_wall / n_pm
    res["ratios"] = {
        "pretty_midi_vs_tunesmith_prepare": round(pm_per_file / (ts["wall_s"] / len(files)), 1),
        "pretty_midi_vs_symusic": round(pm_per_file / (sym["first_n_seconds"] / n_pm), 1),
        "pretty_midi_extrapolated": n_pm < len(files),
    }
    print_table(res)
    print(json.dumps(res))


def print_table(res: dict) -> None:
    n, w, m = res["files"], res["workers"], res["machine"]
    pf, pm, ld = res["prepare_folder"], res["prepare_maestro"], res["load"]
    sym, pmd = res["symusic"], res["pretty_midi"]
    extra = " (extrapolated)" if res["ratios"]["pretty_midi_extrapolated"] else ""
    rows = [
        (
            f"tunesmith prepare, folder layout, {pf['files']} files, {w} workers: wall",
            f"{pf['wall_s']:.2f} s",
            "<= 10 s",
        ),
        ("  of which inside prepare() (parse + write)", f"{pf['prepare_s']:.2f} s", ""),
        ("  peak RSS, sum over process tree", f"{pf['peak_tree_rss_mb']} MB", "<= 1 GB"),
        ("  pieces / notes / skipped", f"{pf['pieces']} / {pf['notes']:,} / {pf['skipped']}", ""),
        (f"tunesmith prepare, maestro layout ({pm['pieces']} pieces): wall", f"{pm['wall_s']:.2f} s", ""),
        ("  peak RSS, sum over process tree", f"{pm['peak_tree_rss_mb']} MB", ""),
        ("Dataset.load, median of 5", f"{ld['load_median_s'] * 1000:.1f} ms", "< 0.5 s"),
        ("Dataset.load, first in a fresh process", f"{ld['fresh_process_load_s'] * 1000:.1f} ms", "< 0.5 s"),
        (f"touch every piece ({ld['pieces']} pieces), median of 5", f"{ld['touch_median_s'] * 1000:.1f} ms", ""),
        (f"symusic.Score, {n} files, 1 process", f"{sym['seconds']:.2f} s", ""),
        (f"pretty_midi.PrettyMIDI, {pmd['files']} files, {w} workers: wall", f"{pmd['wall_s']:.1f} s", ""),
        (
            "  pretty_midi wall per file / parse time per file in a worker",
            f"{pmd['wall_s'] / pmd['files']:.3f} / {pmd['cpu_s_per_file']:.3f} s",
            "",
        ),
        (
            f"ratio pretty_midi / tunesmith prepare, per file{extra}",
            f"{res['ratios']['pretty_midi_vs_tunesmith_prepare']}x",
            "",
        ),
        (
            f"ratio pretty_midi ({w} workers) / symusic (1 process), per file",
            f"{res['ratios']['pretty_midi_vs_symusic']}x",
            "",
        ),
    ]
    print(
        f"\n{m['cpu']} ({m['machine']}), {m['cpus']} CPUs, {m['memory_gb']} GB, Python {m['python']}, "
        f"numpy {m['numpy']}, symusic {m['symusic']}, pretty_midi {m['pretty_midi']}, {m['date']}"
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>24}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>24}  {target}")


if __name__ == "__main__":
    main()
