"""Acceptability: is an authentic report one we want? (Authenticity lives in verify.py.)

Every ``Policy`` field says what it checks; a field left at ``None``/empty is not checked. The
defaults are safe: debug and migration-agent guests are refused, CURRENT_TCB may exceed
COMMITTED_TCB (the AWS recording milan-v3-vlek-aws in ../shared/testdata/snp-real does). Load from
YAML or JSON with ``load_policy``.
"""

# Annotations are evaluated (no ``from __future__ import annotations``): ``typing.NamedTuple``
# compiles every string annotation into a ForwardRef, about 0.3 ms of every ``snp-verify`` start-up.

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

from akash_snp.attest.constants import TCB_LAYOUT, Product, parse_product
from akash_snp.attest.errors import AttestError, PolicyError
from akash_snp.attest.report import BuildVersion, Report
from akash_snp.attest.tcb import TcbVersion, decode_tcb
from akash_snp.attest.verdict import Check


class Policy(NamedTuple):
    """What an authentic report must also satisfy. Unset (None/empty) fields are not checked.

    A NamedTuple (change fields with ``_replace``): a dataclass would cost every ``snp-verify``
    start-up about a millisecond to create.

    allow_debug: accept POLICY.DEBUG=1 guests (default False: a debug guest's memory is readable).
    allow_migration_agent: accept POLICY.MIGRATE_MA=1 (default False).
    allow_smt: accept POLICY.SMT=1 (default True).
    min_tcb: REPORTED_TCB and COMMITTED_TCB must be >= this, component-wise.
    min_build: CURRENT and COMMITTED firmware build must be >= this (major, minor, build).
    allowed_measurements: MEASUREMENT must be one of these 48-byte values.
    host_data: HOST_DATA must equal this (32 bytes).
    report_data: REPORT_DATA must equal this (64 bytes).
    nonce: REPORT_DATA must commit to this verifier nonce (``attest.nonce``): the freshness
        check. Set per request by the verifier, never in a policy file.
    family_id / image_id: FAMILY_ID / IMAGE_ID must equal these (16 bytes each).
    id_key_digests / author_key_digests: ID_KEY_DIGEST / AUTHOR_KEY_DIGEST must be one of these.
    min_guest_svn: GUEST_SVN must be >= this.
    max_vmpl: VMPL must be <= this (0 = only the most privileged level).
    allow_current_tcb_above_committed: when False, CURRENT_TCB must equal COMMITTED_TCB
        (default True: AWS reports have CURRENT > COMMITTED).
    allowed_signing_keys: subset of ("VCEK", "VLEK") the report may be signed with.
    allowed_products: products (Milan, Genoa, Turin) accepted; empty = any.
    require_crl: a CRL must be given (or fetched) and checked.
    allow_stale_crl: accept a CRL whose nextUpdate has passed (default False).
    """

    allow_debug: bool = False
    allow_migration_agent: bool = False
    allow_smt: bool = True
    min_tcb: TcbVersion | None = None
    min_build: BuildVersion | None = None
    allowed_measurements: tuple[bytes, ...] = ()
    host_data: bytes | None = None
    report_data: bytes | None = None
    nonce: bytes | None = None
    family_id: bytes | None = None
    image_id: bytes | None = None
    id_key_digests: tuple[bytes, ...] = ()
    author_key_digests: tuple[bytes, ...] = ()
    min_guest_svn: int | None = None
    max_vmpl: int | None = None
    allow_current_tcb_above_committed: bool = True
    allowed_signing_keys: tuple[str, ...] = ("VCEK", "VLEK")
    allowed_products: tuple[Product, ...] = ()
    require_crl: bool = False
    allow_stale_crl: bool = False


# Set by the verifier for each request (its nonce), not by a policy document.
_PER_REQUEST = frozenset({"nonce"})
_BYTE_FIELDS = {"host_data": 32, "report_data": 64, "family_id": 16, "image_id": 16}
_BYTE_LIST_FIELDS = {"allowed_measurements": 48, "id_key_digests": 48, "author_key_digests": 48}
_BOOL_FIELDS = {
    "allow_debug",
    "allow_migration_agent",
    "allow_smt",
    "allow_current_tcb_above_committed",
    "require_crl",
    "allow_stale_crl",
}


def _hex(value: Any, size: int, name: str) -> bytes:
    if not isinstance(value, str):
        raise PolicyError(f"policy field {name} must be a hex string, got {type(value).__name__}")
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError as error:
        raise PolicyError(f"policy field {name} is not hex: {value!r}") from error
    if len(raw) != size:
        raise PolicyError(f"policy field {name} must be {size} bytes, got {len(raw)}")
    return raw


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError(f"policy field {name} must be a non-negative integer, got {value!r}")
    return int(value)


_TCB_KEYS = ("bootloader", "tee", "snp", "microcode", "fmc")


def _tcb(value: Any) -> TcbVersion:
    if not isinstance(value, Mapping):
        raise PolicyError(
            "policy field min_tcb must be a mapping of bootloader/tee/snp/microcode/fmc"
        )
    unknown = set(value) - set(_TCB_KEYS)
    if unknown:
        raise PolicyError(f"min_tcb has unknown components {sorted(unknown)}")
    components = {k: _int(value.get(k, 0), f"min_tcb.{k}") for k in _TCB_KEYS}
    try:
        return TcbVersion(**components)
    except AttestError as error:
        raise PolicyError(f"min_tcb: {error}") from error


def _build(value: Any) -> BuildVersion:
    parts = str(value).split(".")
    if len(parts) != 3 or not all(p.isdigit() and int(p) <= 255 for p in parts):
        raise PolicyError(f"min_build must look like MAJOR.MINOR.BUILD, got {value!r}")
    return BuildVersion(int(parts[0]), int(parts[1]), int(parts[2]))


def policy_from_mapping(data: Mapping[str, Any]) -> Policy:
    """Build a Policy from plain data (as loaded from YAML/JSON); unknown keys are errors."""
    if not isinstance(data, Mapping):
        raise PolicyError("a policy must be a mapping of field names to values")
    known = set(Policy._fields) - _PER_REQUEST
    unknown = set(data) - known
    if unknown:
        raise PolicyError(f"unknown policy fields {sorted(unknown)}; known: {sorted(known)}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            continue
        if name in _BOOL_FIELDS:
            if not isinstance(value, bool):
                raise PolicyError(f"policy field {name} must be true or false, got {value!r}")
            values[name] = value
        elif name in _BYTE_FIELDS:
            values[name] = _hex(value, _BYTE_FIELDS[name], name)
        elif name in _BYTE_LIST_FIELDS:
            if not isinstance(value, list):
                raise PolicyError(f"policy field {name} must be a list of hex strings")
            values[name] = tuple(_hex(v, _BYTE_LIST_FIELDS[name], name) for v in value)
        elif name in ("min_guest_svn", "max_vmpl"):
            values[name] = _int(value, name)
        elif name == "min_tcb":
            values[name] = _tcb(value)
        elif name == "min_build":
            values[name] = _build(value)
        elif name == "allowed_signing_keys":
            keys = tuple(str(v).upper() for v in value) if isinstance(value, list) else None
            if keys is None or not set(keys) <= {"VCEK", "VLEK"}:
                raise PolicyError(f"allowed_signing_keys must be a list of VCEK/VLEK: {value!r}")
            values[name] = keys
        elif name == "allowed_products":
            if not isinstance(value, list):
                raise PolicyError("allowed_products must be a list of product names")
            try:
                values[name] = tuple(parse_product(str(v)) for v in value)
            except AttestError as error:
                raise PolicyError(str(error)) from error
    return Policy(**values)


def load_policy(text: str | bytes) -> Policy:
    """Parse a policy document in YAML or JSON (JSON is valid YAML).

    PyYAML is imported only here: verifying without a policy file must not load it."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PolicyError(f"policy is neither valid YAML nor JSON: {error}") from error
    return policy_from_mapping({} if data is None else data)


def policy_as_dict(policy: Policy) -> dict[str, Any]:
    """The inverse of ``policy_from_mapping`` (for showing the policy in use)."""
    out: dict[str, Any] = {}
    for name in Policy._fields:
        if name in _PER_REQUEST:
            continue
        value = getattr(policy, name)
        if isinstance(value, bytes):
            value = value.hex()
        elif isinstance(value, TcbVersion):  # before ``tuple``: TcbVersion is a NamedTuple
            value = value.as_dict()
        elif isinstance(value, BuildVersion):
            value = str(value)
        elif isinstance(value, tuple):
            value = [
                v.hex() if isinstance(v, bytes) else str(getattr(v, "value", v)) for v in value
            ]
        out[name] = value
    return out


def _equal(name: str, actual: bytes, expected: bytes | None, label: str) -> Check | None:
    if expected is None:
        return None
    ok = actual == expected
    detail = f"{label} matches" if ok else f"{label} {actual.hex()} != expected {expected.hex()}"
    return Check(name, ok, detail)


def _one_of(name: str, actual: bytes, allowed: tuple[bytes, ...], label: str) -> Check | None:
    if not allowed:
        return None
    ok = actual in allowed
    detail = f"{label} is allowed" if ok else f"{label} {actual.hex()} is not in the allowed list"
    return Check(name, ok, detail)


# The checks below have few distinct outcomes; caching them keeps string formatting off the
# warm verification path (see benchmarks/verify).
@functools.lru_cache(maxsize=64)
def _flag_check(name: str, bit: str, value: bool, allowed: bool) -> Check:
    suffix = "" if allowed else " (must be 0)"
    return Check(name, allowed or not value, f"POLICY.{bit}={int(value)}{suffix}")


@functools.lru_cache(maxsize=64)
def _signing_key_check(key_name: str, allowed: tuple[str, ...]) -> Check:
    return Check(
        "policy.signing_key",
        key_name in allowed,
        f"signed with {key_name}; allowed {', '.join(allowed)}",
    )


def _nonce_check(report_data: bytes, nonce: bytes) -> Check:
    """``policy.nonce``: REPORT_DATA must commit to ``nonce``, so the report was made for this
    request; anything else is a replayed or foreign report. (``nonce`` is imported here: only
    the nonce-bound verifications of the services and ``snp-verify url`` need it.)"""
    from akash_snp.attest.nonce import report_data_for_nonce

    expected = report_data_for_nonce(nonce)
    if report_data != expected:
        return Check(
            "policy.nonce",
            False,
            f"REPORT_DATA {report_data.hex()[:32]}... does not commit to nonce {nonce.hex()} "
            f"(expected {expected.hex()[:32]}...): a replayed or foreign report",
        )
    return Check("policy.nonce", True, f"REPORT_DATA commits to nonce {nonce.hex()}")


def evaluate_policy(report: Report, product: Product, policy: Policy) -> list[Check]:
    """Run every configured acceptability check on an (authentic) report."""
    guest = report.policy
    checks = [
        _flag_check("policy.debug", "DEBUG", guest.debug, policy.allow_debug),
        _flag_check(
            "policy.migration_agent", "MIGRATE_MA", guest.migrate_ma, policy.allow_migration_agent
        ),
    ]
    if not policy.allow_smt:
        checks.append(_flag_check("policy.smt", "SMT", guest.smt_allowed, False))
    checks.append(
        _signing_key_check(report.signer_info.signing_key_name, policy.allowed_signing_keys)
    )
    if policy.allowed_products:
        names = ", ".join(p.value for p in policy.allowed_products)
        checks.append(
            Check(
                "policy.product",
                product in policy.allowed_products,
                f"product {product.value}; allowed {names}",
            )
        )
    layout = TCB_LAYOUT[product]
    if policy.min_tcb is not None:
        try:
            reported = decode_tcb(report.reported_tcb, layout)
            committed = decode_tcb(report.committed_tcb, layout)
            ok = reported.at_least(policy.min_tcb) and committed.at_least(policy.min_tcb)
            detail = (
                f"REPORTED_TCB {reported.describe()}, COMMITTED_TCB {committed.describe()}; "
                f"minimum {policy.min_tcb.describe()}"
            )
        except AttestError as error:
            ok, detail = False, str(error)
        checks.append(Check("policy.min_tcb", ok, detail))
    if policy.min_build is not None:
        low = min(report.current_build.key(), report.committed_build.key())
        checks.append(
            Check(
                "policy.min_build",
                low >= policy.min_build.key(),
                f"CURRENT {report.current_build}, COMMITTED {report.committed_build}; "
                f"minimum {policy.min_build}",
            )
        )
    for check in (
        _one_of(
            "policy.measurement", report.measurement, policy.allowed_measurements, "MEASUREMENT"
        ),
        _equal("policy.host_data", report.host_data, policy.host_data, "HOST_DATA"),
        _equal("policy.report_data", report.report_data, policy.report_data, "REPORT_DATA"),
        _equal("policy.family_id", report.family_id, policy.family_id, "FAMILY_ID"),
        _equal("policy.image_id", report.image_id, policy.image_id, "IMAGE_ID"),
        _one_of(
            "policy.id_key_digest", report.id_key_digest, policy.id_key_digests, "ID_KEY_DIGEST"
        ),
        _one_of(
            "policy.author_key_digest",
            report.author_key_digest,
            policy.author_key_digests,
            "AUTHOR_KEY_DIGEST",
        ),
    ):
        if check is not None:
            checks.append(check)
    if policy.nonce is not None:
        checks.append(_nonce_check(report.report_data, policy.nonce))
    if policy.min_guest_svn is not None:
        checks.append(
            Check(
                "policy.min_guest_svn",
                report.guest_svn >= policy.min_guest_svn,
                f"GUEST_SVN {report.guest_svn}; minimum {policy.min_guest_svn}",
            )
        )
    if policy.max_vmpl is not None:
        checks.append(
            Check(
                "policy.max_vmpl",
                report.vmpl <= policy.max_vmpl,
                f"VMPL {report.vmpl}; maximum {policy.max_vmpl}",
            )
        )
    if not policy.allow_current_tcb_above_committed:
        same = report.current_tcb == report.committed_tcb
        checks.append(
            Check(
                "policy.current_tcb_committed",
                same,
                f"CURRENT_TCB {report.current_tcb.hex()}, COMMITTED_TCB "
                f"{report.committed_tcb.hex()} (must be equal)",
            )
        )
    return checks
