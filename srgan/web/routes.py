"""The Flask app of the web page: its routes, and the order of an upload's checks.

``POST /api/jobs`` answers, in this order: 400 from a Host not allowed and 403 from
another site (:mod:`srgan.web.guards`); 503 when the worker is down; 429 with
``Retry-After`` when the queue, the client's share of it or the bytes of queued uploads
are full, decided from counts and the declared length before the upload is read; 413
for a body over ``max_upload_mb`` (before it is read); 400 for a bad method, scale or file
and 413 for a job that would cost too much (:mod:`srgan.web.uploads`); else 202 with the
job's id. ``GET /api/jobs/<id>`` polls a job, ``DELETE`` cancels it (or deletes its
results), ``GET /api/jobs/<id>/<kind>.png`` serves its files, ``GET /healthz`` the
worker's health (503 when it is dead).
"""

from __future__ import annotations

from pathlib import Path

from srgan.web import guards
from srgan.web.jobs import Busy, JobQueue, Unavailable
from srgan.web.options import FACE_SCALE, METHODS, WebOptions
from srgan.web.uploads import CostError, check_upload
from srgan.web.work import Task
from srgan.web.worker import Worker

STATIC = Path(__file__).resolve().parent / "static"
RUNNER = "srgan.web.work:run_job"


def create_app(options: WebOptions, folder: Path, runner: str = RUNNER):
    """The Flask app; uploads and results go under ``folder`` (the caller removes it).

    ``runner`` is what the worker process runs for each job (``"module:function"``, see
    :class:`srgan.web.worker.Worker`). The job queue is ``app.extensions["jobs"]``; call
    its ``close()`` when done with the app, which stops the worker process.
    """
    from flask import Flask, abort, jsonify, request, send_file
    from werkzeug.exceptions import RequestEntityTooLarge

    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = int(options.max_upload_mb * 1e6) + 64 * 1024
    folder = Path(folder)
    queue = JobQueue(options.queue_limits(), Worker(runner, options.worker_memory_mb,
                                                    str(folder / "worker-tmp")))
    app.extensions["jobs"] = queue

    def fail(message: str, code: int = 400, **headers):
        return jsonify(error=message), code, headers

    guards.install(app, options.hosts, fail)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_):
        return fail(f"the file is larger than the {options.max_upload_mb:g} MB limit", 413)

    @app.get("/")
    def index():
        return send_file(STATIC / "index.html")

    @app.get("/api/methods")
    def methods():
        return jsonify(methods=[{"id": k, "label": label, "scales": list(scales)}
                                for k, (label, scales) in METHODS.items()],
                       face_scale=FACE_SCALE,
                       max_upload_mb=options.max_upload_mb, max_pixels=options.max_pixels,
                       max_output_pixels=options.max_output_pixels,
                       zssr_max_pixels=options.zssr_max_pixels)

    @app.get("/healthz")
    def healthz():
        health = queue.health()
        return jsonify(health), 200 if health["worker"] == "alive" else 503

    @app.post("/api/jobs")
    def submit():
        length = request.content_length or 0
        if length > app.config["MAX_CONTENT_LENGTH"]:
            return too_large(None)
        try:  # decided before the body is parsed
            job = queue.reserve(request.remote_addr or "", length)
        except Unavailable as e:
            return fail(str(e), 503)
        except Busy as e:
            return fail(str(e), 429, **{"Retry-After": str(e.retry_after)})
        upload = folder / f".upload-{job.id}"
        try:
            method, task = _read_form(request, upload, options, job.id, folder)
        except BaseException as e:
            queue.release(job)
            upload.unlink(missing_ok=True)
            if isinstance(e, ValueError):  # files.ImageError and CostError among them
                return fail(str(e), 413 if isinstance(e, CostError) else 400)
            raise
        queue.submit(job, request.files["image"].filename, task,
                     options.job_time_limit(method), upload)
        return jsonify(id=job.id), 202

    @app.get("/api/jobs/<job_id>")
    def status(job_id):
        found = queue.status(job_id)
        return jsonify(found) if found else fail("no such job (results are kept for the "
                                                 "last jobs only)", 404)

    @app.delete("/api/jobs/<job_id>")
    def cancel(job_id):
        state = queue.cancel(job_id)
        return jsonify(id=job_id, state=state) if state else fail("no such job", 404)

    @app.get("/api/jobs/<job_id>/<kind>.png")
    def result(job_id, kind):
        path = queue.file(job_id, kind)
        if path is None or not path.is_file():
            abort(404)
        return send_file(path, mimetype="image/png")

    return app


def _read_form(request, upload: Path, options: WebOptions, job_id: str,
               folder: Path) -> tuple[str, Task]:
    """The job a submitted form asks for, its upload saved to ``upload`` and checked.

    Raises:
        ValueError: (files.ImageError among them) a bad method, scale or file; one line.
        CostError: the job would cost more than the page allows.
    """
    method = request.form.get("method", "")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    try:
        scale = int(request.form.get("scale", ""))
    except ValueError:
        raise ValueError("scale must be a number") from None
    label, scales = METHODS[method]
    if scale not in scales:
        raise ValueError(f"{label} upscales x{' or x'.join(map(str, scales))}, not x{scale}")
    face_enhance = request.form.get("face_enhance", "") in ("1", "on", "true")
    if face_enhance and scale != FACE_SCALE:
        raise ValueError(f"face restoration is x{FACE_SCALE} only, not x{scale}")
    image = request.files.get("image")
    if image is None or not image.filename:
        raise ValueError("no image was sent")
    check_upload(image, upload, method, scale, options)
    return method, Task(upload=str(upload), folder=str(folder), prefix=job_id,
                        method=method, scale=scale, max_pixels=options.max_pixels,
                        zssr_steps=options.zssr_steps, face_enhance=face_enhance)
