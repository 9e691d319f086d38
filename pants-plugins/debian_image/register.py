"""Pants entry points of the debian_image plugin."""

from __future__ import annotations

from collections.abc import Iterable

from debian_image import rules as image_rules
from debian_image.target_types import DebianImageDigestsTarget, DebianImageTarget


def rules() -> Iterable[object]:
    return image_rules.rules()


def target_types() -> Iterable[type]:
    return [DebianImageTarget, DebianImageDigestsTarget]
