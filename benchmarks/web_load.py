"""Load and fault test of the web page: ``python app.py`` on 127.0.0.1, under load, killed.

    python -m benchmarks.web_load [--seconds 120] [--clients 20] [--slow 50] [--flat 200]
                                  [--json figures.json]

Starts ``app.py --port 0`` with a private ``TMPDIR``, measures it idle, warms it up (a
bicubic job and an SRGAN job, each twice: the worker process cold, then warm), then for
``--seconds``:

- ``--clients`` clients, each from its own loopback address (the page limits jobs per
  address), upload a 256x256 image (SRGAN x4 one time in four, else bicubic x4), poll it
  twice a second, fetch its result, and go again; a 429 waits its Retry-After (at most 5 s);
- ``--slow`` connections send a request one byte every half second, and never finish it;
- ``--flat`` uploads of a 20 kB flat 2000x2000 RGBA PNG at bicubic x8 (256 MP), and a
  ZSSR x8 and x4 of a 2000x2000 image (over ZSSR's limit): refused, 413 (the first 10
  and the ZSSR pair before the load, on an empty queue, then again under load, where the
  full queue may answer 429 first);
- the same PNG at bicubic x4 (64 MP, the largest result allowed): it must finish;
- a ZSSR job whose worker process is SIGKILLed mid-run: the job must fail with a message
  and the next job (bicubic) must succeed;
- ``GET /api/methods`` every 0.2 s, timed, and every 0.25 s the server's threads, the
  resident memory of it and its child processes, and the bytes of its temporary folder.

Then SIGTERM. It passes (exit 0) when: the server never died; peak RSS <= idle + 4 GiB;
the folder stayed <= 2 GB; the p95 of ``GET /api/methods`` stayed under 200 ms in every
15 s window; every refused upload got 429 or 413, each within ``--quick`` seconds (the
costly ones 413 on the empty queue), the 64 MP job finished; the
killed job failed and the next one succeeded; fewer than 100 threads; nothing left in
``TMPDIR`` and no child process after SIGTERM. Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
GIB = 2**30


@dataclass(frozen=True)
class Plan:
    """What the test does; the defaults are the full test."""

    seconds: float = 120.0
    clients: int = 20
    slow: int = 50
    flat: int = 200
    warmup: bool = True
    big: bool = True  # the 64 MP job
    kill_mid_step: bool = True  # kill once ZSSR steps run (else as soon as it runs)
    quick_s: float = 1.0


@dataclass
class Record:
    """What happened, appended to from several threads (list.append is atomic)."""

    uploads: list = field(default_factory=list)  # (who, status, seconds)
    polls: list = field(default_factory=list)  # seconds
    probe: list = field(default_factory=list)  # (t, seconds, status)
    samples: list = field(default_factory=list)  # (t, rss bytes, threads, folder bytes)
    jobs: list = field(default_factory=list)  # (method, state, seconds from upload)
    notes: dict = field(default_factory=dict)


def png(image: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


def smooth(rng, side: int) -> np.ndarray:
    """A smooth random colour field, closer to a photo than white noise."""
    small = Image.fromarray(rng.integers(0, 256, (side // 8, side // 8, 3), np.uint8))
    return np.asarray(small.resize((side, side), Image.BICUBIC))


def request(port: int, method: str, path: str, source: str, body: bytes = b"",
            headers: dict | None = None, timeout: float = 60) -> tuple[int, dict, bytes, float]:
    """One HTTP request from loopback address ``source``: (status, headers, body, s);
    status 0 when the connection failed."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        reply = conn.getresponse()
        data = reply.read()
        return reply.status, dict(reply.getheaders()), data, time.perf_counter() - start
    except OSError:
        return 0, {}, b"", time.perf_counter() - start
    finally:
        conn.close()


def upload(port: int, source: str, image: bytes, method: str, scale: int, name="face.png"):
    """POST one job as the page does (multipart form)."""
    boundary = "----load" + os.urandom(8).hex()
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             .encode() for k, v in (("method", method), ("scale", scale))]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
                 f'filename="{name}"\r\nContent-Type: image/png\r\n\r\n'.encode() + image +
                 f"\r\n--{boundary}--\r\n".encode())
    return request(port, "POST", "/api/jobs", source, b"".join(parts),
                   {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def follow(port: int, source: str, job_id: str, until: float, record: Record) -> dict:
    """Poll a job twice a second until it ends or ``until`` passes (then cancel it)."""
    while time.monotonic() < until:
        status, _, body, seconds = request(port, "GET", f"/api/jobs/{job_id}", source)
        record.polls.append(seconds)
        job = json.loads(body) if status == 200 else {"state": f"http {status}"}
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.5)
    request(port, "DELETE", f"/api/jobs/{job_id}", source)
    return {"state": "given up"}


def run_job(port, source, image, method, scale, until, record, who) -> dict:
    """Upload (retrying 429s) and follow one job; returns its last status."""
    while time.monotonic() < until:
        status, headers, body, seconds = upload(port, source, image, method, scale)
        record.uploads.append((who, status, seconds))
        if status == 202:
            start = time.monotonic()
            job = follow(port, source, json.loads(body)["id"], until, record)
            record.jobs.append((method, job["state"], time.monotonic() - start + seconds))
            if job["state"] == "done":
                got = request(port, "GET", f"/api/jobs/{job['id']}/result.png", source)
                job["result_bytes"] = len(got[2])
            return job
        if status != 429:
            return {"state": f"http {status}", "error": body.decode(errors="replace")}
        time.sleep(min(int(headers.get("Retry-After", 1)), 5))
    return {"state": "no place in time"}


def descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (Linux)."""
    found, stack = [], [pid]
    while stack:
        for task in Path(f"/proc/{stack.pop()}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            found += kids
            stack += kids
    return found


def rss(pid: int) -> int:
    """Resident bytes of ``pid``; 0 once it has ended (a zombie has no VmRSS)."""
    try:
        found = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0
    return int(found.group(1)) * 1024 if found else 0


def folder_bytes(tmp: Path) -> int:
    return sum(f.stat().st_size for d in tmp.glob("srgan-web-*") for f in d.rglob("*")
               if f.is_file())


def monitor(server: subprocess.Popen, tmp: Path, stop: threading.Event, record: Record):
    t0, children = time.monotonic(), set()
    while not stop.wait(0.25):
        kids = descendants(server.pid)
        children.update(kids)
        threads = int(re.search(r"Threads:\s+(\d+)", Path(f"/proc/{server.pid}/status")
                                .read_text()).group(1)) if server.poll() is None else 0
        record.samples.append((time.monotonic() - t0, rss(server.pid) + sum(map(rss, kids)),
                               threads, folder_bytes(tmp)))
    record.notes["children_seen"] = sorted(children)


def probe(port: int, stop: threading.Event, record: Record):
    t0 = time.monotonic()
    while not stop.wait(0.2):
        status, _, _, seconds = request(port, "GET", "/api/methods", "127.0.0.201", timeout=10)
        record.probe.append((time.monotonic() - t0, seconds, status))


def slow_connections(port: int, count: int, until: float, record: Record):
    """``count`` connections, each sending a never-ending request a byte at a time."""
    import socket

    text = f"GET /api/methods HTTP/1.1\r\nHost: {HOST}\r\nX-Slow: " + "a" * 4000
    socks, sent, reconnects = [None] * count, 0, 0
    while time.monotonic() < until:
        for i in range(count):
            try:
                if socks[i] is None:
                    socks[i] = socket.create_connection((HOST, port), timeout=5,
                                                        source_address=(f"127.0.1.{i + 1}", 0))
                socks[i].send(text[sent % len(text)].encode())
            except OSError:
                socks[i], reconnects = None, reconnects + 1
        sent += 1
        time.sleep(0.5)
    for s in socks:
        if s is not None:
            s.close()
    record.notes["slow"] = {"connections": count, "bytes_each": sent, "reconnects": reconnects}


FLAT = png(np.full((2000, 2000, 4), 90, np.uint8))  # about 20 kB, 16 MB decoded


def costly_uploads(port: int, flat: int, record: Record, who: str):
    """``flat`` x8 uploads of :data:`FLAT` (256 MP), from 4 addresses, then ZSSR x8 and
    x4 of a 2000x2000 image (256 MP; 64 MP, over ZSSR's own limit)."""

    def sender(k):
        for _ in range(flat // 4 + (k < flat % 4)):
            status, _, _, seconds = upload(port, f"127.0.0.{100 + k}", FLAT, "bicubic", 8)
            record.uploads.append((f"{who}: flat x8", status, seconds))
            time.sleep(0.1)

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    big = png(smooth(np.random.default_rng(1), 2000), format="JPEG", quality=90)
    for scale in (8, 4):
        status, _, body, seconds = upload(port, "127.0.0.104", big, "zssr", scale, "big.jpg")
        record.uploads.append((f"{who}: zssr x{scale} 2000x2000", status, seconds))
        record.notes.setdefault("zssr_2000", []).append(
            {"scale": scale, "status": status, "seconds": round(seconds, 3),
             "error": json.loads(body).get("error")})


def biggest_job(port: int, until: float, record: Record):
    """Bicubic x4 of :data:`FLAT`: a 64 MP result, the largest allowed."""
    start = time.monotonic()
    job = run_job(port, "127.0.0.105", FLAT, "bicubic", 4, until, record, "flat x4")
    record.notes["flat_x4_64MP"] = {"state": job["state"], "size": job.get("size"),
                                    "seconds": round(time.monotonic() - start, 1)}


def kill_scenario(port: int, until: float, mid_step: bool, record: Record):
    """SIGKILL the worker during a ZSSR job; then the next job must succeed."""
    src, face = "127.0.0.200", png(smooth(np.random.default_rng(2), 64))
    note = record.notes.setdefault("kill", {})
    while time.monotonic() < until:
        status, headers, body, seconds = upload(port, src, face, "zssr", 2)
        record.uploads.append(("kill", status, seconds))
        if status == 202:
            break
        time.sleep(1)
    else:
        note["failure"] = "the ZSSR job never got a place"
        return
    job_id = json.loads(body)["id"]
    while time.monotonic() < until:
        job = json.loads(request(port, "GET", f"/api/jobs/{job_id}", src)[2])
        pid = json.loads(request(port, "GET", "/healthz", src)[2])["worker_pid"]
        if job["state"] == "running" and pid and (job["progress"] > 0 or not mid_step):
            break
        time.sleep(0.2)
    else:
        note["failure"] = f"the ZSSR job never ran ({job['state']})"
        return
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    job = follow(port, src, job_id, until, record)
    note.update(progress_at_kill=job.get("progress"), state=job["state"],
                error=job.get("error"), seconds_to_report=round(time.monotonic() - killed, 2))
    start = time.monotonic()
    nxt = run_job(port, src, face, "bicubic", 2, until, record, "after kill")
    note.update(next_state=nxt["state"], next_seconds=round(time.monotonic() - start, 1))


def warmup(port: int, record: Record):
    """Each method twice: the first pays for the worker process, TensorFlow, the model."""
    face = png(smooth(np.random.default_rng(3), 256))
    times = {}
    for method in ("bicubic", "bicubic", "srgan", "srgan"):
        start = time.monotonic()
        job = run_job(port, "127.0.0.9", face, method, 4, time.monotonic() + 300, record,
                      "warm-up")
        times.setdefault(method, []).append((job["state"], round(time.monotonic() - start, 1)))
    record.notes["warmup"] = times
    record.jobs.clear()
    record.uploads.clear()


def start_server(tmp: Path) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "app.py", "--port", "0"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    while not lines or not lines[-1].startswith("serving on"):
        lines.append(server.stdout.readline())
        if not lines[-1]:
            raise RuntimeError("app.py did not start:\n" + "".join(lines))
    threading.Thread(target=server.stdout.read, daemon=True).start()  # drain its output
    return server, int(re.search(r":(\d+)/", lines[-1]).group(1))


def pct(values, q) -> float:
    return round(float(np.percentile(values, q)), 4) if len(values) else float("nan")


def summarise(record: Record, idle_rss: int, plan: Plan) -> dict:
    """The figures and the failed criteria."""
    probe_ok = [s for _, s, st in record.probe if st == 200]
    windows = {}
    for t, s, st in record.probe:
        windows.setdefault(int(t // 15), []).append(s if st == 200 else 99.0)
    refused = [(who, st, s) for who, st, s in record.uploads if st != 202]
    by_status = {}
    for who, st, s in record.uploads:
        by_status.setdefault(f"{who}: {st}", []).append(s)
    jobs = {}
    for method, state, s in record.jobs:
        jobs.setdefault(f"{method} {state}", []).append(s)
    peak_rss = max(s[1] for s in record.samples)
    figures = {
        "plan": asdict(plan), "idle_rss_mb": round(idle_rss / 2**20),
        "peak_rss_mb": round(peak_rss / 2**20),
        "peak_threads": max(s[2] for s in record.samples),
        "peak_folder_mb": round(max(s[3] for s in record.samples) / 1e6, 1),
        "methods_get": {"count": len(record.probe), "failed": len(record.probe) - len(probe_ok),
                        "p50_s": pct(probe_ok, 50), "p95_s": pct(probe_ok, 95),
                        "max_s": round(max(probe_ok), 4),
                        "worst_15s_p95_s": max(pct(v, 95) for v in windows.values())},
        "uploads": {k: {"count": len(v), "p50_s": pct(v, 50), "p95_s": pct(v, 95),
                        "max_s": round(max(v), 4)} for k, v in sorted(by_status.items())},
        "jobs": {k: {"count": len(v), "p50_s": pct(v, 50), "max_s": round(max(v), 1)}
                 for k, v in sorted(jobs.items())},
        "polls": {"count": len(record.polls), "p95_s": pct(record.polls, 95)},
        **record.notes}
    kill = record.notes.get("kill", {})
    checks = {
        "server never died": figures["methods_get"]["failed"] == 0 and
        record.notes["alive_until_sigterm"],
        "peak RSS <= idle + 4 GiB": peak_rss <= idle_rss + 4 * GIB,
        "folder <= 2 GB": figures["peak_folder_mb"] <= 2000,
        "GET /api/methods p95 < 200 ms in every 15 s": figures["methods_get"][
            "worst_15s_p95_s"] < 0.2,
        f"refused uploads all 429/413 within {plan.quick_s:g} s": all(
            st in (429, 413) and s < plan.quick_s for _, st, s in refused),
        "costly uploads on an empty queue: 413": all(
            st == 413 for who, st, _ in record.uploads if who.startswith("empty queue")),
        "costly uploads under load: 413 or 429": all(
            st in (413, 429) for who, st, _ in record.uploads if who.startswith("under")),
        "killed job failed, next job done": kill.get("state") == "error" and
        "SIGKILL" in (kill.get("error") or "") and kill.get("next_state") == "done",
        "fewer than 100 threads": figures["peak_threads"] < 100,
        "SIGTERM: exit 0, nothing in TMPDIR, no child left": record.notes["sigterm"]["clean"],
    }
    if plan.big:
        checks["64 MP job done"] = record.notes.get("flat_x4_64MP", {}).get("state") == "done"
    figures["checks"] = checks
    return figures


def run(plan: Plan) -> dict:
    """Run the test; returns the figures, ``checks`` among them (name -> passed)."""
    tmp = Path(tempfile.mkdtemp(prefix="web-load-"))
    record = Record()
    server, port = start_server(tmp)
    stop = threading.Event()
    try:
        time.sleep(1)
        idle = max(rss(server.pid) + sum(map(rss, descendants(server.pid))) for _ in range(4))
        background = [threading.Thread(target=monitor, args=(server, tmp, stop, record)),
                      threading.Thread(target=probe, args=(port, stop, record))]
        for t in background:
            t.start()
        if plan.warmup:
            warmup(port, record)
        first = min(10, plan.flat)  # on an empty queue: the cost limits answer (413)
        costly_uploads(port, first, record, "empty queue")
        until = time.monotonic() + plan.seconds
        load = [threading.Thread(target=client_loop, args=(port, i, until, record))
                for i in range(plan.clients)]
        load += [threading.Thread(target=slow_connections, args=(port, plan.slow, until, record)),
                 threading.Thread(target=costly_uploads, args=(port, plan.flat - first,
                                                               record, "under load")),
                 threading.Thread(target=kill_scenario, args=(port, until + 240,
                                                              plan.kill_mid_step, record))]
        if plan.big:
            load.append(threading.Thread(target=biggest_job, args=(port, until + 240, record)))
        for t in load:
            t.start()
        for t in load:
            t.join()
        record.notes["alive_until_sigterm"] = server.poll() is None
    finally:
        stop.set()
        for t in background if "background" in locals() else ():
            t.join()
        start = time.monotonic()
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            code = server.wait()
        exit_s = round(time.monotonic() - start, 2)
        for _ in range(100):  # multiprocessing's resource tracker leaves when it sees EOF
            left = [p for p in record.notes.get("children_seen", [])
                    if Path(f"/proc/{p}").exists()]
            if not left:
                break
            time.sleep(0.1)
        folders = [str(p) for p in tmp.iterdir()]  # the server's, or anything its worker left
        record.notes["sigterm"] = {"exit_code": code, "seconds": exit_s,
                                   "folders_left": folders, "children_left": left,
                                   "clean": code == 0 and not folders and not left}
        shutil.rmtree(tmp, ignore_errors=True)
    return summarise(record, idle, plan)


def client_loop(port: int, i: int, until: float, record: Record):
    """One client: job after job until ``until``, SRGAN one time in four."""
    source, face = f"127.0.0.{10 + i}", png(smooth(np.random.default_rng(10 + i), 256))
    n = 0
    while time.monotonic() < until:
        run_job(port, source, face, "srgan" if (i + n) % 4 == 0 else "bicubic", 4, until,
                record, "client")
        n += 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, default in asdict(Plan()).items():
        if isinstance(default, bool):
            p.add_argument(f"--{name.replace('_', '-')}", action=argparse.BooleanOptionalAction,
                           default=default)
        else:
            p.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    p.add_argument("--json", type=Path, help="write the figures here")
    args = vars(p.parse_args(argv))
    out = args.pop("json")
    figures = run(Plan(**args))
    text = json.dumps(figures, indent=1)
    print(text)
    if out:
        out.write_text(text)
    failed = [k for k, ok in figures["checks"].items() if not ok]
    print("PASS" if not failed else "FAIL: " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
