"""Benchmark: ``tunesmith live`` in real time: how soon an answer's first note goes out after it is due, how
close to their times the scheduled notes go out, and how much faster than real time each model composes.

For each model, ``--phrases`` phrases are played into the live engine in real time, from a player thread on the
machine's clock, through an in-process port (the same engine ``tunesmith live`` runs, its model in its worker
thread, its scheduler in its own). Each phrase is a melody of 6 to 10 notes drawn with a seed (steps and leaps of
C major, quarter and eighth notes, played legato or detached) at ``--tempo``; the engine answers after ``--wait``
beats of silence with ``--bars`` bars; the next phrase starts when the answer has ended. Measured:

* the **answer latency**: the moment the first note of an answer went out less the moment it was due (the last
  release plus the wait): median, 90th and 99th percentiles and the worst;
* the **timing error** of every scheduled message: when it went out less its time;
* **faster than real time**: seconds of music each chunk holds over the seconds it took to compose (median), and
  the same for a whole answer composed in one call;
* beside them, the anchor without look-ahead: an answer composed when it is due (one call for the whole answer,
  then sent) would go out that call's time late; printed as its median and the ratio.

``--busy N`` keeps N other processes spinning on the cores for the whole run (a laptop busy with other things).

``--key-phrases N`` also answers N phrases, each moved to a major key drawn with the seed, offline (the same engine
on a fake clock: ``answer_phrase``), with and without asking the model for the key heard in the phrase (``--no-key``
on the command line: ``--key``): the share of the answers' notes in the phrase's scale, beside the phrases' own (1.0).

    python benchmarks/bench_live.py [--models bach piano leadsheet] [--phrases 20] [--tempo 120] [--busy 0]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import sys
import threading
import time
from pathlib import Path

import mido
import numpy as np

from tunesmith.jobs.live import Live, LiveOptions, RunComposer, answer_phrase
from tunesmith.live import SystemClock
from tunesmith.notes import Notes
from tunesmith.threads import use_threads

SCALE = np.array([0, 2, 4, 5, 7, 9, 11])


def phrase(rng: np.random.Generator, beat: float) -> list[tuple[float, float, int]]:
    """(start, end, pitch) of a melody of 6-10 notes in C major, quarter and eighth notes, from 0 s."""
    n = int(rng.integers(6, 11))
    degree = int(rng.integers(7, 12))
    t, notes = 0.0, []
    for _ in range(n):
        length = beat * float(rng.choice([0.5, 1.0]))
        pitch = 48 + 12 * (degree // 7) + int(SCALE[degree % 7])
        notes.append((t, t + length * float(rng.choice([0.6, 0.95])), pitch))
        t += length
        degree = int(np.clip(degree + rng.choice([-2, -1, -1, 1, 1, 2, 3]), 7, 17))
    return notes


def spin(stop: mp.Event) -> None:
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def percentiles(xs: list[float]) -> dict[str, float]:
    a = np.asarray(xs) * 1000
    return {
        "median": float(np.median(a)), "p90": float(np.percentile(a, 90)), "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
    }  # fmt: skip


def measure(model: str, args: argparse.Namespace) -> dict:
    clock = SystemClock()
    sent: list[tuple[float, mido.Message]] = []
    opts = LiveOptions(run=model, tempo=args.tempo, wait=args.wait, bars=args.bars, seed=0, key=args.key)
    composer = RunComposer(model, opts)
    live = Live(opts, lambda m: sent.append((clock.now(), m)), clock=clock, composer=composer)
    stop = threading.Event()
    loop = threading.Thread(target=live.run_for, args=(1e9, stop), daemon=True)
    loop.start()
    rng = np.random.default_rng(args.seed)
    beat = 60.0 / args.tempo
    answer_len = args.bars * 4 * beat
    whole: list[float] = []
    try:
        # one answer first, not counted: the model's first pass (memory, caches) is not what a player meets twice
        for i in range(args.phrases + 1):
            if i == 1:
                live.stats.latencies.clear()
                live.scheduler.lateness.clear()
                live.stats.compose_log.clear()
            t0 = clock.now() + 0.05
            for start, end, pitch in phrase(rng, beat):
                clock.sleep_until(t0 + start)
                live.feed(mido.Message("note_on", note=pitch, velocity=80))
                clock.sleep_until(t0 + end)
                live.feed(mido.Message("note_off", note=pitch, velocity=0))
            answered = len(live.stats.latencies)
            deadline = clock.now() + args.wait * beat + 10.0
            while len(live.stats.latencies) == answered and clock.now() < deadline:
                time.sleep(0.01)
            time.sleep(answer_len + 0.2)  # the answer plays out
            if i >= 1 and i <= args.whole:  # the anchor: the whole answer composed in one call, when it is due
                context, _ = live._context(clock.now())
                notes = max(8, sum(n for _, _, n in live.stats.compose_log[-3:]))
                t = time.perf_counter()
                composer.continue_notes(context, notes, seed=i)
                whole.append(time.perf_counter() - t)
    finally:
        stop.set()
        loop.join()
        live.close()
        composer.close()
    log = live.stats.compose_log
    speed = [music / spent for spent, music, _ in log if spent > 0]
    first_chunks = [spent for spent, _, n in log if n == args.first]
    return {
        "model": model,
        "answers": len(live.stats.latencies),
        "latency_ms": percentiles(live.stats.latencies),
        "timing_error_ms": percentiles(live.scheduler.lateness),
        "messages": len(live.scheduler.lateness),
        "faster_than_real_time": float(np.median(speed)),
        "first_chunk_ms": float(np.median(first_chunks) * 1000) if first_chunks else None,
        "whole_answer_ms": float(np.median(whole) * 1000) if whole else None,
    }


def in_key(model: str, n: int, seed: int) -> dict[str, float]:
    """The share of two-bar answers' notes in the scale of the phrase they answer, key asked for and not."""
    rng = np.random.default_rng(seed)
    opts = LiveOptions(run=model, tempo=120.0, bars=2)
    composer = RunComposer(model, opts)
    shares: dict[str, list[float]] = {"key": [], "no key": []}
    try:
        for i in range(n):
            notes = phrase(rng, 0.5)
            shift = int(rng.integers(-5, 7))
            pitch, start, end = ([x[i] for x in notes] for i in (2, 0, 1))
            played = Notes.from_arrays(np.array(pitch) + shift, start, end)
            scale = {(int(d) + shift) % 12 for d in SCALE}
            for name, key in (("key", True), ("no key", False)):
                composer.opts = LiveOptions(run=model, tempo=120.0, bars=2, seed=i, key=key)
                answer = answer_phrase(composer, played, composer.opts)
                inside = [int(p) % 12 in scale for p in answer.pitch]
                shares[name].append(float(np.mean(inside)) if inside else 0.0)
    finally:
        composer.close()
    return {name: float(np.mean(v)) for name, v in shares.items()} | {"keyed": composer.keyed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["bach", "piano", "leadsheet"], help="run folders or shipped names")
    ap.add_argument("--phrases", type=int, default=20, help="phrases played to each model (default: %(default)s)")
    ap.add_argument("--tempo", type=float, default=120.0)
    ap.add_argument("--wait", type=float, default=1.0, help="beats of silence before an answer")
    ap.add_argument("--bars", type=int, default=1, help="bars an answer lasts")
    ap.add_argument("--whole", type=int, default=5, help="answers also composed in one call, for the anchor")
    ap.add_argument("--busy", type=int, default=0, help="other processes spinning on the cores meanwhile")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--key-phrases", type=int, default=16, help="phrases for the key measure (0: none)")
    ap.add_argument("--key", action="store_true", help="the timed answers ask for the key (tunesmith live --key)")
    ap.add_argument("--skip-timing", action="store_true", help="only the key measure")
    ap.add_argument("--first", type=int, default=LiveOptions.first, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    use_threads(1)
    stop = mp.Event()
    spinners = [mp.Process(target=spin, args=(stop,), daemon=True) for _ in range(args.busy)]
    for p in spinners:
        p.start()
    try:
        print(f"{platform.processor() or platform.machine()}, {mp.cpu_count()} cores; {args.busy} busy process(es); "
              f"{args.phrases} phrases at {args.tempo:g} bpm, wait {args.wait:g} beat(s), answers of {args.bars} "
              f"bar(s)")  # fmt: skip
        head = ("model", "answers", "latency median / p90 / p99 / max (ms)", "timing error median / p99 (ms)",
                "x real time", "first chunk (ms)", "anchor: composed when due (ms late, median)")  # fmt: skip
        print("| " + " | ".join(head) + " |")
        print("| --- " * len(head) + "|")
        for model in [] if args.skip_timing else args.models:
            r = measure(model, args)
            lat, err = r["latency_ms"], r["timing_error_ms"]
            print(
                f"| {model} | {r['answers']} | {lat['median']:.1f} / {lat['p90']:.1f} / {lat['p99']:.1f} / "
                f"{lat['max']:.1f} | {err['median']:.2f} / {err['p99']:.2f} | {r['faster_than_real_time']:.1f} | "
                f"{r['first_chunk_ms']:.0f} | {r['whole_answer_ms']:.0f} |",
                flush=True,
            )
        if args.key_phrases:
            print(f"\n{args.key_phrases} phrases moved to major keys, two-bar answers: share of their notes in the "
                  "phrase's scale")  # fmt: skip
            print("| model | key asked for (--key) | no key (the default) | takes the key control |")
            print("| --- | ---: | ---: | --- |")
            for model in args.models:
                k = in_key(model, args.key_phrases, args.seed)
                print(f"| {model} | {k['key']:.2f} | {k['no key']:.2f} | {'yes' if k['keyed'] else 'no'} |", flush=True)
    finally:
        stop.set()
        for p in spinners:
            p.join(timeout=2)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
