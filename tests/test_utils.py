"""Small helpers: atomic writes leave files and folders with the modes an ordinary write gives them."""

from __future__ import annotations

import os
import stat

import pytest

from tunesmith.utils import atomic_dir, atomic_write_text, current_umask


@pytest.fixture
def umask():
    """Run under a chosen umask, then restore the process's own."""
    saved = os.umask(0o022)
    os.umask(saved)

    def use(mask: int) -> None:
        os.umask(mask)

    yield use
    os.umask(saved)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_written_files_and_folders_have_the_umasks_mode(tmp_path, umask, mask):
    umask(mask)
    assert current_umask() == mask
    atomic_write_text(tmp_path / "a.txt", "x")
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o666 & ~mask
    with atomic_dir(tmp_path / "ds") as d:
        (d / "f").write_text("y")
    assert stat.S_IMODE((tmp_path / "ds").stat().st_mode) == 0o777 & ~mask


def test_reading_the_umask_leaves_it_as_it_was(umask):
    umask(0o027)
    assert current_umask() == 0o027
    assert current_umask() == 0o027
