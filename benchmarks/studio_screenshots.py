"""The screenshots of docs/studio.md: the studio on 127.0.0.1 driven by headless Chromium (Debian's ``chromium``
through Playwright, no browser download), with a run of your own.

    .venv/bin/python benchmarks/studio_screenshots.py --runs runs --model chorales --out docs

writes ``studio.png`` (a chorale excerpt uploaded, bars 3-4 regenerated in two variations) and ``studio-error.png``
(a broken upload answered on the page), each reduced to a palette of 128 colours to stay small.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect, sync_playwright

from tunesmith.jobs.studio import examples
from tunesmith.studio import start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def small(path: Path, width: int = 1100) -> None:
    """Scale to ``width`` pixels and keep 128 colours (a page is flat colour; it stays readable)."""
    img = Image.open(path).convert("RGB")
    img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
    img.quantize(128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", required=True, help="a folder of runs")
    ap.add_argument("--model", required=True, help="the model to pick, as the page lists it")
    ap.add_argument("--out", default="docs", help="folder for the PNG files")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()
    out = Path(args.out)
    work = Path(tempfile.mkdtemp(prefix="studio-shots-"))
    served = start(args.runs, port=free_port(), work=work / "studio")
    chorale = work / "chorale-bwv66.6.mid"  # uploaded, as a person would
    shutil.copyfile(examples()["example: chorale-bwv66.6"], chorale)
    broken = work / "broken.mid"
    broken.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x10\x00")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(served.url)
            page.locator("#model input").click()
            page.get_by_role("option", name=args.model).click()
            page.locator("#upload input[type=file]").set_input_files(str(chorale))
            expect(page.locator("#input-info")).to_contain_text("bars")
            page.locator("#mode label", has_text="Regenerate bars").click()
            page.locator("#bars textarea").fill("3-4")
            page.locator("#seed input").fill("3")
            page.locator("#generate").click()
            expect(page.locator("#status")).to_contain_text("variation(s)")
            page.screenshot(path=str(out / "studio.png"), full_page=True)
            page.locator("#upload input[type=file]").set_input_files(str(broken))
            expect(page.locator("#input-info")).to_contain_text("Error")
            page.locator("#model-info").scroll_into_view_if_needed()
            page.screenshot(path=str(out / "studio-error.png"))
            browser.close()
    finally:
        served.close()
        shutil.rmtree(work, ignore_errors=True)
    for name in ("studio.png", "studio-error.png"):
        small(out / name)
        print(out / name, (out / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
