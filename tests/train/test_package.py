"""What importing the training package costs, and what it offers."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _loads_torch(statement: str) -> bool:
    code = f"import sys\n{statement}\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def test_metrics_postprocess_and_the_cli_parser_do_not_load_torch():
    assert not _loads_torch(
        "import tfstudio.train, tfstudio.train.metrics, tfstudio.train.postprocess\n"
        "from tfstudio.cli import build_parser; build_parser()"
    )


def test_lazy_exports():
    import tfstudio.train as package

    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError):
        package.nothing_here  # noqa: B018
