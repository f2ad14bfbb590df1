"""The web page's Flask app without a browser: upload checks, cost and queue limits,
cancelling, result lifetime, cross-site protection, health.

Most tests run the jobs with ``tests/web_fakes.py`` (no TensorFlow in the worker); the
``real_app`` ones run ``srgan.web.work`` in one shared worker process.
"""

import io as bytes_io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("flask")

from srgan.inference.upscale import interpolate  # noqa: E402
from srgan.web import jobs as jobs_module  # noqa: E402
from srgan.web.server import WebOptions, create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def png_bytes(width=12, height=9, mode="RGB", noise=False) -> bytes:
    buf = bytes_io.BytesIO()
    if noise:
        pixels = np.random.default_rng(0).integers(0, 256, (height, width, len(mode)), np.uint8)
        Image.fromarray(pixels, mode).save(buf, format="PNG")
    else:
        Image.new(mode, (width, height), 90).save(buf, format="PNG")
    return buf.getvalue()


FLAT_2000 = png_bytes(2000, 2000, "RGBA")  # about 20 kB: the decompression cost attack


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    """``make(runner=..., **WebOptions) -> (client, folder)``; worker processes are stopped
    after the test. The janitor runs every 0.1 s."""
    monkeypatch.setattr(jobs_module, "TIDY_EVERY_S", 0.1)
    apps = []

    def make(runner="web_fakes:run", **options):
        folder = tmp_path / f"server{len(apps)}"
        folder.mkdir()
        apps.append(create_app(WebOptions(**options), folder, runner))
        return apps[-1].test_client(), folder

    yield make
    for app in apps:
        app.extensions["jobs"].close()


@pytest.fixture(scope="module")
def real_app(tmp_path_factory):
    """The real worker (TensorFlow), shared by the tests that need it."""
    folder = tmp_path_factory.mktemp("real")
    app = create_app(WebOptions(max_upload_mb=0.05, max_pixels=10_000, zssr_steps=3), folder)
    yield app.test_client(), folder
    app.extensions["jobs"].close()


def post(client, data: bytes, name="face.png", mimetype="image/png", addr="127.0.0.1",
         headers=None, **form):
    form = {"method": "bicubic", "scale": "4", **form,
            "image": (bytes_io.BytesIO(data), name, mimetype)}
    return client.post("/api/jobs", data=form, content_type="multipart/form-data",
                       environ_base={"REMOTE_ADDR": addr}, headers=headers or {})


def wait(client, job_id, until=("done", "error", "cancelled"), timeout=120, note=None):
    """The job once its state is one of ``until`` (and its note ``note``, if given)."""
    for _ in range(timeout * 10):
        job = client.get(f"/api/jobs/{job_id}").get_json()
        if job["state"] in until and note in (None, job["note"]):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['state']} ({job['note']})")


def eventually(check, timeout=10):
    """Wait until ``check()`` is true (the janitor runs every 0.1 s; the CPU may be busy)."""
    for _ in range(timeout * 20):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("never happened")


def test_bicubic_job_gives_result_and_bicubic_at_4x(real_app):
    """On noise, so that another interpolation, scale or image would show."""
    client, folder = real_app
    image = np.random.default_rng(0).integers(0, 256, (9, 12, 3), np.uint8)
    buffer = bytes_io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    reply = post(client, buffer.getvalue())
    assert reply.status_code == 202
    job = wait(client, reply.get_json()["id"])
    assert job["state"] == "done" and job["size"] == [48, 36]
    expected = interpolate(image, 4, "bicubic")
    for kind in ("result", "bicubic"):
        png = client.get(f"/api/jobs/{job['id']}/{kind}.png")
        assert png.status_code == 200
        np.testing.assert_array_equal(np.asarray(Image.open(bytes_io.BytesIO(png.data))),
                                      expected)
    assert not list(folder.glob(".upload-*"))  # the upload is gone once the job is done


def test_results_are_png_level_1_like_predict(real_app):
    client, folder = real_app
    data = png_bytes(20, 16, noise=True)
    job = wait(client, post(client, data, scale="2").get_json()["id"])
    png = client.get(f"/api/jobs/{job['id']}/result.png").data
    pixels = np.asarray(Image.open(bytes_io.BytesIO(png)))
    level1 = bytes_io.BytesIO()
    Image.fromarray(pixels).save(level1, format="PNG", compress_level=1)
    assert png == level1.getvalue()


def test_zssr_job_runs_in_the_background(real_app):
    client, _ = real_app
    reply = post(client, png_bytes(16, 12), method="zssr", scale="2")
    assert reply.status_code == 202  # answered before the training ran
    job = wait(client, reply.get_json()["id"])
    assert job["state"] == "done" and job["size"] == [32, 24] and job["progress"] == 1.0


@pytest.mark.parametrize("data, name, mimetype, form, words", [
    (b"just some notes\n", "notes.jpg", "image/jpeg", {}, "notes.jpg: not an image"),
    (png_bytes(), "face.png", "text/plain", {}, "content type text/plain"),
    (png_bytes(200, 200), "big.png", "image/png", {}, "exceeds max_pixels=10000"),
    (png_bytes(), "face.png", "image/png", {"method": "srgan", "scale": "2"}, "x4, not x2"),
    (png_bytes(), "face.png", "image/png", {"method": "magic"}, "unknown method"),
    (png_bytes(), "face.png", "image/png", {"scale": "2", "face_enhance": "1"},
     "face restoration is x4 only, not x2"),
], ids=["text", "content-type", "pixels", "scale", "method", "faces-x2"])
def test_bad_uploads_get_one_clear_line(make_app, data, name, mimetype, form, words):
    client, folder = make_app(max_upload_mb=0.05, max_pixels=10_000)
    reply = post(client, data, name, mimetype, **form)
    assert reply.status_code == 400 and words in reply.get_json()["error"]
    assert not list(folder.iterdir())  # the refused upload is deleted


def test_upload_over_the_size_limit_is_refused_before_reading(make_app):
    client, _ = make_app(max_upload_mb=0.05)
    noise = np.random.default_rng(0).integers(0, 256, (100, 100, 3), np.uint8)
    buf = bytes_io.BytesIO()
    Image.fromarray(noise).save(buf, format="BMP")  # 30 kB
    reply = post(client, buf.getvalue() * 8, "noise.bmp", "image/bmp")  # the body alone
    assert reply.status_code == 413 and "0.05 MB limit" in reply.get_json()["error"]
    reply = post(client, buf.getvalue() * 2, "noise.bmp", "image/bmp")  # the file itself
    assert reply.status_code == 400 and "exceeds the limit of 50000 bytes" in reply.get_json()[
        "error"]


@pytest.mark.parametrize("method, scale, words", [
    ("bicubic", "8", "x8 of 2000x2000 would make 256,000,000 pixels; this page makes at "
     "most 64,000,000"),
    ("zssr", "4", "ZSSR trains on and runs over the whole image, untiled"),
    ("zssr", "2", "it makes at most 1,048,576 here (x2 of about 512x512)"),
])
def test_costly_jobs_are_refused_from_the_header(make_app, method, scale, words):
    client, folder = make_app()
    start = time.perf_counter()
    reply = post(client, FLAT_2000, "flat.png", method=method, scale=scale)
    assert reply.status_code == 413 and words in reply.get_json()["error"]
    assert reply.get_json()["error"].startswith("flat.png: ")
    assert time.perf_counter() - start < 1.0  # from the header: 16 MB are never decoded
    assert not list(folder.iterdir())


def test_cost_limits_are_the_options(make_app):
    client, _ = make_app(max_output_pixels=6_400, zssr_max_pixels=1_600)
    assert post(client, png_bytes(20, 20), scale="4").status_code == 202
    assert post(client, png_bytes(20, 21), scale="4").status_code == 413
    assert post(client, png_bytes(20, 20), method="zssr", scale="2",
                addr="10.0.0.2").status_code == 202
    assert post(client, png_bytes(20, 21), method="zssr", scale="2",
                addr="10.0.0.2").status_code == 413


def test_results_only_by_job_id(make_app):
    client, _ = make_app()
    assert client.get("/api/jobs/nope/result.png").status_code == 404
    assert client.get("/api/jobs/..%2F..%2Fetc%2Fpasswd/result.png").status_code == 404
    assert client.get("/static/../server.py").status_code == 404


def test_queue_limits_answer_429_fast_without_reading_the_upload(make_app):
    client, folder = make_app(max_queue=3, max_per_client=2)
    ids = [post(client, png_bytes(), method="srgan", addr=a).get_json()["id"]
           for a in ("10.0.0.1", "10.0.0.1", "10.0.0.2")]
    for addr, words in [("10.0.0.1", "you have 2 jobs queued or running"),
                        ("10.0.0.3", "the queue is full (3 jobs)")]:
        start = time.perf_counter()
        reply = client.post("/api/jobs", data=b"not even a form",
                            content_type="multipart/form-data; boundary=x",
                            environ_base={"REMOTE_ADDR": addr})
        assert time.perf_counter() - start < 0.1
        assert reply.status_code == 429 and words in reply.get_json()["error"]
        assert 1 <= int(reply.headers["Retry-After"]) <= 60
    assert client.delete(f"/api/jobs/{ids[2]}").get_json()["state"] == "cancelled"
    assert post(client, png_bytes(), addr="10.0.0.3").status_code == 202  # a place again
    (folder / "go").touch()


def test_queued_uploads_have_a_byte_cap(make_app):
    client, folder = make_app(max_queued_mb=0.008)  # 8000 bytes
    image = png_bytes(40, 40, noise=True)  # 4.8 kB
    first = post(client, image, method="srgan", addr="10.0.0.1")
    assert first.status_code == 202
    wait(client, first.get_json()["id"], until=("running",))  # its upload no longer counts
    assert post(client, image, addr="10.0.0.2").status_code == 202
    reply = post(client, image, addr="10.0.0.3")
    assert reply.status_code == 429 and "queued uploads already hold" in reply.get_json()[
        "error"]
    (folder / "go").touch()


def test_second_job_waits_in_the_queue_and_both_finish(make_app):
    client, folder = make_app(keep_results=1)
    first = post(client, png_bytes(5, 4), method="srgan").get_json()["id"]
    second = post(client, png_bytes(5, 4), scale="2").get_json()["id"]
    wait(client, first, until=("running",), note="waiting")  # from the worker process
    assert client.get(f"/api/jobs/{second}").get_json()["ahead"] == 1
    (folder / "go").touch()
    assert wait(client, second)["size"] == [10, 8]
    eventually(lambda: client.get(f"/api/jobs/{first}").status_code == 404)  # keep=1
    assert sorted(p.name for p in folder.glob("*.png")) == [f"{second}-bicubic.png",
                                                             f"{second}-result.png"]


def test_a_failing_job_reports_its_error_and_the_worker_goes_on(make_app):
    client, _ = make_app()
    bad = post(client, png_bytes(), "x.png", method="srresnet").get_json()["id"]
    assert wait(client, bad)["error"] == "x.png: out of luck"
    assert wait(client, post(client, png_bytes()).get_json()["id"])["state"] == "done"


def test_a_killed_worker_fails_its_job_and_the_next_one_runs(make_app):
    client, _ = make_app()
    victim = post(client, png_bytes(), "v.png", method="srgan").get_json()["id"]
    wait(client, victim, until=("running",), note="waiting")  # mid-run
    os.kill(client.get("/healthz").get_json()["worker_pid"], signal.SIGKILL)
    job = wait(client, victim)
    assert job["state"] == "error"
    assert job["error"] == "v.png: the worker process was killed by SIGKILL (out of memory?)"
    assert wait(client, post(client, png_bytes()).get_json()["id"])["state"] == "done"
    health = client.get("/healthz").get_json()
    assert health["worker"] == "alive" and health["starts"] == 2


def test_time_limit_stops_a_job_and_zssr_has_its_own(make_app):
    client, _ = make_app(time_limit=1.0, zssr_time_limit=20.0)
    slow = post(client, png_bytes(), method="srgan").get_json()["id"]  # never let go
    zssr = post(client, png_bytes(), method="zssr", scale="2").get_json()["id"]  # 2 s
    assert "stopped after the time limit of 1 s" in wait(client, slow)["error"]
    assert wait(client, zssr)["state"] == "done"


def test_delete_cancels_a_running_or_queued_job_and_deletes_a_finished_one(make_app):
    client, folder = make_app()
    running = post(client, png_bytes(), method="srgan").get_json()["id"]
    queued = post(client, png_bytes(), method="srgan").get_json()["id"]
    wait(client, running, until=("running",))
    assert client.delete(f"/api/jobs/{queued}").get_json()["state"] == "cancelled"
    assert client.delete(f"/api/jobs/{running}").get_json()["state"] == "cancelled"
    assert wait(client, running)["state"] == "cancelled"
    assert client.get(f"/api/jobs/{queued}").get_json()["state"] == "cancelled"
    done = post(client, png_bytes()).get_json()["id"]
    assert wait(client, done)["state"] == "done" and list(folder.glob(f"{done}-*.png"))
    assert client.delete(f"/api/jobs/{done}").get_json()["state"] == "deleted"
    assert not list(folder.glob(f"{done}-*.png"))
    assert client.delete("/api/jobs/nope").status_code == 404


def test_a_job_nobody_polls_is_cancelled(make_app):
    client, _ = make_app(abandon_after=0.5)
    orphan = post(client, png_bytes(), method="srgan").get_json()["id"]
    time.sleep(2)  # no polling meanwhile
    job = wait(client, orphan)
    assert job["state"] == "cancelled" and "nobody asked about it for 0.5 s" in job["error"]
    assert wait(client, post(client, png_bytes()).get_json()["id"])["state"] == "done"


def test_results_expire_after_their_time_to_live(make_app):
    client, folder = make_app(result_ttl=0.05)  # 3 s
    job = wait(client, post(client, png_bytes()).get_json()["id"])
    assert job["state"] == "done"
    assert client.get(f"/api/jobs/{job['id']}/result.png").status_code == 200  # not yet
    eventually(lambda: client.get(f"/api/jobs/{job['id']}").status_code == 404)
    assert not list(folder.glob("*.png"))


def test_results_over_the_byte_limit_go_oldest_first(make_app):
    client, folder = make_app(results_mb=0.0005)  # 500 bytes: about one small job
    first = wait(client, post(client, png_bytes(20, 20, noise=True)).get_json()["id"])
    second = wait(client, post(client, png_bytes(20, 20, noise=True)).get_json()["id"])
    eventually(lambda: client.get(f"/api/jobs/{first['id']}").status_code == 404)
    assert client.get(f"/api/jobs/{second['id']}").status_code == 200  # the newest stays
    assert sorted(p.name.split("-")[0] for p in folder.glob("*.png")) == ["2", "2"]


@pytest.mark.parametrize("headers, code", [
    ({"Origin": "http://evil.example"}, 403),
    ({"Origin": "null"}, 403),
    ({"Referer": "http://evil.example/page.html"}, 403),
    ({"Origin": "http://localhost"}, 202),
    ({"Referer": "http://localhost/"}, 202),
    ({}, 202),  # not a browser
])
def test_only_the_page_itself_may_post(make_app, headers, code):
    client, _ = make_app()
    reply = post(client, png_bytes(), headers=headers)
    assert reply.status_code == code
    if code == 403:
        assert reply.get_json()["error"] == "refused: the request comes from another site"


def test_cross_site_delete_is_refused(make_app):
    client, _ = make_app()
    job = post(client, png_bytes()).get_json()["id"]
    reply = client.delete(f"/api/jobs/{job}", headers={"Origin": "http://evil.example"})
    assert reply.status_code == 403


@pytest.mark.parametrize("host, allowed, code", [
    ("localhost:7860", (), 200),
    ("127.0.0.1:7860", (), 200),
    ("rebound.evil.example:7860", (), 400),
    ("faces.lan:7860", ("faces.lan",), 200),
    ("localhost:7860", ("faces.lan",), 400),
])
def test_host_allow_list(make_app, host, allowed, code):
    client, _ = make_app(allowed_hosts=allowed)
    for path in ("/", "/api/methods", "/healthz"):
        assert client.get(path, headers={"Host": host}).status_code == code


def test_security_headers(make_app):
    client, _ = make_app()
    job = wait(client, post(client, png_bytes()).get_json()["id"])
    for path in ("/", "/static/app.js", "/api/methods", f"/api/jobs/{job['id']}/result.png"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
    assert client.get(f"/api/jobs/{job['id']}/result.png").headers["Cache-Control"] == "no-store"


def test_healthz_says_the_worker_is_alive_and_how_long_the_job_runs(make_app):
    client, folder = make_app()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json() == {"worker": "alive", "worker_pid": None, "queue": 0,
                                 "running_s": None, "starts": 0, "reason": ""}
    post(client, png_bytes(), method="srgan")
    post(client, png_bytes(), addr="10.0.0.2")
    time.sleep(1.5)
    health = client.get("/healthz").get_json()
    assert health["queue"] == 1 and health["running_s"] >= 1.0 and health["worker_pid"]
    (folder / "go").touch()


def test_a_dead_worker_gives_503(make_app):
    client, _ = make_app(runner="web_fakes:no_such_runner")
    job = wait(client, post(client, png_bytes(), "a.png").get_json()["id"])
    assert "the worker cannot load web_fakes:no_such_runner" in job["error"]
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["worker"] == "dead"
    reply = post(client, png_bytes())
    assert reply.status_code == 503 and "cannot load" in reply.get_json()["error"]


@pytest.mark.slow
def test_the_server_starts_without_tensorflow():
    code = ("import sys, tempfile; from srgan.web.server import WebOptions, create_app; "
            "app = create_app(WebOptions(), tempfile.mkdtemp()); "
            "assert app.test_client().get('/healthz').status_code == 200; "
            "app.extensions['jobs'].close(); print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('tensorflow', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
