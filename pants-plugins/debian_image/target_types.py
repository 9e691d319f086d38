"""Target types: `debian_image` (one image archive) and `debian_image_digests` (their digests)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional, Union

from pants.core.goals.package import OutputPathField
from pants.engine.addresses import Address
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    DictStringToStringField,
    InvalidFieldException,
    SingleSourceField,
    SpecialCasedDependencies,
    StringField,
    StringSequenceField,
    Target,
)


class DebianImagePexField(SpecialCasedDependencies):
    """A dependency field, so that `dependencies`, `dependents` and `--changed-dependents` see the
    image's PEX; it holds one address, written as a plain string."""

    alias = "pex"
    required = True
    help = (
        "Address (one) of the `pex_binary` to install in the image (its files under "
        "/app/site-packages, bytecode compiled at build time)."
    )

    # `pants help` evaluates these hints on CPython 3.9, where `X | Y` does not exist.
    @classmethod
    def compute_value(
        cls,
        raw_value: Optional[Union[str, Iterable[str]]],  # noqa: UP007
        address: Address,
    ) -> Optional[tuple[str, ...]]:  # noqa: UP007
        values = super().compute_value(
            (raw_value,) if isinstance(raw_value, str) else raw_value, address
        )
        if values is not None and len(values) != 1:
            raise InvalidFieldException(
                f"The `{cls.alias}` field of {address} must name one pex_binary, not {len(values)}"
            )
        return values


class DebianImageLockField(SingleSourceField):
    alias = "packages_lock"
    required = False
    default = "debian-packages.lock.json"
    expected_file_extensions = (".json",)
    help = (
        "The Debian package lock (refresh: ./pants run pants-plugins/debian_image/refresh_lock.py)."
    )


class DebianImageRepositoryField(StringField):
    alias = "repository"
    help = "Image name in index.json and for `docker load` (default: the target name)."


class DebianImageTagField(StringField):
    alias = "tag"
    default = "latest"
    help = "Image tag in index.json and for `docker load`."


class DebianImageEntrypointField(StringSequenceField):
    alias = "entrypoint"
    help = (
        "The container's entrypoint (default: the launcher /app/bin/<program>, <program> being "
        "the last component of the repository name, which runs the PEX's entry point)."
    )


class DebianImageUserField(StringField):
    alias = "user"
    default = "65532:65532"
    help = "Numeric uid:gid the container runs as (65532 is the image's `nonroot` user)."


class DebianImageEnvField(StringSequenceField):
    alias = "env"
    default = ()
    help = "Extra NAME=value environment entries."


class DebianImageLabelsField(DictStringToStringField):
    alias = "labels"
    help = "Image labels; org.opencontainers.image.revision and .created are added by the build."


class DebianImageTarget(Target):
    alias = "debian_image"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        DebianImagePexField,
        DebianImageLockField,
        DebianImageRepositoryField,
        DebianImageTagField,
        DebianImageEntrypointField,
        DebianImageUserField,
        DebianImageEnvField,
        DebianImageLabelsField,
        OutputPathField,
    )
    help = (
        "A reproducible container image archive (OCI layout + `docker load`) of a PEX on a root "
        "file system made of pinned Debian packages, with an SPDX SBOM beside it."
    )


class DebianImageDigestsImagesField(SpecialCasedDependencies):
    alias = "images"
    required = True
    help = "The `debian_image` targets whose manifest digests are written."


class DebianImageDigestsTarget(Target):
    alias = "debian_image_digests"
    core_fields = (*COMMON_TARGET_FIELDS, DebianImageDigestsImagesField, OutputPathField)
    help = "A JSON file mapping each image's repository name to its manifest digest."
