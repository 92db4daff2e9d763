"""The docs' commands exist: every `tunesmith ...` line in a code block of README.md and docs/*.md parses with the
command line's own parser, and every script they run (`python benchmarks/...`) is in the project and answers
`--help`. A figure given beside a command that no longer exists could not be made again."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tunesmith.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: a line of a doc's code that runs a Python script: what the docs tell a reader to run
SCRIPT = re.compile(r"(?:^|\s)(?:\S*/)?python3? (\S+\.py)\b")


def code_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of ``path``'s code: fenced blocks and blocks indented by four spaces (outside lists' text)."""
    out, fenced = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("    "):
            out.append((number, line.strip()))
    return out


def commands() -> list[tuple[str, str]]:
    """Every `tunesmith ...` command of the docs' code that is meant to be typed as it is (no placeholder in
    brackets or an ellipsis; no output line such as `studio: http://...`), with where it is."""
    found = []
    for path in DOCS:
        for number, line in code_lines(path):
            m = re.match(r"^(?:\.venv/bin/)?tunesmith (.*)$", line)
            if not m:
                continue
            cmd = re.sub(r"\s+#.*$", "", m.group(1)).strip()
            first = cmd.split(" ", 1)[0]
            if first.endswith(":") or any(s in cmd for s in ("[", "...", "|", "<")) or cmd.endswith("\\"):
                continue
            found.append((f"{path.name}:{number}", cmd))
    return found


def scripts() -> dict[str, str]:
    """Every script the docs' code runs with python, with the first place it is named."""
    found: dict[str, str] = {}
    for path in DOCS:
        for number, line in code_lines(path):
            for m in SCRIPT.finditer(line):
                found.setdefault(m.group(1), f"{path.name}:{number}")
    return found


def test_the_docs_name_commands_and_scripts():
    """The collection below is not empty: the docs were read (a pattern that matched nothing would pass)."""
    assert len(commands()) >= 50
    assert "benchmarks/bench_transformer.py" in scripts() and "benchmarks/pretrained.py" in scripts()


@pytest.mark.parametrize(("where", "cmd"), commands())
def test_every_documented_command_parses(where, cmd):
    parser = build_parser()
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            parser.parse_args(shlex.split(cmd))
        except SystemExit as e:
            if e.code:
                pytest.fail(f"{where}: `tunesmith {cmd}`: {err.getvalue().strip().splitlines()[-1]}")


def test_every_documented_script_exists_and_answers_help():
    """All at once, two at a time (each imports torch): a script that is missing or whose --help fails."""
    missing = [f"{where}: {s}" for s, where in scripts().items() if not (ROOT / s).is_file()]
    assert not missing, "scripts the docs run that are not in the project: " + "; ".join(missing)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    todo = sorted(scripts())
    failed = []
    while todo:
        batch, todo = todo[:2], todo[2:]
        runs = [
            (s, subprocess.Popen([sys.executable, s, "--help"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True))
            for s in batch
        ]
        for s, proc in runs:
            _, err = proc.communicate(timeout=120)
            if proc.returncode:
                failed.append(f"{s}: {err.strip().splitlines()[-1] if err.strip() else proc.returncode}")
    assert not failed, "; ".join(failed)
