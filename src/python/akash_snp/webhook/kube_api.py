"""The few Kubernetes API calls of the TLS bootstrap, over HTTPS with the pod's ServiceAccount.

Deliberately not the `kubernetes` client: three calls (read and create a Secret, patch one
MutatingWebhookConfiguration) do not justify a dependency that adds 120 MB to the webhook image
and seconds to its start. In-cluster only: the API server's address comes from the environment the
kubelet sets, the credentials from the mounted ServiceAccount token and CA.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
MAX_RESPONSE_BYTES = 1 << 20
TIMEOUT_SECONDS = 10.0


class KubeApiError(Exception):
    """An API call failed; ``status`` is the HTTP status (0 when no answer came)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class KubeApi:
    """Where the API server is and how to authenticate to it."""

    base_url: str
    token_file: Path
    ca_file: Path

    @classmethod
    def in_cluster(
        cls, environ: dict[str, str] | None = None, account_dir: Path = SERVICE_ACCOUNT_DIR
    ) -> KubeApi:
        """The API server as the kubelet describes it to every container."""
        env = os.environ if environ is None else environ
        host = env.get("KUBERNETES_SERVICE_HOST")
        port = env.get("KUBERNETES_SERVICE_PORT", "443")
        if not host:
            raise KubeApiError("not in a cluster: KUBERNETES_SERVICE_HOST is not set")
        if ":" in host:  # an IPv6 address
            host = f"[{host}]"
        return cls(f"https://{host}:{port}", account_dir / "token", account_dir / "ca.crt")

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> dict[str, Any]:
        """One call; the decoded JSON answer, or KubeApiError with the API server's message."""
        try:
            token = self.token_file.read_text(encoding="ascii").strip()
            context = ssl.create_default_context(cafile=str(self.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise KubeApiError(f"no ServiceAccount credentials: {exc}") from None
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the API server's https URL
            self.base_url + path, data=data, method=method
        )
        request.add_header("Authorization", f"Bearer {token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=TIMEOUT_SECONDS, context=context
            ) as response:
                return _decode(response.read(MAX_RESPONSE_BYTES + 1), method, path)
        except urllib.error.HTTPError as exc:
            detail = _message(exc.read(MAX_RESPONSE_BYTES))
            raise KubeApiError(f"{method} {path}: HTTP {exc.code}: {detail}", exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            raise KubeApiError(f"{method} {path}: {exc}") from None


def _decode(raw: bytes, method: str, path: str) -> dict[str, Any]:
    if len(raw) > MAX_RESPONSE_BYTES:
        raise KubeApiError(f"{method} {path}: answer larger than {MAX_RESPONSE_BYTES} bytes")
    try:
        value = json.loads(raw)
    except ValueError:
        raise KubeApiError(f"{method} {path}: answer is not JSON") from None
    if not isinstance(value, dict):
        raise KubeApiError(f"{method} {path}: answer is not a JSON object")
    return value


def _message(raw: bytes) -> str:
    """The ``message`` of a Kubernetes Status object, else the start of the body."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw[:200].decode("utf-8", "replace")
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return str(value["message"])
    return raw[:200].decode("utf-8", "replace")
