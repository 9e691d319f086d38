from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from debian_image.oci import (
    LAYER_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    Layer,
    RuntimeConfig,
    archive,
    build_image,
    canonical_json,
    qualified_name,
)

RUNTIME = RuntimeConfig(
    entrypoint=("/app/bin/x",),
    user="65532:65532",
    env=("PATH=/usr/bin",),
    labels=(("org.opencontainers.image.revision", "abc"),),
)
LAYERS = [Layer(b"base layer tar", "base"), Layer(b"app layer tar", "app")]


def _files(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def test_canonical_json_sorts_keys_without_spaces() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()


def test_build_image_links_manifest_config_and_layers_by_digest() -> None:
    image = build_image(LAYERS, RUNTIME, "amd64")
    manifest = json.loads(image.manifest)
    config = json.loads(image.blobs[image.config_digest])
    layer_digests = ["sha256:" + hashlib.sha256(layer.tar).hexdigest() for layer in LAYERS]
    assert manifest["mediaType"] == MANIFEST_MEDIA_TYPE
    assert manifest["config"]["digest"] == image.config_digest
    assert [lay["digest"] for lay in manifest["layers"]] == layer_digests
    assert {lay["mediaType"] for lay in manifest["layers"]} == {LAYER_MEDIA_TYPE}
    assert config["rootfs"]["diff_ids"] == layer_digests
    assert config["config"]["User"] == "65532:65532"
    assert config["config"]["Labels"] == {"org.opencontainers.image.revision": "abc"}
    assert config["created"] == "1970-01-01T00:00:00Z"
    assert image.manifest_digest == "sha256:" + hashlib.sha256(image.manifest).hexdigest()


def test_archive_is_an_oci_layout_and_a_docker_archive_over_the_same_blobs() -> None:
    image = build_image(LAYERS, RUNTIME, "amd64")
    files = _files(archive(image, "sev-webhook", "latest"))
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert name == "blobs/sha256/" + hashlib.sha256(data).hexdigest()
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    tagged, pinned = index["manifests"]
    assert tagged["digest"] == pinned["digest"] == image.manifest_digest
    assert tagged["annotations"] == {
        "io.containerd.image.name": "docker.io/library/sev-webhook:latest",
        "org.opencontainers.image.ref.name": "latest",
    }
    assert pinned["annotations"] == {
        "io.containerd.image.name": f"docker.io/library/sev-webhook@{image.manifest_digest}"
    }
    (docker,) = json.loads(files["manifest.json"])
    assert docker["RepoTags"] == ["sev-webhook:latest"]
    assert docker["Config"] == "blobs/" + image.config_digest.replace(":", "/")
    assert [files[p] for p in docker["Layers"]] == [layer.tar for layer in LAYERS]


def test_archive_bytes_depend_only_on_the_inputs() -> None:
    first = archive(build_image(LAYERS, RUNTIME, "amd64"), "x", "1")
    assert first == archive(build_image(LAYERS, RUNTIME, "amd64"), "x", "1")
    assert first != archive(build_image(LAYERS, RUNTIME, "arm64"), "x", "1")


@pytest.mark.parametrize(
    ("repository", "qualified"),
    [
        ("sev-webhook", "docker.io/library/sev-webhook"),
        ("akash/sev-webhook", "docker.io/akash/sev-webhook"),
        ("localhost/sev-webhook", "localhost/sev-webhook"),
        ("registry.example:5000/a/b", "registry.example:5000/a/b"),
        ("ghcr.io/akash/sev-webhook", "ghcr.io/akash/sev-webhook"),
    ],
)
def test_qualified_name_follows_the_runtime_normalisation(repository: str, qualified: str) -> None:
    assert qualified_name(repository) == qualified
