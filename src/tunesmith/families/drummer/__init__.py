"""The drummer: grooves by style, with fills, on the 16th grid (the Groove MIDI Dataset's drums). ``config.py`` its
settings and ``spec.py`` what it declares (both without torch), ``model.py`` the network, ``task.py`` its training
step, ``family.py`` the family and its generation. Importing the package loads only the declarations; the family's
names load on first use."""

from __future__ import annotations

from typing import Any

from .spec import SPECS


def __getattr__(name: str) -> Any:  # the family's torch half, loaded when first asked for
    import importlib

    return getattr(importlib.import_module(f"{__name__}.family"), name)


__all__ = ["SPECS"]
