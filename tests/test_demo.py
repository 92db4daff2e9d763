"""The demo's plan: budgets of steps, one thread per model, so that its weights do not depend on the machine."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tunesmith.errors import ConfigError
from tunesmith.jobs.demo import demo, train_models
from tunesmith.jobs.plan import DEMO_MODELS

from .conftest import synthetic_dataset

#: the demo's plan at a tiny scale: a few steps of small networks (the GAN on a one-bar grid, tests' sizes)
TINY_PLAN = {
    "rnn": {"max_steps": "6", "epochs": "100", "hidden": "16", "batch_size": "8"},
    "gan": {
        "max_steps": "3",
        "epochs": "100",
        "bars": "1",
        "lowest_pitch": "48",
        "n_pitches": "36",
        "channels": "4",
        "up_layers": "2",
        "batch_size": "4",
        "d_steps": "2",
        "log_every": "1",
    },
    "baseline": {"max_steps": "5", "epochs": "100", "hidden": "8", "batch_size": "4", "max_length": "12"},
}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return synthetic_dataset(
        tmp_path_factory.mktemp("demo"), steps=[0.25, 0.5], durations=[0.25, 0.5, 1.0], offset=0.25, n_pieces=12
    )


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(run / "model.safetensors")


def test_every_demo_model_has_a_step_budget():
    """No time budget anywhere: each model stops at its steps (and its epochs are only an upper bound)."""
    for kind, settings in DEMO_MODELS.items():
        assert int(settings["max_steps"]) > 0, kind
        assert "max_time" not in settings, kind


def test_the_plan_twice_gives_identical_weights_one_or_two_at_a_time(data, tmp_path):
    """The plan trained twice, once one model at a time and once two at a time, gives bit-identical weights (each
    model in one thread, to its steps), and every run stops at its budget."""
    first = train_models(TINY_PLAN, data, tmp_path / "a", workers=1, progress=False)
    second = train_models(TINY_PLAN, data, tmp_path / "b", workers=2, progress=False)
    assert list(first) == list(TINY_PLAN)
    for kind, settings in TINY_PLAN.items():
        assert first[kind]["step"] == second[kind]["step"] == int(settings["max_steps"])
        a, b = weights(tmp_path / "a" / kind), weights(tmp_path / "b" / kind)
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), kind


def test_a_failing_model_is_reported_by_name(data, tmp_path):
    with pytest.raises(ConfigError, match="hidden"):
        train_models({"rnn": {"max_steps": "2", "hidden": "-1"}}, data, tmp_path / "runs", workers=1, progress=False)


def test_demo_refuses_a_scale_that_trains_nothing(tmp_path):
    with pytest.raises(ConfigError, match="--scale"):
        demo(tmp_path, scale=0)
