"""The floors of docs/architecture.md, enforced: every import in the package (function-local ones included) goes
down the floors, never up, and never sideways between packages of one floor.

The table below is the one in docs/architecture.md; a test there checks that the two agree."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tunesmith"
DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

#: floor -> the top-level modules and packages of tunesmith on it, lowest first
FLOORS: dict[int, tuple[str, ...]] = {
    0: (
        "__init__", "errors", "config", "utils", "notes", "scores", "grid", "drumkit", "runfiles", "progress",
        "pretrained", "threads", "chordnames",
    ),
    1: ("io",),
    2: ("corpora",),
    3: ("dataset",),
    4: ("representations", "evaluation", "sampling", "training", "audio", "plots", "live"),
    5: ("families",),
    6: ("jobs",),
    7: ("studio",),
    8: ("cli",),
    9: ("__main__",),
}
FLOOR_OF = {name: floor for floor, names in FLOORS.items() for name in names}


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, src: Path = SRC) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import of a tunesmith module in ``path``, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path, src).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "tunesmith"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "tunesmith":
                continue
            # "from . import x" / "from .pkg import mod": the imported names may be modules themselves
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                as_module = src.parent / Path(*candidate.split("."))
                is_module = as_module.with_suffix(".py").is_file() or (as_module / "__init__.py").is_file()
                found.append((node.lineno, candidate if is_module else target))
    return found


def top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def family_package(module: str) -> str | None:
    """``rnn`` for tunesmith.families.rnn.*; None for what the families share (the registry, families.spec,
    families.base and families.scoring)."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "families" and parts[2] not in ("spec", "base", "scoring"):
        return parts[2]
    return None


def violations(src: Path = SRC) -> list[str]:
    bad = []
    for path in sorted(src.rglob("*.py")):
        me = module_name(path, src)
        mine = top(me)
        if mine not in FLOOR_OF:
            bad.append(f"{me}: its top-level name {mine!r} is on no floor of docs/architecture.md")
            continue
        for line, target in imports_of(path, src):
            theirs = top(target)
            where = f"{path.relative_to(src.parent)}:{line}: {me} imports {target}"
            if theirs not in FLOOR_OF:
                bad.append(f"{where} (on no floor)")
            elif FLOOR_OF[theirs] > FLOOR_OF[mine]:
                bad.append(f"{where} (up from floor {FLOOR_OF[mine]} to {FLOOR_OF[theirs]})")
            elif FLOOR_OF[theirs] == FLOOR_OF[mine] and theirs != mine and FLOOR_OF[mine] != 0:
                bad.append(f"{where} (sideways on floor {FLOOR_OF[mine]})")
            elif family_package(me) and family_package(target) and family_package(me) != family_package(target):
                bad.append(f"{where} (one family package imports another)")
            elif mine == "families" and me != "tunesmith.families" and target == "tunesmith.families":
                bad.append(f"{where} (a family imports the registry; import families.base instead)")
    return bad


def test_imports_go_down_the_floors():
    assert violations() == []


def import_cycles(src: Path = SRC) -> list[list[str]]:
    """The package's import cycles (function-local imports included): each strongly connected group of two or
    more modules of the import graph, sorted."""
    paths = {module_name(p, src): p for p in src.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for me, path in paths.items():
        deps = set()
        for _, target in imports_of(path, src):
            parts = target.split(".")
            while parts and ".".join(parts) not in paths:  # a name imported from a module: that module
                parts = parts[:-1]
            if parts and ".".join(parts) != me:
                deps.add(".".join(parts))
        graph[me] = deps
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        order[v] = low[v] = len(order)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in order:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], order[w])
        if low[v] == order[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in sorted(graph):
        if v not in order:
            visit(v)
    return sorted(cycles)


#: what a face (the command line, the studio) may import: the jobs, and the base they share
FACE_IMPORTS = {"jobs", "errors", "config", "progress", "__init__", "cli", "studio"}


def face_violations(src: Path = SRC) -> list[str]:
    """Imports of a face (``cli/``, ``studio/``) that skip the jobs layer."""
    found = []
    for face in ("cli", "studio"):
        for path in sorted((src / face).rglob("*.py")):
            for line, target in imports_of(path, src):
                allowed = FACE_IMPORTS - ({"cli"} if face == "studio" else set())
                if top(target) not in allowed:
                    found.append(f"{path.relative_to(src)}:{line}: {target}")
    return found


def test_the_faces_ask_jobs():
    """The command line and the studio import only ``jobs`` (and errors, config, progress); the command line also
    starts the studio (it serves the page)."""
    assert face_violations() == []


def test_the_face_checker_finds_a_planted_import(copy):
    (copy / "cli" / "planted.py").write_text("def run(args):\n    from ..dataset import Dataset\n")
    assert face_violations(copy) == ["cli/planted.py:2: tunesmith.dataset"]


def test_representations_are_pure():
    """``representations/`` converts in memory: it imports neither the dataset nor file I/O (``io``), at any
    depth, and opens no file."""
    found = []
    for path in sorted((SRC / "representations").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found += [f"{path.name}:{line}: {t}" for line, t in imports_of(path) if top(t) in ("dataset", "io")]
        found += [f"{path.name}: opens files" for word in ("open(", "np.load(", "np.save(", ".write_bytes(")
                  if word in text]
    assert found == []


def test_no_import_cycles():
    assert import_cycles() == []


def test_the_cycle_checker_finds_a_cycle_hidden_in_a_function(copy):
    (copy / "evaluation" / "one.py").write_text("from .two import g\n")
    (copy / "evaluation" / "two.py").write_text("def g():\n    from .one import g as h  # hidden in a function\n")
    assert ["tunesmith.evaluation.one", "tunesmith.evaluation.two"] in import_cycles(copy)


@pytest.fixture
def copy(tmp_path):
    """A copy of the package's source to plant bad imports in."""
    shutil.copytree(SRC, tmp_path / "tunesmith", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "tunesmith"


def test_the_checker_catches_an_upward_and_a_sideways_import(copy):
    """Plant bad imports (function-local ones) in a copy of the package and see them reported."""
    (copy / "evaluation" / "planted.py").write_text(
        "def f():\n    from ..jobs import report  # up\n    from ..training import trainer  # sideways\n"
        "    from ..families.rnn import model  # up\n    from ..notes import Notes  # fine\n"
    )
    found = violations(copy)
    assert len(found) == 3
    assert any("up from floor 4 to 6" in v for v in found)
    assert any("sideways on floor 4" in v for v in found)
    assert any("up from floor 4 to 5" in v for v in found)


def test_one_family_package_never_imports_another(copy):
    planted = copy / "families" / "gan" / "planted.py"
    planted.write_text("from ..rnn.model import NoteRNN\nfrom ..base import Family\n")
    found = violations(copy)
    assert found and all("one family package imports another" in v for v in found) and len(found) == 1


def test_the_floors_are_the_ones_the_docs_state():
    """docs/architecture.md's floor table lists the same names on the same floors as :data:`FLOORS`."""
    text = DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d) \| ([^|]+) \|", text, flags=re.MULTILINE)
    documented = {int(floor): tuple(re.findall(r"`([\w_]+)`", names)) for floor, names in rows}
    assert documented == FLOORS


@pytest.mark.parametrize("kind", ["rnn", "gan", "crnngan", "transformer"])
def test_every_family_package_has_the_documented_files(kind):
    folder = SRC / "families" / kind
    documented = {"__init__.py", "config.py", "spec.py", "model.py", "task.py", "sample.py", "family.py"}
    assert documented <= {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("kind", ["rnn", "gan", "crnngan", "transformer"])
def test_a_family_declares_itself_without_torch(kind):
    """A family package's ``__init__``, ``config.py`` and ``spec.py`` import no torch and no MidiTok (the command
    line is built from them), at any depth: checked in a fresh interpreter."""
    import subprocess
    import sys

    code = (
        f"import sys, tunesmith.families.{kind} as f; assert f.SPECS; "
        "print(sorted(m for m in ('torch', 'miditok') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def family_mentions(src: Path = SRC) -> list[str]:
    """Every place outside ``families/`` that names a family: a string literal of a family's name or an import of a
    family's package. What differs between models is declared by the families (features, figures, budgets)."""
    names = "transformer|gan|rnn|crnngan|crnngan3|baseline|humanizer"
    literal = re.compile(rf"""["']({names})["']""")
    module = re.compile(rf"families\.({names})\b")
    found = []
    for p in sorted(src.rglob("*.py")):
        if "families" in p.relative_to(src).parts:
            continue
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if literal.search(line) or module.search(line):
                found.append(f"{p.relative_to(src)}:{i}: {line.strip()}")
    return found


def test_no_family_is_named_outside_the_families():
    assert family_mentions() == []


def test_the_name_checker_finds_a_planted_name(copy):
    (copy / "jobs" / "planted.py").write_text(
        'def f(kind):\n    if kind == "transformer":\n        from ..families.gan import quality\n'
    )
    assert len(family_mentions(copy)) == 2


def test_features_are_declared_and_asked_by_name():
    """Each feature some family has, asked with ``can``; a name that is no feature is an error, not False."""
    from tunesmith.families import specs
    from tunesmith.families.spec import FEATURES

    by_feature = {f: sorted(n for n, s in specs().items() if s.can(f)) for f in FEATURES}
    assert by_feature == {
        "infill": ["drummer", "transformer"], "keep_tracks": ["transformer"], "controls": ["transformer"],
        "guidance": ["transformer"], "chords": ["transformer"], "roll_statistics": ["gan"], "humanize": ["humanizer"],
        "styles": ["drummer"],
    }
    with pytest.raises(ValueError, match="no feature"):
        specs()["rnn"].can("harmonise")
    for name, s in specs().items():  # a family that can keep tracks or fill in takes a primer
        assert not (s.can("keep_tracks") or s.can("infill")) or s.takes_primer, name
        assert (s.default_guidance is not None) == s.can("guidance"), name
