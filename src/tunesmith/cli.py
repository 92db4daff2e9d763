"""The ``tunesmith`` command line. It only parses options and calls the library; errors from the library
(:class:`~tunesmith.errors.TunesmithError`) are printed without a traceback and exit with status 1."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import TunesmithError
from .threads import use_threads

if TYPE_CHECKING:
    from .families import FamilySpec

DEFAULT_CACHE = Path(os.environ.get("TUNESMITH_CACHE", Path.home() / ".cache" / "tunesmith"))

Handler = Callable[[argparse.Namespace], int]


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default, except where there is none to show or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS) or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


def _sampling_arguments(p: argparse.ArgumentParser, of: str) -> None:
    """``--temperature``, ``--top-k`` and ``--top-p``: how the distribution over ``of`` is sampled."""
    p.add_argument(
        "--temperature", type=float, default=1.0, help=f"> 1 more adventurous, < 1 more conservative ({of})"
    )
    p.add_argument("--top-k", type=int, default=None, help="sample only among the K likeliest")
    p.add_argument("--top-p", type=float, default=None, help="sample only within the top probability mass P, in (0, 1]")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


# ---------------------------------------------------------------------------------------------- prepare / info
def cmd_prepare(args: argparse.Namespace) -> int:
    from .jobs.prepare import describe, prepare_dataset

    ds = prepare_dataset(
        args.source,
        args.out,
        download=args.download,
        cache_dir=args.cache_dir,
        workers=args.workers,
        limit=args.limit,
        layout=args.layout,
        force=args.force,
        progress=not args.quiet,
    )
    info = ds.info()
    if ds.reused:
        print(f"{args.out}: up to date with its source, nothing to do (--force rebuilds)")
    else:
        print(f"prepared {info['pieces']} pieces in {ds.manifest['seconds_to_prepare']:.1f} s")
    print(describe(info))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .dataset import Dataset
    from .jobs.prepare import describe

    info = Dataset.load(args.dir).info()
    print(json.dumps(info, indent=1) if args.json else describe(info))
    return 0


def _parse_sets(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise TunesmithError(f"--set {item!r}: expected key=value, e.g. --set hidden=256")
        out[key.strip()] = value.strip()
    return out


def torchrun_command(args: argparse.Namespace) -> list[str]:
    """The same ``train`` command (without ``--nproc``) under torch's own launcher: ``--nproc`` processes on this
    machine, rendezvous on a free local port (``--standalone``)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(args.nproc)]
    cmd += ["-m", "tunesmith", "train", args.model, "--data", str(args.data), "--out", str(args.out)]
    if args.init:  # without --preset, the run started from gives its preset
        cmd += ["--init", str(args.init)] + (["--preset", args.preset] if args.preset else [])
    else:
        cmd += ["--preset", args.preset or "default"]
    for key in ("epochs", "max_steps", "max_time", "device", "seed"):
        value = getattr(args, key)
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    for item in args.set:
        cmd += ["--set", item]
    return cmd + (["--resume"] if args.resume else []) + (["-q"] if args.quiet else [])


def cmd_train(args: argparse.Namespace) -> int:
    if args.nproc is not None and args.nproc > 1:
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            raise TunesmithError("--nproc: this is already one of torchrun's processes; leave --nproc out")
        import shlex
        import subprocess

        cmd = torchrun_command(args)
        print(f"tunesmith train: {shlex.join(cmd)}", file=sys.stderr, flush=True)
        return subprocess.run(cmd, check=False).returncode

    from .jobs.demo import best_weights
    from .jobs.train import train
    from .training.distributed import rank, shutdown_distributed

    overrides = _parse_sets(args.set)
    for key in ("epochs", "max_steps", "max_time", "device", "seed"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = str(value)
    summary = train(
        args.model,
        args.data,
        args.out,
        preset=args.preset,
        overrides=overrides,
        resume=args.resume,
        init=args.init,
        progress=not args.quiet,
    )
    main_process = rank() == 0
    # under torchrun: end the process group cleanly (on an error torchrun stops the other processes instead)
    shutdown_distributed()
    if main_process:
        started = f" (started from {args.init})" if args.init else ""
        print(
            f"{args.model}{started}: {summary['stopped']} after {summary['epochs']} epoch(s), {summary['step']} "
            f"steps, {summary['seconds']:.1f} s; {best_weights(summary)}; run in {args.out}"
        )
    return 0


def _declared() -> dict[str, Any]:
    from .families import specs
    from .families.spec import declared_options

    return declared_options(specs())


def _family_options(p: argparse.ArgumentParser, families: Any) -> None:
    """The families' own generation options, each declared once in its family's options dataclass
    (``families/<name>/spec.py``): a flag per option, its help prefixed by the families that take it."""
    from .families.spec import declared_options

    groups: dict[str, Any] = {}
    for d in declared_options(families).values():
        target = p if d.group is None else groups.setdefault(d.group, p.add_argument_group(d.group))
        help_text = f"{', '.join(d.families)}: {d.help}"
        if d.kind == "bool":
            target.add_argument(d.cli_flag, dest=d.name, action="store_true", help=help_text)
        else:
            kind = {"float": float, "int": int}.get(d.kind, str)
            target.add_argument(d.cli_flag, dest=d.name, type=kind, default=None, metavar=d.metavar, help=help_text)


def given_options(args: argparse.Namespace, names: Any = None) -> dict[str, Any]:
    """The family options the user gave (by their declarations; a switch left off is not given): what the job is
    called with. Families refuse options they do not take, by name."""
    out = {}
    for d in _declared().values():
        if names is not None and d.name not in names:
            continue
        value = getattr(args, d.name, None)
        if d.kind == "bool":
            if value:
                out[d.name] = not d.invert
        elif value is not None:
            out[d.name] = value
    return out


def control_options() -> list[str]:
    """The attribute controls' options, as the families declare them (``harmonize`` asks for them too)."""
    from .families.spec import CONTROLS

    return [d.name for d in _declared().values() if d.group == CONTROLS and d.name != "guidance"]


def cmd_generate(args: argparse.Namespace) -> int:
    from .jobs.generate import generate

    use_threads(args.threads)
    written = generate(
        args.run,
        args.out,
        n=args.n,
        length=args.length,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        primer=args.primer,
        seed=args.seed,
        device=args.device,
        options=given_options(args),
        wav=args.wav,
        png=args.png,
    )
    engines = {engine for _, engine in written.wav}
    for p in written:
        print(p)
    for path, _ in written.wav:
        print(path)
    if engines:
        print(f"WAV files rendered with {'; '.join(sorted(engines))}")
    for path in written.png:
        print(path)
    return 0


def cmd_harmonize(args: argparse.Namespace) -> int:
    from .jobs.harmonize import harmonize

    use_threads(args.threads)
    written = harmonize(
        args.melody,
        args.run,
        args.out,
        n=args.n,
        tracks=args.tracks,
        as_program=args.as_program,
        seed=args.seed,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        device=args.device,
        controls=given_options(args, control_options()),
        wav=args.wav,
        png=args.png,
        avoid_parallels=not args.allow_parallels,
        candidates=args.candidates,
        in_key=not args.any_key,
        part_writing=not args.as_drawn,
    )
    for p in [*written, *(path for path, _ in written.wav), *written.png]:
        print(p)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from .audio import render
    from .io import read

    path, engine = render(
        read(args.file), args.out, sample_rate=args.sample_rate, soundfont=args.soundfont, engine=args.engine
    )
    print(f"{path}: rendered with {engine}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from .io import read
    from .plots import plot_dataset, plot_pianoroll, plot_runs
    from .pretrained import resolve_run
    from .runfiles import METRICS

    paths = [resolve_run(p) for p in args.paths]  # a shipped model's name is its folder
    if len(paths) == 1 and paths[0].is_file():
        print(plot_pianoroll(read(paths[0]), args.out, unit=args.time))
        return 0
    if not all(p.is_dir() for p in paths):
        raise TunesmithError("plot: give one music file, one prepared dataset folder, or one or more run folders")
    if len(paths) == 1 and (paths[0] / "manifest.json").is_file() and not (paths[0] / METRICS).is_file():
        print(plot_dataset(paths[0], args.out, split=args.split))
        return 0
    for p in paths:
        if not (p / METRICS).is_file():
            raise TunesmithError(
                f"{p}: neither a run folder (no {METRICS}) nor a prepared dataset (no manifest.json)"
                if len(paths) == 1
                else f"{p}: not a run folder (no {METRICS}); several folders are compared as runs"
            )
    print(plot_runs(paths, args.out, stats=args.stats.split(",") if args.stats else None))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    use_threads(None)
    from .evaluation.protocol import EvalOptions
    from .jobs.report import evaluate

    opts = EvalOptions(
        n=args.n,
        seed=args.seed,
        length=args.length,
        bars=args.bars,
        device=args.device,
        controls=args.controls,
        guidance=args.guidance,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        split=args.split,
        choose_temperature=tuple(args.choose_temperature or ()),
    )
    report = evaluate(args.runs, args.data, args.out, opts, progress=not args.quiet, audio=not args.no_audio)
    for m in report["models"]:
        t = f"  (temperature {m['temperature_choice']['chosen']:g})" if m.get("temperature_choice") else ""
        print(f"{m['name']:<20} MSE {m['mse']:.4f}  RMSE {m['rmse']:.4f}  overlap {m['overlap']:.3f}{t}")
        for kind, r in (m.get("controls") or {}).get("kinds", {}).items():
            if r["obeyed"] is not None:
                print(f"{'':<20} {kind:<10} obeyed {r['obeyed']:.0%} (chance {r['chance']:.0%})")
    print(f"{'real (train split)':<20} MSE {report['real']['mse']:.4f}  RMSE {report['real']['rmse']:.4f}  ", end="")
    print(f"overlap {report['real']['overlap']:.3f}")
    print(Path(args.out) / "report.md")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .dataset import Dataset
    from .jobs.compare import compare_folder
    from .utils import atomic_write_text

    ds = Dataset.load(args.data)
    results = [compare_folder(p, ds, args.split, args.seed) for p in args.paths]
    print(f"{'folder':<28}{'pieces':>7}{'MSE':>9}{'RMSE':>9}{'overlap':>9}{'KL':>8}")
    for r in results:
        name = r["path"] if len(r["path"]) <= 27 else "..." + r["path"][-24:]
        e = r["errors"]
        print(f"{name:<28}{r['pieces']:>7}{e['mse']:>9.4f}{e['rmse']:>9.4f}{r['overlap']:>9.3f}{r['kl']:>8.3f}")
        for f, reason in r["unreadable"]:
            print(f"  skipped {f}: {reason}")
    if args.json:
        atomic_write_text(args.json, json.dumps(results, indent=1))
        print(args.json)
    return 0


def cmd_originality(args: argparse.Namespace) -> int:
    from .jobs.originality import check_originality
    from .utils import atomic_write_text

    r = check_originality(args.path, args.data, args.split, run=args.run)
    n = r["copy_notes"]
    for p in r["pieces"]:
        where = f"  from {p['from']} (at its note {p['at_note']})" if p["longest"] else ""
        flag = "  COPY" if p["longest"] >= n else ""
        if p["longest"]:
            print(f"{p['source']}: longest run {p['longest']} notes{flag}{where}")
        else:  # the index finds runs of WINDOW + 1 notes and longer
            print(f"{p['source']}: no run of {r['shortest_found']} notes or more")
    for f, reason in r["unreadable"]:
        print(f"  skipped {f}: {reason}")
    print(f"{r['copied_share']:.0%} of {len(r['pieces'])} piece(s) hold a run of {n}+ notes of a {r['split']} piece")
    if args.json:
        atomic_write_text(args.json, json.dumps(r, indent=1))
        print(args.json)
    return 0


def cmd_rollstats(args: argparse.Namespace) -> int:
    use_threads(None)
    from .evaluation.metrics import MUSEGAN_STATISTICS
    from .jobs.rollstats import rollstats
    from .utils import atomic_write_text

    q = rollstats(
        args.run,
        args.data,
        n=args.n,
        real=args.real,
        thresholds=tuple(args.threshold or ()),
        holds=tuple(args.hold or ()),
        sample=args.sample,
        frames_only=args.frames_only,
        seed=args.seed,
        save=args.save,
    )
    keys = MUSEGAN_STATISTICS
    short = dict(zip(keys, ("EB", "UPC", "QN", "PR"), strict=True))
    grid = f"{q['steps_per_quarter']} steps per quarter note, {'with onsets' if q['onsets'] else 'frames only'}"
    print(f"{args.run}: {grid}; {q['n']} generated phrases against {q['real_phrases']} real ones (pooled)")
    band, target_qn = q["target_band"], q["target_qn"]
    print(f"{'':<26}{'cells on':>9}{'EB':>8}{'UPC':>8}{'QN':>8}{'PR':>8}   within {band:.0%} of real")

    def line(name: str, st: dict[str, float], tail: str = "") -> None:
        print(f"{name:<26}{st['cells_on']:>9.2%}" + "".join(f"{st[k]:>8.3f}" for k in keys) + tail)

    line("real (train)", q["real"])
    if q["validation"] is not None:
        line("real (validation)", q["validation"])
    for i, r in enumerate(q["rows"]):
        name = "sampled" if q["sample"] else f"threshold {r['threshold']:g}"
        if r["hold"] != r["threshold"]:
            name += f" hold {r['hold']:g}"
        name += " *" if i == q["chosen"] else ""
        line(name, r["stats"], "   " + (" ".join(short[k] for k in keys if r["within"][k]) or "none"))
    r = q["rows"][q["chosen"]]
    if len(q["rows"]) > 1:
        print(
            "* chosen on the validation phrases (of the rows meeting the target against them, else of all: the "
            "closest); judged against the training phrases"
        )
    misses = [f"{short[k]} {r['stats'][k]:.3f} vs {q['real'][k]:.3f}" for k in keys if not r["within"][k]]
    if not r["qn_target"]:
        misses.append(f"QN {r['stats']['qualified_note_rate']:.3f} < {target_qn}")
    verdict = "met" if r["met"] else "not met (" + "; ".join(misses) + ")"
    print(f"target (all four within {band:.0%} of real, QN >= {target_qn}): {verdict}")
    if args.json:
        atomic_write_text(args.json, json.dumps(q, indent=1))
        print(args.json)
    if q["saved"]:
        print(f"{q['saved']}: generate and evaluate now decode this run with this threshold and hold")
    return 0


def _megabytes(n: int | None) -> str:
    return "–" if n is None else f"{n / 1e6:.1f} MB"


def cmd_models(args: argparse.Namespace) -> int:
    from .pretrained import search_path, shipped_models

    if args.export:
        from .jobs.pretrained import export_model

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


def cmd_demo(args: argparse.Namespace) -> int:
    from .jobs.demo import demo

    demo(
        args.out,
        models=[m.strip() for m in args.models.split(",") if m.strip()],
        scale=args.scale,
        n=args.n,
        workers=args.workers,
        limit=args.limit,
        progress=not args.quiet,
    )
    return 0


def cmd_studio(args: argparse.Namespace) -> int:
    use_threads(None)
    from .studio import serve

    serve(args.runs, host=args.host, port=args.port, work=args.out, concurrency=args.concurrency)
    return 0


# ---------------------------------------------------------------------------------------------- parser
def _add_train_parser(models: Any, fam: FamilySpec) -> None:
    """``tunesmith train NAME``: the training options, with the presets that this family has."""
    settings = ", ".join(fam.default_settings())
    p = models.add_parser(
        fam.name,
        help=fam.summary,
        formatter_class=_Formatter,
        description=f"Train {fam.name}: {fam.summary}.\nIts model settings (--set KEY=VALUE): {settings}.",
    )
    p.add_argument("--data", required=True, help="a prepared dataset folder")
    p.add_argument("--out", required=True, help="run folder to write")
    p.add_argument(
        "--preset",
        choices=list(fam.presets),
        default=None,
        help="; ".join(f"{name}: {fam.preset_notes[name]}" for name in fam.presets if name in fam.preset_notes)
        + " (default: default; with --init, the preset that run was trained with)",
    )
    p.add_argument("--epochs", type=_positive_int, default=None, help="epochs (default: the preset's)")
    p.add_argument("--max-steps", type=_positive_int, default=None, help="stop after this many optimizer steps")
    p.add_argument("--max-time", type=float, default=None, help="stop after this many seconds, with a checkpoint")
    p.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: 0)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="change a model or training setting")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
    p.add_argument(
        "--init",
        default=None,
        metavar="RUN",
        help="start from the weights of a trained run or a shipped model's name ('tunesmith models'): its model "
        "settings and (transformer) tokenizer are kept; --preset gives the training settings (default: the "
        "preset it was trained with); config.json records where the run started",
    )
    p.add_argument(
        "--nproc",
        type=_positive_int,
        default=None,
        help="train with N processes on this machine (DistributedDataParallel, launched through torchrun; "
        "batch_size stays the global batch; docs/scaling.md; default: 1)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)


def build_parser() -> argparse.ArgumentParser:
    from .families import specs
    from .jobs.plan import DEMO_MODELS

    parser = argparse.ArgumentParser(
        prog="tunesmith",
        description="Learn from MIDI collections and compose new music.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"tunesmith {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "prepare",
        help="parse a corpus once into a dataset folder",
        formatter_class=_Formatter,
        description="Parse every music file of SOURCE (in parallel) into a dataset folder that loads fast.\n"
        "SOURCE is 'bach' (the built-in Bach chorales), a folder (searched recursively; a MAESTRO folder is\n"
        "recognised by its maestro-v*.csv and its official split is used), or one file. Unreadable files are\n"
        "skipped and listed in skipped.csv. Running it again over an unchanged source reuses the dataset.",
    )
    p.add_argument("source", nargs="?", help="'bach', a folder, or a music file")
    p.add_argument("--out", required=True, help="dataset folder to write")
    p.add_argument(
        "--workers", type=_positive_int, default=None, help="parallel parser processes (default: cores, at most 8)"
    )
    p.add_argument("--limit", type=_positive_int, default=None, help="use only the first N files (sorted by path)")
    p.add_argument(
        "--layout",
        choices=("auto", "folder", "maestro"),
        default="auto",
        help="how to read a folder: auto detects MAESTRO by its csv; folder ignores the csv",
    )
    p.add_argument(
        "--download",
        choices=("maestro",),
        default=None,
        help="fetch the official MAESTRO v3 MIDI archive (checksum verified, resumable) and prepare it",
    )
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="where downloads are kept")
    p.add_argument("--force", action="store_true", help="rebuild even if the dataset is up to date")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser(
        "info",
        help="summarise a prepared dataset",
        formatter_class=_Formatter,
        description="Pieces, notes and hours per split, pitch range and skipped files of a dataset.",
    )
    p.add_argument("dir", help="a folder written by 'tunesmith prepare'")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "train",
        help="train a model on a prepared dataset",
        formatter_class=_Formatter,
        description="Train MODEL on a dataset written by 'tunesmith prepare'. The run folder gets config.json,\n"
        "model.safetensors (best weights on validation), trainer_state.pt (for --resume) and metrics.jsonl.\n"
        "Any model or training setting can be changed with --set key=value (e.g. --set hidden=256 --set lr=0.001).\n"
        "'tunesmith train MODEL --help' lists that model's presets and settings.",
    )
    models = p.add_subparsers(dest="model", metavar="MODEL", required=True)
    for fam in specs().values():
        _add_train_parser(models, fam)

    p = sub.add_parser(
        "generate",
        help="compose new pieces with a trained run",
        formatter_class=_Formatter,
        description="Write N generated pieces as MIDI files into OUT. With --primer, each continues that MIDI\n"
        "file (the output holds the primer, then the new notes); without, each starts from a training excerpt.",
    )
    p.add_argument("run", help="a run folder written by 'tunesmith train', or a shipped model's name ('models' lists)")
    p.add_argument("--out", required=True, help="folder for the MIDI files")
    p.add_argument("-n", type=_positive_int, default=4, help="how many pieces (generated in one batch)")
    p.add_argument(
        "--length",
        type=int,
        default=200,
        help="new notes (rnn, transformer), tone events (crnngan, baseline) or bars (gan) per piece",
    )
    _sampling_arguments(p, "pitches (rnn) or tokens (transformer)")
    p.add_argument("--primer", default=None, help="a MIDI (or score) file to continue")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same pieces")
    p.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    p.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="CPU threads (default: the cores that other work leaves free, at least 1; docs/benchmarks.md)",
    )
    _family_options(p, specs())
    p.add_argument("--wav", action="store_true", help="also write a WAV beside each MIDI file")
    p.add_argument("--png", action="store_true", help="also write a piano-roll PNG beside each MIDI file")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser(
        "harmonize",
        help="keep a melody (or chosen tracks) note for note and write the other voices",
        formatter_class=_Formatter,
        description="Write N versions of MELODY with its tracks kept note for note and the other voices written by a\n"
        "transformer run that learned several instruments (e.g. one trained on the Bach chorales, whose voices are\n"
        "a string quartet: a melody is given to it as the soprano's violin). Each file holds the kept notes as they\n"
        "were and the new voices.",
    )
    p.add_argument("melody", help="a MIDI (or score) file: the melody, or the tracks to keep")
    p.add_argument("--run", required=True, help="a transformer run folder, or a shipped transformer's name")
    p.add_argument("--out", required=True, help="folder for the MIDI files")
    p.add_argument("-n", type=_positive_int, default=4, help="how many versions (one batch; each with its own seed)")
    p.add_argument("--tracks", default=None, help="the tracks to keep, counted from 1 (default: all of them)")
    p.add_argument(
        "--as-program",
        type=int,
        default=None,
        help="the General MIDI program the kept tracks are given to the model as (default: their own where the "
        "model knows it, else its highest main instrument)",
    )
    _sampling_arguments(p, "tokens")
    p.add_argument("--seed", type=int, default=0, help="version i is written with seed SEED + i")
    p.add_argument(
        "--allow-parallels",
        action="store_true",
        help="let the voices move in parallel fifths and octaves (forbidden by default, as in part writing)",
    )
    p.add_argument(
        "--candidates",
        type=_positive_int,
        default=4,
        help="versions drawn per one written: the best are kept (in the melody's key, ending on its tonic, the "
        "melody a chord tone on strong beats, voices in order; docs/controls.md); 1 writes every version drawn",
    )
    p.add_argument(
        "--any-key",
        action="store_true",
        help="do not ask the model for the melody's key (by default a model with attribute controls is, unless "
        "--key names another)",
    )
    p.add_argument(
        "--as-drawn",
        action="store_true",
        help="write the voices as the model drew them (by default a written note above the voice over it goes down "
        "an octave, and under a melody that ends on the tonic the voices end on the tonic triad)",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    p.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="CPU threads (default: the cores that other work leaves free, at least 1; docs/benchmarks.md)",
    )
    for name in control_options():
        p.add_argument("--" + name.replace("_", "-"), default=None, help=f"attribute control ({name}; see generate)")
    p.add_argument("--wav", action="store_true", help="also write a WAV beside each MIDI file")
    p.add_argument("--png", action="store_true", help="also write a piano-roll PNG beside each MIDI file")
    p.set_defaults(func=cmd_harmonize)

    p = sub.add_parser(
        "originality",
        help="is it a copy? the longest run of each piece's notes found in a dataset's pieces",
        formatter_class=_Formatter,
        description="For each music file (a file, or every one in a folder), the longest run of consecutive notes\n"
        "that also occurs in a piece of the dataset's split, with that piece named. Transposed and re-timed copies\n"
        "count (intervals and ratios of onset intervals are compared). A run of 16 notes or more is a copy.\n"
        "The index of the split is built once and kept beside the dataset; a shipped model that keeps one of its\n"
        "training data (--run bach) needs no dataset.",
    )
    p.add_argument("path", help="a music file or a folder of them")
    p.add_argument("--data", default=None, help="a prepared dataset folder to search")
    p.add_argument(
        "--run",
        default=None,
        metavar="RUN",
        help="instead of --data: a shipped model (or run) that keeps an index of its training data, e.g. bach",
    )
    p.add_argument("--split", default="train", choices=("train", "validation", "test"), help="the pieces to search")
    p.add_argument("--json", default=None, help="also write every figure to this JSON file")
    p.set_defaults(func=cmd_originality)

    p = sub.add_parser(
        "evaluate",
        help="compare trained models against the test split: the paper's table and more",
        formatter_class=_Formatter,
        description="Generate -n pieces with each RUN (fixed seed), compare them with test-split excerpts of the\n"
        "same lengths, and write REPORT/report.md, report.json, distribution plots, piano rolls and sample\n"
        "MIDI/WAV files. The protocol (docs/evaluation.md): the paper's MSE/RMSE of set statistics, Yang & Lerch's\n"
        "overlapping area and KL per feature (training-split excerpts give the ceiling), musical statistics, and\n"
        "next-event prediction error for models that predict the next event.",
    )
    p.add_argument(
        "runs", nargs="+", metavar="RUN", help="run folders written by 'tunesmith train', or shipped models' names"
    )
    p.add_argument("--data", required=True, help="the prepared dataset the runs were trained on")
    p.add_argument("--out", required=True, help="report folder to write")
    p.add_argument("-n", type=_positive_int, default=64, help="pieces per model")
    p.add_argument("--length", type=_positive_int, default=100, help="events per piece (RNN, C-RNN-GAN, baseline)")
    p.add_argument("--bars", type=_positive_int, default=8, help="bars per piece (piano-roll GAN)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generation and of the reference excerpts")
    _sampling_arguments(p, "of every model that samples, alike: the RNN's pitches, the Transformer's tokens")
    p.add_argument(
        "--choose-temperature",
        type=float,
        nargs="+",
        default=None,
        metavar="T",
        help="choose each sampling model's temperature among these (e.g. 0.85 0.9 0.95 1): the one whose pieces "
        "reach the lowest MSE against validation-split excerpts; the report lists every one's",
    )
    p.add_argument(
        "--split",
        choices=("test", "validation"),
        default="test",
        help="the held-out split to compare with: validation to choose settings (temperature, checkpoint) without "
        "looking at the test split, test for the figures you report",
    )
    p.add_argument("--device", default="cpu", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--no-audio", action="store_true", help="skip rendering the sample WAVs")
    p.add_argument(
        "--controls",
        action="store_true",
        help="also measure how often runs trained with attribute controls obey each one (against chance)",
    )
    p.add_argument(
        "--guidance",
        type=float,
        default=None,
        help="with --controls: classifier-free guidance of them (1: none; default: generate's, 5)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "rollstats",
        help="MuseGAN's piano-roll statistics of a GAN run's phrases against real ones",
        formatter_class=_Formatter,
        description="Generate -n phrases with a piano-roll GAN run and compare MuseGAN's four statistics (empty-beat\n"
        "rate, pitch classes per bar, qualified-note rate, polyphony rate; pooled over the phrases) with --real\n"
        "random training phrases of the run's grid. With several --threshold (and --hold) values, the decoding is\n"
        "chosen on validation phrases and judged against the training phrases (docs/gan.md, the quality target).",
    )
    p.add_argument("run", metavar="RUN", help="a run folder of 'tunesmith train gan' (or a shipped GAN's name)")
    p.add_argument("--data", required=True, help="the prepared dataset the run was trained on")
    p.add_argument("-n", type=_positive_int, default=512, help="generated phrases (one noise vector each)")
    p.add_argument("--real", type=_positive_int, default=2048, help="real phrases drawn from each split")
    p.add_argument("--threshold", type=float, nargs="+", default=None, help="one or more thresholds (default 0.5)")
    p.add_argument(
        "--hold", type=float, nargs="+", default=None, help="one or more hold thresholds (default: each threshold)"
    )
    p.add_argument("--sample", action="store_true", help="draw each cell with its probability instead")
    p.add_argument("--frames-only", action="store_true", help="decode notes from the frame channel alone")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise and of the real phrases drawn")
    p.add_argument("--json", default=None, help="also write every number to this JSON file")
    p.add_argument(
        "--save",
        action="store_true",
        help="keep the chosen threshold and hold in RUN/decoding.json: generate and evaluate then use them unless "
        "told otherwise",
    )
    p.set_defaults(func=cmd_rollstats)

    p = sub.add_parser(
        "compare",
        help="compare folders of MIDI files (from any generator) with a dataset split",
        formatter_class=_Formatter,
        description="Set each PATH's pieces against excerpts of a prepared dataset's split as long (in notes) as\n"
        "each piece, as 'tunesmith evaluate' does for runs (docs/evaluation.md): MSE/RMSE of the set statistics,\n"
        "Yang & Lerch's overlapping area and KL. Unreadable files are listed and skipped.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="folders (or files) of MIDI or score files")
    p.add_argument("--data", required=True, help="a prepared dataset: the reference")
    p.add_argument("--split", choices=("train", "validation", "test"), default="test", help="reference split")
    p.add_argument("--seed", type=int, default=0, help="seed of the reference excerpts")
    p.add_argument("--json", default=None, help="also write every number to this JSON file")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "render",
        help="render a MIDI file to WAV",
        formatter_class=_Formatter,
        description="Render a MIDI (or score) file to a 16-bit WAV file. Engines, in the order 'auto' tries them:\n"
        "midirenderer (a SoundFont synthesizer installed with tunesmith; .sf2 fonts only),\n"
        "fluidsynth (FluidSynth through pyfluidsynth: pip install 'tunesmith[soundfont]' and libfluidsynth),\n"
        "symusic (symusic's SoundFont synthesizer), builtin (decaying harmonics; needs nothing, always works).\n"
        "The SoundFont: --soundfont, else $TUNESMITH_SOUNDFONT, else pretty_midi's TimGM6mb.sf2, else a system\n"
        "General MIDI font (/usr/share/sounds/sf2). The engine used, and why others were passed over, is printed.",
    )
    p.add_argument("file", help="a MIDI or score file")
    p.add_argument("--out", required=True, help="the WAV file to write")
    p.add_argument("--sample-rate", type=_positive_int, default=22050, help="samples per second")
    p.add_argument("--soundfont", default=None, metavar="FILE", help="a General MIDI SoundFont (.sf2/.sf3)")
    p.add_argument(
        "--engine",
        choices=("auto", "midirenderer", "fluidsynth", "symusic", "builtin"),
        default="auto",
        help="synthesizer; naming one that cannot run here is an error",
    )
    p.set_defaults(func=cmd_render)

    p = sub.add_parser(
        "plot",
        help="draw a piano roll, training curves, or a dataset's distributions",
        formatter_class=_Formatter,
        description="FILE.mid: a piano roll (time in seconds or bars, pitch names on the axis, velocity as shade).\n"
        "RUN [RUN ...]: training curves from each run's metrics.jsonl in one figure (losses over steps); runs\n"
        "that log musical statistics of their samples (C-RNN-GAN, GAN) get one panel per statistic, real data\n"
        "dashed. DIR (a prepared dataset): histograms of pitch, step, duration and velocity, each piece's pitch\n"
        "range, and piece lengths.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a MIDI or score file, a dataset folder, or run folders (or shipped models' names)",
    )
    p.add_argument("--out", required=True, help="the PNG file to write")
    p.add_argument(
        "--time", "--unit", dest="time", choices=("seconds", "bars"), default="seconds", help="piano roll: time axis"
    )
    p.add_argument("--stats", default=None, help="runs: comma-separated panels to draw (default: losses, statistics)")
    p.add_argument(
        "--split", choices=("all", "train", "validation", "test"), default="all", help="dataset: pieces to count"
    )
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser(
        "models",
        help="the models shipped with tunesmith: list them, or export one as a run folder",
        formatter_class=_Formatter,
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
    p.set_defaults(func=cmd_models)

    p = sub.add_parser(
        "demo",
        help="run the main job on the built-in Bach chorales",
        formatter_class=_Formatter,
        description="First, where models are shipped with tunesmith ('tunesmith models'), a few pieces of each into\n"
        "OUT/shipped (MIDI, WAV, piano roll; said and skipped where none is). Then\n"
        "prepare the built-in Bach chorales into OUT/data (with OUT/data.png), train the RNN note\n"
        "model, the piano-roll GAN, C-RNN-GAN and its baseline on them into OUT/runs (curves in OUT/training.png),\n"
        "then evaluate them against the test split: OUT/report.md and OUT/report.json compare the models, and\n"
        "OUT/samples holds MIDI, WAV and piano-roll PNG samples of each.",
    )
    p.add_argument("--out", default="out", help="output folder")
    p.add_argument("--workers", type=_positive_int, default=None, help="parallel parser processes")
    p.add_argument("--limit", type=_positive_int, default=None, help="use only the first N chorales")
    p.add_argument("--models", default=",".join(DEMO_MODELS), help="models to train, comma-separated")
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every model's step budget (" + ", ".join(f"{k} {v['max_steps']}" for k, v in DEMO_MODELS.items())
        + "); 0.1 for a quick look",
    )
    p.add_argument("-n", type=_positive_int, default=64, help="pieces per model for the evaluation")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "studio",
        help="a page in the browser to generate, regenerate bars, harmonise, see and hear (docs/studio.md)",
        formatter_class=_Formatter,
        description="Serve the studio: a page on this machine where you pick a model (the shipped ones and every run\n"
        "under --runs), give it a MIDI file or an example, generate variations, see their piano rolls, hear\n"
        "them and download MIDI, with the command line that writes the same files. Needs the 'studio' extra:\n"
        "pip install 'tunesmith[studio]'. It listens on 127.0.0.1 (this machine only) unless --host says otherwise.",
    )
    p.add_argument("--runs", default=None, metavar="DIR", help="a folder of run folders to offer as models")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every network; see the docs)")
    p.add_argument("--port", type=_positive_int, default=7860, help="port to listen on")
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="keep uploads and results in DIR (default: a temporary folder, removed when the studio stops)",
    )
    p.add_argument(
        "--concurrency", type=_positive_int, default=1, help="generations run at once; the others wait in a queue"
    )
    p.set_defaults(func=cmd_studio)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.func
    try:
        return handler(args)
    except TunesmithError as e:
        print(f"tunesmith {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"tunesmith {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
