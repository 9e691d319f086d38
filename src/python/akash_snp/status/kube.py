"""The connection to the API server: the ``kubernetes`` client's configuration (kubeconfig or
in-cluster), authentication and TLS, with a bounded GET on top.

The client's typed API methods are not used: they read whole answers into memory and turn pod
lists into model objects, slow on large clusters. ``get`` sends the request through the client's
own ``ApiClient`` (so every kubeconfig form it supports works: tokens, client certificates, exec
plugins) but reads the answer itself, in chunks, under a deadline and a size cap.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

_CHUNK = 64 * 1024


class KubeError(Exception):
    """No usable answer: transport failure, timeout, or an answer over the size cap."""


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read in full (within the cap)."""

    status: int
    headers: dict[str, str]
    body: bytes


def connect(kubeconfig: str | None, context: str | None, pool_size: int) -> Any:
    """An ``ApiClient`` from ``kubeconfig`` (default: $KUBECONFIG or ~/.kube/config), or from
    the pod's ServiceAccount when no kubeconfig exists and we run in a cluster. The connection
    pool holds ``pool_size`` connections, one per concurrent request."""
    configuration = client.Configuration()
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
    except (ConfigException, FileNotFoundError) as kube_error:
        if kubeconfig is not None or context is not None:
            raise KubeError(f"kubeconfig: {kube_error}") from None
        try:
            config.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration
            )
        except ConfigException as cluster_error:
            raise KubeError(
                f"no kubeconfig ({kube_error}) and not in a cluster ({cluster_error})"
            ) from None
    configuration.connection_pool_maxsize = pool_size
    configuration.retries = 0  # one attempt per request: the caller's timeout is the bound
    return client.ApiClient(configuration)


def get(
    api: Any,
    path: str,
    query: Sequence[tuple[str, str]],
    timeout: float,
    max_bytes: int,
) -> Answer:
    """GET ``path`` from the API server; any HTTP status is an ``Answer``. ``KubeError`` when
    nothing usable came within ``timeout`` seconds (connect and whole body) or the body is larger
    than ``max_bytes``: a slow or huge answer must never hold up or exhaust ``sev-status``."""
    deadline = time.monotonic() + timeout
    try:
        method, url, headers, _, _ = api.param_serialize(
            method="GET",
            resource_path=path,
            query_params=list(query),
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        response = api.call_api(method, url, header_params=headers, _request_timeout=timeout)
    except (urllib3.exceptions.HTTPError, client.ApiException, OSError) as error:
        raise KubeError(_one_line(error)) from None
    raw = response.response
    complete = False
    try:
        length = int(raw.headers.get("Content-Length", "-1"))
        if length > max_bytes:
            raise KubeError(f"answer of {length} bytes is larger than the cap of {max_bytes}")
        chunks: list[bytes] = []
        size = 0
        while chunk := raw.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise KubeError(f"answer larger than the cap of {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise KubeError(f"answer not complete within {timeout:g} s")
            chunks.append(chunk)
        complete = True
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as error:
        raise KubeError(_one_line(error)) from None
    finally:
        # a connection with unread data left in it must not go back to the pool
        if complete:
            raw.release_conn()
        else:
            raw.close()
    return Answer(response.status, dict(raw.headers), b"".join(chunks))


def _one_line(error: BaseException) -> str:
    """An exception as one short line (urllib3's messages nest and repeat themselves)."""
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        text = " ".join(str(error.reason).split())
    return text[:300]
