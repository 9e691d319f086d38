"""Run the webhook under gunicorn: several gthread workers, TLS with hot reload, JSON logs.

gunicorn is driven programmatically (a ``BaseApplication``), so the pex needs no config file. The
TLS context comes from gunicorn's ``ssl_context`` hook, which gunicorn calls for every accepted
connection: it returns ``CertificateReloader.context()``. The reloader, the config source and the
Prometheus multiprocess directory are created in the master before workers fork.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from akash_snp.webhook.config import ConfigSource
from akash_snp.webhook.tls import CertificateReloader

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SWITCH_INTERVAL_SECONDS = 0.0005


@dataclass(frozen=True)
class ServerOptions:
    """What ``main`` parsed from the command line."""

    cert: Path
    key: Path
    port: int = 8443
    bind_address: str = "0.0.0.0"  # noqa: S104 - a pod listens on all of its interfaces
    workers: int = 2
    threads: int = 16
    log_level: str = "INFO"
    keepalive: int = 75


def _logconfig(level: str) -> dict[str, Any]:
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "akash_snp.webhook.jsonlog.JsonFormatter"}},
        "handlers": {"stderr": handler},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        },
    }


class _NoAccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger without the access log.

    The app already logs one JSON line per admission; gunicorn would otherwise build the access
    log's atoms for every request (its ``logconfig_dict`` turns the access log on), which costs
    about a third of a millisecond of CPU per admission.
    """

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


def _bind(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class WebhookServer(BaseApplication):  # type: ignore[misc]
    """gunicorn application whose settings come from ``ServerOptions``, not a config file."""

    def __init__(
        self, options: ServerOptions, source: ConfigSource, reloader: CertificateReloader
    ) -> None:
        self._options = options
        self._source = source
        self._reloader = reloader
        super().__init__()

    def load_config(self) -> None:
        options = self._options
        reloader = self._reloader

        def ssl_context(_conf: Any, _default_factory: Any) -> Any:
            return reloader.context()

        def post_worker_init(_worker: Any) -> None:
            # Handler threads wait for the GIL up to the switch interval (5 ms by default) each
            # time another thread holds it; a short interval keeps admission tail latency low.
            sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)

        def child_exit(_server: Any, worker: Any) -> None:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]

        settings: dict[str, Any] = {
            "bind": [_bind(options.bind_address, options.port)],
            "workers": options.workers,
            "worker_class": "gthread",
            "threads": options.threads,
            "keepalive": options.keepalive,
            "timeout": 30,
            "graceful_timeout": 10,
            "certfile": str(options.cert),
            "keyfile": str(options.key),
            "ssl_context": ssl_context,
            "child_exit": child_exit,
            "post_worker_init": post_worker_init,
            "accesslog": None,
            "logger_class": _NoAccessLogger,
            "errorlog": "-",
            "logconfig_dict": _logconfig(options.log_level),
            "proc_name": "sev-webhook",
            # no admin socket: nothing to control at run time, and $HOME may be read-only
            "control_socket_disable": True,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from akash_snp.webhook.app import create_app

        return create_app(self._source)


def serve(options: ServerOptions, source: ConfigSource, reloader: CertificateReloader) -> int:
    """Run until gunicorn stops; returns the process exit code."""
    with tempfile.TemporaryDirectory(prefix="sev-webhook-metrics-") as metrics_dir:
        os.environ[MULTIPROC_ENV] = metrics_dir
        WebhookServer(options, source, reloader).run()
    return 0
