from __future__ import annotations

import pytest

from debian_image.errors import ImageBuildError
from debian_image.fakes import pex as fake_pex
from debian_image.pexinfo import PythonDistribution, pex_distributions


def test_pex_distributions_reads_wheel_names_from_pex_info() -> None:
    pex = fake_pex(
        {
            "Flask-3.1.3-py3-none-any.whl": "f" * 40,
            "cryptography-50.0.2-cp311-abi3-manylinux_2_28_x86_64.whl": "c" * 40,
            "zope.interface-7.0-1-cp311-cp311-linux_x86_64.whl": "z" * 40,
        }
    )
    assert pex_distributions(pex) == [
        PythonDistribution("cryptography", "50.0.2", "c" * 40),
        PythonDistribution("flask", "3.1.3", "f" * 40),
        PythonDistribution("zope-interface", "7.0", "z" * 40),
    ]


def test_pex_distributions_refuses_non_pex_input() -> None:
    with pytest.raises(ImageBuildError, match="cannot read PEX-INFO"):
        pex_distributions(b"not a zip")
    with pytest.raises(ImageBuildError, match="not a wheel file name"):
        pex_distributions(fake_pex({"flask.tar.gz": "x"}))
