"""Critic training killed mid-run resumes from its last checkpoint and ends in the undisturbed bytes."""

import json

import pytest
import torch

from pnlc.value.resume import RESUME_NAME
from pnlc.value.synthetic import random_transition_data
from test_value_train import make_cfg


class Killed(Exception):
    """Stands for SIGKILL: training stops between two updates and nothing of it runs after."""


@pytest.fixture(scope="module")
def data():
    return random_transition_data(num_transitions=400, episode_length=8, dim=8, num_outcome_goals=2, seed=0)


def kill_after(updates: int):
    from lightning.pytorch.callbacks import Callback

    class KillAt(Callback):
        def on_train_batch_end(self, trainer, *args) -> None:
            if trainer.global_step // 2 >= updates:
                raise Killed

    return KillAt()


def killed_fit(data, cfg, out, every: int, at: int) -> None:
    """fit() with a kill injected after `at` updates (the callback joins the Trainer fit builds)."""
    import pnlc.value.train as train

    real = train.build_trainer

    def with_kill(*args, extra_callbacks=(), **kw):
        return real(*args, extra_callbacks=[*extra_callbacks, kill_after(at)], **kw)

    train.build_trainer = with_kill
    try:
        with pytest.raises(Killed):
            train.fit(data, cfg, out, resume_every=every)
    finally:
        train.build_trainer = real


def outputs(out) -> dict:
    metrics = json.loads((out / "metrics.json").read_text())
    metrics["train"].pop("resumed_from_update")
    return {"critic": (out / "critic.ckpt").read_bytes(), "curves": (out / "curves.csv").read_text(),
            "metrics": metrics}


@pytest.mark.parametrize("patience", [0, 6], ids=["full length", "early stopping"])
def test_a_killed_run_resumes_from_its_checkpoint_and_ends_in_the_undisturbed_bytes(tmp_path, data, patience):
    from pnlc.value.train import fit

    # on this data the held-out loss is lowest at update 2: with patience 6 the run stops at 14, so the
    # checkpoint at 8 carries early stopping's count of validations without improvement
    cfg = make_cfg(max_steps=40, val_every_n_steps=2, log_every_n_steps=2, early_stop_patience=patience,
                   early_stop_min_delta=0.0)
    undisturbed = fit(data, cfg, tmp_path / "undisturbed", resume_every=4)
    assert not (tmp_path / "undisturbed" / RESUME_NAME).exists()
    assert undisturbed["train"]["resumed_from_update"] == 0
    assert undisturbed["train"]["updates"] == (14 if patience else 40)
    out = tmp_path / "killed"
    killed_fit(data, cfg, out, every=4, at=11)  # checkpoints at 4 and 8; killed before the one at 12
    saved = torch.load(out / RESUME_NAME, weights_only=True)
    assert saved["global_step"] // 2 == 8
    resumed = fit(data, cfg, out, resume_every=4)
    assert resumed["train"]["resumed_from_update"] == 8
    assert not (out / RESUME_NAME).exists()
    assert outputs(out) == outputs(tmp_path / "undisturbed")


def test_a_checkpoint_of_other_data_or_config_is_not_resumed_from(tmp_path, data, caplog):
    from pnlc.value.train import fit

    cfg = make_cfg(max_steps=24, val_every_n_steps=4)
    out = tmp_path / "run"
    killed_fit(data, cfg, out, every=4, at=10)
    assert (out / RESUME_NAME).exists()
    other = make_cfg(max_steps=24, val_every_n_steps=4, learning_rate=5e-3)
    metrics = fit(data, other, out, resume_every=4)
    assert metrics["train"]["resumed_from_update"] == 0
    assert "another training config" in caplog.text
    assert outputs(out) == outputs_of_fresh(tmp_path / "fresh", data, other)


def test_an_unreadable_checkpoint_means_starting_from_zero(tmp_path, data, caplog):
    from pnlc.value.train import fit

    out = tmp_path / "run"
    out.mkdir()
    (out / RESUME_NAME).write_bytes(b"PK\x03\x04 cut short")
    metrics = fit(data, make_cfg(max_steps=8, val_every_n_steps=4), out, resume_every=4)
    assert metrics["train"]["resumed_from_update"] == 0 and "not a readable checkpoint" in caplog.text
    assert not (out / RESUME_NAME).exists()


def outputs_of_fresh(out, data, cfg) -> dict:
    from pnlc.value.train import fit

    fit(data, cfg, out)
    return outputs(out)


def test_the_training_stream_restarts_at_the_first_unused_batch():
    """Lightning draws one batch ahead; the saved stream is the one before the first batch not trained on."""
    from pnlc.value.datamodule import RelabeledBatches

    class Split:
        num_transitions = 10
        device = "cpu"

    used = [0]
    g = torch.Generator().manual_seed(3)
    batches = RelabeledBatches(Split(), make_cfg(batch_size=4), g, consumed=lambda: used[0])
    batches.sample = lambda: torch.randint(10, (4,), generator=batches.generator)  # the stream, not relabeling
    it = iter(batches)
    drawn = [next(it) for _ in range(5)]
    used[0] = 4  # the fifth batch was drawn ahead and not trained on
    state = batches.state_dict()
    again = RelabeledBatches(Split(), make_cfg(batch_size=4), torch.Generator().manual_seed(99))
    again.sample = lambda: torch.randint(10, (4,), generator=again.generator)
    again.load_state_dict(state)
    assert torch.equal(next(iter(again)), drawn[4])
