"""Line-preserving digest pinning: comments survive, odd layouts fail closed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from akash_snp.deploy_tools.pin_digests import (
    PinError,
    normalize_digest,
    parse_digests,
    pin_tree,
    rewrite_images,
)

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
ZERO = "sha256:" + "0" * 64

OVERLAY = f"""# an overlay
resources:
  - ../../base
images:
  # the webhook
  - name: sev-webhook
    digest: {ZERO} # placeholder
  - name: sev-attestation
    newName: registry.example/sev-attestation
patches: []
"""


def _images(text: str) -> dict[str, dict[str, str]]:
    return {i["name"]: i for i in yaml.safe_load(text)["images"]}


def _real_kustomize_dir() -> Path:
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "deploy" / "kustomize"
        if candidate.is_dir():
            return candidate
    raise AssertionError("deploy/kustomize not found above this test")


def test_replaces_and_inserts_digests_keeping_comments_and_other_keys() -> None:
    text, found = rewrite_images(OVERLAY, {"sev-webhook": A, "sev-attestation": B}, "k.yaml")
    assert found == {"sev-webhook", "sev-attestation"}
    images = _images(text)
    assert images["sev-webhook"]["digest"] == A
    assert images["sev-attestation"] == {
        "name": "sev-attestation",
        "newName": "registry.example/sev-attestation",
        "digest": B,
    }
    assert "# the webhook\n" in text
    assert "# an overlay\n" in text
    assert yaml.safe_load(text)["patches"] == []


def test_unlisted_images_and_files_without_images_are_left_alone() -> None:
    text, found = rewrite_images(OVERLAY, {"other": A}, "k.yaml")
    assert (text, found) == (OVERLAY, set())
    plain = "resources:\n  - a.yaml\n"
    assert rewrite_images(plain, {"sev-webhook": A}, "k.yaml") == (plain, set())


def test_list_items_at_column_zero() -> None:
    text = "images:\n- name: sev-webhook\n  digest: " + ZERO + "\nresources: []\n"
    new_text, _ = rewrite_images(text, {"sev-webhook": A}, "k.yaml")
    assert _images(new_text)["sev-webhook"]["digest"] == A


def test_flow_style_list_fails_closed() -> None:
    text = "images: [{name: sev-webhook, digest: " + ZERO + "}]\n"
    with pytest.raises(PinError, match="could not be pinned"):
        rewrite_images(text, {"sev-webhook": A}, "k.yaml")


def test_new_tag_is_refused() -> None:
    text = "images:\n  - name: sev-webhook\n    newTag: v1\n"
    with pytest.raises(PinError, match="newTag"):
        rewrite_images(text, {"sev-webhook": A}, "k.yaml")


@pytest.mark.parametrize(
    "value",
    ["sha256:" + "A" * 64, "sha256:abc", "sha512:" + "a" * 128, "", 5, None, {"d": "x"}],
)
def test_bad_digests_are_refused(value: object) -> None:
    with pytest.raises(PinError, match="not a digest"):
        normalize_digest("sev-webhook", value)


def test_digest_forms_accepted() -> None:
    assert normalize_digest("x", "a" * 64) == A
    assert normalize_digest("x", {"digest": A}) == A
    text = json.dumps({"sev-webhook": A, "sev-attestation": {"digest": B}})
    assert parse_digests(text) == {
        "sev-webhook": A,
        "sev-attestation": B,
    }


@pytest.mark.parametrize("text", ["not json", "[]", "{}", '"x"'])
def test_bad_digests_files_are_refused(text: str) -> None:
    with pytest.raises(PinError):
        parse_digests(text)


def test_pins_every_overlay_of_the_real_tree_and_is_idempotent(tmp_path: Path) -> None:
    root = tmp_path / "kustomize"
    shutil.copytree(_real_kustomize_dir(), root)
    digests = {"sev-webhook": A, "sev-attestation": B}
    changed = pin_tree(root, digests)
    overlays = sorted(p for p in (root / "overlays").iterdir() if p.is_dir())
    assert len(overlays) == 6
    assert changed == [p / "kustomization.yaml" for p in overlays]
    for overlay in overlays:
        images = _images((overlay / "kustomization.yaml").read_text())
        assert images["sev-webhook"]["digest"] == A
        assert images["sev-attestation"]["digest"] == B
    assert pin_tree(root, digests) == []


def test_unknown_image_name_writes_nothing(tmp_path: Path) -> None:
    overlay = tmp_path / "overlays" / "m7a" / "kustomization.yaml"
    overlay.parent.mkdir(parents=True)
    overlay.write_text(OVERLAY)
    with pytest.raises(PinError, match="sev-webhok"):
        pin_tree(tmp_path, {"sev-webhook": A, "sev-webhok": B})
    assert overlay.read_text() == OVERLAY


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PinError, match="not a directory"):
        pin_tree(tmp_path / "absent", {"sev-webhook": A})
