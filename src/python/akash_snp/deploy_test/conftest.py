"""Rendering and validation shared by the deploy tests: kubectl's built-in kustomize renders the
tree shipped in deploy/kustomize (a Pants `files` target, found above this file), and
kubernetes-validate checks every object against the bundled official schemas, offline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

pytest.register_assert_rewrite("akash_snp.deploy_test.manifests")

from akash_snp.deploy_test.manifests import FAMILIES, Doc  # noqa: E402


def _find_kustomize_dir() -> Path:
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "deploy" / "kustomize"
        if (candidate / "base" / "kustomization.yaml").is_file():
            return candidate
    raise AssertionError("deploy/kustomize not found above this test (Pants: //deploy:kustomize)")


@pytest.fixture(scope="session")
def kustomize_dir() -> Path:
    return _find_kustomize_dir()


@pytest.fixture(scope="session")
def kubectl() -> str:
    """kubectl on PATH, with a kustomize new enough for components, replacements, local-config."""
    path = shutil.which("kubectl")
    if path is None:
        pytest.fail("kubectl not found on PATH: the deploy tests render with `kubectl kustomize`")
    result = subprocess.run(
        [path, "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    version = json.loads(result.stdout or "{}").get("kustomizeVersion", "")
    match = re.match(r"^v(\d+)\.", version)
    if result.returncode != 0 or not match or int(match.group(1)) < 5:
        pytest.fail(f"{path}: need kustomize v5 built in (got {version or result.stderr!r})")
    return path


def kustomize(kubectl: str, directory: Path) -> subprocess.CompletedProcess[str]:
    """Run `kubectl kustomize directory`."""
    return subprocess.run(
        [kubectl, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def render(kubectl: str) -> Callable[[Path], list[Doc]]:
    def _render(directory: Path) -> list[Doc]:
        result = kustomize(kubectl, directory)
        if result.returncode != 0:
            pytest.fail(f"kubectl kustomize {directory} failed: {result.stderr.strip()}")
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    return _render


@pytest.fixture(scope="session")
def rendered_overlays(
    kustomize_dir: Path, render: Callable[[Path], list[Doc]]
) -> dict[str, list[Doc]]:
    """Every shipped overlay, rendered once per session."""
    overlays = sorted(p.name for p in (kustomize_dir / "overlays").iterdir() if p.is_dir())
    assert overlays == sorted(FAMILIES), "overlays and the documented families differ"
    return {name: render(kustomize_dir / "overlays" / name) for name in overlays}
