"""From locked .deb files and a PEX to an image archive, its digests and its SBOM: the whole build
as one pure function (the Pants rule only fetches the inputs and writes the outputs)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from debian_image.debfile import deb_entries
from debian_image.errors import ImageBuildError
from debian_image.fsentry import FsEntry
from debian_image.install import InstalledPex, launcher
from debian_image.lock import Lock
from debian_image.oci import Layer, RuntimeConfig, archive, build_image
from debian_image.pexinfo import PythonDistribution
from debian_image.rootfs import base_rootfs
from debian_image.sbom import spdx_document
from debian_image.tarlayer import write_tar

USER_NAME = "nonroot"
NONROOT_UID = 65532


@dataclass(frozen=True)
class ImageRequest:
    """What one image is: its name and tag, its program's name, and how it runs."""

    repository: str
    tag: str
    program: str
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


def app_layer(program: str, installed: InstalledPex, bytecode: Sequence[FsEntry]) -> bytes:
    """The application layer: the installed PEX, its compiled bytecode and the launcher."""
    return write_tar([*installed.files, *bytecode, launcher(program, installed.entry_point)])


def assemble(
    request: ImageRequest,
    lock: Lock,
    base: bytes,
    stdlib_bytecode: Sequence[FsEntry],
    installed: InstalledPex,
    bytecode: Sequence[FsEntry],
    distributions: Sequence[PythonDistribution],
) -> BuiltImage:
    """The image of `base` (see base_layer), the standard library's bytecode (a layer of its own,
    the same in every image) and the installed program, as an archive with its SBOM
    (`distributions`: the Python distributions the program holds)."""
    if not all(part.isdigit() for part in request.user.split(":")):
        raise ImageBuildError(f"user {request.user!r} must be numeric uid[:gid]")
    runtime = RuntimeConfig(
        entrypoint=request.entrypoint,
        user=request.user,
        env=(
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
            *request.env,
        ),
        labels=request.labels,
    )
    layers = [
        Layer(base, f"debian_image: {len(lock.packages)} Debian {lock.suite} packages"),
        Layer(write_tar(stdlib_bytecode), "debian_image: standard library bytecode"),
        Layer(
            app_layer(request.program, installed, bytecode),
            f"debian_image: /app/bin/{request.program} ({installed.entry_point})",
        ),
    ]
    image = build_image(layers, runtime, lock.architecture)
    sbom = spdx_document(
        request.repository,
        image.manifest_digest,
        lock.architecture,
        request.debian_release,
        lock.packages,
        distributions,
    )
    return BuiltImage(
        archive=archive(image, request.repository, request.tag),
        manifest_digest=image.manifest_digest,
        config_digest=image.config_digest,
        layer_sizes=tuple(len(layer.tar) for layer in layers),
        sbom=sbom,
    )
