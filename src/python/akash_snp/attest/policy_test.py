"""Policy loading (YAML/JSON) and every acceptability check."""

from __future__ import annotations

import pytest

from akash_snp.attest.constants import Product
from akash_snp.attest.errors import PolicyError
from akash_snp.attest.nonce import report_data_for_nonce
from akash_snp.attest.policy import Policy, evaluate_policy, load_policy, policy_as_dict
from akash_snp.attest.report import BuildVersion, GuestPolicy, Report
from akash_snp.attest.tcb import TcbVersion
from akash_snp.attest.verdict import Check
from akash_snp.emulation.firmware import unsigned_report


@pytest.fixture()
def report() -> Report:
    return unsigned_report(
        Product.GENOA,
        report_data=b"\x01" * 64,
        measurement=b"\x02" * 48,
        host_data=b"\x03" * 32,
        vmpl=1,
        guest_svn=4,
    )


def _failed(report: Report, policy: Policy) -> list[str]:
    return [c.name for c in evaluate_policy(report, Product.GENOA, policy) if not c.ok]


def test_defaults_refuse_debug_and_migration_agent(report: Report) -> None:
    assert _failed(report, Policy()) == []
    debug = report._replace(policy=GuestPolicy(report.policy.value | 1 << 19))
    assert _failed(debug, Policy()) == ["policy.debug"]
    assert _failed(debug, Policy(allow_debug=True)) == []
    migrating = report._replace(policy=GuestPolicy(report.policy.value | 1 << 18))
    assert _failed(migrating, Policy()) == ["policy.migration_agent"]
    assert _failed(report, Policy(allow_smt=False)) == ["policy.smt"]


def test_nonce_requires_report_data_to_commit_to_it(report: Report) -> None:
    bound = report._replace(report_data=report_data_for_nonce(b"\xc0\xff\xee"))
    checks = evaluate_policy(bound, Product.GENOA, Policy(nonce=b"\xc0\xff\xee"))
    assert [c for c in checks if c.name == "policy.nonce"] == [
        Check("policy.nonce", True, "REPORT_DATA commits to nonce c0ffee")
    ]
    assert _failed(bound, Policy(nonce=b"\x01")) == ["policy.nonce"]
    assert _failed(report, Policy(nonce=b"\xc0\xff\xee")) == ["policy.nonce"]
    assert "nonce" not in policy_as_dict(Policy(nonce=b"\x01"))


def test_current_tcb_above_committed_is_allowed_by_default(report: Report) -> None:
    ahead = report._replace(current_tcb=bytes.fromhex("0a00000000001760"))
    assert _failed(ahead, Policy()) == []
    strict = Policy(allow_current_tcb_above_committed=False)
    assert _failed(ahead, strict) == ["policy.current_tcb_committed"]


def test_value_checks(report: Report) -> None:
    good = Policy(
        allowed_measurements=(b"\x09" * 48, b"\x02" * 48),
        host_data=b"\x03" * 32,
        report_data=b"\x01" * 64,
        family_id=bytes(16),
        image_id=bytes(16),
        id_key_digests=(bytes(48),),
        author_key_digests=(bytes(48),),
        min_guest_svn=4,
        max_vmpl=1,
        min_tcb=TcbVersion(10, 0, 23, 84),
        min_build=BuildVersion(1, 55, 29),
        allowed_products=(Product.GENOA,),
        allowed_signing_keys=("VCEK",),
    )
    assert _failed(report, good) == []
    bad = Policy(
        allowed_measurements=(b"\x09" * 48,),
        host_data=bytes(32),
        report_data=bytes(64),
        family_id=b"\x01" * 16,
        image_id=b"\x01" * 16,
        id_key_digests=(b"\x01" * 48,),
        author_key_digests=(b"\x01" * 48,),
        min_guest_svn=5,
        max_vmpl=0,
        min_tcb=TcbVersion(11, 0, 23, 84),
        min_build=BuildVersion(1, 56, 0),
        allowed_products=(Product.MILAN,),
        allowed_signing_keys=("VLEK",),
    )
    assert _failed(report, bad) == [
        "policy.signing_key",
        "policy.product",
        "policy.min_tcb",
        "policy.min_build",
        "policy.measurement",
        "policy.host_data",
        "policy.report_data",
        "policy.family_id",
        "policy.image_id",
        "policy.id_key_digest",
        "policy.author_key_digest",
        "policy.min_guest_svn",
        "policy.max_vmpl",
    ]


def test_load_yaml_and_json() -> None:
    measurement = "ab" * 48
    zeros = "00" * 64
    yaml_text = f"""
allow_debug: false
min_tcb: {{bootloader: 3, snp: 8, microcode: 115}}
min_build: 1.52.4
allowed_measurements: ["{measurement}"]
report_data: "0x{zeros}"
max_vmpl: 0
allowed_signing_keys: [vcek]
allowed_products: [Milan-B0, Genoa]
"""
    policy = load_policy(yaml_text)
    assert policy.min_tcb == TcbVersion(bootloader=3, tee=0, snp=8, microcode=115)
    assert policy.min_build == BuildVersion(1, 52, 4)
    assert policy.allowed_measurements == (b"\xab" * 48,)
    assert policy.allowed_signing_keys == ("VCEK",)
    assert policy.allowed_products == (Product.MILAN, Product.GENOA)
    assert load_policy('{"max_vmpl": 2, "allow_stale_crl": true}') == Policy(
        max_vmpl=2, allow_stale_crl=True
    )
    assert load_policy("") == Policy()
    assert load_policy(__import__("json").dumps(policy_as_dict(policy))) == policy


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense_field: 1", "unknown policy fields"),
        ("[1, 2]", "must be a mapping"),
        ("allow_debug: yes please", "must be true or false"),
        ("host_data: abcd", "must be 32 bytes"),
        ("host_data: zz", "is not hex"),
        ("host_data: 5", "must be a hex string"),
        ("max_vmpl: -1", "non-negative integer"),
        ("min_tcb: {bl: 1}", "unknown components"),
        ("min_tcb: 3", "must be a mapping"),
        ("min_tcb: {snp: 300}", "outside 0..255"),
        ("min_build: 1.2", "MAJOR.MINOR.BUILD"),
        ("allowed_signing_keys: [ARK]", "VCEK/VLEK"),
        ("allowed_products: [Naples]", "unknown product"),
        ("allowed_measurements: abc", "list of hex strings"),
        ("{unclosed", "neither valid YAML nor JSON"),
        ("nonce: abcd", "unknown policy fields"),  # set per request, never in a file
    ],
)
def test_bad_policies(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(text)


def test_min_tcb_with_unparseable_reported_tcb_fails_closed(report: Report) -> None:
    broken = report._replace(reported_tcb=bytes.fromhex("0a00010000001754"))
    checks = evaluate_policy(broken, Product.GENOA, Policy(min_tcb=TcbVersion(0, 0, 0, 0)))
    (tcb_check,) = (c for c in checks if c.name == "policy.min_tcb")
    assert not tcb_check.ok
    assert "reserved bytes" in tcb_check.detail
