"""Every documented combination of components renders, validates and keeps the invariants:
TLS (bootstrap | cert-manager | self-managed) x device access (node agent | device-plugin) x
injection (native sidecar | classic container), applied to a copy of an overlay. Self-managed TLS
uses the files written by the webhook's real certificate command."""

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

TLS = {
    "bootstrap": "tls-bootstrap",
    "cert-manager": "tls-cert-manager",
    "self-managed": "tls-self-managed",
}
DEVICE = {"agent": "node-agent", "device-plugin": "device-plugin"}
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
    chosen = [TLS[tls], DEVICE[device]] + [c for c in (INJECTION[injection],) if c]
    docs = render(_overlay_with(tree, "m7a", chosen))
    expect = Expect("m7a", "Genoa", tls, device, injection, ca_bundle=bundle)
    assert_invariants(docs, expect, tmp_path)


def _reorder_settings(tree: Path) -> list[str]:
    """Reverse the order of the settings in base/settings/config.yaml and of the generator's
    literals; return the new order of those settings."""
    path = tree / "base" / "settings" / "config.yaml"
    reordered = dict(reversed(yaml.safe_load(path.read_text()).items()))
    path.write_text(yaml.safe_dump(reordered, sort_keys=False))
    kustomization = tree / "base" / "kustomization.yaml"
    data = yaml.safe_load(kustomization.read_text())
    (generator,) = data["configMapGenerator"]
    generator["literals"] = list(reversed(generator["literals"]))
    kustomization.write_text(yaml.safe_dump(data, sort_keys=False))
    return list(reordered)


def test_reordered_settings_still_render_every_choice(
    tree: Path, render: Callable[[Path], list[Doc]], tmp_path: Path
) -> None:
    """Components and overlays set whole ConfigMap keys: the order of the settings is free."""
    order = _reorder_settings(tree)
    chosen = ["tls-cert-manager", "device-plugin", "sidecar-classic"]
    docs = render(_overlay_with(tree, "r6a", chosen))
    (config_map,) = (d for d in docs if d["kind"] == "ConfigMap" and "config.yaml" in d["data"])
    assert list(yaml.safe_load(config_map["data"]["config.yaml"])) == order
    assert order[0] == "on_error"
    expect = Expect("r6a", "Milan", "cert-manager", "device-plugin", "container")
    assert_invariants(docs, expect, tmp_path)


def test_a_settings_change_renames_the_config_map_and_rolls_the_webhook(
    tree: Path, render: Callable[[Path], list[Doc]]
) -> None:
    """The generated ConfigMap's name hashes its content, so a settings change (or a new pinned
    sidecar image) changes the webhook's pod template: `kubectl apply` rolls it out."""

    def config_volume(docs: list[Doc]) -> str:
        spec = one(docs, "Deployment", "sev-webhook")["spec"]["template"]["spec"]
        (name,) = (v["configMap"]["name"] for v in spec["volumes"] if "configMap" in v)
        return str(name)

    overlay = tree / "overlays" / "m7a"
    before = config_volume(render(overlay))
    settings = tree / "base" / "settings" / "config.yaml"
    settings.write_text(settings.read_text().replace("interval: 300", "interval: 120"))
    after_settings = config_volume(render(overlay))
    kustomization = overlay / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("0" * 64, "1" * 64))
    after_image = config_volume(render(overlay))
    assert len({before, after_settings, after_image}) == 3
    assert before.startswith("sev-webhook-config-")


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
    """Choosing two TLS components is a render error, not two writers of one certificate."""
    _make_certs(tree, capsys)
    for pair in (["tls-cert-manager", "tls-self-managed"], ["tls-bootstrap", "tls-cert-manager"]):
        result = kustomize(kubectl, _overlay_with(tree, "m6a", pair))
        assert result.returncode != 0
        assert "sev-webhook-tls-choice" in result.stderr
