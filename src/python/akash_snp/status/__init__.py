"""``sev-status``: the provider's view of attestation across a cluster (every injected pod's
sidecar asked through the API server's pod proxy, one table, an exit status for scripts)."""
