"""Tests of tunesmith.corpora.download against a local HTTP server on 127.0.0.1 (no real network)."""

from __future__ import annotations

import hashlib
import io
import re
import socket
import struct
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tunesmith.corpora.download import MAESTRO_SHA256, MAESTRO_URL, download, fetch_maestro
from tunesmith.errors import DownloadError

CSV_HEADER = "canonical_composer,canonical_title,split,year,midi_filename,audio_filename,duration"


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.files`` with Range support; records what it was asked; can fail or cut on demand."""

    server: _Server

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        srv = self.server
        with srv.lock:
            srv.requests.append(self.path)
            srv.ranges.append(self.headers.get("Range"))
        if self.path in srv.fail:
            self.send_error(srv.fail[self.path])
            return
        data = srv.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and not srv.ignore_range:
            start = int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = srv.cut_after.pop(self.path, None)
        if cut is not None:  # send `cut` bytes, then drop the connection (once)
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.files: dict[str, bytes] = {}
        self.fail: dict[str, int] = {}
        self.cut_after: dict[str, int] = {}
        self.ignore_range = False
        self.requests: list[str] = []
        self.ranges: list[str | None] = []

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{path}"


@pytest.fixture
def server():
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _payload(n: int = 300_000) -> bytes:
    # Not all the same byte, so a wrong offset would show up as different content.
    return bytes((i * 7 + i // 251) % 256 for i in range(n))


def _midi(pitch: int) -> bytes:
    """A tiny valid format-0 Standard MIDI File: one quarter note at ``pitch``."""
    events = (
        b"\x00\xff\x51\x03\x07\xa1\x20"  # tempo 500000 us per beat
        + bytes([0x00, 0x90, pitch, 0x40])  # note on
        + bytes([0x83, 0x60, 0x80, pitch, 0x40])  # delta 480, note off
        + b"\x00\xff\x2f\x00"  # end of track
    )
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(events)) + events


def _maestro_zip(
    top: str | None = "maestro-v3.0.0", extra: dict[str, bytes] | None = None, compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    prefix = f"{top}/" if top else ""
    rows = [
        CSV_HEADER,
        "Frédéric Chopin,Nocturne,train,2004,2004/piece-one.midi,2004/piece-one.wav,1.5",
        'Johann Sebastian Bach,"Prelude, BWV 846",test,2006,2006/piece-two.midi,2006/piece-two.wav,2.25',
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        if top:
            zf.writestr(prefix, b"")  # a directory entry, as real archives have
        zf.writestr(f"{prefix}maestro-v3.0.0.csv", "\n".join(rows) + "\n")
        zf.writestr(f"{prefix}maestro-v3.0.0.json", "{}")
        zf.writestr(f"{prefix}2004/piece-one.midi", _midi(60))
        zf.writestr(f"{prefix}2006/piece-two.midi", _midi(67))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_constants_point_at_the_official_archive():
    assert MAESTRO_URL.endswith("/maestro/v3.0.0/maestro-v3.0.0-midi.zip")
    assert MAESTRO_SHA256 is not None and re.fullmatch(r"[0-9a-f]{64}", MAESTRO_SHA256)


# 1. a full download verifies and returns
def test_full_download(server, tmp_path):
    data = _payload()
    server.files["/a.bin"] = data
    dest = tmp_path / "sub" / "a.bin"
    out = download(server.url("/a.bin"), dest, sha256=_sha(data), size=len(data), progress=False)
    assert out == dest
    assert dest.read_bytes() == data
    assert _sha(dest.read_bytes()) == _sha(data)
    assert not (tmp_path / "sub" / "a.bin.part").exists()
    assert server.ranges == [None]


def test_existing_dest_that_verifies_is_not_downloaded_again(server, tmp_path):
    data = _payload(1000)
    dest = tmp_path / "a.bin"
    dest.write_bytes(data)
    assert download(server.url("/a.bin"), dest, sha256=_sha(data), progress=False) == dest
    assert server.requests == []


def test_existing_dest_that_does_not_verify_is_replaced(server, tmp_path):
    data = _payload(1000)
    server.files["/a.bin"] = data
    dest = tmp_path / "a.bin"
    dest.write_bytes(b"stale")
    download(server.url("/a.bin"), dest, sha256=_sha(data), progress=False)
    assert dest.read_bytes() == data


# 2. resume from a .part with a Range request
def test_resume_sends_range_and_appends(server, tmp_path):
    data = _payload()
    half = len(data) // 2
    server.files["/a.bin"] = data
    dest = tmp_path / "a.bin"
    (tmp_path / "a.bin.part").write_bytes(data[:half])
    download(server.url("/a.bin"), dest, sha256=_sha(data), size=len(data), progress=False)
    assert server.ranges == [f"bytes={half}-"]
    assert dest.read_bytes() == data
    assert not (tmp_path / "a.bin.part").exists()


def test_resume_starts_over_when_server_ignores_range(server, tmp_path):
    data = _payload(50_000)
    server.files["/a.bin"] = data
    server.ignore_range = True
    dest = tmp_path / "a.bin"
    (tmp_path / "a.bin.part").write_bytes(b"x" * 1000)  # not even a real prefix: must be thrown away
    download(server.url("/a.bin"), dest, sha256=_sha(data), progress=False)
    assert server.ranges == ["bytes=1000-"]
    assert dest.read_bytes() == data


def test_complete_part_answered_416_is_verified_and_kept(server, tmp_path):
    data = _payload(50_000)
    server.files["/a.bin"] = data
    dest = tmp_path / "a.bin"
    (tmp_path / "a.bin.part").write_bytes(data)
    download(server.url("/a.bin"), dest, sha256=_sha(data), progress=False)
    assert server.ranges == [f"bytes={len(data)}-"]
    assert dest.read_bytes() == data


# 3. connection cut midway: error, .part kept, second call resumes
def test_cut_connection_keeps_part_and_resumes(server, tmp_path):
    data = _payload()
    cut = 100_000
    server.files["/a.bin"] = data
    server.cut_after["/a.bin"] = cut
    dest = tmp_path / "a.bin"
    part = tmp_path / "a.bin.part"
    with pytest.raises(DownloadError) as info:
        download(server.url("/a.bin"), dest, sha256=_sha(data), size=len(data), timeout=5, progress=False)
    assert server.url("/a.bin") in str(info.value)
    assert "resumes" in str(info.value)
    assert not dest.exists()
    assert part.read_bytes() == data[:cut]

    download(server.url("/a.bin"), dest, sha256=_sha(data), size=len(data), timeout=5, progress=False)
    assert server.ranges == [None, f"bytes={cut}-"]
    assert dest.read_bytes() == data
    assert not part.exists()


# 4. checksum mismatch: error naming both checksums, nothing left behind
def test_checksum_mismatch(server, tmp_path):
    data = _payload(20_000)
    server.files["/a.bin"] = data
    dest = tmp_path / "a.bin"
    wrong = "0" * 64
    with pytest.raises(DownloadError) as info:
        download(server.url("/a.bin"), dest, sha256=wrong, progress=False)
    message = str(info.value)
    assert "checksum" in message.lower()
    assert wrong in message and _sha(data) in message
    assert server.url("/a.bin") in message
    assert "again" in message
    assert not dest.exists()
    assert not (tmp_path / "a.bin.part").exists()


def test_size_mismatch(server, tmp_path):
    data = _payload(20_000)
    server.files["/a.bin"] = data
    with pytest.raises(DownloadError, match="size"):
        download(server.url("/a.bin"), tmp_path / "a.bin", size=len(data) + 1, progress=False)
    assert not (tmp_path / "a.bin").exists()
    assert not (tmp_path / "a.bin.part").exists()


# 5. no network, HTTP error status
def test_connection_refused(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/maestro.zip"
    dest = tmp_path / "maestro.zip"
    (tmp_path / "maestro.zip.part").write_bytes(b"partial")
    with pytest.raises(DownloadError) as info:
        download(url, dest, timeout=2, progress=False)
    message = str(info.value)
    assert url in message
    assert "no network" in message
    assert "tunesmith prepare" in message
    assert (tmp_path / "maestro.zip.part").read_bytes() == b"partial"  # kept for a later resume


def test_http_404(server, tmp_path):
    with pytest.raises(DownloadError) as info:
        download(server.url("/missing.zip"), tmp_path / "m.zip", progress=False)
    assert "404" in str(info.value)
    assert server.url("/missing.zip") in str(info.value)
    assert not (tmp_path / "m.zip").exists()


def test_http_500(server, tmp_path):
    server.files["/a.bin"] = b"abc"
    server.fail["/a.bin"] = 503
    with pytest.raises(DownloadError, match="503"):
        download(server.url("/a.bin"), tmp_path / "a.bin", progress=False)


# 6. fetch_maestro
def test_fetch_maestro_extracts_and_caches(server, tmp_path):
    archive = _maestro_zip()
    server.files["/maestro-v3.0.0-midi.zip"] = archive
    url = server.url("/maestro-v3.0.0-midi.zip")
    root = fetch_maestro(tmp_path, url=url, sha256=_sha(archive), size=len(archive), progress=False)
    assert root == tmp_path / "maestro-v3.0.0"
    csv = root / "maestro-v3.0.0.csv"
    assert csv.read_text(encoding="utf-8").splitlines()[0] == CSV_HEADER
    assert (root / "maestro-v3.0.0.json").is_file()
    assert (root / "2004" / "piece-one.midi").read_bytes() == _midi(60)
    assert (root / "2006" / "piece-two.midi").read_bytes() == _midi(67)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".part"))] == []
    assert len(server.requests) == 1

    again = fetch_maestro(tmp_path, url=url, sha256=_sha(archive), size=len(archive), progress=False)
    assert again == root
    assert len(server.requests) == 1  # no second request


def test_fetch_maestro_csv_at_zip_root(server, tmp_path):
    archive = _maestro_zip(top=None)
    server.files["/m.zip"] = archive
    root = fetch_maestro(tmp_path, url=server.url("/m.zip"), sha256=_sha(archive), progress=False)
    assert (root / "maestro-v3.0.0.csv").is_file()
    assert (root / "2004" / "piece-one.midi").read_bytes() == _midi(60)


@pytest.mark.parametrize("evil", ["../evil.txt", "maestro-v3.0.0/../../evil.txt", "/tmp/evil.txt"])
def test_fetch_maestro_refuses_escaping_members(server, tmp_path, evil):
    archive = _maestro_zip(extra={evil: b"gotcha"})
    server.files["/m.zip"] = archive
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="refusing"):
        fetch_maestro(cache, url=server.url("/m.zip"), sha256=_sha(archive), progress=False)
    assert not (tmp_path / "evil.txt").exists()
    assert not (cache / "maestro-v3.0.0").exists()
    assert not any(p.name.endswith(".tmp") for p in cache.iterdir())


def test_fetch_maestro_corrupt_zip(server, tmp_path):
    server.files["/m.zip"] = b"PK\x03\x04 this is not really a zip archive"
    with pytest.raises(DownloadError, match="damaged"):
        fetch_maestro(tmp_path, url=server.url("/m.zip"), sha256=None, progress=False)
    assert not (tmp_path / "maestro-v3.0.0").exists()
    assert not (tmp_path / "m.zip").exists()


def test_fetch_maestro_crc_error(server, tmp_path):
    archive = bytearray(_maestro_zip(compression=zipfile.ZIP_STORED))
    # Flip a byte inside the csv's stored data: the archive still opens but the member's CRC fails.
    offset = archive.index(b"maestro-v3.0.0/maestro-v3.0.0.csv") + len("maestro-v3.0.0/maestro-v3.0.0.csv") + 5
    archive[offset] ^= 0xFF
    server.files["/m.zip"] = bytes(archive)
    with pytest.raises(DownloadError, match="CRC"):
        fetch_maestro(tmp_path, url=server.url("/m.zip"), sha256=None, progress=False)
    assert not (tmp_path / "maestro-v3.0.0").exists()
    assert not (tmp_path / "m.zip").exists()  # a damaged archive is deleted so the next run fetches it again


def test_fetch_maestro_not_maestro(server, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    server.files["/m.zip"] = buf.getvalue()
    with pytest.raises(DownloadError, match="maestro"):
        fetch_maestro(tmp_path, url=server.url("/m.zip"), sha256=None, progress=False)


def test_fetch_maestro_network_failure_names_url(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/maestro-v3.0.0-midi.zip"
    with pytest.raises(DownloadError, match=re.escape(url)):
        fetch_maestro(tmp_path, url=url, progress=False)
