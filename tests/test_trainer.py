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
from tunesmith.training.trainer import Selection, Task, TrainConfig, Trainer


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
        self.weights_at_epoch_end: list[dict[str, torch.Tensor]] = []

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
        self.weights_at_epoch_end.append({k: v.clone() for k, v in self.model.state_dict().items()})
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
    weights_after = task.weights_at_epoch_end
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


class ScheduledStub(StubTask):
    """The stub with a learning rate scaled by the trainer's decay; it records the scale of every step and can
    crash at a given step (an interrupted run)."""

    schedules_lr = True

    def __init__(self, crash_at: int | None = None, val_losses: list[float] | None = None) -> None:
        super().__init__(val_losses=val_losses)
        self.scales: list[float] = []
        self.crash_at = crash_at

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        if step == self.crash_at:
            raise KeyboardInterrupt
        self.scales.append(self.lr_scale)
        for g in self.opt.param_groups:
            g["lr"] = 0.05 * self.lr_scale
        return super().train_step(batch, step)


def test_lr_decay_falls_linearly_to_zero_over_the_end_of_the_budget(tmp_path):
    """3 epochs of 8 batches: 24 steps; lr_decay 0.25 decays over the last 6: step s gets (24 - s) / 6."""
    task = ScheduledStub()
    Trainer(task, TrainConfig(epochs=3, patience=None, lr_decay=0.25, log_every=4), tmp_path, progress=False).fit()
    assert task.scales == pytest.approx([1.0] * 19 + [5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6])
    # the train lines of steps 20 and 24 log the scale of their last step (rounded to 6 places)
    assert [r["lr_scale"] for r in records(tmp_path, "train")][-2:] == pytest.approx([5 / 6, 1 / 6], abs=1e-6)
    # a step budget ends the run first: 10 steps, the last 5 decay
    task = ScheduledStub()
    cfg = TrainConfig(epochs=3, max_steps=10, patience=None, lr_decay=0.5)
    Trainer(task, cfg, tmp_path / "steps", progress=False).fit()
    assert task.scales == pytest.approx([1.0] * 6 + [0.8, 0.6, 0.4, 0.2])


def test_lr_decay_resumes_exactly_and_is_refused_by_constant_rate_tasks(tmp_path):
    straight = ScheduledStub()
    Trainer(straight, TrainConfig(epochs=3, patience=None, lr_decay=0.5), tmp_path / "a", progress=False).fit()
    cfg = TrainConfig(epochs=3, patience=None, lr_decay=0.5)
    with pytest.raises(KeyboardInterrupt):  # dies in epoch 3: its checkpoint is epoch 2's end, step 16
        Trainer(ScheduledStub(crash_at=20), cfg, tmp_path / "b", progress=False).fit()
    resumed = ScheduledStub()
    trainer = Trainer(resumed, cfg, tmp_path / "b", progress=False)
    trainer.resume()
    assert trainer.step == 16
    trainer.fit()
    assert resumed.scales == straight.scales[16:]
    for k, v in straight.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k])
    with pytest.raises(ConfigError, match="constant learning rate"):
        Trainer(StubTask(), TrainConfig(epochs=1, lr_decay=0.2), tmp_path / "c", progress=False)
    with pytest.raises(ConfigError, match="lr_decay"):
        TrainConfig(lr_decay=1.0)


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


class ScoredTask(StubTask):
    """The stub with scripted statistics' scores (lower is better) and, optionally, a collapse verdict."""

    selects_by_statistics = True

    def __init__(self, scores: list[float], collapse_at: int | None = None) -> None:
        super().__init__()
        self.scores = list(scores)
        self.calls = 0
        self.collapse_at = collapse_at
        self.best_seen: list[int] = []

    def select(self) -> Selection:
        self.calls += 1
        why = "collapse: 1.0 unique tones" if self.calls == self.collapse_at else None
        return Selection(score=self.scores.pop(0), metrics={"mse": 0.5}, collapse=why)

    def on_best(self, run: Path) -> None:
        self.best_seen.append(self.calls)


def test_selection_by_statistics_keeps_the_better_of_planted_checkpoints(tmp_path, capsys):
    """Scores 2, 1, 3 at the three epochs: the second epoch's weights are kept, though its loss is not the best."""
    task = ScoredTask([2.0, 1.0, 3.0], collapse_at=3)
    weights = task.weights_at_epoch_end
    cfg = TrainConfig(epochs=3, patience=None, select_by="statistics")
    summary = Trainer(task, cfg, tmp_path, progress=False).fit()
    assert summary["best_val"] == 1.0 and summary["select_by"] == "statistics"
    epochs = records(tmp_path)
    assert [r["best"] for r in epochs] == [True, True, False] and [r["val/score"] for r in epochs] == [2.0, 1.0, 3.0]
    assert all(r["val/mse"] == 0.5 for r in epochs) and task.best_seen == [1, 2]
    saved = load_file(str(tmp_path / WEIGHTS))
    assert all(torch.equal(saved[k], weights[1][k]) for k in saved)
    # the third epoch's pieces collapsed: said with the epoch on stderr and in the log
    assert "warning: epoch 3, step 24: collapse: 1.0 unique tones" in capsys.readouterr().err
    assert epochs[2]["collapse"] == "collapse: 1.0 unique tones" and "collapse" not in epochs[0]


def test_select_by_statistics_needs_a_task_that_scores(tmp_path):
    with pytest.raises(ConfigError, match="cannot score its samples"):
        Trainer(StubTask(), TrainConfig(select_by="statistics"), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="select_by must be one of loss, statistics, last"):
        TrainConfig(select_by="best")


def test_select_by_last_keeps_the_latest_weights(tmp_path):
    task = StubTask(val_losses=[1.0, 2.0, 3.0])
    Trainer(task, TrainConfig(epochs=3, patience=None, select_by="last"), tmp_path, progress=False).fit()
    assert [r["best"] for r in records(tmp_path)] == [True, True, True]
    saved = load_file(str(tmp_path / WEIGHTS))
    assert all(torch.equal(saved[k], task.model.state_dict()[k]) for k in saved)


def test_a_run_stopped_within_its_first_epoch_is_validated(tmp_path):
    """max_steps before the first epoch ends: a validation at the stop gives a held-out loss and kept weights."""
    task = StubTask()
    summary = Trainer(task, TrainConfig(epochs=3, max_steps=5), tmp_path, progress=False).fit()
    assert summary["epochs"] == 0 and np.isfinite(summary["best_val"])
    (val,) = records(tmp_path, "val")
    assert val["step"] == 5 and val["stopped"] is True and val["best"] is True
    assert val["val/loss"] == summary["best_val"]
    saved = load_file(str(tmp_path / WEIGHTS))
    assert all(torch.equal(saved[k], task.model.state_dict()[k]) for k in saved)
    # resuming a run stopped at its limit takes no step and does not validate again
    again = Trainer(StubTask(), TrainConfig(epochs=3, max_steps=5), tmp_path, progress=False)
    again.resume()
    again.fit()
    assert len(records(tmp_path, "val")) == 1


def test_an_early_stop_brings_the_rate_to_zero_before_it_ends_the_run(tmp_path):
    """Validation improves in epoch 1 only; patience 2 ends epoch 3 (step 24) with no better loss: with lr_decay 0.25
    the run does not stop there but decays the rate over 24 x 0.25 / 0.75 = 8 steps (1 epoch) from epoch 1's
    weights (the best), then stops; the rest of a long budget (10 epochs) is not used. Resumed in the middle of the
    cool-down, it goes on exactly."""
    losses = [1.0] + [2.0] * 9
    task = ScheduledStub(val_losses=losses)
    cfg = TrainConfig(epochs=10, patience=2, lr_decay=0.25)
    summary = Trainer(task, cfg, tmp_path / "a", progress=False).fit()
    assert task.scales == pytest.approx([1.0] * 24 + [1 - k / 8 for k in range(8)])
    assert summary["step"] == 32 and "brought to zero over 8 steps" in summary["stopped"]
    (cool,) = records(tmp_path / "a", "cooldown")
    assert cool["step"] == 24 and cool["steps"] == 8
    # the cool-down began from the best weights: epoch 1's, as the stub recorded them at that epoch's end
    again = ScheduledStub(val_losses=losses)
    rewound = []
    original = again.train_step

    def spy(batch, step):
        if step == 24:
            rewound.append({k: v.clone() for k, v in again.model.state_dict().items()})
        return original(batch, step)

    again.train_step = spy
    Trainer(again, cfg, tmp_path / "spy", progress=False).fit()
    assert all(torch.equal(rewound[0][k], v) for k, v in again.weights_at_epoch_end[0].items())
    # without lr_decay an early stop is a stop
    plain = Trainer(StubTask(val_losses=losses), TrainConfig(epochs=10, patience=2), tmp_path / "b", progress=False)
    assert plain.fit()["step"] == 24
    with pytest.raises(KeyboardInterrupt):  # dies at step 28: its checkpoint is epoch 3's end, step 24
        Trainer(ScheduledStub(val_losses=losses, crash_at=28), cfg, tmp_path / "c", progress=False).fit()
    resumed = ScheduledStub(val_losses=losses[3:])
    trainer = Trainer(resumed, cfg, tmp_path / "c", progress=False)
    trainer.resume()
    assert trainer.step == 24 and trainer.cool_from == 24
    trainer.fit()
    assert resumed.scales == pytest.approx(task.scales[24:])
