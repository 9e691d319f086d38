"""Every shipped overlay renders, validates strictly (Kubernetes 1.29 and 1.33, offline) and
keeps the promises of docs/deploy.md: product per family, exclusions, digests, settings."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from akash_snp.deploy_test.manifests import (
    FAMILIES,
    Doc,
    Expect,
    assert_invariants,
    one,
    validation_errors,
)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_overlay_keeps_the_documented_invariants(
    family: str, rendered_overlays: dict[str, list[Doc]], tmp_path: Path
) -> None:
    assert_invariants(rendered_overlays[family], Expect(family, FAMILIES[family]), tmp_path)


def test_strict_validation_rejects_an_unknown_field(
    rendered_overlays: dict[str, list[Doc]],
) -> None:
    """The validator is not vacuous: a misspelt field in a rendered object is reported."""
    deployment = copy.deepcopy(one(rendered_overlays["m7a"], "Deployment", "sev-webhook"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    errors = validation_errors([deployment])
    assert len(errors) == 2
    assert all("readinessProbes" in e for e in errors)


def test_unexpected_kind_without_schema_is_an_error() -> None:
    doc = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert len(validation_errors([doc])) == 2


def test_overlays_differ_only_where_the_family_does(
    rendered_overlays: dict[str, list[Doc]],
) -> None:
    """Same objects in every overlay; the webhook is sized by the family's vCPU:memory ratio."""
    kinds = {
        f: sorted((d["kind"], d["metadata"]["name"]) for d in docs)
        for f, docs in rendered_overlays.items()
    }
    assert len({tuple(v) for v in kinds.values()}) == 1
    memory = {
        f: one(docs, "Deployment", "sev-webhook")["spec"]["template"]["spec"]["containers"][0][
            "resources"
        ]["requests"]["memory"]
        for f, docs in rendered_overlays.items()
    }
    assert memory["r7a"] == memory["r6a"] != memory["m7a"] == memory["c7a"]
