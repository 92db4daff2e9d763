"""C-RNN-GAN (Mogren 2016) as three families, ``crnngan``, ``crnngan3`` and ``baseline``: ``config.py`` their
settings and ``spec.py`` what they declare (both without torch), ``model.py`` G, D and the losses, ``task.py``
pretraining, curriculum and the adversarial steps, ``sample.py`` G's unroll from noise or a primer, ``family.py``
the families. Importing the package loads only the declarations; the families' names load on first use."""

from __future__ import annotations

from typing import Any

from .spec import SPECS


def __getattr__(name: str) -> Any:  # the families' torch half, loaded when first asked for
    import importlib

    return getattr(importlib.import_module(f"{__name__}.family"), name)


__all__ = ["SPECS"]
