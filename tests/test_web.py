"""The web page's server without a browser: upload checks, the job queue, result files."""

import io as bytes_io
import threading
import time

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("flask")

from srgan.inference.upscale import interpolate  # noqa: E402
from srgan.web.jobs import JobQueue  # noqa: E402
from srgan.web.server import WebOptions, create_app  # noqa: E402


def png_bytes(width=12, height=9, mode="RGB") -> bytes:
    buf = bytes_io.BytesIO()
    Image.new(mode, (width, height), 90).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def client(tmp_path):
    app = create_app(WebOptions(max_upload_mb=0.05, max_pixels=10_000), tmp_path)
    return app.test_client()


def post(client, data: bytes, name="face.png", mimetype="image/png", **form):
    form = {"method": "bicubic", "scale": "4", **form,
            "image": (bytes_io.BytesIO(data), name, mimetype)}
    return client.post("/api/jobs", data=form, content_type="multipart/form-data")


def wait(client, job_id, timeout=60):
    for _ in range(timeout * 10):
        job = client.get(f"/api/jobs/{job_id}").get_json()
        if job["state"] in ("done", "error"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['state']}")


def test_bicubic_job_gives_result_and_bicubic_at_4x(client, tmp_path):
    """On noise, so that another interpolation, scale or image would show."""
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
    assert not list(tmp_path.glob(".upload-*"))  # the upload is gone once decoded


@pytest.mark.parametrize("data, name, mimetype, form, words", [
    (b"just some notes\n", "notes.jpg", "image/jpeg", {}, "notes.jpg: not an image"),
    (png_bytes(), "face.png", "text/plain", {}, "content type text/plain"),
    (png_bytes(200, 200), "big.png", "image/png", {}, "exceeds max_pixels=10000"),
    (png_bytes(), "face.png", "image/png", {"method": "srgan", "scale": "2"}, "x4, not x2"),
    (png_bytes(), "face.png", "image/png", {"method": "magic"}, "unknown method"),
])
def test_bad_uploads_get_one_clear_line(client, data, name, mimetype, form, words):
    reply = post(client, data, name, mimetype, **form)
    assert reply.status_code == 400 and words in reply.get_json()["error"]


def test_upload_over_the_size_limit_is_refused_before_reading(client):
    noise = np.random.default_rng(0).integers(0, 256, (100, 100, 3), np.uint8)
    buf = bytes_io.BytesIO()
    Image.fromarray(noise).save(buf, format="BMP")  # 30 kB
    reply = post(client, buf.getvalue() * 8, "noise.bmp", "image/bmp")  # the body alone
    assert reply.status_code == 413 and "0.05 MB limit" in reply.get_json()["error"]
    reply = post(client, buf.getvalue() * 2, "noise.bmp", "image/bmp")  # the file itself
    assert reply.status_code == 400 and "exceeds the limit of 50000 bytes" in reply.get_json()[
        "error"]


def test_results_only_by_job_id(client):
    assert client.get("/api/jobs/nope/result.png").status_code == 404
    assert client.get("/api/jobs/..%2F..%2Fetc%2Fpasswd/result.png").status_code == 404
    assert client.get("/static/../server.py").status_code == 404


def test_second_job_waits_in_the_queue_and_both_finish(tmp_path):
    gate = threading.Event()

    def slow(image, progress):
        progress(1, 2, "half")
        gate.wait(10)
        return np.repeat(np.repeat(image, 2, 0), 2, 1)

    queue = JobQueue(tmp_path, keep=1, bicubic=lambda image, s: image.repeat(s, 0).repeat(s, 1))
    image = np.zeros((4, 5, 3), np.uint8)
    first, second = queue.submit("a.png", image, slow), queue.submit("b.png", image, slow)
    time.sleep(0.3)
    assert queue.status(first)["state"] == "running" and queue.status(first)["note"] == "half"
    assert queue.status(second)["state"] == "queued" and queue.status(second)["ahead"] == 1
    gate.set()
    for _ in range(100):
        if queue.status(second)["state"] == "done":
            break
        time.sleep(0.05)
    assert queue.status(second)["size"] == (10, 8)
    assert queue.status(first) is None  # keep=1: the older job's files are deleted
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{second}-bicubic.png",
                                                          f"{second}-result.png"]


def test_a_failing_job_reports_its_error_and_the_worker_goes_on(tmp_path):
    def broken(image, progress):
        raise ValueError("out of luck\nsecond line")

    queue = JobQueue(tmp_path, keep=5, bicubic=lambda image, s: image)
    bad = queue.submit("x.png", np.zeros((2, 2, 3), np.uint8), broken)
    good = queue.submit("y.png", np.zeros((2, 2, 3), np.uint8),
                        lambda image, progress: image.repeat(2, 0).repeat(2, 1))
    for _ in range(100):
        if queue.status(good)["state"] == "done":
            break
        time.sleep(0.05)
    assert queue.status(bad)["error"] == "x.png: out of luck"
    assert queue.status(good)["state"] == "done"


@pytest.mark.slow
def test_zssr_job_runs_in_the_background(tmp_path):
    app = create_app(WebOptions(zssr_steps=3), tmp_path)
    client = app.test_client()
    reply = post(client, png_bytes(16, 12), method="zssr", scale="2")
    assert reply.status_code == 202  # answered before the training ran
    job = wait(client, reply.get_json()["id"])
    assert job["state"] == "done" and job["size"] == [32, 24] and job["progress"] == 1.0
