"""The node attestation agent (``sev-attestation agent``): one per SNP node (a hostNetwork
DaemonSet), the only component with access to the guest firmware. Tenant pods' sidecars ask it
for reports bound to their nonces (``GET /v1/report?nonce=``) and fetch AMD KDS certificates
through its caching proxy (``GET /kds/...``), so they run unprivileged.
"""
