"""``tunesmith models``: the models shipped with tunesmith: list them, or export one as a run folder."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import Formatter


def add(sub: Any) -> None:
    p = sub.add_parser(
        "models",
        help="the models shipped with tunesmith: list them, or export one as a run folder",
        formatter_class=Formatter,
        description="List the shipped models (name, what it does, size, data, license, held-out bits per note, date\n"
        "trained). A shipped model's name works wherever a RUN is taken (generate, evaluate, plot, train --init).\n"
        "Models are looked for in the folders of $TUNESMITH_MODELS (separated by ':'), then in the package\n"
        "(docs/models.md).",
    )
    p.add_argument(
        "--export",
        nargs=2,
        metavar=("NAME", "DIR"),
        default=None,
        help="write the shipped model NAME as an ordinary run folder DIR (float32 weights) that 'tunesmith train' "
        "can --resume or --init from",
    )
    p.add_argument("--json", action="store_true", help="print every card as JSON instead of a table")
    p.set_defaults(func=run)


def _megabytes(n: int | None) -> str:
    return "–" if n is None else f"{n / 1e6:.1f} MB"


def run(args: argparse.Namespace) -> int:
    from ..jobs.catalog import search_path, shipped_models

    if args.export:
        from ..jobs.pretrained import export_model

        name, out = args.export
        path, kind = export_model(name, out), shipped_models()[name].card["kind"]
        print(f"{name}: exported as a float32 run folder to {path}")
        print(f"  generate:  tunesmith generate {path} --out ideas")
        print(f"  continue:  tunesmith train {kind} --data DATA --out {path} --resume --max-time SECONDS")
        print(f"  fine-tune: tunesmith train {kind} --init {path} --data DATA --out RUN")
        return 0
    models = shipped_models()
    if args.json:
        print(json.dumps({name: {"path": str(m.path), **m.card} for name, m in models.items()}, indent=1))
        return 0
    if not models:
        where = ", ".join(str(p) for p in search_path())
        print(f"no models are shipped with this tunesmith yet (looked in {where}); docs/models.md says how to ship one")
        return 0
    rows = []
    for name, m in models.items():
        c = m.card
        bits = c.get("held_out_bits_per_note")
        rows.append(
            (
                name,
                m.summary,
                _megabytes(m.size_bytes),
                str(c.get("data") or "–"),
                str(c.get("license") or "–"),
                "–" if bits is None else f"{bits:.3f}",
                str(c.get("date_trained") or "–"),
            )
        )
    head = ("name", "what it does", "size", "data", "license", "held-out bits/note", "trained")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    print("use one by name wherever a RUN is taken: tunesmith generate NAME --out ideas -n 8")
    return 0
