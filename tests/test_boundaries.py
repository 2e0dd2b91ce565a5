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
    "tfstudio.session",
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


def test_a_command_runs_without_loading_qt_and_the_gui_is_chosen_in_main(tmp_path):
    """``tfstudio init`` (through the same entry point as the app) never imports Qt; only
    ``tfstudio [PROJECT]`` does, and ``__main__`` is the one place that decides."""
    code = (
        "import sys\n"
        "from tfstudio.__main__ import main\n"
        f"assert main(['init', {str(tmp_path / 'p')!r}]) == 0\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph') or m.startswith('tfstudio.qt'))\n"
        "print('loaded:' + ','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "loaded:"
    from tfstudio.cli import is_command_line

    assert not is_command_line([]) and not is_command_line(["some/project"])
    assert is_command_line(["init", "p"]) and is_command_line(["--version"])
    assert is_command_line(["some/project", "extra"])  # an error message, not the GUI


def test_configurations_validate_without_torch():
    code = (
        "import sys\n"
        "from tfstudio.train.config import TRAIN_PRESETS, TrainConfig\n"
        "from tfstudio.features import FeatureConfig\n"
        "import tfstudio.train.tune, tfstudio.model.presets\n"
        "for name in TRAIN_PRESETS: TrainConfig.from_preset(name).validate()\n"
        "FeatureConfig().key()\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
