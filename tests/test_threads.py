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
def test_the_choice_by_cores_and_work(cores, work, threads):
    assert choose_threads(cores, work) == threads


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="cores"):
        choose_threads(0, "train")
    with pytest.raises(ValueError, match="generate, train"):
        choose_threads(2, "render")
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
