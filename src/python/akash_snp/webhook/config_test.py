"""Config parsing, validation messages, settings directories (a mounted ConfigMap) and
reload-on-change with last-good fallback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from akash_snp.webhook.config import (
    ConfigError,
    ConfigSource,
    WebhookConfig,
    load_config,
    parse_config,
)


def test_defaults() -> None:
    config = parse_config(None)
    assert config == WebhookConfig()
    assert config.image == "sev-attestation:latest"
    assert (config.injection_mode, config.device_access, config.port, config.interval) == (
        "native-sidecar",
        "agent",
        8790,
        300,
    )
    assert config.agent_port == 8791
    assert config.is_excluded_namespace("kube-node-lease")
    assert not config.is_excluded_namespace("lease")


def test_a_removed_setting_is_refused() -> None:
    """require_sev_guest_device is gone: hostPaths without a type check created directories on
    the host; the agent mode needs no hostPath at all."""
    with pytest.raises(ConfigError, match="require_sev_guest_device"):
        parse_config({"require_sev_guest_device": False})


def test_own_namespace_is_excluded() -> None:
    assert parse_config({}, own_namespace="sev-webhook").is_excluded_namespace("sev-webhook")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a mapping"),
        ({"imagee": "x"}, "unknown setting"),
        ({"injection_mode": "sidecar"}, "injection_mode: 'sidecar' is not one of"),
        ({"port": 0}, "port: expected an integer in 1..65535"),
        ({"port": True}, "port"),
        ({"image": ""}, "image: expected a non-empty string"),
        ({"probes": "yes"}, "probes: expected true or false"),
        ({"env": {"1BAD": "x"}}, "not a valid environment variable name"),
        ({"env": ["A"]}, "env: expected a mapping"),
        ({"excluded_namespaces": ["Kube_System"]}, "not a namespace name"),
        ({"device_plugin_resource": "bad resource"}, "device_plugin_resource"),
        ({"resources_limits": {"memory": "128 MB"}}, "not a Kubernetes quantity"),
    ],
)
def test_invalid_values_are_named(data: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_load_config_reports_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("port: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    path.write_text('{"interval": 60, "env": {"A": 1}, "resources_requests": {"cpu": "0.5"}}')
    config = load_config(path)  # JSON is YAML too
    assert (config.interval, dict(config.env)) == (60, {"A": "1"})
    assert dict(config.resources_requests) == {"cpu": "0.5"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _replace(path: Path, text: str) -> None:
    temp = path.with_suffix(".new")
    temp.write_text(text)
    os.replace(temp, path)  # a new inode, like a ConfigMap's symlink swap


def test_source_reloads_on_change_and_keeps_last_good(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("interval: 60\n")
    clock = FakeClock()
    source = ConfigSource(path, check_interval=2.0, clock=clock)
    assert source.current().interval == 60

    _replace(path, "interval: 120\n")
    assert source.current().interval == 60  # not checked before the interval
    clock.now = 2.5
    assert source.current().interval == 120

    _replace(path, "interval: -1\n")
    clock.now = 5.0
    assert source.current().interval == 120  # invalid: the last good config stays

    _replace(path, "interval: 30\n")
    clock.now = 7.5
    assert source.current().interval == 30


def test_directory_files_override_config_yaml(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("interval: 60\nimage: old\nport: 9000\n")
    image = "registry.example/sev-attestation@sha256:" + "ab" * 32
    (tmp_path / "image").write_text(image + "\n")
    (tmp_path / "port").write_text("8791\n")  # a YAML scalar: the integer 8791
    (tmp_path / "device_access").write_text("device-plugin")
    (tmp_path / "configfs_tsm").write_text("false\n")
    (tmp_path / "..2026_01_01_00_00_00.1").mkdir()  # kubelet internals are skipped
    (tmp_path / "..data_tmp").write_text("not: [yaml")
    config = load_config(tmp_path, own_namespace="sev-webhook")
    assert (config.image, config.port, config.device_access, config.configfs_tsm) == (
        image,
        8791,
        "device-plugin",
        False,
    )
    assert (config.interval, config.own_namespace) == (60, "sev-webhook")


def test_directory_without_config_yaml(tmp_path: Path) -> None:
    assert load_config(tmp_path) == WebhookConfig()
    (tmp_path / "injection_mode").write_text("container\n")
    assert load_config(tmp_path) == WebhookConfig(injection_mode="container")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"imagee": "x"}, "imagee: not config.yaml and not a setting name"),
        ({"config.yml": "port: 1"}, "config.yml: not config.yaml"),
        ({"device_access": "root\n"}, r"device_access: device_access: 'root' is not one of"),
        ({"port": "http\n"}, r"port: port: expected an integer"),
        ({"image": ""}, "image: image: expected a non-empty string, got None"),
        ({"excluded_namespaces": "[a, b]"}, "expected one value"),
        ({"env": "A: b"}, "expected one value"),
        ({"config.yaml": "[1]"}, r"config.yaml: the config must be a mapping"),
        ({"config.yaml": "porte: 1"}, r"config.yaml: unknown setting\(s\): porte"),
        ({"config.yaml": "interval: 0", "interval": "60"}, "config.yaml: interval"),
        ({"provider": "a: [b"}, "provider is not valid YAML"),
    ],
)
def test_directory_errors_name_the_file(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError, match=message) as exc:
        load_config(tmp_path)
    assert str(tmp_path) in str(exc.value)


def test_directory_entry_that_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "image").mkdir()
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path)


def _publish(mount: Path, files: dict[str, str], version: int) -> None:
    """Update ``mount`` the way the kubelet updates a ConfigMap volume: the new files in a fresh
    ``..<timestamp>`` directory, an atomic swap of the ``..data`` symlink, one symlink per key,
    then the old directory removed."""
    fresh = mount / f"..2026_11_27_12_00_00.{version}"
    fresh.mkdir()
    for name, text in files.items():
        (fresh / name).write_text(text)
    data = mount / "..data"
    old = os.readlink(data) if data.is_symlink() else None
    os.symlink(fresh.name, mount / "..data_tmp")
    os.replace(mount / "..data_tmp", data)
    for name in files:
        if not (mount / name).is_symlink():
            os.symlink(f"..data/{name}", mount / name)
    for entry in mount.iterdir():
        if not entry.name.startswith("..") and entry.name not in files:
            entry.unlink()
    if old:
        shutil.rmtree(mount / old)


def test_source_follows_configmap_updates(tmp_path: Path) -> None:
    mount = tmp_path / "config"
    mount.mkdir()
    _publish(mount, {"config.yaml": "interval: 60\n", "port": "8790\n"}, 1)
    clock = FakeClock()
    source = ConfigSource(mount, check_interval=2.0, clock=clock)
    assert (source.current().interval, source.current().port) == (60, 8790)

    # same names and sizes, new content: the swapped ..data still changes the signature
    _publish(mount, {"config.yaml": "interval: 61\n", "port": "8791\n"}, 2)
    assert source.current().port == 8790  # not checked before the interval
    clock.now = 2.5
    assert (source.current().interval, source.current().port) == (61, 8791)

    _publish(mount, {"config.yaml": "interval: 61\n", "device_access": "none\n"}, 3)
    clock.now = 5.0
    config = source.current()
    assert (config.port, config.device_access) == (8790, "none")  # port file gone: default

    _publish(mount, {"config.yaml": "interval: 61\n", "injection_mode": "sidecar\n"}, 4)
    clock.now = 7.5
    assert source.current() == config  # invalid: the last good config stays

    _publish(mount, {"injection_mode": "container\n"}, 5)
    clock.now = 10.0
    assert source.current() == WebhookConfig(injection_mode="container")
    assert sorted(p.name for p in mount.iterdir()) == ["..2026_11_27_12_00_00.5", "..data",
                                                       "injection_mode"]  # fmt: skip


def test_source_fails_on_an_invalid_initial_directory(tmp_path: Path) -> None:
    _publish(tmp_path, {"config.yaml": "{}", "tls": "x"}, 1)
    with pytest.raises(ConfigError, match="tls: not config.yaml and not a setting name"):
        ConfigSource(tmp_path)


def test_source_without_file_uses_defaults() -> None:
    assert ConfigSource(None, own_namespace="x").current().own_namespace == "x"


def test_source_fails_on_an_invalid_initial_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("provider: magic\n")
    with pytest.raises(ConfigError, match="provider"):
        ConfigSource(path)
