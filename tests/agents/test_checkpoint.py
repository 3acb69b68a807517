import json

import pytest
import torch

from hicra.agents import checkpoint as ck


def _model_and_optimizer(value: float):
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.fill_(value)
        model.bias.fill_(value)
    return model, torch.optim.AdamW(model.parameters(), lr=0.1)


def test_save_then_load_round_trips_model_optimizer_and_state(tmp_path):
    model, opt = _model_and_optimizer(1.5)
    model(torch.ones(1, 2)).sum().backward()
    opt.step()
    ck.save_checkpoint(tmp_path, 3, model, opt, {"perplexity0": 2.5})
    loaded = ck.load_checkpoint(tmp_path)
    assert loaded.path.name == "step-000003"
    assert loaded.state["step"] == 3 and loaded.state["perplexity0"] == 2.5
    assert torch.equal(loaded.model_state["weight"], model.weight.detach())
    assert loaded.optimizer_state["state"][0]["step"] == opt.state_dict()["state"][0]["step"]


def test_a_write_killed_midway_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    model, opt = _model_and_optimizer(1.0)
    ck.save_checkpoint(tmp_path, 1, model, opt, {})
    real_save = torch.save

    def dying_save(obj, fh):
        if isinstance(obj, dict) and "param_groups" in obj:  # the optimizer file: die mid-checkpoint
            raise KeyboardInterrupt("killed")
        real_save(obj, fh)

    monkeypatch.setattr(ck.torch, "save", dying_save)
    with torch.no_grad():
        model.weight.fill_(9.0)
    with pytest.raises(KeyboardInterrupt):
        ck.save_checkpoint(tmp_path, 2, model, opt, {})
    monkeypatch.undo()
    loaded = ck.load_checkpoint(tmp_path)
    assert loaded.state["step"] == 1
    assert torch.all(loaded.model_state["weight"] == 1.0)
    assert not list((tmp_path / "checkpoints").glob(".step-*")), "temporary directory left behind"


def test_only_the_newest_checkpoints_are_kept(tmp_path):
    model, opt = _model_and_optimizer(0.0)
    for step in (1, 2, 3):
        ck.save_checkpoint(tmp_path, step, model, opt, {}, keep=2)
    kept = sorted(p.name for p in (tmp_path / "checkpoints").glob("step-*"))
    assert kept == ["step-000002", "step-000003"]
    assert (tmp_path / "checkpoints" / "latest").read_text() == "step-000003"
    assert json.loads((tmp_path / "checkpoints" / "step-000003" / "state.json").read_text())["step"] == 3


def test_loading_without_checkpoint_names_the_expected_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoints/latest"):
        ck.load_checkpoint(tmp_path)
