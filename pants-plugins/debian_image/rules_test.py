"""Rule-level tests: Pants sees an image's PEX as a dependency, and the `pex` field's check."""

from __future__ import annotations

import pytest  # pants: no-infer-dep (pytest comes from the [pytest] tool)
from pants.backend.project_info import dependents
from pants.backend.python.goals.package_pex_binary import PexBinaryFieldSet
from pants.backend.python.target_types import PexBinary, PythonSourceTarget
from pants.core.goals.package import PackageFieldSet
from pants.core.target_types import FilesGeneratorTarget, FileTarget
from pants.engine.addresses import Address, Addresses
from pants.engine.internals.scheduler import ExecutionError
from pants.engine.rules import collect_rules
from pants.engine.target import Dependencies, DependenciesRequest
from pants.engine.unions import UnionRule
from pants.testutil.rule_runner import QueryRule, RuleRunner
from pants.vcs import changed
from pants.vcs.changed import ChangedAddresses, ChangedRequest, DependentsOption

from debian_image import register
from debian_image.rules import ImagePex, resolve_image_pex
from debian_image.target_types import DebianImagePexField

IMAGE = Address("images", target_name="app")
PEX = Address("", target_name="app")


@pytest.fixture()
def rule_runner() -> RuleRunner:
    """The `pex` field's rules only: building an image would need a Debian mirror."""
    runner = RuleRunner(
        rules=[
            resolve_image_pex,
            UnionRule(PackageFieldSet, PexBinaryFieldSet),
            *collect_rules(changed),
            *collect_rules(dependents),
            QueryRule(ImagePex, [DebianImagePexField]),
            QueryRule(Addresses, [DependenciesRequest]),
            QueryRule(ChangedAddresses, [ChangedRequest]),
        ],
        target_types=[
            *register.target_types(),
            PexBinary,
            PythonSourceTarget,
            FilesGeneratorTarget,
            FileTarget,
        ],
    )
    runner.write_files(
        {
            "app.py": "",
            "data/a.txt": "",
            "data/b.txt": "",
            "data/BUILD": "files(sources=['*.txt'])\n",
            "BUILD": (
                "python_source(name='src', source='app.py')\n"
                "pex_binary(name='app', dependencies=[':src'])\n"
            ),
            "images/BUILD": "debian_image(name='app', pex='//:app')\n",
        }
    )
    return runner


def image_with_pex(rule_runner: RuleRunner, pex: str) -> DebianImagePexField:
    rule_runner.write_files({"images/BUILD": f"debian_image(name='app', pex={pex!r})\n"})
    return rule_runner.get_target(IMAGE)[DebianImagePexField]


def test_dependencies_list_the_pex(rule_runner: RuleRunner) -> None:
    image = rule_runner.get_target(IMAGE)
    request = DependenciesRequest(image.get(Dependencies), include_special_cased_deps=True)
    assert list(rule_runner.request(Addresses, [request])) == [PEX]


def test_a_change_below_the_pex_reaches_the_image(rule_runner: RuleRunner) -> None:
    # What `--changed-since=... --changed-dependents=transitive` computes from the changed files.
    request = ChangedRequest(sources=("app.py",), dependents=DependentsOption.TRANSITIVE)
    assert IMAGE in rule_runner.request(ChangedAddresses, [request])


def test_resolves_the_pex_binary(rule_runner: RuleRunner) -> None:
    pex = rule_runner.request(ImagePex, [rule_runner.get_target(IMAGE)[DebianImagePexField]])
    assert pex.field_set.address == PEX


@pytest.mark.parametrize(
    ("pex", "why"),
    [
        ("//:missing", "The address //:missing from the `pex` from the target images:app does not"),
        ("//:src", "not //:src (a `python_source`)"),
        ("//data", "not data/a.txt (a `file`), data/b.txt (a `file`)"),
    ],
)
def test_rejects_what_cannot_be_packaged(rule_runner: RuleRunner, pex: str, why: str) -> None:
    field = image_with_pex(rule_runner, pex)
    with pytest.raises(ExecutionError, match="must name one packageable target") as error:
        rule_runner.request(ImagePex, [field])
    assert why in str(error.value)


def test_one_address_only(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {"images/BUILD": "debian_image(name='app', pex=['//:app', '//:app'])\n"}
    )
    with pytest.raises(ExecutionError, match="must name one pex_binary, not 2"):
        rule_runner.get_target(IMAGE)
