"""``tunesmith evaluate``: every run under the protocol of :mod:`tunesmith.evaluation.protocol`, written as
``report.md`` (tables and figures), ``report.json`` (every number) and, per model, sample MIDI, WAV and piano-roll
files a user can hear and see."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import render
from ..dataset import Dataset
from ..errors import ConfigError, DatasetError
from ..evaluation.drums import DRUM_FEATURES, is_drum_set
from ..evaluation.originality import OriginalityIndex, originality
from ..evaluation.protocol import REPORT_COLUMNS, EvalOptions, ModelResult, real_row
from ..evaluation.setcompare import SET_FEATURES
from ..families import specs
from ..io import write_midi
from ..notes import Notes
from ..plots import plot_distributions, plot_pianoroll
from ..progress import progress_bar
from ..sampling import check_options
from ..utils import atomic_write_text
from .controls import control_accuracy
from .controls import markdown as controls_markdown
from .evaluate import evaluate_run

#: The paper's Table 1 (MSE, RMSE), by model family. It does not define the protocol.
PAPER_TABLE: dict[str, tuple[float, float]] = {
    name: s.paper_figures for name, s in specs().items() if s.paper_figures is not None
}

SAMPLES_PER_MODEL = 2
PAPER_NOTE = (
    "The paper (Bhaddurgatte & Shushruth, Table 1) gives MSE and RMSE per model but does not say what they are "
    "computed on; its numbers are shown beside ours for reference only. Ours follow the protocol in "
    "docs/evaluation.md: lower is better, 0 means the generated set's statistics equal the test split's."
)


def _unique_names(runs: Sequence[Path]) -> list[str]:
    names: list[str] = []
    for run in runs:
        base = run.name or str(run)
        name, k = base, 2
        while name in names:
            name, k = f"{base}-{k}", k + 1
        names.append(name)
    return names


def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return f"{v:.{digits}f}"


def evaluate(
    runs: Sequence[str | os.PathLike[str]],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    opts: EvalOptions | None = None,
    *,
    progress: bool = True,
    audio: bool = True,
    names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Evaluate ``runs`` against the prepared dataset ``data``; write the report into the folder ``out``.
    ``names``: each run's name in the report (default: its folder's, made unique). Returns what ``report.json``
    holds."""
    opts = opts or EvalOptions()
    if not runs:
        raise ConfigError("evaluate: give at least one run folder")
    for t in opts.choose_temperature or (opts.temperature,):
        check_options(temperature=t, top_k=opts.top_k, top_p=opts.top_p)
    run_paths = [Path(r) for r in runs]
    ds = Dataset.load(data)
    for split in {opts.split, *(["validation"] if opts.choose_temperature else [])}:
        if ds.indices(split).size == 0:  # said before any model generates, not after
            why = "--choose-temperature chooses on it" if split != opts.split else "the pieces are compared with it"
            raise DatasetError(f"{ds.root}: the {split} split is empty, and {why}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results: list[ModelResult] = []
    named = list(zip(run_paths, list(names) if names is not None else _unique_names(run_paths), strict=True))
    bar = progress_bar(iterable=named, desc="evaluate", unit="run", disable=not progress)
    for run, name in bar:
        bar.set_postfix_str(name)
        results.append(evaluate_run(run, ds, opts, name))
    real = real_row(ds, opts)
    real["originality"] = natural_originality(ds, real["reference"])
    figures = _figures(results, real, out, opts.split)
    samples = _samples(results, out, audio=audio)
    report = _json(results, real, opts, data, figures, samples)
    if opts.controls:
        _control_accuracy(report, named, ds, opts, progress)
    atomic_write_text(out / "report.json", json.dumps(report, indent=1))
    atomic_write_text(out / "report.md", _markdown(report))
    return report


def _control_accuracy(report: dict[str, Any], named, ds: Dataset, opts: EvalOptions, progress: bool) -> None:
    """``evaluate --controls``: each run with attribute controls gets its accuracy per control (jobs/controls.py);
    the others are named as having none."""
    by_name = {m["name"]: m for m in report["models"]}
    for run, name in named:
        try:
            by_name[name]["controls"] = control_accuracy(
                run,
                ds,
                n=opts.n,
                length=opts.length,
                seed=opts.seed,
                device=opts.device,
                progress=progress,
                guidance=opts.guidance,
                split=opts.split,
            )
        except ConfigError as e:
            by_name[name]["controls"] = {"none": str(e)}


# ---------------------------------------------------------------------------------------------------- outputs
def _figures(results: list[ModelResult], real: dict[str, Any], out: Path, split: str) -> dict[str, str]:
    label = f"{split} split (reference)"
    sets = {label: real["reference"], **{r.name: r.pieces for r in results}}
    drums = is_drum_set(real["reference"])  # a drum collection: the drum notes' distributions
    return {"distributions": plot_distributions(sets, out / "distributions.png", label, drums=drums).name}


def _samples(results: list[ModelResult], out: Path, *, audio: bool) -> dict[str, list[dict[str, str]]]:
    """The first :data:`SAMPLES_PER_MODEL` non-empty pieces of each model as MIDI, piano-roll PNG and WAV."""
    folder = out / "samples"
    folder.mkdir(exist_ok=True)
    written: dict[str, list[dict[str, str]]] = {}
    for r in results:
        written[r.name] = []
        for i, piece in enumerate([p for p in r.pieces if len(p)][:SAMPLES_PER_MODEL]):
            midi = write_midi(piece, folder / f"{r.name}_{i:02d}.mid")
            png = plot_pianoroll(piece, midi.with_suffix(".png"), title=f"{r.name} ({r.kind}): sample {i}")
            entry = {"midi": f"samples/{midi.name}", "png": f"samples/{png.name}"}
            if audio:
                wav, engine = render(piece, midi.with_suffix(".wav"))
                entry |= {"wav": f"samples/{wav.name}", "synthesizer": engine}
            written[r.name].append(entry)
    return written


def _comparison_json(comparison: dict) -> dict[str, dict[str, float]]:
    return {f: asdict(c) for f, c in comparison.items()}


def _json(
    results: list[ModelResult],
    real: dict[str, Any],
    opts: EvalOptions,
    data: str | os.PathLike[str],
    figures: dict[str, str],
    samples: dict[str, Any],
) -> dict[str, Any]:
    models = []
    for r in results:
        paper = PAPER_TABLE.get(r.kind)
        models.append(
            {
                "name": r.name,
                "kind": r.kind,
                **r.info,
                "collapse": r.collapse,
                "mse": r.errors["mse"],
                "rmse": r.errors["rmse"],
                "paper_mse": paper[0] if paper else None,
                "paper_rmse": paper[1] if paper else None,
                "overlap": r.overlap,
                "ceiling_overlap": r.ceiling_overlap,
                "overlap_fraction_of_ceiling": r.overlap / r.ceiling_overlap if r.ceiling_overlap else None,
                "kl": r.kl,
                "prediction": r.prediction,
                "likelihood": r.likelihood,
                "originality": r.originality,
                "statistics": r.statistics,
                "per_statistic_error": r.errors["per_statistic"],
                "set_comparison": _comparison_json(r.comparison),
                "ceiling": _comparison_json(r.ceiling),
                "drums": None if r.drums is None else {k: _comparison_json(v) for k, v in r.drums.items()},
            }
        )
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "data": str(data),
        "options": asdict(opts),
        "models": models,
        "real": {
            "originality": real.get("originality"),
            "mse": real["errors"]["mse"],
            "rmse": real["errors"]["rmse"],
            "overlap": real["overlap"],
            "kl": real["kl"],
            "statistics": real["statistics"],
            "reference_statistics": real["reference_statistics"],
            "per_statistic_error": real["errors"]["per_statistic"],
            "set_comparison": _comparison_json(real["comparison"]),
        },
        "figures": figures,
        "samples": samples,
        "paper_note": PAPER_NOTE.replace("the test split's", f"the {opts.split} split's"),
    }


def _sampling_words(o: dict[str, Any]) -> str:
    """How the models that sample were sampled, in words (reports from before these options: the full
    distribution)."""
    opts = EvalOptions(**{k: tuple(v) if k == "choose_temperature" else v for k, v in o.items()})
    words = [f"{k.replace('_', '-')} {v:g}" for k, v in opts.sampling().items()]
    if opts.choose_temperature:
        among = ", ".join(f"{t:g}" for t in opts.choose_temperature)
        words.insert(0, f"each model's temperature chosen on the validation split among {among}")
    return ", ".join(words) or "the full distribution (temperature 1)"


def _markdown(rep: dict[str, Any]) -> str:
    o = rep["options"]
    split = o.get("split", "test")  # reports from before --split: the test split
    lines = [
        "# tunesmith evaluation",
        "",
        f"Data: `{rep['data']}`. {o['n']} pieces per model, seed {o['seed']}: {o['length']} events for the event "
        f"models, {o['bars']} bars for the piano-roll GAN; reference: {split}-split excerpts as long (in notes) "
        f"as each generated piece. Sampling: {_sampling_words(o)}. Created {rep['created']}.",
        "",
        PAPER_NOTE.replace("the test split's", f"the {split} split's"),
        "",
        "## Table 1, extended",
        "",
    ]
    stats_head = [s.replace("_", " ") for s in REPORT_COLUMNS]
    head = ["model", "MSE", "RMSE", "paper MSE", "paper RMSE", "overlap", "of ceiling", "KL", "pred. MSE"]
    head += ["pred. RMSE", *stats_head, "notes"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in rep["models"]:
        pred = m["prediction"] or {}
        warn = " **collapsed**" if m.get("collapse") else ""
        row = [
            f"{m['name']} ({m['kind']}){warn}",
            _fmt(m["mse"]),
            _fmt(m["rmse"]),
            _fmt(m["paper_mse"]),
            _fmt(m["paper_rmse"]),
            _fmt(m["overlap"]),
            _fmt(m["overlap_fraction_of_ceiling"]),  # three places: targets are set at 0.93
            _fmt(m["kl"]),
            _fmt(pred.get("mse")),
            _fmt(pred.get("rmse")),
        ]
        row += [_fmt(m["statistics"].get(s), 2) for s in REPORT_COLUMNS]
        empty = f" ({m['empty_pieces']} empty)" if m.get("empty_pieces") else ""
        row.append(_fmt(m["statistics"]["notes"], 1) + empty)
        lines.append("| " + " | ".join(row) + " |")
    r = rep["real"]
    row = ["real: train split", _fmt(r["mse"]), _fmt(r["rmse"]), "–", "–", _fmt(r["overlap"]), "1.000", _fmt(r["kl"])]
    row += ["–", "–", *(_fmt(r["statistics"].get(s), 2) for s in REPORT_COLUMNS), _fmt(r["statistics"]["notes"], 1)]
    lines.append("| " + " | ".join(row) + " |")
    row = [f"real: {split} split (reference)", "0", "0", "–", "–", "–", "–", "–", "–", "–"]
    row += [_fmt(r["reference_statistics"].get(s), 2) for s in REPORT_COLUMNS]
    row.append(_fmt(r["reference_statistics"]["notes"], 1))
    lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        f"MSE/RMSE: set statistics against the {split} split's, scaled by the reference's range. Overlap: mean "
        "overlapping area of Yang & Lerch's distance densities over their features (1 = indistinguishable from the "
        "reference); *of ceiling*: as a fraction of the overlap that training-split excerpts of the same lengths "
        "reach. KL: mean KL divergence of those densities (nats). Pred. MSE/RMSE: next-event prediction error on "
        f"{split} windows in standard deviations (models that predict the next event).",
        "",
        *[
            f"**{m['name']} collapsed**: {m['collapse']}; its figures are not a result."
            for m in rep["models"]
            if m.get("collapse")
        ],
        "",
        "## Set comparison per feature (overlapping area; in brackets the ceiling)",
        "",
    ]
    head = ["feature", *(m["name"] for m in rep["models"]), "real: train split"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for f in SET_FEATURES:
        cells = [f.replace("_", " ")]
        for m in rep["models"]:
            cells.append(f"{_fmt(m['set_comparison'][f]['overlap'])} ({_fmt(m['ceiling'][f]['overlap'])})")
        cells.append(_fmt(r["set_comparison"][f]["overlap"]))
        lines.append("| " + " | ".join(cells) + " |")
    drums = [m for m in rep["models"] if m.get("drums")]
    if drums:
        lines += ["", "## Drums: set comparison of drum features (overlapping area; in brackets the ceiling)", ""]
        lines += ["| feature | " + " | ".join(m["name"] for m in drums) + " |", "|" + "---|" * (len(drums) + 1)]
        for f in DRUM_FEATURES:
            cells = [f] + [
                f"{_fmt(m['drums']['comparison'][f]['overlap'])} ({_fmt(m['drums']['ceiling'][f]['overlap'])})"
                for m in drums
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "Drum features (docs/drums.md): hits per bar per class, the share of hits on the 16th grid, "
                  "groove consistency, velocity and timing spread."]
    lines += ["", "## Scaled squared error per statistic", ""]
    head = ["statistic", *(m["name"] for m in rep["models"]), "real: train split"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in r["per_statistic_error"]:
        cells = [s.replace("_", " "), *(_fmt(m["per_statistic_error"][s], 4) for m in rep["models"])]
        cells.append(_fmt(r["per_statistic_error"][s], 4))
        lines.append("| " + " | ".join(cells) + " |")
    preds = [m for m in rep["models"] if m["prediction"]]
    if preds:
        title = f"## Next-event prediction error per feature ({split} windows, in standard deviations squared)"
        lines += ["", title, ""]
        for m in preds:
            parts = ", ".join(f"{k[4:]} {_fmt(v)}" for k, v in m["prediction"].items() if k.startswith("mse_"))
            lines.append(f"- {m['name']}: {parts}")
    chosen = [m for m in rep["models"] if m.get("temperature_choice")]
    if chosen:
        lines += ["", "## Temperature chosen on the validation split", ""]
        lines += ["Each sampling model generated its pieces at every temperature; the one whose pieces reach the "
                  "lowest MSE against validation-split excerpts (the same seed) is used above. MSE per temperature:"]
        lines.append("")
        for m in chosen:
            c = m["temperature_choice"]
            tried = ", ".join(f"{t}: {_fmt(v, 4)}" for t, v in c["validation_mse"].items())
            lines.append(f"- {m['name']}: **{c['chosen']:g}** ({tried})")
    likely = [m for m in rep["models"] if m.get("likelihood")]
    if likely:
        lines += ["", f"## Held-out likelihood ({split} split)", ""]
        lines += [f"Bits per note: the negative log2-probability a model gives the {split} pieces, per note, each "
                  "model under its own encoding (the Transformer's tokens, the RNN's pitch and time bins). Lower is "
                  "better."]
        lines += [""] + [f"- {m['name']}: {_fmt(m['likelihood']['bits_per_note'], 3)} bits per note" for m in likely]
    orig = [m for m in rep["models"] if m.get("originality")]
    if orig:
        nat = rep["real"].get("originality") or {}
        n = orig[0]["originality"]["copy_notes"]
        lines += ["", "## Originality (runs of notes found in the training split)", ""]
        lines += [f"The longest run of each piece's notes that also occurs in a training piece (transposed or at "
                  f"another tempo counts); a piece with a run of {n} notes or more counts as a copy."]
        lines += [""]
        for m in orig:
            o = m["originality"]
            worst = max(o["pieces"], key=lambda p: p["longest"])
            where = f" (from {worst['from']})" if worst["longest"] else ""
            lines.append(f"- {m['name']}: {o['copied_share']:.0%} of pieces copy {n}+ notes; longest run "
                         f"{o['longest']} notes{where}")
        if nat:
            lines.append(f"- real {split} excerpts against the training split (the natural level): "
                         f"{nat['copied_share']:.0%}; longest run {nat['longest']} notes")
    controlled = [m for m in rep["models"] if m.get("controls")]
    if controlled:
        lines += ["", "## Attribute controls (evaluate --controls)", ""]
        for m in controlled:
            if "none" in m["controls"]:
                lines.append(f"- {m['name']}: no controls ({m['controls']['none']})")
            else:
                lines += controls_markdown(m["name"], m["controls"])
    lines += ["", "## Figures", "", f"![pitch, step, duration and velocity]({rep['figures']['distributions']})", ""]
    lines += ["## Listen and look", ""]
    engines = sorted({e["synthesizer"] for entries in rep["samples"].values() for e in entries if "wav" in e})
    if engines:  # the same engine renders every sample: said once, not after each
        lines += [f"WAV files rendered with {'; '.join(engines)}.", ""]
    for name, entries in rep["samples"].items():
        for e in entries:
            wav = f", [WAV]({e['wav']})" if "wav" in e else ""
            lines.append(f"- {name}: [MIDI]({e['midi']}){wav}")
    lines.append("")
    for name, entries in rep["samples"].items():
        if entries:
            lines += [f"![{name}]({entries[0]['png']})", ""]
    return "\n".join(lines) + "\n"


def natural_originality(ds: Dataset, reference: list[Notes]) -> dict[str, Any]:
    """Held-out excerpts against the training split: how much real music "copies" by the same measure."""
    return originality(reference, OriginalityIndex.build(ds, "train"))
