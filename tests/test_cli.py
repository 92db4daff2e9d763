from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tunesmith.cli import main

from .conftest import hand_midi


def _folder(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    hand_midi(src / "a.mid")
    hand_midi(src / "b.mid")
    (src / "bad.mid").write_bytes(b"nope")
    return src


def test_prepare_and_info(tmp_path, capsys):
    src = _folder(tmp_path)
    assert main(["prepare", str(src), "--out", str(tmp_path / "ds"), "--workers", "1", "-q"]) == 0
    out = capsys.readouterr().out
    assert "prepared 2 pieces" in out and "bad.mid: not a MIDI file" in out and "skipped   1 file(s)" in out
    assert main(["prepare", str(src), "--out", str(tmp_path / "ds"), "-q"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["info", str(tmp_path / "ds"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pieces"] == 2 and info["notes"] == 10 and info["skipped"][0]["path"] == "bad.mid"
    assert main(["info", str(tmp_path / "ds")]) == 0
    assert "pitches   36..67" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["info", "{tmp}/none"], "not a prepared dataset"),
        (["prepare", "{tmp}/none", "--out", "{tmp}/x"], "no such file or folder"),
        (["prepare", "--out", "{tmp}/x"], "no SOURCE given"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path, capsys, argv, message):
    assert main([a.format(tmp=tmp_path) for a in argv]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_bad_option_values_are_rejected(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["prepare", "bach", "--out", str(tmp_path), "--workers", "0"])
    assert e.value.code == 2 and "must be positive" in capsys.readouterr().err


def test_help_shows_defaults():
    r = subprocess.run([sys.executable, "-m", "tunesmith", "prepare", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--workers" in r.stdout and "(default: auto)" in r.stdout


def test_prepare_download_maestro_prepares_what_was_fetched(tmp_path, monkeypatch, capsys):
    import tunesmith.corpora.download as download

    root = tmp_path / "maestro-v3.0.0"
    (root / "2004").mkdir(parents=True)
    hand_midi(root / "2004" / "a.midi")
    (root / "maestro-v3.0.0.csv").write_text(
        "canonical_composer,canonical_title,split,year,midi_filename,audio_filename,duration\n"
        "Chopin,Ballade,test,2004,2004/a.midi,2004/a.wav,3.0\n"
    )
    seen = []
    monkeypatch.setattr(download, "fetch", lambda name, cache, progress=True: seen.append((name, cache)) or root)
    out = tmp_path / "ds"
    assert main(["prepare", "--download", "maestro", "--cache-dir", str(tmp_path / "cache"), "--out", str(out)]) == 0
    assert seen == [("maestro", tmp_path / "cache")]
    info = json.loads((out / "manifest.json").read_text())
    assert info["pieces"] == 1 and "maestro" in info["corpus"]
    assert main(["prepare", "bach", "--download", "maestro", "--out", str(out)]) == 1
    assert "either SOURCE or --download" in capsys.readouterr().err


def test_demo_trains_evaluates_and_writes_the_report(tmp_path):
    out = tmp_path / "out"
    argv = ["demo", "--out", str(out), "--limit", "40", "--workers", "1", "--scale", "0.02", "-n", "4", "-q"]
    assert main([*argv, "--models", "rnn,baseline"]) == 0  # (the GAN needs more chorales than 40)
    report = json.loads((out / "report.json").read_text())
    shipped = [f"shipped-{m}" for m in ("baseline", "crnngan", "crnngan3", "gan", "rnn")]  # by name
    assert [m["name"] for m in report["models"]] == ["rnn", "baseline", *shipped]
    assert "| rnn (rnn) |" in (out / "report.md").read_text()
    for png in ("data.png", "training.png", "distributions.png"):
        assert (out / png).stat().st_size > 0
    assert sorted(p.name for p in (out / "samples").glob("rnn_*")) == [
        f"rnn_{i:02d}.{ext}" for i in range(2) for ext in ("mid", "png", "wav")
    ]
    assert main(["demo", "--out", str(out), "--models", "lstm"]) == 1


def test_a_family_option_another_family_lacks_is_refused_by_name(tmp_path, capsys):
    """--threshold is the GAN's; an RNN run refuses it, naming the option, with no traceback."""
    from tests.conftest import synthetic_dataset

    data = synthetic_dataset(tmp_path, steps=[0.5], durations=[0.4], n_notes=40)
    run = tmp_path / "run"
    argv = ["train", "rnn", "--data", str(data), "--out", str(run), "--preset", "paper", "--max-steps", "2"]
    assert main([*argv, "--set", "batch_size=8", "-q"]) == 0
    assert main(["generate", str(run), "--out", str(tmp_path / "g"), "--threshold", "0.4"]) == 1
    err = capsys.readouterr().err
    assert "rnn runs take no option threshold; it has no options of its own" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["train", "rnn", "--help"],
        ["train", "transformer", "--help"],
        ["generate", "--help"],
        ["generate", "bach", "--out", "x", "--no-such-option"],
        ["train", "gan", "--data", "d", "--out", "r", "--preset", "nope"],
        ["models"],
    ],
)
def test_parsing_and_listing_models_import_neither_torch_nor_miditok(argv):
    """``tunesmith --help``, an argument error and ``tunesmith models`` answer at once: neither torch nor MidiTok is
    imported until a command runs a model (checked in a fresh interpreter, whose modules are its own)."""
    code = (
        "import sys\nfrom tunesmith.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'miditok') if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_quiet_turns_off_every_bar_for_the_command_alone(tmp_path, capsys):
    """``-q`` reaches the bars deep inside a job (the Transformer's generation bar is drawn by the sampler, which no
    flag reaches), and only for that command."""
    import io

    from tunesmith import progress
    from tunesmith.cli import COMMANDS, build_parser

    seen = []
    parser = build_parser()
    args = parser.parse_args(["prepare", "bach", "--out", str(tmp_path / "d"), "-q"])
    assert args.quiet
    progress.quiet(True)
    seen.append(progress.progress_bar(total=3, stream=io.StringIO()).disable)
    progress.quiet(False)
    seen.append(progress.progress_bar(total=3, stream=io.StringIO()).disable)
    assert seen == [True, False] and COMMANDS
    src = hand_midi(tmp_path / "a.mid")
    assert main(["prepare", str(src), "--out", str(tmp_path / "ds"), "-q"]) == 0
    assert progress.progress_bar(total=1, stream=io.StringIO()).disable is False  # back on after the command
