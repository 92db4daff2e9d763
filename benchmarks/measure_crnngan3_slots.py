"""Why C-RNN-GAN-3's polyphony overshoots: how often its generated steps fill their second and third tone slots,
against the training data.

A step of C-RNN-GAN-3 carries up to three tones that start together; an absent tone is stored as all zeros
(frequency 0 Hz), and decoding reads slot 2 or 3 as a tone when its frequency is at least that of MIDI pitch -0.5
(about 7.9 Hz). Polyphony (the share of tones that start together with another) is high exactly when slots 2 and
3 are filled. This script generates pieces from a run (the same fixed seed as ``tunesmith evaluate``) and prints,
for generated and for real (training split) steps: the share of steps whose slot j holds a tone, the median and
10th percentile of slot j's frequency, and the resulting polyphony.

    python benchmarks/measure_crnngan3_slots.py RUN --data DATASET [-n 64] [--length 100]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from tunesmith.dataset import Dataset
from tunesmith.evaluation.metrics import polyphony
from tunesmith.families.base import seeded_generator
from tunesmith.families.crnngan import tones_by_split
from tunesmith.families.crnngan.sample import normalizer_of, presence_of
from tunesmith.jobs.runs import load_run
from tunesmith.representations.tones import (
    FEATURES_PER_TONE,
    FREQUENCY,
    MIN_PRESENT_PITCH,
    from_tones,
    pitch_to_hz,
    slot_shares,
)

PRESENT_HZ = float(pitch_to_hz(MIN_PRESENT_PITCH))


def slot_table(steps: np.ndarray, k: int) -> list[tuple[float, float, float]]:
    """Per slot: share of steps holding a tone there, median and 10th percentile of its frequency (Hz)."""
    rows = []
    for j in range(k):
        hz = steps[:, FEATURES_PER_TONE * j + FREQUENCY]
        present = np.ones(len(hz), dtype=bool) if j == 0 else hz >= PRESENT_HZ
        rows.append((float(present.mean()), float(np.median(hz)), float(np.percentile(hz, 10))))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--data", required=True)
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    run, fam, model = load_run(args.run)
    tones, norm = normalizer_of(run)
    k = tones.tones_per_step
    gen = seeded_generator(args.seed, torch.device("cpu"))
    with torch.no_grad():
        x = model.generate(model.noise(args.n, args.length, generator=gen, device=torch.device("cpu")))
    generated = norm.denormalize(x.double().numpy())  # (n, length, F) in ticks, Hz and velocity
    real = tones_by_split(Dataset.load(args.data), "train", tones)
    real_steps = np.concatenate(real)
    gen_steps = generated.reshape(-1, generated.shape[-1])
    print(f"{args.run} ({run.kind}, {k} tones per step); a slot holds a tone at >= {PRESENT_HZ:.2f} Hz")
    head = "".join(f"{'slot ' + str(j + 1) + ' share':>14}{'median Hz':>11}{'p10 Hz':>9}" for j in range(k))
    print(f"{'':<12}{head}")
    for name, steps in (("real", real_steps), ("generated", gen_steps)):
        cells = "".join(f"{s:>14.3f}{m:>11.1f}{p:>9.1f}" for s, m, p in slot_table(steps, k))
        print(f"{name:<12}{cells}")
    gen_poly = float(np.mean([polyphony(from_tones(seq, tones, min_length=1)) for seq in generated]))
    # the calibrated decoding (what generation does for runs that keep the training data's slot shares)
    shares = run.data()["tones"].get("slot_shares") or slot_shares(real, k)
    present = presence_of(model, tones, norm, shares, torch.device("cpu"))
    calibrated = [from_tones(seq, tones, min_length=1, present_hz=present) for seq in generated]
    cal_poly = float(np.mean([polyphony(notes) for notes in calibrated]))
    rng = np.random.default_rng(args.seed)
    long_enough = [p for p in real if len(p) > args.length]
    windows = [p[s : s + args.length] for p in long_enough for s in [rng.integers(len(p) - args.length)]]
    real_poly = float(np.mean([polyphony(from_tones(w, tones)) for w in windows[: args.n]]))
    print(f"slot shares of real steps: {', '.join(f'{s:.3f}' for s in shares)}")
    if present is not None:
        print(f"calibrated presence thresholds (Hz): {', '.join(f'{h:.1f}' for h in present)}")
        # measured on these generated steps (the thresholds were fitted on a calibration batch of other noise)
        got = [float(np.mean(gen_steps[:, FEATURES_PER_TONE * j + FREQUENCY] >= h)) for j, h in enumerate(present)]
        print(f"slot shares of generated steps, calibrated: {', '.join(f'{s:.3f}' for s in got)}")
    print(f"polyphony   real {real_poly:.3f}   generated {gen_poly:.3f}   generated, calibrated {cal_poly:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
