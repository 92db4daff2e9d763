"""Shipped models as jobs: a float32 training run made into a shipped model folder (weights in bf16 or fp16, the
card with the sha256 of every file), and a shipped model exported back into an ordinary float32 run folder that
``tunesmith train --resume`` or ``--init`` takes (docs/models.md). Finding models by name is
:mod:`tunesmith.pretrained`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ..dataset import Dataset
from ..errors import CheckpointError, ConfigError
from ..evaluation.originality import save_compact, split_symbols
from ..pretrained import (
    CARD,
    CARD_FIELDS,
    PACKAGE_MODELS,
    ShippedModel,
    check_card,
    file_hashes,
    get_model,
    read_card,
    verify,
)
from ..runfiles import CONFIG, METRICS, ORIGINALITY, STATE, WEIGHTS
from ..training.checkpoint import load_config, save_trainer_state, save_weights
from ..utils import atomic_dir, atomic_write_text
from .runs import load_run

#: The floating-point types a shipped model's weights may be stored in.
SHIPPED_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


def last_record(run: Path) -> dict[str, Any]:
    """The latest validation or epoch record of a run's ``metrics.jsonl`` (its steps, epochs and time), or {}."""
    path = run / METRICS
    if not path.is_file():
        return {}
    found: dict[str, Any] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if record.get("kind") in ("epoch", "val"):
                found = record
    return found


def ship_run(
    run: str | os.PathLike[str],
    name: str,
    card: dict[str, Any],
    *,
    root: str | os.PathLike[str] = PACKAGE_MODELS,
    dtype: str = "bfloat16",
    generation: dict[str, Any] | None = None,
) -> ShippedModel:
    """Make the float32 training run ``run`` the shipped model ``root/name`` (replacing one there): the weights in
    ``dtype`` (bfloat16 or float16), ``config.json`` with its data named as the card names it and the run it started
    from (``init``) by name (no path of the machine it was trained on), the family's files and arrays and
    ``metrics.jsonl`` as they are (not the resume state), and ``card.json``: ``card``'s fields (summary, data, split,
    license, figures, hardware, command) with what the run itself says (kind, preset, parameters, steps, epochs,
    train_seconds, seed, date_trained) filled in where ``card`` leaves it out, the weights' type and size, and the
    sha256 of every other file. ``generation``: the model's own defaults where they differ from the house's
    (``config.json``'s ``generation``, e.g. ``{"chord_strictness": 0.0}``). The folder is written whole or not at
    all, then checked against its card."""
    run = Path(run)
    if dtype not in SHIPPED_DTYPES:
        raise ConfigError(f"ship: weights are shipped as {' or '.join(SHIPPED_DTYPES)}, not {dtype!r}")
    if not name or name.startswith(".") or "/" in name or os.sep in name:
        raise ConfigError(f"ship: {name!r} is not a model name (a folder name, not hidden)")
    config = load_config(run)
    if not (run / WEIGHTS).is_file():
        raise CheckpointError(f"{run / WEIGHTS}: missing; the run has no weights to ship")
    tensors = load_file(str(run / WEIGHTS))
    shipped = {
        k: v.to(SHIPPED_DTYPES[dtype]) if v.is_floating_point() else v for k, v in tensors.items()
    }  # tied weights are saved once already (training.checkpoint)
    record = last_record(run)
    data_label = card.get("data") or config.get("data", {}).get("path", "")
    config = {
        **config,
        "data": {**config.get("data", {}), "path": data_label},
        "shipped": {"name": name, "weights_dtype": dtype},
        **({"generation": dict(generation)} if generation else {}),
    }
    if "init" in config:  # where the run started, by name, not by a path of the machine it was trained on
        init = {k: v for k, v in config["init"].items() if k != "path"}
        config["init"] = init | {"from": init.get("shipped_model") or Path(str(init.get("from", ""))).name}
    with atomic_dir(Path(root) / name) as tmp:
        # One metadata key: safetensors writes the metadata through a hash map, so two keys come out in either order
        # and the same weights shipped twice could differ in sha256. The dtype is in config.json and the card.
        save_file(shipped, str(tmp / WEIGHTS), metadata={"format": "pt"})
        atomic_write_text(tmp / CONFIG, json.dumps(config, indent=1))
        for f in sorted(run.iterdir()):
            if f.is_file() and f.name not in (WEIGHTS, CONFIG, STATE, CARD) and not f.name.startswith("."):
                shutil.copyfile(f, tmp / f.name)
        hashes = file_hashes(tmp)
        derived = {
            "kind": config["kind"],
            "preset": config.get("preset"),
            # learned parameters, not buffers (BatchNorm's running statistics are floating tensors too)
            "parameters": sum(int(p.numel()) for p in load_run(run)[2].parameters()),
            "steps": record.get("step"),
            "epochs": record.get("epoch"),
            "train_seconds": record.get("time"),
            "seed": config.get("train", {}).get("seed"),
            "date_trained": str(config.get("created", ""))[:10] or None,
        }
        given = {k: v for k, v in card.items() if v is not None}
        written = {
            "name": name,
            "weights_dtype": dtype,
            "size_bytes": sum((tmp / f).stat().st_size for f in hashes),
            "weights_bytes": (tmp / WEIGHTS).stat().st_size,
            "files": hashes,
        }
        full = {**derived, **given, **written}
        card_out = {**{k: full.get(k) for k in CARD_FIELDS}, **full}  # the fields every card has first
        check_card(card_out, tmp / CARD)
        atomic_write_text(tmp / CARD, json.dumps(card_out, indent=1))
        # readable by all, as installed package files are (temporary files and folders are created private)
        for f in tmp.iterdir():
            f.chmod(0o644)
        tmp.chmod(0o755)
    model = ShippedModel(name, Path(root) / name, read_card(Path(root) / name))
    verify(model)
    return model


def exported_state(model: torch.nn.Module, card: dict[str, Any], seed: int) -> dict[str, Any]:
    """A trainer state for an exported shipped model: its weights and its counters (steps, epochs, time) as its
    card gives them; no optimizer state (none is shipped: the optimizers start afresh on ``--resume``) and no best
    validation loss (the data resumed on may be another machine's copy, or other music)."""
    rng = torch.Generator().manual_seed(int(seed))
    return {
        "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "optimizers": None,
        "epoch": int(card.get("epochs") or 0),
        "batch_in_epoch": 0,
        "step": int(card.get("steps") or 0),
        "best_val": float("inf"),
        "bad_epochs": 0,
        "improved_in_epoch": False,
        "validated_step": int(card.get("steps") or 0),
        "elapsed": float(card.get("train_seconds") or 0.0),
        "val_time": 0.0,
        "finished": False,
        "stop_reason": "",
        "torch_rng": rng.get_state(),
        "cuda_rng": [],
        "extra": None,
        "world_size": 1,
        "rank_rng": [],
        "exported_from": card.get("name"),
    }


def export_model(name: str, out: str | os.PathLike[str], *, roots: Any = None) -> Path:
    """Write the shipped model ``name`` as an ordinary run folder ``out``: float32 ``model.safetensors``, its
    ``config.json`` (recording ``exported_from``; no data fingerprint, so ``--resume`` takes the ``--data`` given),
    its family's files, arrays and ``metrics.jsonl``, and a ``trainer_state.pt`` with its weights and counters and
    no optimizer state (:func:`exported_state`). ``tunesmith train --resume`` continues it (raise ``--max-time`` or
    ``--max-steps`` past the card's), ``--init OUT`` starts a new run from it."""
    model = get_model(name, roots)
    verify(model)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: is a file; the export is written as a run folder")
    if (out / CONFIG).exists() or (out / STATE).exists():
        raise CheckpointError(f"{out}: already holds a run; export into a new folder")
    run, _, net = load_run(model.path)
    config = dict(run.config)
    config.pop("shipped", None)
    config["data"] = {**config.get("data", {}), "fingerprint": None}
    config["exported_from"] = {
        "model": name,
        "date_trained": model.card.get("date_trained"),
        "weights_dtype": model.card.get("weights_dtype"),
        "weights_sha256": model.files.get(WEIGHTS),
    }
    out.mkdir(parents=True, exist_ok=True)
    for f, _ in sorted(model.files.items()):
        if f not in (WEIGHTS, CONFIG):
            shutil.copyfile(model.path / f, out / f)
    save_weights(net.float(), out / WEIGHTS)
    seed = int(config.get("train", {}).get("seed") or 0)
    save_trainer_state(out / STATE, exported_state(net, model.card, seed))
    atomic_write_text(out / CONFIG, json.dumps(config, indent=1))  # last: the folder is a run once it is there
    return out


#: the largest originality index shipped with a model, in its compact form (evaluation/originality.py): MAESTRO's
#: train split, 5.7 million notes, takes 5.1 MB; the chorales' 0.1 MB
MAX_INDEX_BYTES = 6_000_000


def add_originality_index(
    name: str,
    data: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] = PACKAGE_MODELS,
    split: str = "train",
    max_bytes: int = MAX_INDEX_BYTES,
) -> Path | None:
    """Ship with the model ``root/name`` the originality index of ``split`` of ``data`` (the dataset it was trained
    on), so that ``tunesmith originality --run
    NAME`` needs no dataset; its card then lists the file and its sha256. None (nothing changed) where the index
    would be larger than ``max_bytes``. (``data``'s fingerprint is not compared with the one the model recorded:
    it depends on the machine the corpus was read on; the split, by file name, does not.)"""
    model = get_model(name, roots=[Path(root)])
    verify(model)
    ds = Dataset.load(data)  # the caller's word that it is the model's (a fingerprint differs between machines)
    names, seqs = split_symbols(ds, split)
    with tempfile.TemporaryDirectory() as scratch:
        built = save_compact(Path(scratch) / ORIGINALITY, seqs, names)
        if built.stat().st_size > max_bytes:
            return None
        with atomic_dir(Path(root) / name) as tmp:
            for f in model.path.iterdir():
                if f.is_file():
                    shutil.copyfile(f, tmp / f.name)
            shutil.copyfile(built, tmp / ORIGINALITY)
            card = {**model.card, "originality_index": {"split": split, "pieces": len(names),
                                                  "notes": int(sum(s.size + 1 for s in seqs if s.size))}}
            card["files"] = file_hashes(tmp)
            card["size_bytes"] = sum((tmp / f).stat().st_size for f in card["files"])
            atomic_write_text(tmp / CARD, json.dumps(card, indent=1))
            for f in tmp.iterdir():
                f.chmod(0o644)
            tmp.chmod(0o755)
    verify(get_model(name, roots=[Path(root)]))
    return Path(root) / name / ORIGINALITY


def share_originality_index(
    name: str, same_as: str, *, root: str | os.PathLike[str] = PACKAGE_MODELS
) -> None:
    """Let the shipped model ``name`` use the originality index that ``same_as`` ships: both must have been trained
    on the same data and split (their cards say so), so one copy serves both (MAESTRO's takes 5 MB)."""
    model, other = get_model(name, roots=[Path(root)]), get_model(same_as, roots=[Path(root)])
    if (model.card.get("data"), model.card.get("split")) != (other.card.get("data"), other.card.get("split")):
        raise ConfigError(f"{name} and {same_as} were not trained on the same data: their cards differ")
    own = other.card.get("originality_index") or {}
    if "pieces" not in own:
        raise ConfigError(f"{same_as} ships no originality index of its own")
    card = {**model.card, "originality_index": {"same_as": same_as, "split": own["split"], "pieces": own["pieces"]}}
    atomic_write_text(model.path / CARD, json.dumps(card, indent=1))
    verify(get_model(name, roots=[Path(root)]))
