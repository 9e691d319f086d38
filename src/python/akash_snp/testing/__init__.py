"""Test helpers, never shipped: fake KDS, fake guest device and agent, process harnesses for the
sidecar and the agent, hostile-client tools, pytest fixtures, and ``regenerate_testdata``.

- ``fake_kds.running_fake_kds(pkis)``: a KDS-shaped HTTP server on 127.0.0.1 that can answer 429,
  500 or slowly, and logs requests.
- ``fixtures``: pytest fixtures over ``testdata/emulated`` (the emulated PKI of
  ``akash_snp.emulation``); ``regenerate_testdata``: rebuilds it.
"""
