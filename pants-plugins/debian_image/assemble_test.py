from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import tarfile

import pytest

from debian_image import fakes
from debian_image.assemble import BuiltImage, ImageRequest, assemble, base_layer
from debian_image.errors import ImageBuildError
from debian_image.fsentry import FILE, FsEntry
from debian_image.install import install_pex
from debian_image.lock import Lock, LockedPackage
from debian_image.pexinfo import pex_distributions

DEBS = {
    "python3.11-minimal": fakes.deb({"usr/bin/python3.11": b"ELF python"}),
    "ca-certificates": fakes.deb({"usr/share/ca-certificates/mozilla/A.crt": b"CERT A\n"}),
}
PEX = fakes.pex(
    {"Flask-3.1.3-py3-none-any.whl": "f" * 40},
    {
        ".deps/Flask-3.1.3-py3-none-any.whl/flask/__init__.py": b"flask",
        "akash_snp/webhook/main.py": b"def main(): pass",
    },
    entry_point="akash_snp.webhook.main:main",
)
INSTALLED = install_pex(PEX)
BYTECODE = (
    FsEntry("app/site-packages/flask/__pycache__/__init__.cpython-311.pyc", FILE, 0o644, b"pyc"),
)
STDLIB_BYTECODE = (
    FsEntry("usr/lib/python3.11/__pycache__/enum.cpython-311.pyc", FILE, 0o644, b"enum pyc"),
)
DISTRIBUTIONS = pex_distributions(PEX)
REQUEST = ImageRequest(
    repository="sev-webhook",
    tag="latest",
    program="sev-webhook",
    entrypoint=("/app/bin/sev-webhook",),
    user="65532:65532",
    env=("EXTRA=1",),
    labels=(("org.opencontainers.image.revision", "abc123"),),
    debian_release="12",
)


def _build(request: ImageRequest, lock: Lock, base: bytes) -> BuiltImage:
    return assemble(request, lock, base, STDLIB_BYTECODE, INSTALLED, BYTECODE, DISTRIBUTIONS)


def _lock(debs: dict[str, bytes]) -> Lock:
    packages = tuple(
        LockedPackage(
            name, "1", f"pool/main/x/{name}_1_all.deb", hashlib.sha256(data).hexdigest(), len(data)
        )
        for name, data in sorted(debs.items())
    )
    return Lock("bookworm", "amd64", (), (), (), packages)


def _members(tar_bytes: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        return {
            m.name: (tar.extractfile(m).read() if m.isfile() else b"")  # type: ignore[union-attr]
            for m in tar.getmembers()
        }


def test_assemble_gives_identical_bytes_for_identical_inputs() -> None:
    lock = _lock(DEBS)
    first = _build(REQUEST, lock, base_layer(lock, DEBS))
    second = _build(REQUEST, lock, base_layer(lock, dict(reversed(DEBS.items()))))
    assert first == second
    other_revision = dataclasses.replace(
        REQUEST, labels=(("org.opencontainers.image.revision", "x"),)
    )
    assert _build(other_revision, lock, base_layer(lock, DEBS)).manifest_digest != (
        first.manifest_digest
    )


def test_assembled_image_holds_the_rootfs_the_pex_and_the_runtime_config() -> None:
    lock = _lock(DEBS)
    built = _build(REQUEST, lock, base_layer(lock, DEBS))
    files = _members(built.archive)
    (docker,) = json.loads(files["manifest.json"])
    base, stdlib, app = (_members(files[path]) for path in docker["Layers"])
    assert stdlib["usr/lib/python3.11/__pycache__/enum.cpython-311.pyc"] == b"enum pyc"
    assert base["usr/bin/python3.11"] == b"ELF python"
    assert base["etc/ssl/certs/ca-certificates.crt"] == b"CERT A\n"
    assert "etc/passwd" in base
    assert "tmp" in base
    assert app["app/site-packages/flask/__init__.py"] == b"flask"
    assert app["app/site-packages/akash_snp/webhook/main.py"] == b"def main(): pass"
    assert app["app/site-packages/flask/__pycache__/__init__.cpython-311.pyc"] == b"pyc"
    assert b"from akash_snp.webhook.main import main" in app["app/bin/sev-webhook"]
    assert not any(name.endswith(".pex") for name in app)
    config = json.loads(files[docker["Config"]])["config"]
    assert config["Entrypoint"] == ["/app/bin/sev-webhook"]
    assert config["User"] == "65532:65532"
    assert not any(e.startswith("PEX_ROOT=") for e in config["Env"])
    assert "EXTRA=1" in config["Env"]
    assert built.layer_sizes == tuple(len(files[layer]) for layer in docker["Layers"])
    sbom = json.loads(built.sbom)
    assert sbom["name"] == f"sev-webhook@{built.manifest_digest}"
    assert {p["name"] for p in sbom["packages"]} >= {"python3.11-minimal", "flask"}


def test_base_layer_refuses_a_package_that_does_not_match_the_lock() -> None:
    lock = _lock(DEBS)
    tampered = {**DEBS, "ca-certificates": fakes.deb({"usr/share/ca-certificates/evil.crt": b"E"})}
    with pytest.raises(ImageBuildError, match="ca-certificates: fetched sha256"):
        base_layer(lock, tampered)
    with pytest.raises(ImageBuildError, match="was not fetched"):
        base_layer(lock, {"python3.11-minimal": DEBS["python3.11-minimal"]})


def test_assemble_refuses_a_user_name() -> None:
    lock = _lock(DEBS)
    with pytest.raises(ImageBuildError, match="numeric"):
        _build(dataclasses.replace(REQUEST, user="nonroot"), lock, base_layer(lock, DEBS))


def test_base_layer_is_checked_against_the_digest_the_lock_records() -> None:
    lock = _lock(DEBS)
    digest = hashlib.sha256(base_layer(lock, DEBS)).hexdigest()
    recorded = dataclasses.replace(lock, base_layer_sha256=digest)
    assert hashlib.sha256(base_layer(recorded, DEBS)).hexdigest() == digest
    stale = dataclasses.replace(lock, base_layer_sha256="0" * 64)
    with pytest.raises(ImageBuildError, match=f"sha256 is {digest}, the lock records 0000"):
        base_layer(stale, DEBS)
