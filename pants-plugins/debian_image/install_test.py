from __future__ import annotations

import pytest

from debian_image import fakes
from debian_image.errors import ImageBuildError
from debian_image.fsentry import FILE, FsEntry
from debian_image.install import install_pex, launcher, stdlib_sources
from debian_image.tarlayer import write_tar

WHEEL = ".deps/flask-3.1.3-py3-none-any.whl"
NATIVE = ".deps/cryptography-50.0.2-cp311-abi3-manylinux_2_34_x86_64.whl"
PEX = fakes.pex(
    {"flask-3.1.3-py3-none-any.whl": "f" * 40},
    {
        f"{WHEEL}/flask/__init__.py": b"flask",
        f"{WHEEL}/flask-3.1.3.dist-info/METADATA": b"Name: flask",
        f"{WHEEL}/.layout.json": b"{}",
        f"{WHEEL}/.prefix/bin/flask": b"#!script",
        f"{NATIVE}/cryptography/_rust.abi3.so": b"ELF",
        ".bootstrap/pex/__init__.py": b"bootstrap",
        "__pex__/__init__.py": b"shim",
        "app/__init__.py": b"",
        "app/main.py": b"def main(): return 0",
        "app/__pycache__/main.cpython-311.pyc": b"stale",
    },
    entry_point="app.main:main",
)


def test_install_pex_merges_wheels_and_first_party_code_into_site_packages() -> None:
    installed = install_pex(PEX)
    assert installed.entry_point == "app.main:main"
    assert {f.path: (f.mode, f.data) for f in installed.files} == {
        "app/site-packages/app/__init__.py": (0o644, b""),
        "app/site-packages/app/main.py": (0o644, b"def main(): return 0"),
        "app/site-packages/cryptography/_rust.abi3.so": (0o755, b"ELF"),
        "app/site-packages/flask-3.1.3.dist-info/METADATA": (0o644, b"Name: flask"),
        "app/site-packages/flask/__init__.py": (0o644, b"flask"),
    }


def test_install_pex_refuses_conflicting_files_and_bad_entry_points() -> None:
    clash = fakes.pex(
        {},
        {".deps/a-1-py3-none-any.whl/x.py": b"a", ".deps/b-1-py3-none-any.whl/x.py": b"b"},
    )
    with pytest.raises(ImageBuildError, match="ship 'app/site-packages/x.py'"):
        install_pex(clash)
    same = fakes.pex(
        {},
        {".deps/a-1-py3-none-any.whl/x.py": b"a", ".deps/b-1-py3-none-any.whl/x.py": b"a"},
    )
    assert [f.path for f in install_pex(same).files] == ["app/site-packages/x.py"]
    with pytest.raises(ImageBuildError, match="not 'module:function'"):
        install_pex(fakes.pex({}, entry_point="app/main.py"))
    with pytest.raises(ImageBuildError, match="cannot read the PEX"):
        install_pex(b"not a zip")


def test_launcher_runs_the_entry_point_isolated_from_the_environment() -> None:
    entry = launcher("sev-webhook", "akash_snp.webhook.main:main")
    assert entry.path == "app/bin/sev-webhook"
    assert entry.mode == 0o755
    assert entry.data.decode().splitlines() == [
        "#!/usr/bin/python3.11 -IB",
        "import sys",
        "sys.path.insert(0, '/app/site-packages')",
        "from akash_snp.webhook.main import main",
        "sys.exit(main())",
    ]


def test_stdlib_sources_are_the_python_files_of_the_standard_library() -> None:
    base = write_tar(
        [
            FsEntry("usr/lib/python3.11/enum.py", FILE, 0o644, b"class Enum: pass"),
            FsEntry("usr/lib/python3.11/json/__init__.py", FILE, 0o644, b""),
            FsEntry("usr/lib/python3.11/lib-dynload/_ssl.so", FILE, 0o644, b"ELF"),
            FsEntry("usr/lib/python3/dist-packages/x.py", FILE, 0o644, b""),
            FsEntry("usr/bin/python3.11", FILE, 0o755, b"ELF"),
        ]
    )
    assert [(e.path, e.data) for e in stdlib_sources(base)] == [
        ("usr/lib/python3.11/enum.py", b"class Enum: pass"),
        ("usr/lib/python3.11/json/__init__.py", b""),
    ]
