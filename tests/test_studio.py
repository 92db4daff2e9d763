"""tunesmith studio: what each model is offered for, uploads checked, the command line shown run and compared byte
for byte with the page's files, the page's API under a bounded load from several clients, files it refuses to
serve, and the page driven in a real browser (headless Chromium; skipped, with the reason, where there is none)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tunesmith.cli import build_parser, main
from tunesmith.errors import ConfigError
from tunesmith.io import read_midi, write_midi
from tunesmith.jobs.studio import (
    MAX_UPLOAD_BYTES,
    NO_INPUT,
    Request,
    Studio,
    bar_count,
    check_midi,
    check_request,
    command,
    describe_model,
    examples,
    find_models,
    parse_phrase,
    phrase_text,
)
from tunesmith.jobs.train import train
from tunesmith.notes import Notes
from tunesmith.studio import exposure_warning, is_loopback

from .conftest import synthetic_dataset

TINY = {"context": "64", "max_steps": "10", "epochs": "2", "val_max_batches": "2", "batch_size": "4"}
#: Debian's Chromium (``apt-get install chromium``; .ci/run installs it)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: where the browser test also saves its screenshots (docs/studio.md's are made so), when set
SHOTS_ENV = "TUNESMITH_STUDIO_SHOTS"
#: the bounded load test: clients at once, requests each, and the most seconds it may take
CLIENTS, REQUESTS, LOAD_LIMIT_S = 4, 5, 60.0


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A folder of runs holding one tiny transformer (with attribute controls) trained on synthetic pieces."""
    root = tmp_path_factory.mktemp("studio")
    data = synthetic_dataset(root, steps=[0.5], durations=[0.5], n_pieces=10, n_notes=80)
    train("transformer", data, root / "runs" / "tiny", preset="tiny", overrides=TINY, progress=False)
    return root / "runs"


def six_bars(path: Path) -> Path:
    """Six bars of 4/4 at 120 qpm, four quarter notes each (a C major scale up and down), on the piano."""
    pitch = np.array([60, 62, 64, 65, 67, 69, 71, 72] * 3)
    start = np.arange(24) * 0.5
    write_midi(Notes.from_arrays(pitch, start, start + 0.45, velocity=80), path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fake_run(folder: Path, kind: str, model: dict | None = None) -> Path:
    """A folder that reads as a run of ``kind`` (its config; the weights only need to be there to be listed)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"kind": kind, "model": model or {}}))
    (folder / "model.safetensors").write_bytes(b"")
    return folder


# ---------------------------------------------------------------------------------------------- models
def test_each_model_is_offered_what_its_family_and_config_allow(runs, tmp_path):
    models = find_models(runs)
    tiny = models["tiny"]
    assert tiny.run == str((runs / "tiny").resolve()) and tiny.kind == "transformer"
    assert tiny.modes == ("continue", "infill", "keep", "harmonize")
    assert tiny.controls and tiny.temperature and tiny.primer and not tiny.decoding
    gan = describe_model(fake_run(tmp_path / "gan", "gan"), "gan")
    assert gan.modes == ("continue",) and gan.length_unit == "bars"
    assert gan.decoding and not gan.temperature and not gan.primer and not gan.controls
    rnn = describe_model(fake_run(tmp_path / "rnn", "rnn"), "rnn")
    assert rnn.modes == ("continue",) and rnn.temperature and rnn.primer and not rnn.decoding
    plain = describe_model(fake_run(tmp_path / "plain", "transformer", {"controls": False}), "plain")
    assert not plain.controls and plain.modes == tiny.modes
    # listed from a folder of runs at any depth, unreadable ones left out
    (tmp_path / "deep" / "a" / "b").mkdir(parents=True)
    shutil.copytree(runs / "tiny", tmp_path / "deep" / "a" / "b" / "tiny")
    fake_run(tmp_path / "deep" / "broken", "transformer").joinpath("config.json").write_text("{")
    from tunesmith.pretrained import model_names

    shipped = list(model_names())
    assert list(find_models(tmp_path / "deep")) == [*shipped, "a/b/tiny"]  # the shipped ones first


def test_requests_a_model_cannot_do_are_refused_before_any_work(runs, tmp_path):
    tiny = find_models(runs)["tiny"]
    gan = describe_model(fake_run(tmp_path / "gan", "gan"), "gan")
    piece = six_bars(tmp_path / "six.mid")
    refused = {
        "cannot regenerate bars": Request(gan, mode="infill", primer=piece, bars="1-2"),
        "takes no input piece": Request(gan, primer=piece),
        "has no temperature": Request(gan, temperature=1.5),
        "works on a piece": Request(tiny, mode="harmonize"),
        "say which bars": Request(tiny, mode="infill", primer=piece, bars=" "),
        "say which tracks": Request(tiny, mode="keep", primer=piece),
        "variations: 1 to 8": Request(tiny, n=9),
    }
    for words, req in refused.items():
        with pytest.raises(ConfigError, match=words):
            check_request(req)
    check_request(Request(gan, length=4, threshold=0.3))


def test_the_command_line_names_every_choice(runs, tmp_path):
    tiny = find_models(runs)["tiny"]
    piece = six_bars(tmp_path / "my piece.mid")
    argv = command(
        Request(
            tiny,
            primer=piece,
            mode="infill",
            bars="2-3",
            n=3,
            temperature=0.9,
            seed=7,
            controls={"key": "D minor", "pitch_range": "high"},
        )
    )
    assert argv == [
        "tunesmith",
        "generate",
        tiny.run,
        "--out",
        "ideas",
        "-n",
        "3",
        "--temperature",
        "0.9",
        "--seed",
        "7",
        "--primer",
        str(piece),
        "--infill-bars",
        "2-3",
        "--key",
        "D minor",
        "--pitch-range",
        "high",
    ]
    argv = command(Request(tiny, primer=piece, mode="harmonize", tracks="1", n=2))
    assert argv[:6] == ["tunesmith", "harmonize", str(piece), "--run", tiny.run, "--out"] and "--tracks" in argv
    gan = describe_model(fake_run(tmp_path / "gan", "gan"), "gan")
    assert command(Request(gan, length=4, sample=True))[2:] == [
        gan.run,
        "--out",
        "ideas",
        "-n",
        "2",
        "--length",
        "4",
        "--seed",
        "0",
        "--sample",
    ]
    assert build_parser().parse_args(argv[1:]).run == tiny.run  # the CLI takes it as it is


# ---------------------------------------------------------------------------------------------- uploads
def test_uploads_are_checked_and_kept_by_name_only(runs, tmp_path):
    big = tmp_path / "big.mid"
    big.write_bytes(b"MThd" + bytes(MAX_UPLOAD_BYTES))
    text = tmp_path / "notes.mid"
    text.write_text("not music")
    broken = tmp_path / "broken.mid"
    broken.write_bytes(six_bars(tmp_path / "good.mid").read_bytes()[:40])
    silent = write_midi(Notes.empty(), tmp_path / "silent.mid")
    for path, words in ((big, "up to 2.1 MB"), (text, "not a MIDI file"), (broken, "corrupt"), (silent, "no")):
        with pytest.raises(ConfigError, match=words):
            check_midi(path)
    studio = Studio(tmp_path / "work", runs)
    label, notes = studio.add_upload(tmp_path / "good.mid", "../../my song.mid")
    kept = studio.input(label)
    assert kept.parent.parent == studio.uploads and kept.name == "my_song.mid" and bar_count(notes) == 6
    assert studio.input(NO_INPUT) is None and studio.input(next(iter(examples()))).is_file()
    for name in ("/etc/passwd", str(kept), "../uploads"):
        with pytest.raises(ConfigError, match="no input called"):
            studio.input(name)


def test_the_examples_are_small_readable_chorales():
    found = examples()
    assert len(found) >= 2
    for path in found.values():
        assert path.stat().st_size < 4096 and len(read_midi(path)) > 0


# ---------------------------------------------------------------------------------------------- the command line
@pytest.mark.parametrize("mode", ["continue", "infill", "keep"])
def test_the_command_line_shown_writes_the_same_files(runs, tmp_path, monkeypatch, mode):
    """What the page writes for a request, and what its command line writes run through the CLI: byte for byte."""
    studio = Studio(tmp_path / "work", runs)
    label, _ = studio.add_upload(six_bars(tmp_path / "six.mid"))
    asks = {
        "continue": {"length": 24, "temperature": 0.8, "controls": {"density": "high", "key": "C major"}},
        "infill": {"bars": "2-3", "seed": 5},
        "keep": {"tracks": "1", "seed": 3, "temperature": 1.2},
    }[mode]
    req = Request(studio.models["tiny"], primer=studio.input(label), mode=mode, n=2, **asks)
    result = studio.run(req, audio=False)
    assert len(result.takes) == 2 and [t.seed for t in result.takes] == [req.seed, req.seed + 1]
    argv = shlex.split(result.command)
    assert argv[0] == "tunesmith"
    (tmp_path / "script").mkdir()
    monkeypatch.chdir(tmp_path / "script")
    assert main(argv[1:]) == 0
    for take in result.takes:
        assert (tmp_path / "script" / "ideas" / take.midi.name).read_bytes() == take.midi.read_bytes()
        assert take.png.is_file()
    if mode == "infill":
        assert {t.bars for t in result.takes} == {6}


# ---------------------------------------------------------------------------------------------- the page's server
@pytest.fixture(scope="module")
def server(runs, tmp_path_factory):
    pytest.importorskip("gradio", reason="the studio's extra is not installed: pip install 'tunesmith[studio]'")
    import torch

    from tunesmith.studio import start

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as `tunesmith studio` runs it (cli/studio.py: use_threads, one thread to generate)
    served = start(runs, port=free_port(), work=tmp_path_factory.mktemp("served"), concurrency=2, say=lambda s: None)
    yield served
    served.close()
    torch.set_num_threads(threads)


def client(server, folder: Path):
    from gradio_client import Client

    return Client(server.url, verbose=False, download_files=str(folder))


def ask(
    c,
    model="tiny",
    source=NO_INPUT,
    mode="continue",
    bars="",
    tracks="",
    n=1,
    length=16,
    temperature=1.0,
    seed=0,
    **controls,
):
    names = ("key", "tempo", "time_signature", "density", "polyphony", "pitch_range", "instruments", "chords")
    values = [controls.get(k, "") for k in names]
    out = list(
        c.predict(
            model, source, mode, bars, tracks, n, length, temperature, seed, *values, None, False, api_name="/generate"
        )
    )
    out[1] = out[1].get("value") if isinstance(out[1], dict) else out[1]  # the command line, shown or hidden
    return out


def test_the_page_answers_every_client_of_a_bounded_load(server, tmp_path):
    """CLIENTS clients at once, REQUESTS generations each (two run side by side, the rest queue): every request
    gets its variation, within LOAD_LIMIT_S."""
    answers: list[tuple[int, int, str, float]] = []
    errors: list[BaseException] = []

    def one_client(k: int) -> None:
        try:
            c = client(server, tmp_path / f"c{k}")
            for r in range(REQUESTS):
                t0 = time.perf_counter()
                out = ask(c, seed=100 * k + r)
                answers.append((k, r, out[0], time.perf_counter() - t0))
                assert out[0].startswith("1 variation") and Path(out[5]).is_file(), out[0]  # its MIDI file
        except BaseException as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=one_client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(LOAD_LIMIT_S)
    wall = time.perf_counter() - t0
    assert not errors, errors
    assert len(answers) == CLIENTS * REQUESTS and wall < LOAD_LIMIT_S
    latencies = sorted(a[3] for a in answers)
    print(
        f"load: {len(answers)} generations from {CLIENTS} clients in {wall:.1f} s; latency median "
        f"{latencies[len(latencies) // 2]:.2f} s, max {latencies[-1]:.2f} s"
    )


def test_the_page_reproduces_on_the_command_line_and_says_what_is_wrong(server, tmp_path, monkeypatch):
    c = client(server, tmp_path / "dl")
    out = ask(c, source="example: chorale-bwv66.6", mode="infill", bars="2-3", n=2, seed=11)
    assert out[0].startswith("2 variation"), out[0]
    (tmp_path / "script").mkdir()
    monkeypatch.chdir(tmp_path / "script")
    assert main(shlex.split(out[1])[1:]) == 0
    for midi in (out[5], out[9]):  # each variation: caption, roll, sound, MIDI
        assert (tmp_path / "script" / "ideas" / Path(midi).name).read_bytes() == Path(midi).read_bytes()
    # the chord field: a progression, and the command line that writes the same file
    out = ask(c, chords="Am | F | C | G", seed=5)
    assert out[0].startswith("1 variation") and "--chords 'Am | F | C | G'" in out[1], out[:2]
    (tmp_path / "chords").mkdir()
    monkeypatch.chdir(tmp_path / "chords")
    assert main(shlex.split(out[1])[1:]) == 0
    assert (tmp_path / "chords" / "ideas" / Path(out[5]).name).read_bytes() == Path(out[5]).read_bytes()
    wrong = {
        "no input called": ask(c, source="/etc/passwd"),
        "no model called": ask(c, model="../../etc"),
        "has 10 bars": ask(c, source="example: chorale-bwv66.6", mode="infill", bars="40-41"),
        "no main instrument besides": ask(c, source="example: melody-bwv66.6", mode="harmonize"),
        "--tempo": ask(c, tempo="fast"),
        "'H7' is not a chord symbol": ask(c, chords="C | H7"),
    }
    for words, answer in wrong.items():
        assert answer[0].startswith("**Error:**") and words in answer[0], answer[0]
        assert "Traceback" not in answer[0]


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_no_file_outside_the_served_folders_can_be_read(server, runs, tmp_path):
    out = ask(client(server, tmp_path / "dl"))
    made = next(server.studio.results.rglob("*.mid"))
    base = server.url.rstrip("/") + "/gradio_api/file="
    assert http_status(base + urllib.parse.quote(str(made))) == 200
    assert out[0].startswith("1 variation")
    upload, _ = server.studio.add_upload(six_bars(tmp_path / "six.mid"))
    for path in (
        "/etc/passwd",
        str(runs / "tiny" / "config.json"),
        str(runs / "tiny" / "model.safetensors"),
        str(server.studio.input(upload)),
        str(next(iter(examples().values()))),
        str(server.studio.results) + "/../uploads",
        str(Path(__file__)),
    ):
        assert http_status(base + urllib.parse.quote(path)) in (403, 404), path
    for raw in ("/static/../../../../etc/passwd", "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd"):
        assert http_status(server.url.rstrip("/") + raw) in (400, 403, 404), raw


def test_the_studio_listens_on_this_machine_unless_told(runs):
    args = build_parser().parse_args(["studio"])
    assert (args.host, args.port, args.runs, args.concurrency) == ("127.0.0.1", 7860, None, 1)
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.20", "example.org"))
    assert exposure_warning("127.0.0.1", 7860) is None
    assert "warning" in exposure_warning("0.0.0.0", 7860) and "docs/studio.md" in exposure_warning("0.0.0.0", 7860)


def test_a_port_in_use_is_a_message(runs, tmp_path):
    pytest.importorskip("gradio", reason="the studio's extra is not installed")
    from tunesmith.studio import start

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigError, match="choose another --port"):
            start(runs, port=taken.getsockname()[1], work=tmp_path / "w", say=lambda s: None)


# ---------------------------------------------------------------------------------------------- a real browser
def test_the_page_in_a_real_browser(server, tmp_path):
    """Load the page, pick the model, upload a MIDI file, regenerate two bars in two variations: two piano rolls
    and two players appear, the downloaded MIDI has the piece's six bars; a broken file is an error on the page,
    which goes on working; nothing is fetched from anywhere but the studio."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the dev extra)")
    if CHROMIUM is None:
        pytest.skip("no Chromium to drive (Debian: apt-get install chromium)")
    shots = os.environ.get(SHOTS_ENV)
    piece = six_bars(tmp_path / "scale.mid")
    broken = tmp_path / "broken.mid"
    broken.write_bytes(piece.read_bytes()[:30])
    elsewhere: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
            page.on(
                "request",
                lambda r: elsewhere.append(r.url) if not r.url.startswith((server.url, "data:", "blob:")) else None,
            )
            page.set_default_timeout(60_000)
            page.goto(server.url)
            page.locator("#model input").click()
            page.get_by_role("option", name="tiny").click()
            sync_api.expect(page.locator("#model-info")).to_contain_text("It can: continue, regenerate bars")
            page.locator("#upload input[type=file]").set_input_files(str(piece))
            sync_api.expect(page.locator("#input-info")).to_contain_text("in 6 bars")
            page.locator("#mode label", has_text="Regenerate bars").click()
            page.locator("#bars textarea").fill("2-3")
            page.locator("#variations input[type=number]").fill("2")
            page.locator("#generate").click()
            sync_api.expect(page.locator("#status")).to_contain_text("2 variation(s)", timeout=120_000)
            takes = page.locator(".take")
            sync_api.expect(takes.locator(".take-roll img")).to_have_count(2)
            sync_api.expect(takes.locator(".take-audio button[aria-label='Play']")).to_have_count(2)  # two players
            sync_api.expect(page.locator("#command")).to_contain_text("--infill-bars 2-3")
            if shots:
                page.screenshot(path=str(Path(shots) / "studio.png"), full_page=True)
            with page.expect_download() as got:
                takes.first.locator(".take-midi a[download$='.mid']").first.click()
            downloaded = tmp_path / "take.mid"
            got.value.save_as(downloaded)
            assert bar_count(read_midi(downloaded)) == 6

            page.locator("#upload input[type=file]").set_input_files(str(broken))
            sync_api.expect(page.locator("#input-info")).to_contain_text("Error: broken.mid: truncated or corrupt")
            if shots:
                page.locator("#input-info").scroll_into_view_if_needed()
                page.screenshot(path=str(Path(shots) / "studio-error.png"))
            assert "Traceback" not in page.content()
            page.locator("#input input").click()
            page.get_by_role("option", name="example: chorale-bwv269").click()
            page.locator("#mode label", has_text="Continue").click()
            page.locator("#generate").click()  # the page goes on working
            # the command shown changes when the generation is done (a busy machine may take longer than a second)
            sync_api.expect(page.locator("#status")).to_contain_text("2 variation(s)", timeout=120_000)
            sync_api.expect(page.locator("#command")).to_contain_text("chorale-bwv269.mid")

            # the Live tab: a phrase on the on-screen keyboard, an answer after a beat of silence, its round trip
            page.get_by_role("tab", name="Live").click()
            page.locator("#live-tempo input").fill("120")
            for pitch in (60, 62, 64, 67):
                key = page.locator(f"#key-{pitch}")
                key.dispatch_event("pointerdown")
                page.wait_for_timeout(200)
                page.dispatch_event("body", "pointerup")
                page.wait_for_timeout(100)
            sync_api.expect(page.locator("#live-phrase textarea")).to_have_value(re.compile(r"^60:0\.000-.* 67:"))
            sync_api.expect(page.locator("#live-roundtrip")).to_contain_text("answered in", timeout=120_000)
            ms = int(page.locator("#live-roundtrip").get_attribute("data-ms"))
            notes = page.locator("#live-notes textarea").input_value()
            assert ms > 0 and len(parse_phrase(notes)) > 0
            player = page.locator("#live-audio audio, #live-audio button[aria-label='Play']")
            sync_api.expect(player.first).to_be_attached()  # its sound, from the studio's engine
            page.wait_for_timeout(1500)  # the answer scrolls by on the roll
            if shots:
                page.screenshot(path=str(Path(shots) / "studio-live.png"), full_page=True)
                (Path(shots) / "studio-live-roundtrip.txt").write_text(f"{ms}\n")
            assert "Traceback" not in page.content()
        finally:
            browser.close()
    assert elsewhere == []


# ---------------------------------------------------------------------------------------------- the Live tab
def test_a_phrase_from_the_page_reads_back_exactly_and_bad_ones_are_named():
    text = "60:0.000-0.400:80 62:0.500-0.900:90, 64:1.000-1.500"
    notes = parse_phrase(text)
    assert notes.pitch.tolist() == [60, 62, 64] and notes.velocity.tolist() == [80, 90, 80]
    assert notes.start.tolist() == [0.0, 0.5, 1.0] and notes.end.tolist() == [0.4, 0.9, 1.5]
    assert parse_phrase(phrase_text(notes)).notes.tobytes() == notes.notes.tobytes()
    for bad, said in (("60:0.5", "'60:0.5' is not a note"), ("200:0-1", "pitch 0..127"), ("60:1-0.5", "end after"),
                      ("", "no notes")):  # fmt: skip
        with pytest.raises(ConfigError, match=said):
            parse_phrase(bad)


def test_the_live_tab_answers_as_the_live_engine_does(runs, tmp_path):
    studio = Studio(tmp_path, runs)
    phrase = "60:0.000-0.400 62:0.500-0.900 64:1.000-1.400 65:1.500-1.900"
    a = studio.answer("tiny", phrase, bars=2, tempo=120, seed=3)
    notes = parse_phrase(a.notes)
    assert len(notes) > 0 and notes.start.min() == 0.0
    assert notes.start.max() < 2 * 4 * 0.5  # within its two bars at 120
    assert read_midi(a.midi).pitch.tolist() == notes.sorted().pitch.tolist()
    assert a.wav is not None and a.wav.stat().st_size > 1000 and a.bpm == 120
    again = studio.answer("tiny", phrase, bars=2, tempo=120, seed=3, audio=False)
    assert again.notes == a.notes  # the same phrase and seed: the same answer
    studio.prepare("tiny", phrase, bars=2, tempo=120, seed=3)  # begun while the player waits ...
    early = studio.answer("tiny", phrase, bars=2, tempo=120, seed=3, audio=False)  # ... and taken when asked
    assert early.notes == a.notes and studio._prepared == {}
    studio.prepare("tiny", phrase, bars=9)  # a bad request begun early says nothing until it is asked for
    with pytest.raises(ConfigError, match="1 to 8 bars"):
        studio.answer("tiny", phrase, bars=9)
    with pytest.raises(ConfigError, match="1 to 8 bars"):
        studio.answer("tiny", phrase, bars=9)
    with pytest.raises(ConfigError, match="no notes"):
        studio.answer("tiny", " ")
    gan_runs = tmp_path / "gan_runs"
    fake_run(gan_runs / "g", "gan")
    with pytest.raises(ConfigError, match="cannot continue a phrase"):
        Studio(tmp_path / "w2", gan_runs).answer("g", phrase)
