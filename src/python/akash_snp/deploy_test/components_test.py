"""Every documented combination of components renders, validates and keeps the invariants:
TLS (cert-manager | self-managed) x device access (privileged | device-plugin) x injection
(native sidecar | classic container), applied to a copy of an overlay. Self-managed TLS uses the
files written by the webhook's real certificate command."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from akash_snp.deploy_test.conftest import kustomize
from akash_snp.deploy_test.manifests import Doc, Expect, assert_invariants, one
from akash_snp.webhook.certs_command import main as certs_main

TLS = {"cert-manager": "tls-cert-manager", "self-managed": "tls-self-managed"}
DEVICE = {"privileged": None, "device-plugin": "device-plugin"}
INJECTION = {"native-sidecar": None, "container": "sidecar-classic"}


def _overlay_with(tree: Path, family: str, components: list[str]) -> Path:
    """The copied overlay ``family`` with its TLS/option components replaced by ``components``."""
    path = tree / "overlays" / family / "kustomization.yaml"
    data = yaml.safe_load(path.read_text())
    product = [c for c in data["components"] if "/product-" in c]
    assert len(product) == 1
    data["components"] = [f"../../components/{c}" for c in components] + product
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path.parent


@pytest.fixture()
def tree(kustomize_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "kustomize"
    shutil.copytree(kustomize_dir, copy)
    return copy


def _make_certs(tree: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Run `sev-webhook certs` into the component's tls/ folder; return the printed caBundle."""
    capsys.readouterr()
    out_dir = tree / "components" / "tls-self-managed" / "tls"
    assert (
        certs_main(
            ["--service", "sev-webhook", "--namespace", "sev-webhook", "--out-dir", str(out_dir)]
        )
        == 0
    )
    return capsys.readouterr().out.strip()


@pytest.mark.parametrize(
    ("tls", "device", "injection"), list(itertools.product(TLS, DEVICE, INJECTION))
)
def test_component_combination(
    tls: str,
    device: str,
    injection: str,
    tree: Path,
    render: Callable[[Path], list[Doc]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    bundle = _make_certs(tree, capsys) if tls == "self-managed" else None
    chosen = [TLS[tls]] + [c for c in (DEVICE[device], INJECTION[injection]) if c]
    docs = render(_overlay_with(tree, "m7a", chosen))
    expect = Expect("m7a", "Genoa", tls, device, injection, ca_bundle=bundle)
    assert_invariants(docs, expect, tmp_path)


def _reorder_settings(tree: Path) -> list[str]:
    """Reverse the order of base/config.yaml's data keys and of the settings in its config.yaml;
    return the new order of those settings."""
    path = tree / "base" / "config.yaml"
    config_map = yaml.safe_load(path.read_text())
    settings = yaml.safe_load(config_map["data"]["config.yaml"])
    reordered = dict(reversed(settings.items()))
    data = dict(reversed(config_map["data"].items()))
    data["config.yaml"] = yaml.safe_dump(reordered, sort_keys=False)
    config_map["data"] = data
    path.write_text(yaml.safe_dump(config_map, sort_keys=False))
    return list(reordered)


def test_reordered_settings_still_render_every_choice(
    tree: Path, render: Callable[[Path], list[Doc]], tmp_path: Path
) -> None:
    """Components and overlays set whole ConfigMap keys: the order of the settings is free."""
    order = _reorder_settings(tree)
    chosen = ["tls-cert-manager", "device-plugin", "sidecar-classic"]
    docs = render(_overlay_with(tree, "r6a", chosen))
    rendered = one(docs, "ConfigMap", "sev-webhook-config")["data"]["config.yaml"]
    assert list(yaml.safe_load(rendered)) == order
    assert order[0] == "on_error"
    expect = Expect("r6a", "Milan", "cert-manager", "device-plugin", "container")
    assert_invariants(docs, expect, tmp_path)


def test_replacements_copy_whole_fields(kustomize_dir: Path) -> None:
    """No replacement edits a piece of a text value (options.delimiter/index)."""
    checked = 0
    for path in sorted(kustomize_dir.rglob("kustomization.yaml")):
        for replacement in yaml.safe_load(path.read_text()).get("replacements", []):
            for target in replacement["targets"]:
                checked += 1
                options = target.get("options", {})
                assert not {"delimiter", "index"} & set(options), f"{path}: {options}"
    assert checked >= 7  # six overlays' image, the self-managed caBundle


def test_self_managed_tls_without_certificate_files_fails_to_render(
    tree: Path, kubectl: str
) -> None:
    result = kustomize(kubectl, _overlay_with(tree, "c7a", ["tls-self-managed"]))
    assert result.returncode != 0
    assert "tls.crt" in result.stderr


def test_both_tls_components_are_refused(
    tree: Path, kubectl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Choosing both TLS components is a render error, not two writers of one Secret."""
    _make_certs(tree, capsys)
    overlay = _overlay_with(tree, "m6a", ["tls-cert-manager", "tls-self-managed"])
    result = kustomize(kubectl, overlay)
    assert result.returncode != 0
    assert "sev-webhook-tls-choice" in result.stderr
