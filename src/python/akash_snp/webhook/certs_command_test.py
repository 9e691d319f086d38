"""The operator certificate command: files, SANs, chain, caBundle, CA reuse, patch body."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from akash_snp.webhook.certs_command import (
    CertsError,
    ca_bundle,
    ca_bundle_patch,
    main,
    make_ca,
    make_serving_cert,
    service_dns_names,
)


def test_service_names() -> None:
    assert service_dns_names("hook", "sys") == [
        "hook",
        "hook.sys",
        "hook.sys.svc",
        "hook.sys.svc.cluster.local",
    ]


def test_serving_cert_is_issued_by_the_ca_for_the_service() -> None:
    now = datetime.datetime.now(datetime.UTC)
    ca = make_ca("test-ca", now, 10)
    serving = make_serving_cert(ca, "hook", "sys", now, 5, ip_addresses=["127.0.0.1"])
    serving.cert.verify_directly_issued_by(ca.cert)
    san = serving.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "hook.sys.svc" in san.get_values_for_type(x509.DNSName)
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    eku = serving.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    basic = serving.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca is False
    assert serving.cert.not_valid_after_utc - now < datetime.timedelta(days=5, minutes=1)


def test_main_writes_files_prints_bundle_and_reuses_the_ca(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tls"
    assert main(["--service", "hook", "--namespace", "sys", "--out-dir", str(out)]) == 0
    bundle = capsys.readouterr().out.strip()
    ca_pem = (out / "ca.crt").read_bytes()
    assert base64.b64decode(bundle) == ca_pem
    assert stat.S_IMODE((out / "tls.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "ca.key").stat().st_mode) == 0o600
    first_serving = (out / "tls.crt").read_bytes()

    assert main(["--service", "hook", "--namespace", "sys", "--out-dir", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == bundle  # same CA, same caBundle
    assert "reusing the CA" in captured.err
    assert (out / "tls.crt").read_bytes() != first_serving
    serving = x509.load_pem_x509_certificate((out / "tls.crt").read_bytes())
    serving.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_pem))


def test_main_rejects_an_unusable_ca(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ca.crt").write_text("junk")
    (tmp_path / "ca.key").write_text("junk")
    assert main(["--out-dir", str(tmp_path)]) == 2
    assert "cannot reuse the CA" in capsys.readouterr().err


def test_bad_ip_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--out-dir", str(tmp_path), "--ip", "not-an-ip"])
    assert exc.value.code == 2


def test_ca_bundle_patch_guards_each_webhook_by_name() -> None:
    now = datetime.datetime.now(datetime.UTC)
    bundle = ca_bundle(make_ca("x", now, 1).cert)
    ops = ca_bundle_patch({"webhooks": [{"name": "a.example"}, {"name": "b.example"}]}, bundle)
    assert ops == [
        {"op": "test", "path": "/webhooks/0/name", "value": "a.example"},
        {"op": "add", "path": "/webhooks/0/clientConfig/caBundle", "value": bundle},
        {"op": "test", "path": "/webhooks/1/name", "value": "b.example"},
        {"op": "add", "path": "/webhooks/1/clientConfig/caBundle", "value": bundle},
    ]
    with pytest.raises(CertsError, match="no webhooks"):
        ca_bundle_patch({"webhooks": []}, bundle)
