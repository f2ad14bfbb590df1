"""Serving the web page: waitress or werkzeug, its own refusals as JSON, signals, and the
temporary folders of earlier runs."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("flask")

from srgan.web import server  # noqa: E402
from srgan.web.server import WebOptions, build_server, create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def stale(root: Path, name: str, owner=None, age_s: float = 0) -> Path:
    folder = root / f"srgan-web-{name}"
    folder.mkdir()
    if owner is not None:
        (folder / "server.pid").write_text(owner)
    (folder / "1-abc-result.png").write_bytes(b"x")
    os.utime(folder, (time.time() - age_s, time.time() - age_s))
    return folder


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_folders_of_servers_no_longer_running_are_removed(tmp_path):
    gone = stale(tmp_path, "dead", f"{dead_pid()} 123")
    reused = stale(tmp_path, "reused", f"{os.getpid()} 1")  # our pid, another start time
    live = stale(tmp_path, "live", server._process_id(os.getpid()))
    old = stale(tmp_path, "old", age_s=3600)  # no id: an older version, or a crash
    young = stale(tmp_path, "young")  # no id yet: a server starting right now
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "srgan-web-link").symlink_to(elsewhere)
    removed = server.remove_stale_folders(tmp_path)
    assert sorted(removed) == sorted([gone, reused, old])
    assert live.is_dir() and young.is_dir() and elsewhere.is_dir()
    assert (tmp_path / "srgan-web-link").is_symlink()


def serve_in_thread(app, options):
    """``(name, port, close, thread)``. waitress's loop, closed from another thread (here
    only: app.py stops it from its own), may wake on the closed socket: that error is the
    closing, not a failure."""
    listener = socket.create_server(("127.0.0.1", 0))
    name, run, close = build_server(app, listener, options)
    closing = threading.Event()

    def serve():
        try:
            run()
        except (OSError, ValueError):
            if not closing.is_set():
                raise

    def close_server():
        closing.set()
        close()

    close_server.server = getattr(close, "__self__", None)
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return name, listener.getsockname()[1], close_server, thread


def test_waitress_refuses_a_body_over_the_limit_from_its_length_in_json(tmp_path):
    options = WebOptions(max_upload_mb=1, threads=3, channel_timeout=7)
    app = create_app(options, tmp_path)
    name, port, close, thread = serve_in_thread(app, options)
    try:
        assert name == "waitress, 3 threads"  # the default server when it is installed
        assert close.server.adj.channel_timeout == 7
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            start = time.perf_counter()
            sock.sendall(b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                         b"multipart/form-data; boundary=x\r\nContent-Length: 1000000000\r\n\r\n")
            reply = b""
            while chunk := sock.recv(65536):  # no byte of the body was sent
                reply += chunk
            assert time.perf_counter() - start < 1.0
        reply = reply.decode()
        head, _, body = reply.partition("\r\n\r\n")
        assert head.startswith("HTTP/1.1 413") and "application/json" in head
        assert json.loads(body) == {"error": "the file is larger than the 1 MB limit"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert json.load(r)["worker"] == "alive"  # and the server goes on
    finally:
        close()
        thread.join(10)
        app.extensions["jobs"].close()
    assert not thread.is_alive()


def test_werkzeug_is_the_fallback_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(server.importlib.util, "find_spec", lambda name: None)
    options = WebOptions()
    app = create_app(options, tmp_path)
    try:
        name, port, close, thread = serve_in_thread(app, options)
        assert name == ("waitress is not installed: werkzeug's development server, a "
                        "thread per connection")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/methods", timeout=5) as r:
            assert r.status == 200
        close()
        thread.join(10)
        assert not thread.is_alive()
        with pytest.raises(SystemExit, match="waitress is not installed"):
            build_server(app, socket.socket(), WebOptions(server="waitress"))
    finally:
        app.extensions["jobs"].close()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=["SIGTERM", "SIGHUP", "SIGINT"])
def test_app_answers_at_once_and_cleans_up_on_each_signal(tmp_path, sig):
    gone = stale(tmp_path, "killed", f"{dead_pid()} 1")  # a server that got kill -9
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    start = time.monotonic()
    app = subprocess.Popen([sys.executable, "app.py", "--port", "0"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not lines or not lines[-1].startswith("serving on"):
            lines.append(app.stdout.readline())
            assert lines[-1], "".join(lines)
        url = re.search(r"http://\S+/", lines[-1]).group(0)
        with urllib.request.urlopen(url + "healthz", timeout=10) as reply:
            assert json.load(reply)["worker"] == "alive"
        assert time.monotonic() - start < 20  # no TensorFlow in the server
        assert f"removed {gone}" in "".join(lines) and not gone.exists()
        assert len(list(tmp_path.glob("srgan-web-*"))) == 1
        app.send_signal(sig)
        assert app.wait(30) == 0
    finally:
        app.kill()
        app.wait()
    assert not list(tmp_path.glob("srgan-web-*"))
