"""The attestation sidecar: a small HTTP service in every tenant pod that serves ``/verify``,
relaying the node agent (``sidecar.relay``) or attesting with a local provider (``sidecar.local``).

It must never take the tenant's pod down: every failure becomes a status, not an exit.
"""
