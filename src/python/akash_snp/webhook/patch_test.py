"""Properties of the patch builder over generated pods, and its pointer escaping."""

from __future__ import annotations

import copy
import string
from typing import Any

import jsonpatch
import kubernetes_validate
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akash_snp.webhook.config import parse_config
from akash_snp.webhook.patch import (
    STATUS_ANNOTATION,
    PodShapeError,
    decide,
    escape_pointer,
)
from akash_snp.webhook.sidecar import SIDECAR_NAME

_LABEL = st.from_regex(r"[a-z]([a-z0-9-]{0,14}[a-z0-9])?", fullmatch=True)
_KEY_CHARS = string.ascii_letters + string.digits + "-._/~"
_ANNOTATION_KEY = st.text(_KEY_CHARS, min_size=1, max_size=30).filter(
    lambda k: not k.startswith(("sev-attestation/", "kubernetes.io/config.mirror"))
)


@st.composite
def pods(draw: st.DrawFn) -> dict[str, Any]:
    """Pods with random names, annotations (keys with / and ~), containers and volumes."""
    names = draw(
        st.lists(_LABEL.filter(lambda n: n != SIDECAR_NAME), min_size=1, max_size=5, unique=True)
    )
    split = draw(st.integers(min_value=1, max_value=len(names)))
    containers = [{"name": n, "image": f"example/{n}:1"} for n in names[:split]]
    init = [{"name": n, "image": "busybox:1.36", "command": ["true"]} for n in names[split:]]
    volume_names = draw(
        st.lists(
            st.sampled_from(
                ["sev-guest", "sev-configfs", "sev-attestation-tmp", "sev-guest-1", "data", "cache"]
            ),
            unique=True,
            max_size=5,
        )
    )
    metadata: dict[str, Any] = {"namespace": "lease"}
    if draw(st.booleans()):
        metadata["name"] = draw(_LABEL)
    else:
        metadata["generateName"] = draw(_LABEL) + "-"
    annotations = draw(
        st.one_of(st.none(), st.dictionaries(_ANNOTATION_KEY, st.text(max_size=10), max_size=4))
    )
    if annotations is not None:
        metadata["annotations"] = annotations
    spec: dict[str, Any] = {"containers": containers}
    keep_empty_init, keep_empty_volumes = draw(st.booleans()), draw(st.booleans())
    if init or keep_empty_init:
        spec["initContainers"] = init
    if volume_names or keep_empty_volumes:
        spec["volumes"] = [{"name": n, "emptyDir": {}} for n in volume_names]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


_CONFIGS = st.builds(
    lambda mode, device: parse_config({"injection_mode": mode, "device_access": device}),
    st.sampled_from(["native-sidecar", "container"]),
    st.sampled_from(["privileged", "device-plugin", "none"]),
)


# Each example patches and schema-validates a whole generated pod: 80 keep the suite fast.
@settings(max_examples=80)
@given(pod=pods(), config=_CONFIGS, version=st.sampled_from(["1.29", "1.33"]))
def test_generated_pods_get_exactly_one_sidecar_and_stay_valid(
    pod: dict[str, Any], config: Any, version: str
) -> None:
    original = copy.deepcopy(pod)
    decision = decide(pod, "lease", config)
    assert decision.inject
    assert all(op["op"] == "add" for op in decision.patch)
    patched = jsonpatch.apply_patch(pod, decision.patch)
    assert pod == original  # the input is never mutated
    kubernetes_validate.validate(patched, version, strict=True)

    spec = patched["spec"]
    every = spec.get("initContainers", []) + spec["containers"]
    assert [c["name"] for c in every].count(SIDECAR_NAME) == 1
    tenant = [c for c in spec["containers"] if c["name"] != SIDECAR_NAME]
    assert tenant == original["spec"]["containers"]
    tenant_init = [c for c in spec.get("initContainers", []) if c["name"] != SIDECAR_NAME]
    assert tenant_init == original["spec"].get("initContainers", [])
    if config.injection_mode == "native-sidecar":
        assert spec["initContainers"][0]["name"] == SIDECAR_NAME
    volume_names = [v["name"] for v in spec.get("volumes", [])]
    assert len(volume_names) == len(set(volume_names))
    assert spec.get("volumes", [])[: len(original["spec"].get("volumes", []))] == original[
        "spec"
    ].get("volumes", [])
    for key, value in (original["metadata"].get("annotations") or {}).items():
        assert patched["metadata"]["annotations"][key] == value
    assert patched["metadata"]["annotations"][STATUS_ANNOTATION] == "injected"

    again = decide(patched, "lease", config)
    assert not again.inject
    assert again.patch == []


@pytest.mark.parametrize(
    ("token", "escaped"),
    [("a/b", "a~1b"), ("a~b", "a~0b"), ("~1", "~01"), ("/~", "~1~0"), ("plain", "plain")],
)
def test_escape_pointer(token: str, escaped: str) -> None:
    assert escape_pointer(token) == escaped


def test_escaped_pointer_round_trips_through_jsonpatch() -> None:
    key = "we~ird/key~1"
    doc = jsonpatch.apply_patch(
        {"a": {}}, [{"op": "add", "path": f"/a/{escape_pointer(key)}", "value": 1}]
    )
    assert doc == {"a": {key: 1}}


@pytest.mark.parametrize(
    ("pod", "message"),
    [
        ({"spec": []}, "no spec"),
        ({"spec": {"containers": {}}}, "spec.containers must be a list"),
        ({"spec": {"containers": ["x"]}}, r"spec.containers\[0\] must be an object"),
        ({"metadata": {"annotations": []}, "spec": {}}, "annotations must be an object"),
    ],
)
def test_malformed_pods_raise_a_clear_error(pod: dict[str, Any], message: str) -> None:
    with pytest.raises(PodShapeError, match=message):
        decide(pod, "lease", parse_config({}))


def test_opt_out_is_case_insensitive_and_other_values_inject() -> None:
    config = parse_config({})
    pod: dict[str, Any] = {
        "metadata": {"annotations": {"sev-attestation/inject": " FALSE "}},
        "spec": {"containers": [{"name": "a", "image": "b"}]},
    }
    assert decide(pod, "lease", config).reason == "opted-out"
    pod["metadata"]["annotations"]["sev-attestation/inject"] = "true"
    assert decide(pod, "lease", config).inject


def test_own_namespace_and_host_network_setting() -> None:
    pod = {"spec": {"hostNetwork": True, "containers": [{"name": "a", "image": "b"}]}}
    assert decide(pod, "sev-webhook", parse_config({}, "sev-webhook")).reason == (
        "excluded-namespace"
    )
    assert decide(pod, "lease", parse_config({})).reason == "host-network"
    assert decide(pod, "lease", parse_config({"skip_host_network": False})).inject


def test_pod_without_containers_is_skipped() -> None:
    assert decide({"spec": {}}, "lease", parse_config({})).reason == "no-containers"


def test_pod_without_metadata_gets_metadata_and_annotations() -> None:
    pod = {"spec": {"containers": [{"name": "a", "image": "b"}]}}
    patched = jsonpatch.apply_patch(pod, decide(pod, "lease", parse_config({})).patch)
    assert patched["metadata"]["annotations"] == {
        "sev-attestation/status": "injected",
        "kubectl.kubernetes.io/default-container": "a",
    }


def test_probes_can_be_disabled() -> None:
    pod = {"spec": {"containers": [{"name": "a", "image": "b"}]}}
    decision = decide(pod, "lease", parse_config({"probes": False}))
    sidecar = jsonpatch.apply_patch(pod, decision.patch)["spec"]["initContainers"][0]
    assert "readinessProbe" not in sidecar
    assert "livenessProbe" not in sidecar
