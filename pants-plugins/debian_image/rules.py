"""Pants rules: fetch the locked .deb files (verified and cached by Pants), build the PEX, install
it (install.py) and compile its bytecode with CPython 3.11, and hand everything to the pure
assembly in assemble.py; write the archive, its SBOM and the digests to dist/."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex_environment import PythonExecutable
from pants.build_graph.address import ResolveError
from pants.core.goals.package import (
    BuiltPackage,
    BuiltPackageArtifact,
    OutputPathField,
    PackageFieldSet,
)
from pants.engine.addresses import Addresses, UnparsedAddressInputs
from pants.engine.fs import (
    CreateDigest,
    Digest,
    DigestContents,
    DownloadFile,
    FileContent,
    FileDigest,
)
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import (
    FieldSetsPerTarget,
    FieldSetsPerTargetRequest,
    HydratedSources,
    HydrateSourcesRequest,
    Targets,
)
from pants.engine.unions import UnionRule
from pants.option.option_types import StrOption
from pants.option.subsystem import Subsystem

from debian_image.assemble import ImageRequest, assemble, base_layer
from debian_image.errors import ImageBuildError
from debian_image.fsentry import FILE, FsEntry
from debian_image.install import (
    BIN_DIR,
    PYTHON_VERSION,
    SITE_PACKAGES,
    STDLIB,
    install_pex,
    stdlib_sources,
)
from debian_image.lock import Lock, parse_lock
from debian_image.oci import EPOCH
from debian_image.pexinfo import pex_distributions
from debian_image.target_types import (
    DebianImageDigestsImagesField,
    DebianImageEntrypointField,
    DebianImageEnvField,
    DebianImageLabelsField,
    DebianImageLockField,
    DebianImagePexField,
    DebianImageRepositoryField,
    DebianImageTagField,
    DebianImageUserField,
)

logger = logging.getLogger(__name__)

# Debian release number of each suite, for the SBOM's package URLs.
DEBIAN_RELEASES = {"bookworm": "12", "trixie": "13"}


class DebianImageSubsystem(Subsystem):
    options_scope = "debian-images"
    help = "Container images assembled from pinned Debian packages (pants-plugins/debian_image)."

    mirror = StrOption(
        default=None,
        help=(
            "Base URL of a Debian mirror, the directory holding pool/. Never committed: ./pants "
            "sets it from the machine's apt configuration (PANTS_DEBIAN_IMAGES_MIRROR). Any mirror "
            "will do: every package is checked against the lock's SHA-256."
        ),
    )
    revision = StrOption(
        default="unknown",
        help="Source revision written to the org.opencontainers.image.revision label (set in CI).",
    )


@dataclass(frozen=True)
class DebianImageFieldSet(PackageFieldSet):
    required_fields = (DebianImagePexField,)

    pex: DebianImagePexField
    packages_lock: DebianImageLockField
    repository: DebianImageRepositoryField
    tag: DebianImageTagField
    entrypoint: DebianImageEntrypointField
    user: DebianImageUserField
    env: DebianImageEnvField
    labels: DebianImageLabelsField
    output_path: OutputPathField


@dataclass(frozen=True)
class DebianImageDigestsFieldSet(PackageFieldSet):
    required_fields = (DebianImageDigestsImagesField,)

    images: DebianImageDigestsImagesField
    output_path: OutputPathField


@dataclass(frozen=True)
class LockFile:
    """The parsed lock of one lock file."""

    lock: Lock


@dataclass(frozen=True)
class BaseLayer:
    """The shared base layer tar of one lock."""

    tar: bytes


@dataclass(frozen=True)
class DebianImageBuild:
    """One built image: archive and SBOM paths in `digest`, and its manifest digest."""

    repository: str
    digest: Digest
    archive_path: str
    sbom_path: str
    manifest_digest: str
    size: int


class DebianImageRuleError(Exception):
    """A build input is missing or wrong (message says which and how to fix it)."""


@dataclass(frozen=True)
class BytecodeRequest:
    """Python sources to compile, all under `root` (a path inside the image, without "/")."""

    root: str
    sources: tuple[FsEntry, ...]


@dataclass(frozen=True)
class Bytecode:
    """The compiled `.pyc` files, as layer entries."""

    files: tuple[FsEntry, ...]


# Unchecked-hash pycs: Python loads them without looking at the source's mtime, and their bytes
# hold no time. PYTHONHASHSEED=0 keeps frozenset constants in one order, so the bytes repeat.
# Files that do not compile (the standard library ships some on purpose, as test data) keep no
# pyc: Python would compile them at import, as it does without this step.
_COMPILE = """
import compileall, py_compile, sys
compileall.compile_dir(
    sys.argv[1], ddir="/" + sys.argv[1], quiet=2, workers=1,
    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
)
"""


@rule(desc="Compile Python bytecode for an image")
async def compile_bytecode(request: BytecodeRequest) -> Bytecode:
    python = await Get(
        PythonExecutable,
        InterpreterConstraints([f"CPython=={PYTHON_VERSION}.*"]),
    )
    sources = await Get(
        Digest, CreateDigest([FileContent(f.path, f.data) for f in request.sources])
    )
    result = await Get(
        ProcessResult,
        Process(
            argv=(python.path, "-I", "-c", _COMPILE, request.root),
            input_digest=sources,
            output_directories=(request.root,),
            env={"PYTHONHASHSEED": "0"},
            description=f"Compile {len(request.sources)} Python files under /{request.root} "
            f"with CPython {PYTHON_VERSION}",
        ),
    )
    contents = await Get(DigestContents, Digest, result.output_digest)
    return Bytecode(
        tuple(
            FsEntry(c.path, FILE, 0o644, c.content)
            for c in sorted(contents, key=lambda c: c.path)
            if c.path.endswith(".pyc")
        )
    )


@rule(desc="Read a Debian package lock")
async def read_lock(field: DebianImageLockField) -> LockFile:
    sources = await Get(HydratedSources, HydrateSourcesRequest(field))
    contents = await Get(DigestContents, Digest, sources.snapshot.digest)
    if len(contents) != 1:
        raise DebianImageRuleError(f"{field.address}: packages_lock must name one file")
    try:
        return LockFile(parse_lock(contents[0].content.decode()))
    except ImageBuildError as exc:
        raise DebianImageRuleError(f"{contents[0].path}: {exc}") from None


@rule(desc="Assemble a base root file system from Debian packages")
async def build_base_layer(lock_file: LockFile, subsystem: DebianImageSubsystem) -> BaseLayer:
    lock = lock_file.lock
    if not subsystem.mirror:
        raise DebianImageRuleError(
            "[debian-images].mirror is not set: run Pants through ./pants (which reads the Debian "
            "mirror from /etc/apt) or set PANTS_DEBIAN_IMAGES_MIRROR to a mirror's base URL"
        )
    base_url = subsystem.mirror.rstrip("/")
    downloads = await MultiGet(
        Get(Digest, DownloadFile(f"{base_url}/{p.path}", FileDigest(p.sha256, p.size)))
        for p in lock.packages
    )
    contents = await MultiGet(Get(DigestContents, Digest, d) for d in downloads)
    debs = {p.name: contents[i][0].content for i, p in enumerate(lock.packages)}
    try:
        return BaseLayer(base_layer(lock, debs))
    except ImageBuildError as exc:
        raise DebianImageRuleError(f"base image from the Debian lock: {exc}") from None


@dataclass(frozen=True)
class ImagePex:
    """How to package the one target that an image's `pex` field names."""

    field_set: PackageFieldSet


@rule(desc="Resolve the PEX of a container image")
async def resolve_image_pex(field: DebianImagePexField) -> ImagePex:
    """Its own rule, so that the check of the `pex` field can be requested (and tested) alone."""
    wanted = f"{field.address}: `pex` must name one packageable target (a pex_binary)"
    try:
        targets = await Get(Targets, UnparsedAddressInputs, field.to_unparsed_address_inputs())
    except ResolveError as exc:
        raise DebianImageRuleError(f"{wanted}: {exc}") from None
    field_sets = await Get(FieldSetsPerTarget, FieldSetsPerTargetRequest(PackageFieldSet, targets))
    if len(targets) != 1 or len(field_sets.field_sets) != 1:
        named = ", ".join(f"{t.address.spec} (a `{t.alias}`)" for t in targets) or "no target"
        raise DebianImageRuleError(f"{wanted}, not {named}")
    return ImagePex(field_sets.field_sets[0])


@rule(desc="Build a container image")
async def build_debian_image(
    field_set: DebianImageFieldSet, subsystem: DebianImageSubsystem
) -> DebianImageBuild:
    address = field_set.address
    # The base layer is keyed by the lock's content, so images sharing a lock build it once.
    image_pex, lock_file = await MultiGet(
        Get(ImagePex, DebianImagePexField, field_set.pex),
        Get(LockFile, DebianImageLockField, field_set.packages_lock),
    )
    pex_package, base = await MultiGet(
        Get(BuiltPackage, PackageFieldSet, image_pex.field_set),
        Get(BaseLayer, LockFile, lock_file),
    )
    pex_files = [
        f for f in await Get(DigestContents, Digest, pex_package.digest) if f.path.endswith(".pex")
    ]
    if len(pex_files) != 1:
        raise DebianImageRuleError(f"{address}: the `pex` target must build one .pex file")
    repository = field_set.repository.value or address.target_name
    program = repository.rsplit("/", 1)[-1]
    custom_labels: Mapping[str, str] = field_set.labels.value or {}
    labels = {
        "org.opencontainers.image.title": repository,
        **custom_labels,
        "org.opencontainers.image.created": EPOCH,
        "org.opencontainers.image.revision": subsystem.revision,
    }
    lock = lock_file.lock
    request = ImageRequest(
        repository=repository,
        tag=field_set.tag.value or "latest",
        program=program,
        entrypoint=tuple(field_set.entrypoint.value or (f"/{BIN_DIR}/{program}",)),
        user=field_set.user.value or "65532:65532",
        env=tuple(field_set.env.value or ()),
        labels=tuple(sorted(labels.items())),
        debian_release=DEBIAN_RELEASES.get(lock.suite, lock.suite),
    )
    pex = pex_files[0].content
    try:
        installed = install_pex(pex)
        distributions = pex_distributions(pex)
    except ImageBuildError as exc:
        raise DebianImageRuleError(f"{address}: {exc}") from None
    app_sources = tuple(f for f in installed.files if f.path.endswith(".py"))
    stdlib, app = await MultiGet(
        Get(Bytecode, BytecodeRequest(STDLIB, stdlib_sources(base.tar))),
        Get(Bytecode, BytecodeRequest(SITE_PACKAGES, app_sources)),
    )
    try:
        built = assemble(
            request, lock, base.tar, stdlib.files, installed, app.files, distributions
        )
    except ImageBuildError as exc:
        raise DebianImageRuleError(f"{address}: {exc}") from None
    archive_path = field_set.output_path.value_or_default(file_ending="tar")
    sbom_path = archive_path[: -len(".tar")] + ".spdx.json"
    digest = await Get(
        Digest,
        CreateDigest(
            [
                FileContent(archive_path, built.archive),
                FileContent(sbom_path, built.sbom.encode()),
            ]
        ),
    )
    return DebianImageBuild(
        repository, digest, archive_path, sbom_path, built.manifest_digest, len(built.archive)
    )


@rule(desc="Package a container image")
async def package_debian_image(field_set: DebianImageFieldSet) -> BuiltPackage:
    build = await Get(DebianImageBuild, DebianImageFieldSet, field_set)
    logger.info(f"image {build.repository}: {build.manifest_digest}")
    return BuiltPackage(
        build.digest,
        (
            BuiltPackageArtifact(
                build.archive_path,
                extra_log_lines=(
                    f"    image {build.repository}@{build.manifest_digest}",
                    f"    {build.size} bytes, docker load / OCI layout",
                ),
            ),
            BuiltPackageArtifact(build.sbom_path),
        ),
    )


@rule(desc="Write the digests of container images")
async def package_debian_image_digests(field_set: DebianImageDigestsFieldSet) -> BuiltPackage:
    addresses = await Get(
        Addresses,
        UnparsedAddressInputs(
            field_set.images.value or (),
            owning_address=field_set.address,
            description_of_origin=f"the `images` field of {field_set.address}",
        ),
    )
    targets = await Get(Targets, Addresses, addresses)
    not_images = [t.address.spec for t in targets if not DebianImageFieldSet.is_applicable(t)]
    if not_images:
        raise DebianImageRuleError(f"{field_set.address}: not debian_image targets: {not_images}")
    builds = await MultiGet(
        Get(DebianImageBuild, DebianImageFieldSet, DebianImageFieldSet.create(t)) for t in targets
    )
    digests = {b.repository: b.manifest_digest for b in builds}
    if len(digests) != len(builds):
        raise DebianImageRuleError(f"{field_set.address}: two images share a repository name")
    path = field_set.output_path.value_or_default(file_ending="json")
    text = json.dumps(dict(sorted(digests.items())), indent=2) + "\n"
    digest = await Get(Digest, CreateDigest([FileContent(path, text.encode())]))
    return BuiltPackage(digest, (BuiltPackageArtifact(path),))


def rules() -> list[object]:
    return [
        *collect_rules(),
        UnionRule(PackageFieldSet, DebianImageFieldSet),
        UnionRule(PackageFieldSet, DebianImageDigestsFieldSet),
    ]
