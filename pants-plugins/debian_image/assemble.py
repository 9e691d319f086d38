"""From locked .deb files and a PEX to an image archive, its digests and its SBOM: the whole build
as one pure function (the Pants rule only fetches the inputs and writes the outputs)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from debian_image.debfile import deb_entries
from debian_image.errors import ImageBuildError
from debian_image.fsentry import DIRECTORY, FILE, FsEntry
from debian_image.lock import Lock
from debian_image.oci import Layer, RuntimeConfig, archive, build_image
from debian_image.pexinfo import pex_distributions
from debian_image.rootfs import base_rootfs
from debian_image.sbom import spdx_document
from debian_image.tarlayer import write_tar

APP_DIR = "app"
USER_NAME = "nonroot"
NONROOT_UID = 65532
PEX_ROOT = "/tmp/pex"  # noqa: S108 (inside the image: /tmp is the only writable directory)


@dataclass(frozen=True)
class ImageRequest:
    """What one image is: its name and tag, the PEX's file name, and how it runs."""

    repository: str
    tag: str
    pex_name: str
    entrypoint: tuple[str, ...]
    user: str
    env: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    debian_release: str


@dataclass(frozen=True)
class BuiltImage:
    """The archive bytes and what identifies and describes them."""

    archive: bytes
    manifest_digest: str
    config_digest: str
    layer_sizes: tuple[int, ...]
    sbom: str


def verified_debs(lock: Lock, debs: Mapping[str, bytes]) -> list[tuple[str, bytes]]:
    """The lock's packages with their bytes, each checked against its locked SHA-256 and size."""
    result = []
    for package in lock.packages:
        data = debs.get(package.name)
        if data is None:
            raise ImageBuildError(f"{package.name} {package.version} was not fetched")
        actual = hashlib.sha256(data).hexdigest()
        if actual != package.sha256 or len(data) != package.size:
            raise ImageBuildError(
                f"{package.name}: fetched sha256 {actual} size {len(data)}, "
                f"locked {package.sha256} size {package.size}"
            )
        result.append((package.name, data))
    return result


def base_layer(lock: Lock, debs: Mapping[str, bytes]) -> bytes:
    """The base layer tar: the locked packages' root file system, shared by every image; checked
    against the lock's recorded digest when it has one."""
    packages = [(name, deb_entries(data)) for name, data in verified_debs(lock, debs)]
    layer = write_tar(base_rootfs(packages, USER_NAME, NONROOT_UID))
    actual = hashlib.sha256(layer).hexdigest()
    if lock.base_layer_sha256 and actual != lock.base_layer_sha256:
        raise ImageBuildError(
            f"the base layer's sha256 is {actual}, the lock records {lock.base_layer_sha256}: "
            "the image builder changed or does not build the same bytes here; after an intended "
            "change run refresh_lock.py --digest-only and review"
        )
    return layer


def pex_layer(pex_name: str, pex: bytes) -> bytes:
    """The application layer: /app/<pex> only."""
    return write_tar(
        [FsEntry(APP_DIR, DIRECTORY, 0o755), FsEntry(f"{APP_DIR}/{pex_name}", FILE, 0o755, pex)]
    )


def assemble(request: ImageRequest, lock: Lock, base: bytes, pex: bytes) -> BuiltImage:
    """The image of `base` (see base_layer) plus the PEX, as an archive with its SBOM."""
    if not all(part.isdigit() for part in request.user.split(":")):
        raise ImageBuildError(f"user {request.user!r} must be numeric uid[:gid]")
    runtime = RuntimeConfig(
        entrypoint=request.entrypoint,
        user=request.user,
        env=(
            "PATH=/usr/local/bin:/usr/bin:/bin",
            f"PEX_ROOT={PEX_ROOT}",
            "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
            "PYTHONDONTWRITEBYTECODE=1",
            *request.env,
        ),
        labels=request.labels,
    )
    layers = [
        Layer(base, f"debian_image: {len(lock.packages)} Debian {lock.suite} packages"),
        Layer(pex_layer(request.pex_name, pex), f"debian_image: /{APP_DIR}/{request.pex_name}"),
    ]
    image = build_image(layers, runtime, lock.architecture)
    reference = f"{request.repository}:{request.tag}"
    sbom = spdx_document(
        request.repository,
        image.manifest_digest,
        lock.architecture,
        request.debian_release,
        lock.packages,
        pex_distributions(pex),
    )
    return BuiltImage(
        archive=archive(image, reference),
        manifest_digest=image.manifest_digest,
        config_digest=image.config_digest,
        layer_sizes=tuple(len(layer.tar) for layer in layers),
        sbom=sbom,
    )
