"""The local web page behind ``python app.py``: upload, pick a method and scale, compare.

Flask, because the page needs a handful of routes, a file upload and JSON polling: it is
one small pure-Python dependency with no front-end toolchain and nothing fetched at run
time, whereas Gradio brings a large web stack and loads fonts and scripts from the
internet by default. The page (``static/``) uses no CDN: every file it loads is served
from this package's ``static`` folder, and results only from the server's temporary
folder, by job id.

How it holds up with several users (docs/reliability.md has the load test):

- **Server.** waitress by default (pure Python, a fixed pool of request threads; it reads
  requests asynchronously, so slow or idle connections hold no thread, and it refuses a
  body over the upload limit from its length, before reading it). werkzeug's development
  server is the fallback, and says so.
- **One process.** The job queue lives in this process's memory: serve the page from one
  process (waitress's threads, not several worker processes).
- **Isolation.** Jobs run in a worker process (:mod:`srgan.web.worker`); this process
  never imports TensorFlow, so the page and ``/healthz`` answer within a second of
  start-up.
- **Limits** (:mod:`srgan.web.jobs`, :mod:`srgan.web.uploads`, :mod:`srgan.web.guards`).
- **Files.** Uploads and results live in a temporary ``srgan-web-*`` folder holding the
  server's process id; it is removed on Ctrl-C, SIGTERM and SIGHUP, and a server starting
  up removes the folders of servers that are no longer running (killed with -9).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import shutil
import signal
import socket
import stat
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

from srgan import files
from srgan.web.options import METHODS, WebOptions  # noqa: F401 (the web page's options)
from srgan.web.routes import create_app

logger = logging.getLogger(__name__)

FOLDER_PREFIX = "srgan-web-"
PID_FILE = "server.pid"
WILDCARDS = ("0.0.0.0", "::", "")


def _process_id(pid: int) -> str:
    """``"<pid> <start time>"`` (Linux; a reused pid gets another start time), else the pid."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return f"{pid} {fh.read().rpartition(')')[2].split()[19]}"
    except (OSError, IndexError):
        return str(pid)


def remove_stale_folders(root: Optional[Path] = None, min_age_s: float = 60) -> list[Path]:
    """Remove this user's ``srgan-web-*`` folders in ``root`` (default: the temporary
    folder) whose server is no longer running; returns them. A folder without a readable
    process id is removed once it is ``min_age_s`` old (a server just starting has not
    written it yet)."""
    removed = []
    for path in Path(root or tempfile.gettempdir()).glob(FOLDER_PREFIX + "*"):
        try:
            info = path.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            continue
        try:
            owner = (path / PID_FILE).read_text().strip()
            if _process_id(int(owner.split()[0])) == owner:
                continue
        except (OSError, ValueError, IndexError):
            if time.time() - info.st_mtime < min_age_s:
                continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


@contextlib.contextmanager
def _results_folder():
    """A new ``srgan-web-*`` temporary folder with this process's id in it, removed after."""
    with tempfile.TemporaryDirectory(prefix=FOLDER_PREFIX, ignore_cleanup_errors=True) as f:
        files.atomic_write_bytes(Path(f) / PID_FILE, _process_id(os.getpid()).encode())
        yield Path(f)


@contextlib.contextmanager
def _stop_on_signals():
    """SIGINT (Ctrl-C), SIGTERM and SIGHUP raise KeyboardInterrupt once, then are ignored
    so that the clean-up runs to its end; the old handlers come back after."""
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def stop(signum, frame):
        for sig in signals:
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt

    old = {sig: signal.signal(sig, stop) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _waitress(app, listener: socket.socket, options: WebOptions):
    """A waitress server on ``listener`` whose own refusals (a body over the upload limit,
    refused from its length; a malformed request) are JSON like the app's."""
    from waitress.channel import HTTPChannel
    from waitress.server import create_server
    from waitress.task import ErrorTask

    class JSONErrorTask(ErrorTask):
        def execute(self):
            error = self.request.error
            message = (f"the file is larger than the {options.max_upload_mb:g} MB limit"
                       if error.code == 413 else f"{error.reason}: {error.body}")
            body = json.dumps({"error": message}).encode()
            self.status = f"{error.code} {error.reason}"
            self.response_headers.extend([("Content-Type", "application/json"),
                                          ("X-Content-Type-Options", "nosniff")])
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class JSONErrorChannel(HTTPChannel):
        error_task_class = JSONErrorTask

    server = create_server(app, sockets=[listener], threads=options.threads,
                           channel_timeout=options.channel_timeout, ident="srgan-web",
                           max_request_body_size=app.config["MAX_CONTENT_LENGTH"] + 1)
    server.channel_class = JSONErrorChannel
    return server


def build_server(app, listener: socket.socket,
                 options: WebOptions) -> tuple[str, Callable[[], None], Callable[[], None]]:
    """``(description, run, close)`` of the server ``options.server`` picks, on
    ``listener``: ``run()`` serves until KeyboardInterrupt (or ``close()``)."""
    choice = options.server
    if choice == "auto":
        choice = "waitress" if importlib.util.find_spec("waitress") else "werkzeug"
    elif choice == "waitress" and not importlib.util.find_spec("waitress"):
        raise SystemExit("error: --server waitress: waitress is not installed (pip install "
                         "waitress)")
    if choice == "waitress":
        server = _waitress(app, listener, options)
        return f"waitress, {options.threads} threads", server.run, server.close
    from werkzeug.serving import make_server

    server = make_server(options.host, options.port, app, threaded=True,
                         fd=listener.fileno())
    note = "" if options.server == "werkzeug" else "waitress is not installed: "

    def close() -> None:
        server.shutdown()  # returns at once when serve_forever has already stopped
        server.server_close()

    return f"{note}werkzeug's development server, a thread per connection", \
        server.serve_forever, close


def serve(options: WebOptions) -> None:
    """Serve the page until Ctrl-C, SIGTERM or SIGHUP; the temporary folder and the
    worker process are removed on the way out.

    Raises:
        OSError, OverflowError: the address cannot be listened on (werkzeug would print
            and exit instead, so the socket is opened here).
    """
    for path in remove_stale_folders():
        logger.info(f"removed {path}, left by a server that is no longer running")
    family = socket.getaddrinfo(options.host, options.port)[0][0]
    listener = socket.create_server((options.host, options.port), family=family)
    with listener, _results_folder() as folder:
        app = create_app(options, folder)
        try:
            with _stop_on_signals():
                name, run, close = build_server(app, listener, options)
                try:
                    port = listener.getsockname()[1]
                    logger.info(f"serving on http://{options.host}:{port}/ with {name}, in "
                                f"one process (its job queue lives there); Ctrl-C to stop")
                    if options.host in WILDCARDS and not options.allowed_hosts:
                        logger.info("note: the page answers only to localhost until "
                                    "--allowed-hosts names this machine as others reach it")
                    run()
                finally:
                    close()
        except KeyboardInterrupt:
            pass
        finally:
            app.extensions["jobs"].close()
