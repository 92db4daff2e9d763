"""Benchmark: ``prepare`` on ever larger collections (MAESTRO listed 1x, 5x, 20x, ...): time and peak memory.

Run from the project root::

    .venv/bin/python benchmarks/bench_prepare_scale.py [--data DIR] [--scales 1,5,20] [--workers 2]

A collection of scale k is a folder of k copies of MAESTRO made of symbolic links (``copy_00/2004/x.midi`` ->
the real file), so it costs no disk space and every copy is parsed anew like a distinct file; the folder layout
is used (the copies have no csv), so pieces get hash splits. Each preparation runs as
``python -m tunesmith prepare ... --force -q`` in a child process, measured as in ``bench_prepare.py``: wall time
including interpreter start, and peak memory as the largest sum of resident memory (RSS) over the child and its
workers, sampled every 20 ms (forked workers' shared pages count once per process: an upper bound). Memory must
stay flat as the collection grows: parsed scores are streamed to the dataset's files, never all held at once.
Afterwards a fresh process loads the dataset and reads every piece's notes; its RSS shows the notes are
memory-mapped (read on demand, not loaded). Each dataset is deleted once measured (20x MAESTRO is 5.4 GB).

MAESTRO is read from ``../shared/data/maestro`` (or ``--data`` / ``TUNESMITH_DATA``); without it the benchmark
says so and exits.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_prepare import DEFAULT_DATA, MB, machine, run_measured

LOAD_SNIPPET = """
import json, sys
from pathlib import Path
def mem():  # private (anonymous) and file-backed resident memory, bytes
    f = dict(ln.split(":", 1) for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith("Rss"))
    return {k: int(f[k].split()[0]) * 1024 for k in ("RssAnon", "RssFile")}
from tunesmith.dataset import Dataset
before = mem()
ds = Dataset.load(sys.argv[1])
loaded = mem()
pitch_sum = sum(int(ds[i].notes["pitch"].sum()) for i in range(len(ds)))  # every note read once
print(json.dumps({"pieces": len(ds), "import": before, "loaded": loaded, "read_all": mem(),
                  "notes_bin": (Path(sys.argv[1]) / "notes.bin").stat().st_size, "pitch_sum": pitch_sum}))
"""


def link_copies(files: list[Path], root: Path, src: Path, copies: int) -> int:
    """``src/copy_KK/<path relative to root>`` -> the real file, for K < copies; returns the number of links."""
    n = 0
    for k in range(copies):
        for f in files:
            link = src / f"copy_{k:02d}" / f.relative_to(root)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(f)
            n += 1
    return n


def measure(src: Path, out: Path, workers: int) -> dict:
    cmd = [sys.executable, "-m", "tunesmith", "prepare", str(src), "--out", str(out), "--layout", "folder"]
    cmd += ["--workers", str(workers), "--force", "-q"]
    wall, peak = run_measured(cmd)
    m = json.loads((out / "manifest.json").read_text())
    load = json.loads(
        subprocess.run(
            [sys.executable, "-c", LOAD_SNIPPET, str(out)], capture_output=True, text=True, check=True
        ).stdout
    )
    return {
        "files": m["files"],
        "pieces": m["pieces"],
        "notes": m["notes"],
        "skipped": m["skipped"],
        "wall_s": round(wall, 2),
        "prepare_s": m["seconds_to_prepare"],
        "peak_tree_rss_mb": round(peak / MB),
        # private memory of a fresh process: after imports, after Dataset.load, after reading every note;
        # the notes read are file-backed pages of the memory map (the page cache), reported apart
        "import_anon_mb": round(load["import"]["RssAnon"] / MB),
        "load_anon_mb": round(load["loaded"]["RssAnon"] / MB),
        "read_all_anon_mb": round(load["read_all"]["RssAnon"] / MB),
        "read_all_file_mb": round(load["read_all"]["RssFile"] / MB),
        "notes_bin_mb": round(load["notes_bin"] / MB),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("TUNESMITH_DATA", DEFAULT_DATA)),
        help="shared data folder holding maestro/ (default: $TUNESMITH_DATA or ../shared/data)",
    )
    ap.add_argument("--scales", default="1,5,20", help="comma-separated copies of MAESTRO to prepare")
    ap.add_argument("--workers", type=int, default=2, help="parser processes of prepare")
    ap.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")
    args = ap.parse_args()
    root = (args.data / "maestro").resolve()
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".mid", ".midi")) if root.is_dir() else []
    if not files:
        print(f"{root}: no MAESTRO MIDI files here; skipping (give --data or set TUNESMITH_DATA)")
        return
    scales = sorted({int(s) for s in args.scales.split(",")})
    for f in files:  # warm the page cache: the copies are the same files, so every scale reads from memory
        f.read_bytes()
    res: dict = {"machine": machine(), "maestro_files": len(files), "workers": args.workers, "scales": {}}
    print(f"{len(files)} MIDI files in {root}; scales {scales}; {args.workers} workers", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_prepare_scale_") as tmp:
        for k in scales:
            src, out = Path(tmp, f"src_{k}"), Path(tmp, f"ds_{k}")
            link_copies(files, root, src, k)
            r = res["scales"][k] = measure(src, out, args.workers)
            shutil.rmtree(out)
            shutil.rmtree(src)
            print(f"{k}x: {r}", flush=True)
    base = res["scales"][scales[0]]
    print()
    print(
        "| scale | files | notes | wall s | in prepare() s | us per file | peak RSS MB (tree) | ratio to "
        f"{scales[0]}x | Dataset.load: private MB | after reading every note: private / file-backed MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k, r in res["scales"].items():
        per_file = 1e6 * r["prepare_s"] / r["files"]
        ratio = r["peak_tree_rss_mb"] / base["peak_tree_rss_mb"]
        print(
            f"| {k}x | {r['files']:,} | {r['notes']:,} | {r['wall_s']:.1f} | {r['prepare_s']:.1f} | {per_file:.0f} | "
            f"{r['peak_tree_rss_mb']} | {ratio:.2f} | {r['load_anon_mb']} | "
            f"{r['read_all_anon_mb']} / {r['read_all_file_mb']} |"
        )
    last = res["scales"][scales[-1]]
    files, secs = last["files"] / base["files"], last["prepare_s"] / base["prepare_s"]
    rss = last["peak_tree_rss_mb"] / base["peak_tree_rss_mb"]
    print(f"\n{scales[-1]}x / {scales[0]}x: files {files:.1f}x, time in prepare() {secs:.2f}x, peak RSS {rss:.2f}x")
    if args.out:
        args.out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
