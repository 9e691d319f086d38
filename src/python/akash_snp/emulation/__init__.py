"""Emulated AMD for demos and tests, behind ``--provider emulated`` only: an AMD-shaped PKI and a
firmware signer. Its root is not AMD's, so its reports never pass against AMD's pinned roots."""
