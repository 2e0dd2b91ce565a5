"""The core runs on a server without a display: importing it must not load Qt."""

import subprocess
import sys

CORE = [
    "tfstudio.store",
    "tfstudio.formats",
    "tfstudio.audio",
    "tfstudio.features",
    "tfstudio.model",
    "tfstudio.train",
    "tfstudio.cli",
    "tfstudio.importer",
    "tfstudio.exporter",
]


def test_core_imports_no_qt():
    code = (
        "import importlib, sys\n"
        f"for name in {CORE!r}: importlib.import_module(name)\n"
        "import tfstudio.cli.train_cmds\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6') or m.startswith('tfstudio.qt'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_store_and_formats_import_no_torch():
    code = (
        "import sys, tfstudio.store, tfstudio.formats, tfstudio.importer, tfstudio.exporter\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
