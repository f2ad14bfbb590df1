"""The options of ``app.py``: one frozen dataclass, one flag per field (see srgan.cli).

Importing this module must not import TensorFlow: the server starts without it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from srgan.config import flag
from srgan.web.jobs import QueueLimits

# method -> (label, scales it offers)
METHODS = {"srgan": ("SRGAN", (4,)), "srresnet": ("SRResNet", (4,)),
           "zssr": ("ZSSR (trains on your image, minutes)", (2, 4, 8)),
           "bicubic": ("bicubic", (2, 4, 8))}
SERVERS = ("auto", "waitress", "werkzeug")
# The scale at which "Restore faces" works: the face model's (the shipped ones are x4).
FACE_SCALE = 4


@dataclass(frozen=True)
class WebOptions:
    """Where the page is served, what it accepts, and what one job may cost."""

    host: str = flag("127.0.0.1", help="address to listen on (0.0.0.0: every interface; "
                     "the page has no login)")
    port: int = flag(7860, help="port to listen on (0: any free port)")
    allowed_hosts: tuple[str, ...] = flag((), help="host names the page answers to, as "
                                          "typed in the browser (default: --host and "
                                          "localhost); others get 400 (DNS rebinding)")
    server: str = flag("auto", choices=SERVERS, help="waitress, or werkzeug's development "
                       "server (auto: waitress when it is installed)")
    threads: int = flag(8, help="waitress's request threads")
    channel_timeout: int = flag(60, help="waitress closes a connection idle this many "
                                "seconds")
    max_upload_mb: float = flag(20.0, help="largest upload accepted, in MB")
    max_pixels: int = flag(4_000_000, help="refuse images with more pixels than this, "
                           "before decoding")
    max_output_pixels: int = flag(64_000_000, help="refuse jobs whose result would have "
                                  "more pixels than this")
    zssr_max_pixels: int = flag(1_048_576, help="refuse ZSSR jobs whose result would have "
                                "more pixels than this (ZSSR runs on the whole image, "
                                "untiled: about 3.5 GB at the default, x4 of 256x256)")
    max_queue: int = flag(8, help="jobs queued or running, from all clients")
    max_per_client: int = flag(2, help="jobs queued or running from one address")
    max_queued_mb: float = flag(64.0, help="MB the uploads of queued jobs may take")
    time_limit: float = flag(900.0, help="seconds a job may run before it is stopped")
    zssr_time_limit: float = flag(1800.0, help="seconds a ZSSR job may run")
    abandon_after: float = flag(60.0, help="cancel a queued or running job nobody has "
                                "asked about for this many seconds (its page was closed)")
    worker_memory_mb: float = flag(4096.0, help="stop a job whose worker process uses "
                                   "more resident memory than this, in MiB (Linux)")
    keep_results: int = flag(20, help="finished jobs whose images are kept for download")
    results_mb: float = flag(1000.0, help="MB of result images kept; the oldest go first")
    result_ttl: float = flag(30.0, help="minutes a finished job's images are kept")
    zssr_steps: Optional[int] = flag(None, help="ZSSR's most training steps per x2 stage "
                                     "(default: ZSSR's own)")

    def __post_init__(self):
        positive = ("threads", "channel_timeout", "max_upload_mb", "max_pixels",
                    "max_output_pixels", "zssr_max_pixels", "max_queue", "max_per_client",
                    "max_queued_mb", "time_limit", "zssr_time_limit", "abandon_after",
                    "worker_memory_mb", "keep_results", "results_mb", "result_ttl")
        bad = [name for name in positive if getattr(self, name) <= 0]
        if bad:
            raise ValueError(f"{', '.join(bad)} must be positive")

    @property
    def hosts(self) -> frozenset[str]:
        """Host names (lower case, no port) the page answers to."""
        return frozenset(h.lower().strip("[]") for h in
                         (self.allowed_hosts or (self.host, "localhost")))

    def queue_limits(self) -> QueueLimits:
        """The job queue's limits from these options."""
        return QueueLimits(max_queue=self.max_queue, per_client=self.max_per_client,
                           max_queued_bytes=int(self.max_queued_mb * 1e6),
                           keep=self.keep_results,
                           max_result_bytes=int(self.results_mb * 1e6),
                           ttl_s=self.result_ttl * 60, abandon_s=self.abandon_after)

    def job_time_limit(self, method: str) -> float:
        """Seconds a job of ``method`` may run."""
        return self.zssr_time_limit if method == "zssr" else self.time_limit
