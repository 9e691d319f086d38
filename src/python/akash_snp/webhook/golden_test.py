"""Golden files: each ``golden/<case>.in.yaml`` pod, admitted, must equal ``<case>.out.yaml``.

A case file holds ``namespace``, optional ``config`` overrides and the ``pod``. The expected file
holds the decision, its reason, the JSON patch and the pod after ``jsonpatch.apply_patch``. After an
intended behaviour change, refresh the expected files and review the diff:

    cd src/python && REFRESH_GOLDEN=1 python -m pytest akash_snp/webhook/golden_test.py
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jsonpatch
import kubernetes_validate
import pytest
import yaml

from akash_snp.webhook.config import parse_config
from akash_snp.webhook.patch import decide

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name.removesuffix(".in.yaml") for p in GOLDEN.glob("*.in.yaml"))
K8S_VERSIONS = ("1.29", "1.33")


def _admit(case: str) -> dict[str, Any]:
    spec = yaml.safe_load((GOLDEN / f"{case}.in.yaml").read_text())
    decision = decide(spec["pod"], spec["namespace"], parse_config(spec.get("config")))
    return {
        "decision": "inject" if decision.inject else "skip",
        "reason": decision.reason,
        "patch": decision.patch,
        "pod": jsonpatch.apply_patch(spec["pod"], decision.patch),
    }


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    result = _admit(case)
    expected_file = GOLDEN / f"{case}.out.yaml"
    if os.environ.get("REFRESH_GOLDEN") == "1":
        expected_file.write_text(yaml.safe_dump(result, sort_keys=False, width=100))
    assert result == yaml.safe_load(expected_file.read_text())


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("case", CASES)
def test_golden_pods_are_valid(case: str, version: str) -> None:
    kubernetes_validate.validate(_admit(case)["pod"], version, strict=True)


def test_every_injected_golden_pod_has_one_sidecar_and_a_second_admission_is_a_no_op() -> None:
    injected = 0
    for case in CASES:
        spec = yaml.safe_load((GOLDEN / f"{case}.in.yaml").read_text())
        config = parse_config(spec.get("config"))
        result = _admit(case)
        pod = result["pod"]
        names = [
            c["name"] for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]
        ]
        assert names.count("sev-attestation") == (
            1 if result["decision"] == "inject" or "sev-attestation" in names else 0
        )
        again = decide(pod, spec["namespace"], config)
        assert again.patch == []
        injected += result["decision"] == "inject"
    assert injected >= 6


def test_strict_validation_would_catch_an_unknown_field() -> None:
    pod = _admit("akash-web-generate-name")["pod"]
    pod["spec"]["initContainers"][0]["bogusField"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, "1.33", strict=True)
