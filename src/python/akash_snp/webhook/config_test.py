"""Config parsing, validation messages and reload-on-change with last-good fallback."""

from __future__ import annotations

import os
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
        "privileged",
        8790,
        300,
    )
    assert config.is_excluded_namespace("kube-node-lease")
    assert not config.is_excluded_namespace("lease")


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


def test_source_without_file_uses_defaults() -> None:
    assert ConfigSource(None, own_namespace="x").current().own_namespace == "x"


def test_source_fails_on_an_invalid_initial_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("provider: magic\n")
    with pytest.raises(ConfigError, match="provider"):
        ConfigSource(path)
