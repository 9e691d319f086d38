"""POST a golden pod as a real AdmissionReview to the webhook container over HTTPS and compare the
returned JSON patch with the golden file. Run by e2e.sh through the webhook PEX's own interpreter
(PEX_INTERPRETER=1), which brings PyYAML; the rest is the standard library.

usage: admission_check.py URL CA_FILE GOLDEN_IN_YAML GOLDEN_OUT_YAML
"""

from __future__ import annotations

import base64
import json
import ssl
import sys
import urllib.request
from pathlib import Path

import yaml


def main(argv: list[str]) -> int:
    url, ca_file, golden_in, golden_out = argv
    case = yaml.safe_load(Path(golden_in).read_text())
    expected = yaml.safe_load(Path(golden_out).read_text())
    review = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "e2e-0001",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "operation": "CREATE",
            "namespace": case["namespace"],
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
            "object": case["pod"],
            "dryRun": False,
        },
    }
    context = ssl.create_default_context(cafile=ca_file)
    request = urllib.request.Request(  # noqa: S310 (https URL given by e2e.sh)
        url,
        data=json.dumps(review).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, context=context, timeout=30) as answer:  # noqa: S310
        response = json.load(answer)["response"]
    problems = []
    if response.get("uid") != "e2e-0001" or response.get("allowed") is not True:
        problems.append(f"uid/allowed wrong: {response.get('uid')!r} {response.get('allowed')!r}")
    if response.get("patchType") != "JSONPatch":
        problems.append(f"patchType is {response.get('patchType')!r}")
    patch = json.loads(base64.b64decode(response.get("patch", "")) or b"null")
    if patch != expected["patch"]:
        problems.append(f"patch differs from {golden_out}:\n{json.dumps(patch, indent=1)}")
    if problems:
        print("admission check FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"admission check ok: {len(patch)} patch operations equal {Path(golden_out).name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
