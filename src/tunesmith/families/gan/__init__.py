"""The piano-roll GAN: ``config.py`` its settings and ``spec.py`` what it declares (both without torch),
``model.py`` the networks and losses, ``task.py`` the D and G steps, ``sample.py`` decoding (threshold, hysteresis,
sampling), ``quality.py`` MuseGAN's statistics against real phrases (``tunesmith rollstats``), ``family.py`` the family.
Importing the package loads only the declarations; the family's names load on first use."""

from __future__ import annotations

from typing import Any

from .spec import SPECS


def __getattr__(name: str) -> Any:  # the family's torch half, loaded when first asked for
    import importlib

    return getattr(importlib.import_module(f"{__name__}.family"), name)


__all__ = ["SPECS"]
