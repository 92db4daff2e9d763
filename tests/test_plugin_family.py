"""A model is one folder and one registry line: a toy family, written into a temporary folder and registered
through ``TUNESMITH_FAMILIES``, with one option of its own (``wobble``). The option appears in ``tunesmith generate
--help``, in the studio's description of the model and the command it shows, and reaches the family's
``generate`` through the job: no face or job names it."""

from __future__ import annotations

import json
import textwrap

import pytest

from tunesmith.cli import main
from tunesmith.families import PLUGINS_ENV, specs
from tunesmith.io import read_midi

TOY = {
    "__init__.py": "from .spec import SPECS\n",
    "spec.py": '''
        from dataclasses import dataclass

        from tunesmith.config import ConfigBase
        from tunesmith.families.spec import FamilySpec, GenerateOptions, option


        @dataclass
        class ToyConfig(ConfigBase):
            config_name = "toy"
            base: int = 60


        @dataclass(frozen=True)
        class ToyOptions(GenerateOptions):
            wobble: int | None = option(None, "semitones each note moves up from the model's base pitch")


        class ToySpec(FamilySpec):
            name = "toy"
            summary = "a toy family: a rising line"
            config_cls = ToyConfig
            presets = {"default": {}}
            train_presets = {"default": {"epochs": 1}}
            options_cls = ToyOptions
            takes_primer = False
            takes_temperature = False


        SPECS = [ToySpec()]
    ''',
    "family.py": '''
        import torch

        from tunesmith.errors import ConfigError
        from tunesmith.families.base import Family
        from tunesmith.notes import Notes

        from .spec import ToySpec


        class ToyFamily(ToySpec, Family):
            def build_model(self, cfg):
                model = torch.nn.Linear(1, 1)
                model.cfg = cfg
                return model

            def build_task(self, model, cfg, train_cfg, ds, device, start=None):
                raise ConfigError("the toy does not train")

            def generate(self, model, run, opts, device):
                pitch = [model.cfg.base + (opts.wobble or 0) + k for k in range(opts.length)]
                start = [0.5 * k for k in range(opts.length)]
                return [Notes.from_arrays(pitch, start, [s + 0.5 for s in start]) for _ in range(opts.n)]


        FAMILIES = [ToyFamily()]
    ''',
}


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """The toy package in a temporary folder, registered; a run of it (its config and weights)."""
    import torch

    from tunesmith.training.checkpoint import save_weights

    package = tmp_path / "plugins" / "toyfamily"
    package.mkdir(parents=True)
    for name, text in TOY.items():
        (package / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))
    monkeypatch.setenv(PLUGINS_ENV, "toyfamily")
    run = tmp_path / "toyrun"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"kind": "toy", "model": {"base": 60}, "train": {}}))
    save_weights(torch.nn.Linear(1, 1), run / "model.safetensors")
    return run


def test_a_toy_family_is_one_folder_and_one_line(toy, tmp_path, capsys):
    assert "toy" in specs()
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--wobble WOBBLE toy: semitones each note moves up from the model's base pitch" in help_text
    argv = ["generate", str(toy), "--out", str(tmp_path / "out"), "-n", "1", "--length", "3", "--wobble", "5"]
    assert main(argv) == 0
    written = sorted((tmp_path / "out").glob("*.mid"))
    assert len(written) == 1 and read_midi(written[0]).pitch.tolist() == [65, 66, 67]  # the option reached it
    capsys.readouterr()
    assert main(["generate", str(toy), "--out", str(tmp_path / "o2"), "--threshold", "0.5"]) == 1
    assert "toy runs take no option threshold" in capsys.readouterr().err  # another family's option is refused


def test_the_studio_offers_the_toy_option(toy, tmp_path):
    from tunesmith.jobs.studio import Request, command, describe_model, run_job

    m = describe_model(toy, "toy run")
    assert "wobble" in m.options
    req = Request(model=m, n=1, length=2, options={"wobble": 2})
    assert command(req)[-2:] == ["--wobble", "2"]
    (path,) = run_job(req, tmp_path / "studio")
    assert read_midi(path).pitch.tolist() == [62, 63]


def test_the_studio_page_shows_the_toy_option(toy, tmp_path):
    """The page itself (Gradio) has a widget for the toy's option, labelled with its flag and help, built from the
    declaration alone."""
    pytest.importorskip("gradio")
    from tunesmith.jobs.studio import Studio
    from tunesmith.studio.page import build

    page = build(Studio(tmp_path / "work", runs=toy.parent))
    labels = [getattr(block, "label", None) or "" for block in page.blocks.values()]
    assert "--wobble: semitones each note moves up from the model's base pitch" in labels
