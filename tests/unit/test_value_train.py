"""The Lightning critic: update order, the real Trainer path, checkpoints and determinism."""

import numpy as np
import pytest
import torch

from pnlc.value.checkpoint import CheckpointError, ValueModel, load_critic, save_checkpoint
from pnlc.value.config import GoalMixture, TrainConfig
from pnlc.value.datamodule import TransitionDataModule
from pnlc.value.module import IQLCritic
from pnlc.value.synthetic import random_transition_data
from pnlc.value.train import build_trainer


def make_cfg(**kw) -> TrainConfig:
    base = dict(
        hidden_sizes=(16, 16), expectile=0.8, discount=0.9, target_update_rate=0.1, learning_rate=1e-3,
        weight_decay=0.01, batch_size=64, max_steps=6,
        goal_mixture=GoalMixture(future=0.4, final=0.2, other_episode=0.2, outcome=0.2),
        goal_match_threshold=0.95, val_fraction=0.25, goal_conditioned=True, standardize_inputs=False,
        train_episode_fraction=1.0, shuffle_outcomes=False,
        precision="32-true",
        accelerator="cpu", seed=0, log_every_n_steps=2, val_every_n_steps=3, early_stop_patience=0, early_stop_min_delta=0.0,
        complement_outcomes=False, diagnostic_goals_per_transition=2,
    )
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def data():
    return random_transition_data(num_transitions=400, episode_length=8, dim=8, num_outcome_goals=2, seed=0)


def record_order(module: IQLCritic, events: list[str]) -> list:
    handles = [
        module.q_target.register_forward_hook(lambda *_: events.append("Q_target forward")),
        module.value.register_forward_hook(lambda *_: events.append("V forward")),
        module.q.q1.register_forward_hook(lambda *_: events.append("Q forward")),
    ]
    return handles


def test_update_order_v_then_q_then_target(data, monkeypatch):
    cfg = make_cfg()
    module = IQLCritic(data.dim, cfg)
    dm = TransitionDataModule(data, cfg)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    events: list[str] = []
    record_order(module, events)
    value_opt, q_opt = module.configure_optimizers()
    value_opt.register_step_post_hook(lambda *_: events.append("V step"))
    q_opt.register_step_post_hook(lambda *_: events.append("Q step"))
    import pnlc.value.module as mod

    real = mod.polyak_update
    monkeypatch.setattr(mod, "polyak_update", lambda *a: (events.append("target update"), real(*a)))
    v_before = [p.detach().clone() for p in module.value.parameters()]
    module.iql_update(batch, value_opt, q_opt, lambda loss: loss.backward())
    assert events == ["Q_target forward", "V forward", "V step", "V forward", "Q forward", "Q step", "target update"]
    assert any(not torch.equal(a, b) for a, b in zip(v_before, module.value.parameters()))


def test_q_bootstraps_from_the_updated_value(data):
    """The Q step's target uses V after the V step: replaying the V step by hand gives the same Q."""
    cfg = make_cfg()
    dm = TransitionDataModule(data, cfg)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    module = IQLCritic(data.dim, cfg)
    value_opt, q_opt = module.configure_optimizers()
    captured = {}
    orig = module.value.forward

    def spy(state, goal=None):
        out = orig(state, goal)
        if state is batch["next_state"]:
            captured["v_next"] = out.detach().clone()
            captured["params"] = [p.detach().clone() for p in module.value.parameters()]
        return out

    module.value.forward = spy
    before = [p.detach().clone() for p in module.value.parameters()]
    module.iql_update(batch, value_opt, q_opt, lambda loss: loss.backward())
    after = list(module.value.parameters())
    assert all(torch.equal(a, b) for a, b in zip(captured["params"], after))
    assert any(not torch.equal(a, b) for a, b in zip(before, after))


def test_the_monte_carlo_term_adds_the_outcome_rows_squared_error_to_the_q_loss(data):
    """Same start, same batch: the Q loss with weight w exceeds the TD loss alone by exactly w times
    the squared error of both heads against the outcome labels, over the outcome rows only."""
    from pnlc.value.losses import masked_squared_error

    batch = next(iter(TransitionDataModule(data, make_cfg()).train_dataloader()))
    assert 0 < batch["mc_mask"].sum() < batch["mc_mask"].numel()
    losses = {}
    for w in (0.0, 2.5):
        module = IQLCritic(data.dim, make_cfg(outcome_mc_weight=w))
        q1, q2 = (x.detach() for x in module.q.both(batch["state"], batch["thought"], batch["goal"]))
        losses[w] = module.iql_update(batch, *module.configure_optimizers(), lambda loss: loss.backward())[1]
    mc = masked_squared_error(q1, batch["mc_target"], batch["mc_mask"]) + masked_squared_error(
        q2, batch["mc_target"], batch["mc_mask"])
    assert mc > 0
    assert torch.allclose(losses[2.5] - losses[0.0], 2.5 * mc, atol=1e-6)


@pytest.mark.parametrize("goals", ["sampled", "every"])
def test_the_log_loss_monte_carlo_term_adds_both_heads_log_loss_over_the_outcome_rows(data, goals):
    """outcome_mc_loss "log": the Q loss exceeds the TD loss alone by w times both heads' binary log
    loss against the outcome labels (computed here from the formula), over the outcome rows only."""
    batch = next(iter(TransitionDataModule(data, make_cfg(outcome_mc_goals=goals)).train_dataloader()))
    if goals == "every":
        target, mask = batch["mc_every_target"], batch["mc_mask"][:, None].expand_as(batch["mc_every_target"])
    else:
        target, mask = batch["mc_target"], batch["mc_mask"]
    losses = {}
    for w in (0.0, 0.7):
        module = IQLCritic(data.dim, make_cfg(outcome_mc_weight=w, outcome_mc_goals=goals, outcome_mc_loss="log"))
        with torch.no_grad():
            heads = (module.q.both_every_goal(batch["state"], batch["thought"], batch["outcome_goals"]) if goals == "every"
                     else module.q.both(batch["state"], batch["thought"], batch["goal"]))
        losses[w] = module.iql_update(batch, *module.configure_optimizers(), lambda loss: loss.backward())[1]
    mc = sum((mask * -(target * q.log() + (1 - target) * (1 - q).log())).sum() / mask.sum() for q in heads)
    assert mc > 0
    assert torch.allclose(losses[0.7] - losses[0.0], 0.7 * mc, atol=1e-5)


def test_the_log_loss_pulls_a_rare_positive_as_hard_as_a_common_one():
    """At Q = 0.02 on a row whose outcome happened, the squared error's pull on Q's logit has faded to
    2 (1 - q) q (1 - q) (about 0.04); the log loss's is 1 - q whatever q is. That is why rare outcomes
    (a few per cent of episodes) are learnt slowly under squared error."""
    from pnlc.value.losses import masked_log_loss, masked_squared_error

    for q0 in (0.02, 0.5):
        grads = {}
        for name, loss in (("squared", masked_squared_error), ("log", masked_log_loss)):
            logit = torch.logit(torch.tensor([q0])).requires_grad_(True)
            loss(torch.sigmoid(logit), torch.ones(1), torch.ones(1)).backward()
            grads[name] = -float(logit.grad)
        assert grads["log"] == pytest.approx(1 - q0, rel=1e-4)
        assert grads["squared"] == pytest.approx(2 * (1 - q0) * q0 * (1 - q0), rel=1e-4)
    assert masked_log_loss(torch.tensor([0.3, 0.9]), torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.0])) == 0


def test_every_goal_answers_as_the_concatenated_rows_do(data):
    """Q for every row and every goal, computed with the first layer split, equals forward() on the
    B * K concatenated rows (with standardised inputs too)."""
    module = IQLCritic(data.dim, make_cfg(standardize_inputs=True), input_stats=(torch.full((data.dim,), 0.1),
                                                                                  torch.full((data.dim,), 2.0)))
    g = torch.randn(3, data.dim)
    s, a = torch.randn(5, data.dim), torch.randn(5, data.dim)
    every = module.q.q1.every_goal(s, a, g)
    rows = module.q.q1(s.repeat_interleave(3, 0), a.repeat_interleave(3, 0), g.repeat(5, 1)).reshape(5, 3)
    assert every.shape == (5, 3)
    assert torch.allclose(every, rows, atol=1e-6)


def test_the_every_goal_monte_carlo_term_asks_each_outcome_row_about_every_outcome(data):
    """outcome_mc_goals "every": the same batch as "sampled" (no extra draws) plus every outcome's
    label per row; the Q loss exceeds the TD loss by w times both heads' squared error over the
    outcome rows and every outcome goal, each against its own episode's label."""
    from pnlc.value.losses import masked_squared_error

    sampled = next(iter(TransitionDataModule(data, make_cfg()).train_dataloader()))
    batch = next(iter(TransitionDataModule(data, make_cfg(outcome_mc_goals="every")).train_dataloader()))
    for key, value in sampled.items():
        assert torch.equal(batch[key], value), key
    k = data.outcome_goals.shape[0]
    assert batch["outcome_goals"].shape == (k, data.dim) and batch["mc_every_target"].shape == (len(batch["state"]), k)
    rows = batch["mc_mask"] > 0
    # the sampled goal's column holds the sampled target on every outcome row
    sampled_goal = (batch["goal"][rows, None, :] == batch["outcome_goals"][None]).all(-1).float().argmax(1)
    assert torch.equal(batch["mc_every_target"][rows].gather(1, sampled_goal[:, None])[:, 0], batch["mc_target"][rows])
    losses = {}
    for w in (0.0, 1.5):
        module = IQLCritic(data.dim, make_cfg(outcome_mc_weight=w, outcome_mc_goals="every"))
        e1, e2 = (x.detach() for x in module.q.both_every_goal(batch["state"], batch["thought"], batch["outcome_goals"]))
        losses[w] = module.iql_update(batch, *module.configure_optimizers(), lambda loss: loss.backward())[1]
    mask = batch["mc_mask"][:, None].expand(-1, k)
    mc = masked_squared_error(e1, batch["mc_every_target"], mask) + masked_squared_error(e2, batch["mc_every_target"], mask)
    assert mc > 0
    assert torch.allclose(losses[1.5] - losses[0.0], 1.5 * mc, atol=1e-6)


def test_fast_dev_run_through_the_real_trainer(tmp_path, data):
    cfg = make_cfg(log_every_n_steps=1)
    module = IQLCritic(data.dim, cfg)
    events: list[str] = []
    record_order(module, events)
    target_before = [p.detach().clone() for p in module.q_target.parameters()]
    q_before = [p.detach().clone() for p in module.q.parameters()]
    from torch.optim.optimizer import register_optimizer_step_post_hook

    handle = register_optimizer_step_post_hook(
        lambda opt, *_: events.append("V step" if opt.param_groups[0]["params"][0] is next(module.value.parameters()) else "Q step"))
    try:
        trainer = build_trainer(cfg, tmp_path, fast_dev_run=True)
        trainer.fit(module, datamodule=TransitionDataModule(data, cfg))
    finally:
        handle.remove()
    train_events = events[: events.index("Q step") + 1]
    assert train_events == ["Q_target forward", "V forward", "V step", "V forward", "Q forward", "Q step"]
    assert trainer.global_step == 2  # one update = one V and one Q optimizer step
    # the target moved target_update_rate of the way toward the just-updated Q
    for t0, q0, t1, q1 in zip(target_before, q_before, module.q_target.parameters(), module.q.parameters()):
        assert torch.allclose(t1, (1 - cfg.target_update_rate) * t0 + cfg.target_update_rate * q1, atol=1e-6)
    assert module.train_history and module.val_history
    assert trainer.strategy.root_device.type == "cpu"


def test_training_is_deterministic_on_cpu(tmp_path, data):
    states = []
    for run in range(2):
        cfg = make_cfg(max_steps=4)
        module = IQLCritic(data.dim, cfg)
        build_trainer(cfg, tmp_path / str(run)).fit(module, datamodule=TransitionDataModule(data, cfg))
        states.append(module.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    other = IQLCritic(data.dim, make_cfg(seed=1)).state_dict()
    assert not torch.equal(states[0]["value.net.0.weight"], other["value.net.0.weight"])


def test_checkpoint_round_trip_and_embedder_check(tmp_path, data):
    cfg = make_cfg()
    module = IQLCritic(data.dim, cfg)
    path = tmp_path / "critic.ckpt"
    save_checkpoint(path, module.state_dict(), cfg, data.embedder_id, data.dim, data.outcome_goal_texts)
    model = load_critic(path, expected_embedder_id=data.embedder_id)
    assert isinstance(model, ValueModel) and model.cfg == cfg
    assert model.outcome_goal_texts == data.outcome_goal_texts
    rng = np.random.default_rng(0)
    s, a, g = (rng.standard_normal((5, data.dim)).astype(np.float32) for _ in range(3))
    with torch.no_grad():
        expected = module.q(torch.from_numpy(s), torch.from_numpy(a), torch.from_numpy(g)).numpy()
    probs = model.q(s, a, g)
    assert probs.shape == (5,) and probs.dtype == np.float32
    assert np.allclose(probs, expected, atol=1e-6)
    with pytest.raises(CheckpointError, match="trained on embeddings from 'synthetic/random-unit-vectors'"):
        load_critic(path, expected_embedder_id="sentence-transformers/other")
    with pytest.raises(ValueError, match=r"goal_emb has shape \(5, 3\)"):
        model.q(s, a, g[:, :3])


def test_scalar_critic_ignores_the_goal(tmp_path, data):
    cfg = make_cfg(goal_conditioned=False)
    module = IQLCritic(data.dim, cfg)
    build_trainer(cfg, tmp_path, fast_dev_run=True).fit(module, datamodule=TransitionDataModule(data, cfg))
    save_checkpoint(tmp_path / "c.ckpt", module.state_dict(), cfg, "e", data.dim, ())
    model = load_critic(tmp_path / "c.ckpt")
    s = np.ones((2, data.dim), np.float32)
    assert np.array_equal(model.q(s, s, None), model.q(s, s, np.zeros_like(s)))


def test_input_statistics_come_from_the_given_episodes_only(data):
    from pnlc.value.data import input_statistics

    train = np.arange(0, data.num_episodes // 2)
    mean, std = input_statistics(data, train)
    mask = np.isin(data.episode, train)
    rows = np.unique(np.concatenate([data.state[mask], data.thought[mask], data.next_state[mask]]))
    x = np.concatenate([data.embeddings[rows], data.outcome_goals]).astype(np.float64)
    assert mean.shape == std.shape == (data.dim,) and mean.dtype == np.float32
    assert np.allclose(mean, x.mean(0), atol=1e-6) and np.allclose(std, x.std(0), atol=1e-6)
    other, _ = input_statistics(data, np.arange(data.num_episodes // 2, data.num_episodes))
    assert not np.allclose(mean, other)


def test_standardized_inputs_are_what_the_layers_see_and_survive_the_checkpoint(tmp_path, data):
    from pnlc.value.data import input_statistics

    rng = np.random.default_rng(3)
    mean = rng.standard_normal(data.dim).astype(np.float32)
    std = rng.uniform(0.5, 2.0, data.dim).astype(np.float32)
    plain = IQLCritic(data.dim, make_cfg())
    scaled = IQLCritic(data.dim, make_cfg(standardize_inputs=True), (mean, std))
    s, a, g = (rng.standard_normal((4, data.dim)).astype(np.float32) for _ in range(3))
    z = [torch.from_numpy((x - mean) / std) for x in (s, a, g)]
    with torch.no_grad():  # same initial weights (same seed): scaled(x) == plain((x - mean) / std)
        assert torch.allclose(scaled.q(*map(torch.from_numpy, (s, a, g))), plain.q(*z), atol=1e-6)
        assert torch.allclose(scaled.value(torch.from_numpy(s), torch.from_numpy(g)), plain.value(z[0], z[2]), atol=1e-6)
        assert not torch.allclose(scaled.q(*map(torch.from_numpy, (s, a, g))), plain.q(*map(torch.from_numpy, (s, a, g))))
    assert torch.equal(scaled.q_target.q1.inputs.mean, torch.from_numpy(mean))  # the target copies them
    cfg = make_cfg(standardize_inputs=True)
    save_checkpoint(tmp_path / "c.ckpt", scaled.state_dict(), cfg, data.embedder_id, data.dim, data.outcome_goal_texts)
    with torch.no_grad():
        expected = scaled.q(*map(torch.from_numpy, (s, a, g))).numpy()
    assert np.allclose(load_critic(tmp_path / "c.ckpt").q(s, a, g), expected, atol=1e-6)
    with pytest.raises(ValueError, match="standardize_inputs is true; pass input_stats"):
        IQLCritic(data.dim, cfg)
    mean_d, std_d = input_statistics(data, np.arange(data.num_episodes))
    assert np.all(std_d > 0)


def test_fit_standardizes_with_training_statistics(tmp_path, data):
    from pnlc.value.data import input_statistics
    from pnlc.value.train import fit

    cfg = make_cfg(standardize_inputs=True, max_steps=2, val_every_n_steps=1)
    fit(data, cfg, tmp_path)
    dm = TransitionDataModule(data, cfg)
    mean, std = input_statistics(data, dm.train_episodes)
    model = load_critic(tmp_path / "critic.ckpt")
    assert np.allclose(model._q.q1.inputs.mean.numpy(), mean) and np.allclose(model._q.q1.inputs.std.numpy(), std)
    assert np.allclose(model._v.inputs.mean.numpy(), mean)


def test_checkpoints_from_before_input_standardisation_still_load(tmp_path, data):
    cfg = make_cfg()
    module = IQLCritic(data.dim, cfg)
    old = {k: v for k, v in module.state_dict().items() if ".inputs." not in k}
    assert len(old) < len(module.state_dict())
    save_checkpoint(tmp_path / "old.ckpt", old, cfg, data.embedder_id, data.dim, data.outcome_goal_texts)
    s, a, g = (np.random.default_rng(5).standard_normal((3, data.dim)).astype(np.float32) for _ in range(3))
    with torch.no_grad():
        expected = module.q(torch.from_numpy(s), torch.from_numpy(a), torch.from_numpy(g)).numpy()
    assert np.allclose(load_critic(tmp_path / "old.ckpt").q(s, a, g), expected, atol=1e-6)


def test_a_checkpoint_whose_config_predates_standardize_inputs_loads_as_raw_inputs(tmp_path, data):
    cfg = make_cfg()
    module = IQLCritic(data.dim, cfg)
    save_checkpoint(tmp_path / "c.ckpt", module.state_dict(), cfg, data.embedder_id, data.dim, data.outcome_goal_texts)
    payload = torch.load(tmp_path / "c.ckpt", weights_only=True)
    del payload["config"]["standardize_inputs"]
    payload["state_dict"] = {k: v for k, v in payload["state_dict"].items() if ".inputs." not in k}
    torch.save(payload, tmp_path / "old.ckpt")
    model = load_critic(tmp_path / "old.ckpt")
    assert model.cfg.standardize_inputs is False
    s = np.ones((2, data.dim), np.float32)
    assert np.allclose(model.q(s, s, s), load_critic(tmp_path / "c.ckpt").q(s, s, s), atol=1e-6)


def _runtime_free(metrics: dict) -> dict:
    from pnlc.value.train import TIMING_KEY

    return {k: v for k, v in metrics.items() if k != TIMING_KEY}


def test_early_stop_keeps_the_best_validation_and_is_reproducible(tmp_path, data):
    import json

    from pnlc.value.train import fit

    # min_delta larger than any loss: only the first validation improves, so the run stops after
    # `patience` more validations
    cfg = make_cfg(max_steps=40, val_every_n_steps=2, early_stop_patience=2, early_stop_min_delta=10.0)
    runs = [fit(data, cfg, tmp_path / name, timing_path=tmp_path / f"{name}.timing.json") for name in ("a", "b")]
    train, val = runs[0]["train"], runs[0]["val"]
    assert train["updates"] == 6 and train["stopped_early"] and train["max_updates"] == 40
    assert train["weights"] == "best validation" and val["validations"] == 3
    curve = [line.split(",") for line in (tmp_path / "a" / "curves.csv").read_text().splitlines()[1:]]
    losses = {int(s): float(p) for s, split, v, q, p in curve if split == "val"}
    assert sorted(losses) == [2, 4, 6] and val["best_update"] == min(losses, key=losses.get)
    # same data and seed: the same checkpoint bytes and metrics
    assert (tmp_path / "a" / "critic.ckpt").read_bytes() == (tmp_path / "b" / "critic.ckpt").read_bytes()
    assert _runtime_free(runs[0]) == _runtime_free(runs[1])
    # wall-clock figures go to their own file: metrics.json repeats to the byte
    assert (tmp_path / "a" / "metrics.json").read_bytes() == (tmp_path / "b" / "metrics.json").read_bytes()
    timing = json.loads((tmp_path / "a.timing.json").read_text())
    assert timing["train_seconds"] > 0 and timing["updates"] == 6 and timing == runs[0]["timing"]
    assert '"seconds"' not in (tmp_path / "a" / "metrics.json").read_text()
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["train"]["stopped_early"] is True
    # the kept weights are those of a plain run of best_update updates: validating does not perturb training
    plain = make_cfg(max_steps=val["best_update"], val_every_n_steps=1000)
    module = IQLCritic(data.dim, plain)
    build_trainer(plain, tmp_path / "plain").fit(module, datamodule=TransitionDataModule(data, plain))
    kept = torch.load(tmp_path / "a" / "critic.ckpt", weights_only=True)["state_dict"]
    assert all(torch.equal(kept[k], v) for k, v in module.state_dict().items())


def test_without_patience_the_run_takes_max_steps_and_keeps_the_last_weights(tmp_path, data):
    from pnlc.value.train import fit

    cfg = make_cfg(max_steps=6, val_every_n_steps=2, early_stop_patience=0, early_stop_min_delta=10.0)
    metrics = fit(data, cfg, tmp_path / "a")
    assert metrics["train"]["updates"] == 6 and not metrics["train"]["stopped_early"]
    assert metrics["train"]["weights"] == "last update"
    module = IQLCritic(data.dim, cfg)
    build_trainer(cfg, tmp_path / "b").fit(module, datamodule=TransitionDataModule(data, cfg))
    kept = torch.load(tmp_path / "a" / "critic.ckpt", weights_only=True)["state_dict"]
    assert all(torch.equal(kept[k], v) for k, v in module.state_dict().items())


@pytest.fixture(scope="module")
def complementary_data(data):
    import dataclasses

    labels = data.outcome_labels.copy()
    labels[:, 1] = 1.0 - labels[:, 0]
    return dataclasses.replace(data, outcome_labels=labels)


PAIR = [("Outcome 0 happens.", "Outcome 1 happens.")]


def test_complementary_outcomes_are_answered_so_they_sum_to_one(tmp_path, complementary_data):
    from pnlc.value.complements import consistent
    from pnlc.value.train import fit

    data = complementary_data
    metrics = fit(data, make_cfg(max_steps=4, complement_outcomes=True), tmp_path, complement_pairs=PAIR)
    model = load_critic(tmp_path / "critic.ckpt")
    assert model.complement_pairs == tuple(PAIR)
    rng = np.random.default_rng(3)
    s, a = (rng.standard_normal((5, data.dim)).astype(np.float32) for _ in range(2))
    g0, g1 = (np.repeat(data.outcome_goals[k][None], 5, axis=0) for k in (0, 1))
    p0, p1 = model.q(s, a, g0), model.q(s, a, g1)
    np.testing.assert_allclose(p0 + p1, 1.0, atol=1e-6)
    raw0, raw1 = model.q_raw(s, a, g0), model.q_raw(s, a, g1)
    assert not np.allclose(raw0 + raw1, 1.0, atol=1e-3)
    np.testing.assert_allclose(p0, consistent(np.stack([raw0, raw1], 1), ((0, 1), (1, -1))), atol=1e-6)
    # the same sentence embedded again (float noise) is the same goal; another goal is answered as trained
    noisy = g0 + 1e-4 * rng.standard_normal(g0.shape).astype(np.float32)
    np.testing.assert_allclose(model.q(s, a, noisy), p0, atol=1e-6)
    other = rng.standard_normal(g0.shape).astype(np.float32)
    np.testing.assert_array_equal(model.q(s, a, other), model.q_raw(s, a, other))
    report = metrics["complements"]
    assert report["enabled"] and report["pairs"][0]["goals"] == list(PAIR[0])
    assert report["pairs"][0]["mean_abs_error"] < 1e-6 < report["pairs"][0]["raw_mean_abs_error"]
    assert {g["goal"] for g in report["outcome_goals_raw"]["per_goal"]} == set(data.outcome_goal_texts)


def test_with_complement_outcomes_off_every_goal_is_its_own_head(tmp_path, complementary_data):
    from pnlc.value.train import fit

    data = complementary_data
    metrics = fit(data, make_cfg(max_steps=4, complement_outcomes=False), tmp_path, complement_pairs=PAIR)
    model = load_critic(tmp_path / "critic.ckpt")
    s = np.random.default_rng(3).standard_normal((5, data.dim)).astype(np.float32)
    g0 = np.repeat(data.outcome_goals[:1], 5, axis=0)
    np.testing.assert_array_equal(model.q(s, s, g0), model.q_raw(s, s, g0))
    pair = metrics["complements"]["pairs"][0]
    assert not metrics["complements"]["enabled"] and pair["mean_abs_error"] == pair["raw_mean_abs_error"] > 1e-3


def test_a_declared_pair_that_the_labels_contradict_is_refused(tmp_path, data):
    from pnlc.value.train import fit

    with pytest.raises(ValueError, match="Outcome 0 happens.*declared complementary"):
        fit(data, make_cfg(max_steps=2, complement_outcomes=True), tmp_path, complement_pairs=PAIR)


@pytest.mark.parametrize("goal_conditioned", [True, False])
def test_validation_asks_every_held_out_transition_every_outcome(data, goal_conditioned):
    """The loss early stopping reads covers each held-out (transition, outcome goal) once, with the
    episode's label (the scalar critic: its success)."""
    cfg = make_cfg(goal_conditioned=goal_conditioned, batch_size=50)
    dm = TransitionDataModule(data, cfg)
    dm.setup("fit")
    questions = [b for b in dm.val_dataloader() if "target" in b]
    val = np.isin(data.episode, dm.val_episodes)
    k = data.num_outcome_goals if goal_conditioned else 1
    assert sum(len(b["target"]) for b in questions) == val.sum() * k
    target = torch.cat([b["target"] for b in questions]).numpy().reshape(-1, k)
    expected = data.outcome_labels[data.episode[val]] if goal_conditioned else data.success[data.episode[val]][:, None]
    np.testing.assert_array_equal(target, expected)
    if goal_conditioned:
        goals = torch.cat([b["goal"] for b in questions]).numpy().reshape(-1, k, data.dim)
        np.testing.assert_array_equal(goals[0], data.outcome_goals)
