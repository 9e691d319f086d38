"""Certificate reload: a real TLS handshake sees the new certificate; broken pairs keep the old."""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from akash_snp.webhook.certs_command import Issued, make_ca, make_serving_cert
from akash_snp.webhook.tls import CertificateReloader, TLSFilesError, build_context


def _issue() -> Issued:
    now = datetime.datetime.now(datetime.UTC)
    return make_serving_cert(make_ca("t", now, 2), "hook", "ns", now, 1, ["127.0.0.1"])


def _write(folder: Path, issued: Issued) -> tuple[Path, Path]:
    cert, key = folder / "tls.crt", folder / "tls.key"
    for path, data in (
        (cert, issued.cert.public_bytes(serialization.Encoding.PEM)),
        (
            key,
            issued.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        ),
    ):
        temp = path.with_suffix(".tmp")
        temp.write_bytes(data)
        os.replace(temp, path)
    return cert, key


def _served_certificate(context: ssl.SSLContext) -> x509.Certificate:
    """Run one real handshake over a socketpair and return what the server presented."""
    server_sock, client_sock = socket.socketpair()
    client_context = ssl.create_default_context()
    client_context.check_hostname = False
    client_context.verify_mode = ssl.CERT_NONE

    def serve() -> None:
        with context.wrap_socket(server_sock, server_side=True):
            pass

    thread = threading.Thread(target=serve)
    thread.start()
    with client_context.wrap_socket(client_sock) as tls:
        der = tls.getpeercert(binary_form=True)
    thread.join()
    assert der is not None
    return x509.load_der_x509_certificate(der)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_reloader_serves_the_new_certificate_after_the_check_interval(tmp_path: Path) -> None:
    first, second = _issue(), _issue()
    cert, key = _write(tmp_path, first)
    clock = FakeClock()
    reloader = CertificateReloader(cert, key, check_interval=1.0, clock=clock)
    assert _served_certificate(reloader.context()) == first.cert

    _write(tmp_path, second)
    assert _served_certificate(reloader.context()) == first.cert  # not yet checked
    clock.now = 1.5
    assert _served_certificate(reloader.context()) == second.cert


def test_mismatched_pair_keeps_the_previous_context(tmp_path: Path) -> None:
    first, second = _issue(), _issue()
    cert, key = _write(tmp_path, first)
    clock = FakeClock()
    reloader = CertificateReloader(cert, key, check_interval=1.0, clock=clock)
    cert.write_bytes(second.cert.public_bytes(serialization.Encoding.PEM))  # key not yet replaced
    clock.now = 2.0
    assert _served_certificate(reloader.context()) == first.cert
    _write(tmp_path, second)  # the key arrives: the next check picks the pair up
    clock.now = 4.0
    assert _served_certificate(reloader.context()) == second.cert


def test_build_context_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(TLSFilesError, match="does not exist"):
        build_context(tmp_path / "missing.crt", tmp_path / "missing.key")
    (tmp_path / "a.crt").write_text("junk")
    (tmp_path / "a.key").write_text("junk")
    with pytest.raises(TLSFilesError, match="cannot load TLS certificate"):
        build_context(tmp_path / "a.crt", tmp_path / "a.key")


def test_server_context_switches_each_handshake_to_the_current_certificate(
    tmp_path: Path,
) -> None:
    first, second = _issue(), _issue()
    cert, key = _write(tmp_path, first)
    clock = FakeClock()
    reloader = CertificateReloader(cert, key, check_interval=1.0, clock=clock)
    listening = reloader.server_context()
    assert _served_certificate(listening) == first.cert
    _write(tmp_path, second)
    clock.now = 1.5
    assert _served_certificate(listening) == second.cert
