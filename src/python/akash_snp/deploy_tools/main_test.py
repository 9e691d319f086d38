"""The pin-digests command line: exit codes, messages, and where it looks by default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from akash_snp.deploy_tools.main import main

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
OVERLAY = "images:\n  - name: sev-webhook\n  - name: generic-device-plugin\n"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    (tmp_path / "pants.toml").write_text("")
    overlay = tmp_path / "deploy" / "kustomize" / "overlays" / "m7a" / "kustomization.yaml"
    overlay.parent.mkdir(parents=True)
    overlay.write_text(OVERLAY)
    return tmp_path


def _digests(repo: Path) -> dict[str, str]:
    path = repo / "deploy" / "kustomize" / "overlays" / "m7a" / "kustomization.yaml"
    return {i["name"]: i.get("digest") for i in yaml.safe_load(path.read_text())["images"]}


def test_finds_the_tree_from_a_subdirectory_and_pins(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "dist").mkdir()
    (repo / "dist" / "digests.json").write_text(json.dumps({"sev-webhook": A}))
    monkeypatch.chdir(repo / "dist")
    code = main(["--digests", "digests.json", "--digest", f"generic-device-plugin={B}"])
    out, err = capsys.readouterr()
    assert code == 0
    assert _digests(repo) == {"sev-webhook": A, "generic-device-plugin": B}
    assert f"sev-webhook@{A}" in out
    assert "updated" in err
    assert "kustomization.yaml" in err
    assert main(["--digest", f"sev-webhook={A}"]) == 0
    assert "already pinned" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to pin"),
        (["--digest", "sev-webhook"], "NAME=DIGEST"),
        (["--digest", "sev-webhook=sha256:12"], "not a digest"),
        (["--digest", f"nope={A}"], "names nope"),
        (["--digests", "absent.json"], "cannot read"),
    ],
)
def test_unusable_input_is_one_line_and_exit_2(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(repo)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("pin-digests: ")
    assert err.count("\n") == 1
    assert _digests(repo) == {"sev-webhook": None, "generic-device-plugin": None}


def test_without_a_repository_asks_for_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--digest", f"sev-webhook={A}"]) == 2
    assert "--kustomize-dir" in capsys.readouterr().err


def test_explicit_directory(repo: Path) -> None:
    assert main(["--kustomize-dir", str(repo / "deploy"), "--digest", f"sev-webhook={A}"]) == 0
    assert _digests(repo)["sev-webhook"] == A
