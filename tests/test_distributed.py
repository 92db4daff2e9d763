"""Training beyond one process: two CPU processes (gloo) started by torch's own launcher train as one does.

One torchrun launch (the slow part: two interpreters importing torch) runs every distributed scenario; it is
this module run as a script (``python -m torch.distributed.run ... -m tests.test_distributed OUT DATA``, see
``worker`` below), which wraps a few library functions to record what each rank saw and did and writes that to
OUT. The tests then compare the ranks with each other and with single-process runs made here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from tunesmith.errors import ConfigError
from tunesmith.jobs.train import train

from .conftest import ROOT, synthetic_dataset

RNN = {"hidden": "16", "batch_size": "16", "device": "cpu", "epochs": "1", "log_every": "1"}
RNN_STEPS = 9 * (60 - 25) // 16  # batches of 16 in an epoch of the 9 training pieces' windows of 25 + 1 notes
CRNNGAN = {
    "hidden": "8",
    "d_hidden": "8",
    "max_length": "8",
    "curriculum_start": "8",
    "pretrain_epochs": "0",  # adversarial from the first step: G's hand-written backward pass under DDP
    "freeze_g": "true",
    "freeze_ratio": "0.44",  # G's adversarial loss starts near 0.44 times D's loss: G freezes at some steps only
    "windows_per_piece": "3",
    "stats_samples": "2",
    "batch_size": "4",
    "device": "cpu",
    "epochs": "1",
    "max_steps": "6",
}
GAN = {
    "bars": "1",
    "lowest_pitch": "48",
    "n_pitches": "36",
    "channels": "4",
    "up_layers": "2",
    "batch_size": "4",
    "d_steps": "2",
    "n_fixed": "4",
    "stat_phrases": "8",
    "sample_every": "0",
    "device": "cpu",
    "epochs": "1",
    "max_steps": "2",
}


TRANSFORMER = {
    "context": "32",
    "batch_size": "4",
    "max_steps": "3",
    "epochs": "1",
    "device": "cpu",
    "val_max_batches": "2",
    "log_every": "1",
}


# ------------------------------------------------------------------------------------------------ the worker
def worker(out: Path, data: Path) -> None:
    """Runs in each of torchrun's processes: the same calls of ``tunesmith.jobs.train.train`` as a user's script,
    with a few library functions wrapped to record per rank what was seen and written."""
    import tunesmith.training.trainer as trainer_mod
    from tunesmith.families.crnngan.task import CRNNGANTask
    from tunesmith.families.rnn.task import RNNTask
    from tunesmith.training.checkpoint import unwrap
    from tunesmith.training.distributed import shutdown_distributed

    rank = int(os.environ["RANK"])
    record: dict[str, Any] = {"saves": 0, "weight_saves": 0, "rnn_batches": [], "crnngan": []}
    save_state, save_weights = trainer_mod.save_trainer_state, trainer_mod.save_weights

    def counting_save_state(*args: Any) -> None:
        record["saves"] += 1
        save_state(*args)

    def counting_save_weights(*args: Any) -> None:
        record["weight_saves"] += 1
        save_weights(*args)

    rnn_step = RNNTask.train_step

    def recording_rnn_step(self: RNNTask, batch: torch.Tensor, step: int) -> dict[str, float]:
        record["rnn_batches"].append(batch.clone())
        return rnn_step(self, batch, step)

    adversarial_step = CRNNGANTask.adversarial_step

    def recording_adversarial_step(self: CRNNGANTask, x: torch.Tensor) -> dict[str, float]:
        logs = adversarial_step(self, x)
        record["crnngan"].append({k: logs[k] for k in ("d_loss", "g_adv", "d_frozen", "g_frozen")})
        return logs

    fit = trainer_mod.Trainer.fit
    fits: dict[str, int] = {}

    def dumping_fit(self: trainer_mod.Trainer) -> dict[str, Any]:
        summary = fit(self)
        model = unwrap(self.task.model)
        state = {"params": {k: v.detach().clone() for k, v in model.named_parameters()}}
        n = fits[self.run.name] = fits.get(self.run.name, -1) + 1  # rnn_0, rnn_1 (resumed), crnngan_0, gan_0
        torch.save(state, out / f"{self.run.name}_{n}_rank{rank}.pt")
        return summary

    trainer_mod.save_trainer_state, trainer_mod.save_weights = counting_save_state, counting_save_weights
    RNNTask.train_step = recording_rnn_step  # type: ignore[method-assign]
    CRNNGANTask.adversarial_step = recording_adversarial_step  # type: ignore[method-assign]
    trainer_mod.Trainer.fit = dumping_fit  # type: ignore[method-assign]

    runs = out / "runs"
    # rnn: 3 steps, stop with a checkpoint, resume to the end of the epoch (validation included)
    train("rnn", data, runs / "rnn", preset="paper", overrides={**RNN, "max_steps": "3"}, progress=False)
    train("rnn", data, runs / "rnn", resume=True, overrides={"max_steps": "none"}, progress=False)
    train("crnngan", data, runs / "crnngan", preset="paper", overrides=CRNNGAN, progress=False)
    train("gan", data, runs / "gan", overrides=GAN, progress=False)
    train("transformer", data, runs / "transformer", preset="tiny", overrides=TRANSFORMER, progress=False)
    record["rnn_batches"] = torch.stack(record["rnn_batches"])
    torch.save(record, out / f"record_rank{rank}.pt")
    shutdown_distributed()


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """12 synthetic pieces of 60 notes on an eighth-note grid (some chords): 9 train, 1 validation."""
    return synthetic_dataset(tmp_path_factory.mktemp("distributed"), steps=[0.0, 0.25, 0.5], durations=[0.25, 0.5])


@pytest.fixture(scope="module")
def ranks(data, tmp_path_factory) -> tuple[Path, list[dict[str, Any]]]:
    """Launch the worker on 2 processes; returns the output folder and each rank's record."""
    out = tmp_path_factory.mktemp("ranks")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    cmd += ["-m", "tests.test_distributed", str(out), str(data)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return out, [torch.load(out / f"record_rank{r}.pt", weights_only=True) for r in range(2)]


def _params(out: Path, name: str, rank: int) -> dict[str, torch.Tensor]:
    return torch.load(out / f"{name}_rank{rank}.pt", weights_only=True)["params"]


def _single(data: Path, out: Path, monkeypatch, **overrides: str) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """A single-process rnn run; returns its final weights and the batches it trained on."""
    from tunesmith.families.rnn.task import RNNTask

    seen: list[torch.Tensor] = []
    step = RNNTask.train_step

    def recording(self: RNNTask, batch: torch.Tensor, k: int) -> dict[str, float]:
        seen.append(batch.clone())
        return step(self, batch, k)

    monkeypatch.setattr(RNNTask, "train_step", recording)
    train("rnn", data, out, preset="paper", overrides={**RNN, **overrides}, progress=False)
    state = torch.load(out / "trainer_state.pt", weights_only=True)
    return state["model"], torch.stack(seen)


# ------------------------------------------------------------------------------------------------ tests
def test_ranks_read_disjoint_shards_that_make_up_the_single_process_batches(data, ranks, tmp_path, monkeypatch):
    _, rec = ranks
    b0, b1 = rec[0]["rnn_batches"], rec[1]["rnn_batches"]
    assert b0.shape == b1.shape == (RNN_STEPS, 8, 26, b0.shape[-1])  # each rank: half of the global batch of 16
    rows0 = {tuple(w.flatten().tolist()) for w in b0.flatten(0, 1)}
    rows1 = {tuple(w.flatten().tolist()) for w in b1.flatten(0, 1)}
    assert len(rows0) == len(rows1) == RNN_STEPS * 8 and not rows0 & rows1
    _, single = _single(data, tmp_path / "single", monkeypatch)
    assert torch.equal(torch.cat([b0, b1], dim=1), single)  # rank 0 the first half of each batch, rank 1 the rest


def test_weights_identical_on_both_ranks_and_equal_to_one_process(data, ranks, tmp_path, monkeypatch):
    out, _ = ranks
    p0, p1 = _params(out, "rnn_0", 0), _params(out, "rnn_0", 1)  # after 3 steps
    assert p0.keys() == p1.keys() and all(torch.equal(p0[k], p1[k]) for k in p0)
    single, _ = _single(data, tmp_path / "single3", monkeypatch, max_steps="3")
    for k, v in p0.items():
        torch.testing.assert_close(v, single[k], rtol=1e-5, atol=1e-6)


def test_one_writer_one_checkpoint_and_resume_continues(data, ranks, tmp_path, monkeypatch):
    out, rec = ranks
    run = out / "runs" / "rnn"
    assert rec[1]["saves"] == rec[1]["weight_saves"] == 0  # rank 1 never wrote
    assert rec[0]["saves"] >= 2 and rec[0]["weight_saves"] >= 1
    names = sorted(p.name for p in run.iterdir())
    assert names == ["config.json", "metrics.jsonl", "model.safetensors", "primers.npy", "trainer_state.pt"]
    lines = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines if r["kind"] == "train"] == list(range(1, RNN_STEPS + 1))  # once each
    state = torch.load(run / "trainer_state.pt", weights_only=True)
    assert state["step"] == RNN_STEPS and state["epoch"] == 1 and state["world_size"] == 2
    assert len(state["rank_rng"]) == 2
    # the resumed distributed run ends where one process gets in one go
    single, _ = _single(data, tmp_path / "single", monkeypatch)
    p0, p1 = _params(out, "rnn_1", 0), _params(out, "rnn_1", 1)
    for k, v in p0.items():
        assert torch.equal(v, p1[k])
        torch.testing.assert_close(v, single[k], rtol=1e-4, atol=1e-5)
        assert torch.equal(v, state["model"][k])  # the checkpoint holds rank 0's (unwrapped) weights
    epoch = [r for r in lines if r["kind"] == "epoch"][0]
    ref = [json.loads(ln) for ln in (tmp_path / "single" / "metrics.jsonl").read_text().splitlines()]
    ref_epoch = [r for r in ref if r["kind"] == "epoch"][0]
    for key in ("val/loss", "val/pitch"):  # validation spread over the ranks and gathered
        assert epoch[key] == pytest.approx(ref_epoch[key], rel=1e-4)
    # logged training losses are the ranks' mean: the loss of the whole batch (steps 1-3: before the resume)
    train_lines = [r for r in lines if r["kind"] == "train"][:3]
    ref_lines = [r for r in ref if r["kind"] == "train"][:3]
    for r, q in zip(train_lines, ref_lines, strict=True):
        assert r["train/loss"] == pytest.approx(q["train/loss"], rel=1e-5)


def test_crnngan_freezing_is_decided_on_the_averaged_losses(ranks):
    out, rec = ranks
    steps0, steps1 = rec[0]["crnngan"], rec[1]["crnngan"]
    assert len(steps0) == len(steps1) == int(CRNNGAN["max_steps"])
    ratio = float(CRNNGAN["freeze_ratio"])
    for a, b in zip(steps0, steps1, strict=True):
        assert a["d_loss"] != b["d_loss"] and a["g_adv"] != b["g_adv"]  # each rank sees its own windows and noise
        assert a["d_frozen"] == b["d_frozen"] == 0.0 and a["g_frozen"] == b["g_frozen"]  # ... yet both decide alike
        d_loss, g_adv = (a["d_loss"] + b["d_loss"]) / 2, (a["g_adv"] + b["g_adv"]) / 2
        assert a["g_frozen"] == float(g_adv < ratio * d_loss)  # on the losses of the whole batch
    frozen = [a["g_frozen"] for a in steps0]
    assert 0.0 in frozen  # G stepped (through its hand-written backward pass) at least once
    p0, p1 = _params(out, "crnngan_0", 0), _params(out, "crnngan_0", 1)
    assert p0.keys() == p1.keys() and all(torch.equal(p0[k], p1[k]) for k in p0)


def test_gan_weights_identical_on_both_ranks(ranks):
    out, _ = ranks
    p0, p1 = _params(out, "gan_0", 0), _params(out, "gan_0", 1)
    assert any(k.startswith("generator.") for k in p0) and any(k.startswith("discriminator.") for k in p0)
    assert p0.keys() == p1.keys() and all(torch.equal(p0[k], p1[k]) for k in p0)


def test_transformer_trains_on_two_ranks_as_on_one(ranks, data, tmp_path):
    """Fill-in-the-middle batches sharded over the ranks: both ranks end with the same weights, and those of one
    process trained on the whole batches (within float rounding of the averaged gradients)."""
    from tunesmith.training.checkpoint import load_trainer_state

    out, _ = ranks
    p0, p1 = _params(out, "transformer_0", 0), _params(out, "transformer_0", 1)
    assert p0.keys() == p1.keys() and all(torch.equal(p0[k], p1[k]) for k in p0)
    train("transformer", data, tmp_path / "one", preset="tiny", overrides=TRANSFORMER, progress=False)
    single = load_trainer_state(tmp_path / "one" / "trainer_state.pt")["model"]
    assert all(torch.allclose(p0[k], single[k], atol=1e-5) for k in p0)


# ------------------------------------------------------------------------------------------------ in-process
def test_crnngan_freezes_by_the_all_reduced_losses_not_its_own(monkeypatch):
    """The decision reads what ``all_mean`` returns (the ranks' mean): told that D's loss is far below G's, D
    freezes although this process's own losses (about 1.39 and 0.69) say it should step."""
    import numpy as np

    import tunesmith.families.crnngan.task as task_mod
    from tunesmith.families.crnngan.model import CRNNGAN, CRNNGANConfig
    from tunesmith.notes import Notes
    from tunesmith.representations.tones import ToneNormalizer, to_tones
    from tunesmith.training.trainer import TrainConfig

    rng = np.random.default_rng(0)
    pieces = []
    for _ in range(4):
        start = np.cumsum(rng.choice([0.25, 0.5], 12))
        pieces.append(to_tones(Notes.from_arrays(rng.integers(48, 84, 12), start, start + 0.25)))
    torch.manual_seed(0)
    cfg = CRNNGANConfig(hidden=8, d_hidden=6, max_length=8, stats_samples=2)
    tc = TrainConfig(batch_size=2, lr=0.1)
    task = task_mod.CRNNGANTask(CRNNGAN(cfg), pieces, pieces, tc, torch.device("cpu"), ToneNormalizer.fit(pieces))
    x = task.train_data.gather(np.array([0, 12]), 8)
    seen = []

    def told(values: torch.Tensor) -> torch.Tensor:
        seen.append(values.clone())
        return torch.tensor([0.1, 10.0])  # D's loss 0.1 < 0.7 x 10: freeze D

    monkeypatch.setattr(task_mod, "all_mean", told)
    before = {k: v.clone() for k, v in task.model.d.state_dict().items()}
    logs = task.adversarial_step(x)
    assert logs["d_frozen"] == 1.0 and all(torch.equal(before[k], v) for k, v in task.model.d.state_dict().items())
    assert logs["d_loss"] > 0.7 * logs["g_adv"]  # by this process's own losses D would have stepped
    assert torch.allclose(seen[0], torch.tensor([logs["d_loss"], logs["g_adv"]]))


def test_shards_of_a_global_batch(monkeypatch):
    import tunesmith.training.distributed as distributed_mod

    monkeypatch.setattr(distributed_mod, "world_size", lambda: 3)
    blocks = []
    for r in range(3):
        monkeypatch.setattr(distributed_mod, "rank", lambda r=r: r)
        blocks.append(list(range(12))[distributed_mod.shard(12)])
    assert blocks == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    with pytest.raises(ConfigError, match="batch_size 10 .* 3 processes"):
        distributed_mod.shard(10)


def test_nproc_relaunches_through_torchrun(monkeypatch, tmp_path):
    from tunesmith.cli import main

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd) or subprocess.CompletedProcess(cmd, 3))
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    argv = ["train", "rnn", "--data", "d", "--out", "r", "--max-steps", "5", "--set", "hidden=16", "--resume", "-q"]
    assert main([*argv, "--nproc", "2"]) == 3  # torchrun's exit status
    assert calls == [
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "tunesmith"]
        + ["train", "rnn", "--data", "d", "--out", "r", "--preset", "default", "--max-steps", "5"]
        + ["--set", "hidden=16", "--resume", "-q"]
    ]
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main([*argv, "--nproc", "2"]) == 1 and len(calls) == 1  # already one of torchrun's processes


if __name__ == "__main__":
    worker(Path(sys.argv[1]), Path(sys.argv[2]))
