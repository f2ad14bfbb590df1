"""Cross-site protection of the web page, on every request and response.

- **Host allow-list.** A request whose ``Host`` header names a host other than
  :attr:`WebOptions.hosts` gets 400: a site that re-points its own DNS name at
  127.0.0.1 (DNS rebinding) cannot use the page from the browser of someone visiting it.
- **Same origin.** A request that changes something (POST, DELETE) must come from the
  page itself: its ``Origin`` header, or else its ``Referer``, must name this host and
  port, or it gets 403. Browsers send ``Origin`` on every such request, and a multipart
  form posted by another site needs no preflight, so this is what stops it. A request
  with neither header does not come from a browser page (curl, a script) and passes.
- **Headers.** ``X-Content-Type-Options: nosniff``; a Content-Security-Policy of
  ``default-src 'self'`` with ``frame-ancestors 'none'`` (the page loads nothing from
  elsewhere, runs no inline script and cannot be framed); ``Referrer-Policy:
  no-referrer``; ``Cache-Control: no-store`` on the API and the results.
"""

from __future__ import annotations

from urllib.parse import urlsplit

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _host_name(netloc: str) -> str:
    """``"Example.com:7860"`` -> ``"example.com"``, ``"[::1]:7860"`` -> ``"::1"``."""
    try:
        return urlsplit(f"//{netloc}").hostname or ""
    except ValueError:
        return ""


def same_origin(headers, host: str) -> bool:
    """Whether a request's ``Origin`` (else ``Referer``) names ``host`` (``name:port``,
    the request's Host header); True when it has neither."""
    origin = headers.get("Origin")
    if origin is None:
        origin = headers.get("Referer")
        if origin is None:
            return True
    try:
        return urlsplit(origin).netloc.lower() == host.lower()
    except ValueError:
        return False


def install(app, hosts: frozenset[str], fail) -> None:
    """Check every request of Flask ``app`` and add the headers to every response.

    Args:
        hosts: host names (lower case, no port) the page answers to.
        fail: ``(message, status) -> response``, the page's JSON error.
    """
    from flask import request

    allowed = ", ".join(sorted(hosts))

    @app.before_request
    def guard():
        name = _host_name(request.host)
        if name not in hosts:
            return fail(f"this page answers to {allowed}, not {name or 'no host'} (see "
                        f"app.py --allowed-hosts)", 400)
        if request.method in CHANGES and not same_origin(request.headers, request.host):
            return fail("refused: the request comes from another site", 403)
        return None

    @app.after_request
    def headers(response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if request.path.startswith("/api/") or request.path == "/healthz":
            response.headers["Cache-Control"] = "no-store"
        return response
