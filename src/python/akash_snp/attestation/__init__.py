"""The attesting service shared by the node agent and a sidecar with a local provider: obtain a
report, verify it with ``akash_snp.attest``, keep the last result, and shape /verify's JSON."""
