"""The one training loop with a stub task: no model family involved, so what is tested is the loop itself
(epochs, limits, validation and best weights, early stopping, resume, logs and progress)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from tunesmith.errors import ConfigError
from tunesmith.progress import progress_bar
from tunesmith.runfiles import METRICS, STATE, WEIGHTS
from tunesmith.training.trainer import Task, TrainConfig, Trainer


class StubTask(Task):
    """A line fitted to y = 2x + 1 by SGD: 8 batches of 4 points an epoch; validation on 5 fixed points. With
    ``val_losses`` the validation loss is scripted instead (to test best weights and early stopping)."""

    def __init__(self, val_losses: list[float] | None = None, batches: int = 8) -> None:
        torch.manual_seed(0)
        self.model = nn.Linear(1, 1)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.05)
        self.x = torch.linspace(-1, 1, 4 * batches).unsqueeze(1)
        self.n = batches
        self.val_losses = list(val_losses) if val_losses is not None else None
        self.epochs_seen: list[int] = []
        self.attached: Path | None = None
        self.counter = 0  # extra state that resume must restore

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"sgd": self.opt}

    def num_batches(self, epoch: int) -> int:
        return self.n

    def batches(self, epoch: int, rng: np.random.Generator, start: int) -> Iterator[torch.Tensor]:
        order = torch.as_tensor(rng.permutation(len(self.x)))
        for k in range(start, self.n):
            yield self.x[order[4 * k : 4 * k + 4]]

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        loss = ((self.model(batch) - (2 * batch + 1)) ** 2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.counter += 1
        return {"loss": float(loss.detach())}

    def val_batches(self) -> Iterator[torch.Tensor]:
        yield torch.linspace(-1, 1, 5).unsqueeze(1)

    def eval_step(self, batch: torch.Tensor) -> tuple[dict[str, float], int]:
        if self.val_losses is not None:
            return {"loss": self.val_losses.pop(0)}, 1
        return {"loss": float(((self.model(batch) - (2 * batch + 1)) ** 2).mean())}, len(batch)

    def attach_run(self, run: Path) -> None:
        self.attached = run

    def end_of_epoch(self, epoch: int) -> dict[str, float]:
        self.epochs_seen.append(epoch)
        return {"gen/slope": float(self.model.weight.detach())}

    def extra_state(self) -> dict[str, int]:
        return {"counter": self.counter}

    def load_extra_state(self, state: dict[str, int]) -> None:
        self.counter = state["counter"]


def records(run: Path, kind: str = "epoch") -> list[dict]:
    return [r for r in map(json.loads, (run / METRICS).read_text().splitlines()) if r["kind"] == kind]


def test_the_loop_trains_validates_and_logs(tmp_path):
    task = StubTask()
    summary = Trainer(task, TrainConfig(epochs=3, patience=None, log_every=4), tmp_path, progress=False).fit()
    assert summary["step"] == 24 and summary["epochs"] == 3 and summary["stopped"] == "completed 3 epochs"
    assert task.attached == tmp_path and task.epochs_seen == [0, 1, 2]
    epochs = records(tmp_path)
    assert [r["epoch"] for r in epochs] == [1, 2, 3] and [r["step"] for r in epochs] == [8, 16, 24]
    assert all("gen/slope" in r and "val/loss" in r and "train/loss" in r for r in epochs)
    assert [r["step"] for r in records(tmp_path, "train")] == [4, 8, 12, 16, 20, 24]
    assert epochs[-1]["val/loss"] < epochs[0]["val/loss"]  # it learns
    assert (tmp_path / WEIGHTS).is_file() and (tmp_path / STATE).is_file()


def test_best_weights_and_early_stopping_follow_the_validation_loss(tmp_path):
    """Scripted losses 3, 1, 2, 2: epoch 2's weights are kept; patience 2 stops after epoch 4."""
    task = StubTask(val_losses=[3.0, 1.0, 2.0, 2.0, 9.0])
    weights_after: list[dict[str, torch.Tensor]] = []
    original = task.end_of_epoch

    def spy(epoch: int) -> dict[str, float]:
        weights_after.append({k: v.clone() for k, v in task.model.state_dict().items()})
        return original(epoch)

    task.end_of_epoch = spy  # type: ignore[method-assign]
    summary = Trainer(task, TrainConfig(epochs=10, patience=2), tmp_path, progress=False).fit()
    assert summary["epochs"] == 4 and summary["best_val"] == 1.0
    assert summary["stopped"] == "early stopping: no better validation loss in 2 epochs"
    assert [r["best"] for r in records(tmp_path)] == [True, True, False, False]
    saved = load_file(str(tmp_path / WEIGHTS))
    assert all(torch.equal(saved[k], weights_after[1][k]) for k in saved)
    assert not all(torch.equal(saved[k], weights_after[3][k]) for k in saved)


def test_max_steps_and_resume_give_the_same_weights(tmp_path):
    straight = StubTask()
    Trainer(straight, TrainConfig(epochs=3, patience=None), tmp_path / "a", progress=False).fit()
    first = StubTask()
    summary = Trainer(first, TrainConfig(epochs=3, patience=None, max_steps=11), tmp_path / "b", progress=False).fit()
    assert summary["step"] == 11 and summary["stopped"] == "reached max_steps=11"
    resumed = StubTask()
    trainer = Trainer(resumed, TrainConfig(epochs=3, patience=None), tmp_path / "b", progress=False)
    trainer.resume()
    assert (trainer.step, trainer.epoch, trainer.batch_in_epoch, resumed.counter) == (11, 1, 3, 11)
    trainer.fit()
    for k, v in straight.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k])
    assert resumed.counter == 24
    assert [r["step"] for r in records(tmp_path / "b")] == [8, 16, 24]


def test_no_batches_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no training batches"):
        Trainer(StubTask(batches=0), TrainConfig(epochs=1), tmp_path, progress=False).fit()


def test_the_bar_shows_the_budget_that_stops_the_run(tmp_path):
    """A step budget far below the epochs (the GAN's 100000 epochs, 5000 steps) is shown instead of them."""
    task = StubTask()
    trainer = Trainer(task, TrainConfig(epochs=100000, max_steps=40, patience=None), tmp_path, progress=False)
    assert trainer._label(0, 8) == "epoch 1, step 0/40"
    trainer = Trainer(task, TrainConfig(epochs=3, max_steps=40, patience=None), tmp_path, progress=False)
    assert trainer._label(1, 8) == "epoch 2/3"
    trainer = Trainer(task, TrainConfig(epochs=3, max_time=200, patience=None), tmp_path, progress=False)
    trainer.elapsed = 12.3
    assert trainer._label(0, 8) == "epoch 1/3, 12/200 s"


def test_progress_in_a_log_is_whole_lines():
    """Not a terminal: no carriage-return redraws, one line per refresh (at most every few seconds)."""
    stream = io.StringIO()
    bar = progress_bar(total=1000, desc="epoch 1/3", stream=stream)
    for _ in range(1000):
        bar.update(1)
    bar.close()
    text = stream.getvalue()
    assert "\r" not in text and text.endswith("\n")
    lines = text.splitlines()
    assert 1 <= len(lines) <= 3 and lines[-1].startswith("epoch 1/3") and "1000/1000" in lines[-1]
