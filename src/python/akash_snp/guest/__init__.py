"""Report providers: obtain raw SEV-SNP attestation reports (and the host's certificate table) from
the guest firmware through configfs-tsm or /dev/sev-guest, or from the emulated firmware when asked.

Providers return bytes only; verifying them is the ``attest`` library's job.
"""
