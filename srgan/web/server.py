"""The local web page behind ``python app.py``: upload, pick a method and scale, compare.

Flask, because the page needs four routes, a file upload and JSON polling: it is one
small pure-Python dependency with no front-end toolchain and nothing fetched at run time,
whereas Gradio brings a large web stack and loads fonts and scripts from the internet by
default. The page (``static/``) uses no CDN: every file it loads is served from this
package's ``static`` folder, and results only from the server's temporary folder, by job id.

An upload is checked in this order, each a clear message on the page: the size limit
(``max_upload_mb``, before the body is read), the declared content type
(:data:`srgan.files.IMAGE_CONTENT_TYPES`), then :func:`srgan.files.read_image`, the decoder
``predict.py`` uses: format from the content, pixel limit before decoding,
decompression-bomb refusal. The upload is written to a temporary file for that and
deleted at once; the decoded image waits in the job queue (:mod:`srgan.web.jobs`).
"""

from __future__ import annotations

import functools
import socket
import tempfile
from pathlib import Path

import numpy as np

from srgan import files
from srgan.options import PredictOptions, WebOptions, ZSSRConfig

STATIC = Path(__file__).resolve().parent / "static"
# method -> (label, scales it offers)
METHODS = {"srgan": ("SRGAN", (4,)), "srresnet": ("SRResNet", (4,)),
           "zssr": ("ZSSR (trains on your image, minutes)", (2, 4, 8)),
           "bicubic": ("bicubic", (2, 4, 8))}


def _work(method: str, scale: int, options: WebOptions):
    """``work(image, progress) -> uint8 SR image`` for one request (see jobs.Work)."""
    from srgan.inference.upscale import interpolate, upscale, upscale_kwargs
    from srgan.inference.zssr import zssr_generator

    if method == "bicubic":
        return lambda image, progress: interpolate(image, scale)
    if method == "zssr":
        cfg = ZSSRConfig(scale=scale, steps=options.zssr_steps)
        return lambda image, progress: upscale(zssr_generator(cfg, progress).model, image,
                                               scale)
    # The tiling, border padding and memory budget of predict.py's defaults.
    kwargs = upscale_kwargs(PredictOptions())
    return lambda image, progress: upscale(_generator(method).model, image, scale, **kwargs)


@functools.lru_cache(maxsize=None)
def _generator(name: str):
    """A shipped generator, loaded once (in the worker thread, on first use)."""
    from srgan import pretrained
    from srgan.models.weights import load_generator

    return load_generator(pretrained.resolve(name))


def read_upload(upload, folder: Path, options: WebOptions) -> np.ndarray:
    """Decode a Flask ``FileStorage`` as :func:`srgan.files.read_image` does for predict.py.

    Returns uint8 ``(H, W, 3)`` or ``(H, W, 4)`` (alpha kept).

    Raises:
        files.ImageError: one line naming the uploaded file and what is wrong with it.
    """
    name = upload.filename or "upload"
    if upload.mimetype not in files.IMAGE_CONTENT_TYPES:
        raise files.ImageError(name, f"content type {upload.mimetype or 'none'} is not an "
                               f"image type this page takes (JPEG, PNG, BMP, WebP)")
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", delete=True) as tmp:
        upload.save(tmp)
        tmp.flush()
        try:
            return files.read_image(tmp.name, max_pixels=options.max_pixels, keep_alpha=True,
                                    max_bytes=int(options.max_upload_mb * 1e6))
        except files.ImageError as e:
            raise files.ImageError(name, e.reason) from None


def create_app(options: WebOptions, folder: Path):
    """The Flask app; uploads and results go under ``folder`` (the caller removes it)."""
    from flask import Flask, abort, jsonify, request, send_file
    from werkzeug.exceptions import RequestEntityTooLarge

    from srgan.inference.upscale import interpolate
    from srgan.web.jobs import JobQueue

    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = int(options.max_upload_mb * 1e6) + 64 * 1024
    queue = JobQueue(folder, options.keep_results, interpolate)

    def fail(message: str, code: int = 400):
        return jsonify(error=message), code

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
                       max_upload_mb=options.max_upload_mb, max_pixels=options.max_pixels)

    @app.post("/api/jobs")
    def submit():
        method = request.form.get("method", "")
        upload = request.files.get("image")
        if method not in METHODS:
            return fail(f"unknown method {method!r}")
        try:
            scale = int(request.form.get("scale", ""))
        except ValueError:
            return fail("scale must be a number")
        label, scales = METHODS[method]
        if scale not in scales:
            return fail(f"{label} upscales x{' or x'.join(map(str, scales))}, not x{scale}")
        if upload is None or not upload.filename:
            return fail("no image was sent")
        try:
            image = read_upload(upload, folder, options)
        except files.ImageError as e:
            return fail(str(e))
        job = queue.submit(upload.filename, image, _work(method, scale, options))
        return jsonify(id=job, width=image.shape[1], height=image.shape[0]), 202

    @app.get("/api/jobs/<job_id>")
    def status(job_id):
        found = queue.status(job_id)
        return jsonify(found) if found else fail("no such job (results are kept for the "
                                                 "last jobs only)", 404)

    @app.get("/api/jobs/<job_id>/<kind>.png")
    def result(job_id, kind):
        path = queue.file(job_id, kind)
        if path is None or not path.is_file():
            abort(404)
        return send_file(path, mimetype="image/png")

    return app


def serve(options: WebOptions) -> None:
    """Serve the page until Ctrl-C; the temporary folder is removed on the way out.

    Raises:
        OSError, OverflowError: the address cannot be listened on (werkzeug would print
            and exit instead, so the socket is opened here).
    """
    from werkzeug.serving import make_server

    family = socket.getaddrinfo(options.host, options.port)[0][0]
    listener = socket.create_server((options.host, options.port), family=family)
    with listener, tempfile.TemporaryDirectory(prefix="srgan-web-") as folder:
        server = make_server(options.host, options.port, create_app(options, Path(folder)),
                             threaded=True, fd=listener.fileno())
        port = listener.getsockname()[1]
        print(f"serving on http://{options.host}:{port}/ (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
