"""The thread choice: one thread to generate, one per core to train; the wait policy set before torch loads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tunesmith.threads import WORKS, choose_threads, use_threads

CASES = [
    (1, "generate", 1),
    (2, "generate", 1),
    (16, "generate", 1),
    (1, "train", 1),
    (2, "train", 2),
    (16, "train", 16),
]


@pytest.mark.parametrize(("cores", "work", "threads"), CASES)
@pytest.mark.parametrize("load", [0.0, 0.7, 2.0, 5.0, 64.0])
def test_the_choice_by_cores_load_and_work(cores, load, work, threads):
    """Idle or busy, the same count: a training run's result must not depend on what else the machine runs."""
    assert choose_threads(cores, load, work) == threads


def test_the_choice_is_a_pure_function(monkeypatch):
    """It reads nothing of the machine: with the OS's load and CPU count made to fail, the same answers."""

    def fail(*_):
        raise AssertionError("the choice read the machine")

    monkeypatch.setattr(os, "getloadavg", fail)
    monkeypatch.setattr(os, "cpu_count", fail)
    monkeypatch.setattr(os, "sched_getaffinity", fail, raising=False)
    assert [choose_threads(c, 3.0, w) for c, w, _ in CASES] == [t for _, _, t in CASES]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="cores"):
        choose_threads(0, 0.0, "train")
    with pytest.raises(ValueError, match="load"):
        choose_threads(2, -1.0, "train")
    with pytest.raises(ValueError, match="load"):
        choose_threads(2, float("nan"), "train")
    with pytest.raises(ValueError, match="generate, train"):
        choose_threads(2, 0.0, "render")
    assert WORKS == ("generate", "train")


def test_use_threads_sets_torch_and_keeps_the_users_omp_num_threads(monkeypatch):
    import torch

    saved = torch.get_num_threads()
    try:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        assert use_threads(None, "generate") == 1 and torch.get_num_threads() == 1
        assert use_threads(2) == 2 and torch.get_num_threads() == 2
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        torch.set_num_threads(2)
        assert use_threads(None) == 2  # the user's setting is kept
    finally:
        torch.set_num_threads(saved)


def test_openmp_waits_passively_unless_the_user_says_otherwise():
    """Importing tunesmith sets OMP_WAIT_POLICY=PASSIVE for torch's OpenMP (read when torch loads), unless set."""
    code = "import os, tunesmith; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "ACTIVE"
