"""A decoder-only Transformer over MidiTok tokens: ``config.py`` its settings and ``spec.py`` what it declares and
its generation options (both without torch or MidiTok), ``model.py`` the network (readable in one sitting),
``task.py`` token windows and fill-in-the-middle training, ``grammar.py`` what token may come next, ``sample.py``
generation through the KV cache, ``family.py`` the family. Importing the package loads only the declarations;
the family's names load on first use."""

from __future__ import annotations

from typing import Any

from .spec import DEFAULT_GUIDANCE, SPECS, TransformerOptions


def __getattr__(name: str) -> Any:  # the family's torch half, loaded when first asked for
    import importlib

    return getattr(importlib.import_module(f"{__name__}.family"), name)


__all__ = ["DEFAULT_GUIDANCE", "SPECS", "TransformerOptions"]
