"""OCI image config, manifest and index, and one archive that is both an OCI image layout and a
`docker load` archive (its manifest.json points at the same blobs).

Layers are stored uncompressed: gzip output depends on the zlib build, while an uncompressed tar
depends only on its entries, so digests are the same on every machine. Registries accept
uncompressed layers; tools may compress on push.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from debian_image.fsentry import FILE, FsEntry
from debian_image.tarlayer import write_tar

CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
EPOCH = "1970-01-01T00:00:00Z"


def canonical_json(value: object) -> bytes:
    """Compact JSON with sorted keys: one byte string per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_digest(data: bytes) -> str:
    """A content digest as OCI writes it."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class RuntimeConfig:
    """What the container runs and as whom."""

    entrypoint: tuple[str, ...]
    user: str
    env: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    workdir: str = "/"


@dataclass(frozen=True)
class Layer:
    """An uncompressed layer tar and a line for the image history."""

    tar: bytes
    created_by: str


@dataclass(frozen=True)
class Image:
    """All blobs of one image by digest, and the digests that identify it."""

    blobs: Mapping[str, bytes]
    config_digest: str
    manifest_digest: str
    manifest: bytes
    layer_digests: tuple[str, ...]


def build_image(layers: Sequence[Layer], runtime: RuntimeConfig, architecture: str) -> Image:
    """Config, manifest and blobs for the layers (lowest first)."""
    digested = [(sha256_digest(layer.tar), layer) for layer in layers]
    layer_digests = tuple(digest for digest, _ in digested)
    config = {
        "architecture": architecture,
        "os": "linux",
        "created": EPOCH,
        "config": {
            "Entrypoint": list(runtime.entrypoint),
            "Env": list(runtime.env),
            "User": runtime.user,
            "WorkingDir": runtime.workdir,
            "Labels": dict(runtime.labels),
        },
        "rootfs": {"type": "layers", "diff_ids": list(layer_digests)},
        "history": [{"created": EPOCH, "created_by": layer.created_by} for layer in layers],
    }
    config_bytes = canonical_json(config)
    config_digest = sha256_digest(config_bytes)
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {
                "mediaType": CONFIG_MEDIA_TYPE,
                "digest": config_digest,
                "size": len(config_bytes),
            },
            "layers": [
                {"mediaType": LAYER_MEDIA_TYPE, "digest": digest, "size": len(layer.tar)}
                for digest, layer in digested
            ],
            "annotations": dict(runtime.labels),
        }
    )
    blobs = {digest: layer.tar for digest, layer in digested}
    blobs[config_digest] = config_bytes
    manifest_digest = sha256_digest(manifest)
    blobs[manifest_digest] = manifest
    return Image(blobs, config_digest, manifest_digest, manifest, layer_digests)


def _blob_path(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def qualified_name(repository: str) -> str:
    """The fully qualified name a container runtime resolves `repository` to (Docker's rule: a
    first component without "." or ":" that is not "localhost" is a Docker Hub path), so that the
    names recorded in the archive are the ones the kubelet asks containerd for."""
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return repository
    if not rest:
        return f"docker.io/library/{repository}"
    return f"docker.io/{repository}"


def archive(image: Image, repository: str, tag: str) -> bytes:
    """One tar holding the OCI image layout and docker-archive's manifest.json over the same blobs.

    index.json lists the manifest twice, under `<name>:<tag>` and under `<name>@<manifest
    digest>` (containerd's `io.containerd.image.name`), so a plain `ctr images import` creates
    both references and a pod that pins the image by digest finds it without a registry.
    """
    name = qualified_name(repository)
    descriptor = {
        "mediaType": MANIFEST_MEDIA_TYPE,
        "digest": image.manifest_digest,
        "size": len(image.manifest),
    }
    index = {
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [
            {
                **descriptor,
                "annotations": {
                    "io.containerd.image.name": f"{name}:{tag}",
                    "org.opencontainers.image.ref.name": tag,
                },
            },
            {
                **descriptor,
                "annotations": {"io.containerd.image.name": f"{name}@{image.manifest_digest}"},
            },
        ],
    }
    reference = f"{repository}:{tag}"
    docker_manifest = [
        {
            "Config": _blob_path(image.config_digest),
            "RepoTags": [reference],
            "Layers": [_blob_path(d) for d in image.layer_digests],
        }
    ]
    entries = [FsEntry(_blob_path(d), FILE, 0o644, data) for d, data in image.blobs.items()]
    entries += [
        FsEntry("oci-layout", FILE, 0o644, canonical_json({"imageLayoutVersion": "1.0.0"})),
        FsEntry("index.json", FILE, 0o644, canonical_json(index)),
        FsEntry("manifest.json", FILE, 0o644, canonical_json(docker_manifest)),
    ]
    return write_tar(entries)
