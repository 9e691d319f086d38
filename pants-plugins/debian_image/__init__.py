"""Pants plugin: reproducible container images from pinned Debian packages and a PEX."""
