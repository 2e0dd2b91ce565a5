"""A pretrained CNN front end (``init_cnn``): a new run starts from its weights; a file made
for another model, other features or another front, or no front-end file at all, is refused
by name before any run exists."""

from __future__ import annotations

import dataclasses
import re

import pytest
import torch

from tfstudio.model.crnn import CRNN, config_from_preset
from tfstudio.train import TrainError, checkpoint_paths, train
from tfstudio.train.frontend import FRONTEND_FORMAT, FrontendError, frontend_fields, load_frontend

pytestmark = pytest.mark.usefixtures("one_thread")


def _frontend(path, cfg, *, n_mels=None, background=None, mel_scale=None, seed=7):
    """A front-end file for ``cfg``'s CNN (or one changed as asked), with weights unlike any
    a run would draw; returns its CNN state dict."""
    fc = cfg.feature_config
    model = config_from_preset(cfg.preset, fc.n_mels, 3, **cfg.model)
    torch.manual_seed(seed)
    cnn = CRNN(model).cnn
    for p in cnn.parameters():
        torch.nn.init.uniform_(p, -0.5, 0.5)
    fields = frontend_fields(
        model, fc, cfg.background_percentile if background is None else background
    )
    if n_mels is not None:
        fields["model"]["n_mels"] = n_mels
    if mel_scale == "":  # a file made before the field existed
        del fields["features"]["mel_scale"]
    elif mel_scale is not None:
        fields["features"]["mel_scale"] = mel_scale
    torch.save({"format": FRONTEND_FORMAT, **fields, "cnn": cnn.state_dict()}, path)
    return cnn.state_dict()


def _parameters(state):
    """The learnt weights (batch norm's running statistics move with every forward pass)."""
    return {k: v for k, v in state.items() if "running" not in k and "num_batches" not in k}


def test_a_run_starts_from_the_front_end(demo_project, tiny_config, tmp_path):
    cfg = tiny_config(epochs=1, max_batches_per_epoch=1, lr=1e-9, average_decay=0.0)
    path = tmp_path / "front.pt"
    wanted = _parameters(_frontend(path, cfg))
    done = list(train(demo_project, cfg.replace(init_cnn=str(path))))[-1]
    assert done.status == "done", done.message
    assert demo_project.run(done.run).config_dict["init_cnn"] == str(path)
    _, last = checkpoint_paths(demo_project, done.run)
    state = torch.load(last, weights_only=True)["model"]
    got = {k.removeprefix("cnn."): v for k, v in state.items() if k.startswith("cnn.")}
    for key, value in wanted.items():
        torch.testing.assert_close(got[key], value, atol=1e-6, rtol=0)

    # Without it the same seed starts elsewhere.
    plain = list(train(demo_project, cfg))[-1]
    _, plain_last = checkpoint_paths(demo_project, plain.run)
    first = next(iter(wanted))
    other = torch.load(plain_last, weights_only=True)["model"][f"cnn.{first}"]
    assert not torch.allclose(other, wanted[first], atol=1e-3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_mels": 40}, "made for model.n_mels = 40, but this run has 64"),
        ({"background": 0.0}, "made for front.background_percentile = 0.0, but this run has 50.0"),
        ({"mel_scale": "htk"}, "made for features.mel_scale = 'htk', but this run has 'slaney'"),
    ],
)
def test_a_front_end_for_another_model_is_refused(
    demo_project, tiny_config, tmp_path, change, message
):
    cfg = tiny_config()
    path = tmp_path / "front.pt"
    _frontend(path, cfg, **change)
    with pytest.raises(TrainError, match=f"init_cnn: {path}: {message}"):
        list(train(demo_project, cfg.replace(init_cnn=str(path))))
    assert demo_project.runs() == []


def test_a_front_end_made_before_mel_scale_existed_fits_a_slaney_run(tiny_config, tmp_path):
    cfg = tiny_config()
    path = tmp_path / "front.pt"
    wanted = _frontend(path, cfg, mel_scale="")
    assert "mel_scale" not in torch.load(path, weights_only=True)["features"]
    model = config_from_preset(cfg.preset, cfg.feature_config.n_mels, 3, **cfg.model)
    state = load_frontend(path, model, cfg.feature_config, cfg.background_percentile)
    assert state.keys() == wanted.keys()
    features = dataclasses.replace(cfg.feature_config, mel_scale="htk")
    with pytest.raises(FrontendError, match=re.escape("made for features.mel_scale = 'slaney'")):
        load_frontend(path, model, features, cfg.background_percentile)


def test_no_front_end_file_is_refused(demo_project, tiny_config, tmp_path):
    cfg = tiny_config()
    missing = tmp_path / "missing.pt"
    with pytest.raises(TrainError, match=f"init_cnn: {missing}: no such file"):
        list(train(demo_project, cfg.replace(init_cnn=str(missing))))
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file at all")
    with pytest.raises(TrainError, match=f"init_cnn: {garbage}: not a front-end file"):
        list(train(demo_project, cfg.replace(init_cnn=str(garbage))))
    checkpoint = tmp_path / "other.pt"
    torch.save({"model": {}}, checkpoint)
    with pytest.raises(TrainError, match="not a front-end file \\(format None"):
        list(train(demo_project, cfg.replace(init_cnn=str(checkpoint))))
    assert demo_project.runs() == []


def test_weights_that_do_not_fit_the_header_are_refused_before_a_run(
    demo_project, tiny_config, tmp_path
):
    cfg = tiny_config()
    path = tmp_path / "front.pt"
    state = _frontend(path, cfg)
    data = torch.load(path, weights_only=True)
    first = next(k for k, v in state.items() if v.ndim == 4)  # a convolution's weight
    wrong = dict(state)
    wrong[first] = torch.zeros(*state[first].shape[:-1], state[first].shape[-1] + 2)
    torch.save({**data, "cnn": wrong}, path)
    shape = tuple(wrong[first].shape)
    with pytest.raises(
        TrainError, match=re.escape(f"init_cnn: {path}: CNN weight {first} has shape {shape}")
    ):
        list(train(demo_project, cfg.replace(init_cnn=str(path))))
    del wrong[first]
    wrong["extra.weight"] = torch.zeros(1)
    torch.save({**data, "cnn": wrong}, path)
    with pytest.raises(
        TrainError,
        match=re.escape(f"do not fit this model (missing {first}; unexpected extra.weight)"),
    ):
        list(train(demo_project, cfg.replace(init_cnn=str(path))))
    assert demo_project.runs() == []


def test_the_cnn_learns_at_its_own_rate(demo_project, tiny_config, tmp_path):
    path = tmp_path / "front.pt"
    cfg = tiny_config(epochs=1, average_decay=0.0, lr=1e-2)
    wanted = _parameters(_frontend(path, cfg))
    frozen = cfg.replace(init_cnn=str(path), cnn_lr_scale=0.0)
    done = list(train(demo_project, frozen))[-1]
    assert done.status == "done", done.message
    _, last = checkpoint_paths(demo_project, done.run)
    saved = torch.load(last, weights_only=True)
    state = saved["model"]
    for key, value in wanted.items():
        torch.testing.assert_close(state[f"cnn.{key}"], value, atol=0, rtol=0)
    # The rest learnt at the full rate, and the checkpoint keeps both groups' rates.
    assert [g["lr"] for g in saved["optimizer"]["param_groups"]] == [0.0, 1e-2]
    torch.manual_seed(cfg.seed)  # the run's own initial weights
    classes = len(demo_project.classes())
    fresh = CRNN(config_from_preset(cfg.preset, 64, classes, **cfg.model))
    assert not torch.allclose(state["classifier.weight"], fresh.classifier.weight, atol=1e-4)
    with pytest.raises(TrainError, match="cnn lr scale must be in"):
        cfg.replace(cnn_lr_scale=1.5)


TINY_ARGS = [
    "--epochs", "1", "--batch-size", "4", "--seq-len", "64", "--max-batches", "2",
    "--channels", "4", "--gru-hidden", "8", "--device", "cpu",
]  # fmt: skip


def test_the_command_line_stores_the_front_end_absolute(
    demo_root, tiny_config, tmp_path, monkeypatch, capsys
):
    from tfstudio.cli import main
    from tfstudio.store import Project

    _frontend(tmp_path / "front.pt", tiny_config())
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(demo_root), "--init-cnn", "front.pt", "-q", *TINY_ARGS]) == 0
    with Project.open(demo_root) as project:
        assert project.runs()[-1].config_dict["init_cnn"] == str(tmp_path / "front.pt")
    capsys.readouterr()
    # A wrong file is a one-line usage error, and no run is made.
    (tmp_path / "other.pt").write_bytes(b"nothing")
    assert main(["train", str(demo_root), "--set", "init_cnn=other.pt", *TINY_ARGS]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: init_cnn: {tmp_path / 'other.pt'}: not a front-end file")
    assert "Traceback" not in err
    with Project.open(demo_root) as project:
        assert len(project.runs()) == 1
