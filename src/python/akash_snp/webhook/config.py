"""The injector's settings: a typed, validated view of the mounted ConfigMap, reloaded on change.

Every field has a documented default, so the webhook runs without any file (it then injects the
sidecar as a native sidecar with privileged device access). Settings come from one YAML file
(JSON is valid YAML) or from a directory, the mounted ConfigMap: an optional ``config.yaml`` plus
one file per setting named after its key, so that kustomize sets a value by replacing a whole
ConfigMap key instead of editing text. Unknown keys and file names are errors so that a typo
never silently falls back to a default. This module reads files and nothing else: it builds no
patches and knows nothing of HTTP.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from akash_snp.service.reloader import Reloading

INJECTION_MODES = ("native-sidecar", "container")
DEVICE_ACCESS_MODES = ("agent", "privileged", "device-plugin", "none")
PROVIDERS = ("auto", "configfs-tsm", "ioctl", "emulated")
ON_ERROR = ("deny", "allow")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
# Kubernetes resource.Quantity: a decimal number with an optional binary/decimal/exponent suffix.
_QUANTITY = re.compile(r"^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
_RESOURCE_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)


class ConfigError(ValueError):
    """The configuration file is unreadable or holds a value outside what the webhook accepts."""


def _default_excluded() -> tuple[str, ...]:
    return ("kube-system", "kube-node-lease", "kube-public")


def _default_requests() -> dict[str, str]:
    # the relay sidecar's RSS: 32-33 MiB idle, 35 MiB under load (benchmarks/sidecar)
    return {"cpu": "10m", "memory": "40Mi"}


def _default_limits() -> dict[str, str]:
    return {"memory": "128Mi"}


@dataclass(frozen=True)
class WebhookConfig:
    """What gets injected and which pods are left alone.

    ``image`` defaults to the placeholder ``sev-attestation:latest``: deployments set the real,
    pinned image reference in the ConfigMap.
    """

    image: str = "sev-attestation:latest"
    image_pull_policy: str = "IfNotPresent"
    # native-sidecar: initContainer with restartPolicy Always (Kubernetes >= 1.29), keeps
    # spec.containers at one so Akash lease logs keep working. container: appended to
    # spec.containers, for older clusters.
    injection_mode: str = "native-sidecar"
    # agent: the sidecar runs unprivileged and asks the node attestation agent (a DaemonSet on
    # the SNP nodes, the only component with device access) at http://<node IP>:agent_port; on a
    # node without an agent it starts and reports "unavailable". privileged: privileged container
    # running as root + hostPath /dev/sev-guest (CharDevice: the pod does not start on a node
    # without it) and, with configfs_tsm, /sys/kernel/config. device-plugin: an extended resource
    # request, minimal securityContext. none: minimal securityContext only ("unavailable").
    device_access: str = "agent"
    agent_port: int = 8791
    device_plugin_resource: str = "sev.akash.network/snp-guest"
    configfs_tsm: bool = True
    # The firmware interface of the privileged and device-plugin modes (agent: the agent's own).
    provider: str = "auto"
    port: int = 8790
    interval: int = 300
    env: Mapping[str, str] = field(default_factory=dict)
    resources_requests: Mapping[str, str] = field(default_factory=_default_requests)
    resources_limits: Mapping[str, str] = field(default_factory=_default_limits)
    probes: bool = True
    run_as_user: int = 65532
    excluded_namespaces: tuple[str, ...] = field(default_factory=_default_excluded)
    # The webhook's own namespace is always excluded; main() fills it from POD_NAMESPACE.
    own_namespace: str | None = None
    skip_host_network: bool = True
    set_default_container: bool = True
    # What a pod CREATE gets when the webhook cannot decide (malformed request, internal error):
    # deny matches failurePolicy Fail (never admit a pod the webhook could not inspect); allow
    # matches failurePolicy Ignore.
    on_error: str = "deny"

    def is_excluded_namespace(self, namespace: str) -> bool:
        """Whether pods of ``namespace`` are never injected."""
        return namespace in self.excluded_namespaces or namespace == self.own_namespace


_FIELD_NAMES = {f.name for f in fields(WebhookConfig)}
# In a settings directory: the file holding a mapping of settings; every other file is named
# after the one setting it holds.
CONFIG_FILE = "config.yaml"


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _string(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name}: expected a non-empty string, got {value!r}")
    return value


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name}: expected an integer in {low}..{high}, got {value!r}")
    return int(value)


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    return value


def _string_map(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name}: expected a mapping of strings, got {value!r}")
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or isinstance(item, bool) or not isinstance(item, str | int):
            raise ConfigError(f"{name}: entry {key!r}: {item!r} is not a string")
        result[key] = str(item)
    return result


def _namespaces(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{name}: expected a list of namespace names, got {value!r}")
    for item in value:
        if not isinstance(item, str) or not _DNS_LABEL.match(item):
            raise ConfigError(f"{name}: {item!r} is not a namespace name")
    return tuple(value)


def parse_config(data: Any, own_namespace: str | None = None) -> WebhookConfig:
    """Validate a decoded config document (a mapping, or None for an empty file)."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"the config must be a mapping of settings, got {type(data).__name__}")
    unknown = sorted(str(key) for key in data if key not in _FIELD_NAMES)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        values[key] = _CHECKS[key](key, value)
    if own_namespace and "own_namespace" not in values:
        values["own_namespace"] = own_namespace
    return WebhookConfig(**values)


def _env(name: str, value: Any) -> dict[str, str]:
    env = _string_map(name, value)
    for key in env:
        if not _ENV_NAME.match(key):
            raise ConfigError(f"{name}: {key!r} is not a valid environment variable name")
    return env


def _resources(name: str, value: Any) -> dict[str, str]:
    resources = _string_map(name, value)
    for key, quantity in resources.items():
        if not _QUANTITY.match(quantity):
            raise ConfigError(f"{name}: {key}: {quantity!r} is not a Kubernetes quantity")
    return resources


def _resource_name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _RESOURCE_NAME.match(value):
        raise ConfigError(f"{name}: {value!r} is not an extended resource name like vendor/name")
    return value


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "image": _string,
    "image_pull_policy": lambda n, v: _choice(n, v, PULL_POLICIES),
    "injection_mode": lambda n, v: _choice(n, v, INJECTION_MODES),
    "device_access": lambda n, v: _choice(n, v, DEVICE_ACCESS_MODES),
    "device_plugin_resource": _resource_name,
    "agent_port": lambda n, v: _integer(n, v, 1, 65535),
    "configfs_tsm": _boolean,
    "provider": lambda n, v: _choice(n, v, PROVIDERS),
    "port": lambda n, v: _integer(n, v, 1, 65535),
    "interval": lambda n, v: _integer(n, v, 1, 86400),
    "env": _env,
    "resources_requests": _resources,
    "resources_limits": _resources,
    "probes": _boolean,
    "run_as_user": lambda n, v: _integer(n, v, 0, 2**31 - 1),
    "excluded_namespaces": _namespaces,
    "own_namespace": lambda n, v: _namespaces(n, [v])[0],
    "skip_host_network": _boolean,
    "set_default_container": _boolean,
    "on_error": lambda n, v: _choice(n, v, ON_ERROR),
}


def _read_yaml(path: Path, shown: Path) -> Any:
    """Decode one file; errors name ``shown`` (the path the operator knows)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {shown}: {exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {shown} is not valid YAML: {exc}") from exc


def _settings_file(path: Path, shown: Path) -> dict[str, Any]:
    """The raw, validated mapping of a settings file (empty for an empty file)."""
    data = _read_yaml(path, shown)
    try:
        parse_config(data)
    except ConfigError as exc:
        raise ConfigError(f"config file {shown}: {exc}") from exc
    return dict(data or {})


def _setting_value(path: Path, shown: Path) -> Any:
    """The raw, validated value of a one-setting file, whose name is the setting key."""
    value = _read_yaml(path, shown)
    if isinstance(value, Mapping | list):
        raise ConfigError(
            f"config file {shown}: expected one value (lists and mappings belong in {CONFIG_FILE})"
        )
    try:
        _CHECKS[path.name](path.name, value)
    except ConfigError as exc:
        raise ConfigError(f"config file {shown}: {exc}") from exc
    return value


def _snapshot(directory: Path) -> Path:
    """Where to read a directory from: behind a ConfigMap volume's ``..data`` symlink, which the
    kubelet swaps atomically on update, so that one load never mixes two versions."""
    data = directory / "..data"
    return Path(os.path.realpath(data)) if data.is_dir() else directory


def _entry_names(directory: Path) -> list[str]:
    """The entries to read, sorted, without the kubelet's ``..`` internals."""
    return sorted(name for name in os.listdir(directory) if not name.startswith(".."))


def _load_directory(directory: Path, own_namespace: str | None) -> WebhookConfig:
    snapshot = _snapshot(directory)
    try:
        names = _entry_names(snapshot)
    except OSError as exc:
        raise ConfigError(f"cannot read config directory {directory}: {exc}") from exc
    unknown = [name for name in names if name != CONFIG_FILE and name not in _FIELD_NAMES]
    if unknown:
        raise ConfigError(
            f"config directory {directory}: {', '.join(unknown)}: not {CONFIG_FILE} and not a "
            "setting name"
        )
    data: dict[str, Any] = {}
    if CONFIG_FILE in names:
        data = _settings_file(snapshot / CONFIG_FILE, directory / CONFIG_FILE)
    for name in names:
        if name != CONFIG_FILE:
            data[name] = _setting_value(snapshot / name, directory / name)
    return parse_config(data, own_namespace)


def load_config(path: Path, own_namespace: str | None = None) -> WebhookConfig:
    """Read and validate the settings at ``path``: a settings file, or a directory (a mounted
    ConfigMap) holding an optional ``config.yaml`` plus one file per overriding setting."""
    if path.is_dir():
        return _load_directory(path, own_namespace)
    data = _read_yaml(path, path)
    try:
        return parse_config(data, own_namespace)
    except ConfigError as exc:
        raise ConfigError(f"config file {path}: {exc}") from exc


_Signature = tuple[str, tuple[tuple[str, int, int, int], ...]]


def _signature(path: Path) -> _Signature | None:
    """What changes whenever the settings may have: the directory actually read and each file's
    (name, inode, mtime, size), through symlinks. None while unreadable."""
    try:
        if not path.is_dir():
            files = [(path.name, path)]
            where = path
        else:
            where = _snapshot(path)
            files = [(name, where / name) for name in _entry_names(where)]
        stats = tuple((name, os.stat(file)) for name, file in files)
    except OSError:
        return None
    return str(where), tuple((n, s.st_ino, s.st_mtime_ns, s.st_size) for n, s in stats)


class ConfigSource:
    """The current config: re-read when it changes, keeping the last good one on errors.

    A cheap signature (one ``stat`` per file) is compared at most once every ``check_interval``
    seconds (``service.reloader``); a ConfigMap update (the kubelet's atomic ``..data`` symlink
    swap) changes it. Without a path the defaults are fixed.
    """

    def __init__(
        self,
        path: Path | None,
        own_namespace: str | None = None,
        check_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if path is None:
            fixed = parse_config({}, own_namespace)
            self._current: Callable[[], WebhookConfig] = lambda: fixed
        else:
            self._current = Reloading(
                lambda: load_config(path, own_namespace),
                lambda: _signature(path),
                "config",
                check_interval,
                clock,
            ).current

    def current(self) -> WebhookConfig:
        """The config to use for this request."""
        return self._current()
