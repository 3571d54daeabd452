"""Negative controls and fair baselines: null critics, training-data controls, configuration errors,
LATS simulations that sample the hidden future, and reflections that see no hidden state."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from pnlc.config import ConfigError, load_params, params_from_dict
from pnlc.critic import CriticError
from pnlc.critic.controls import BaseRateCritic, InvertedCritic, load_critic
from pnlc.value.checkpoint import BaseRates
from pnlc.value.controls import outcome_base_rates, shuffle_outcomes, subsample_episodes
from pnlc.value.synthetic import random_transition_data

OUTCOMES = ("Good wins the game.", "Evil wins the game.", "Merlin is assassinated.")
RATES = (0.3, 0.7, 0.2)


@pytest.fixture(scope="module")
def params():
    return load_params("params.yaml")


def _checkpoint(path, embedder, base_rates: BaseRates | None, goal_conditioned: bool = True):
    import torch

    from pnlc.value.checkpoint import save_checkpoint
    from pnlc.value.networks import TwinQ, ValueNet
    from pnlc.pipeline.train import train_config

    torch.manual_seed(0)
    dim = embedder.dim
    goal_dim = dim if goal_conditioned else 0
    state = {f"q.{k}": v for k, v in TwinQ(dim, goal_dim, (16,)).state_dict().items()}
    state.update({f"value.{k}": v for k, v in ValueNet(dim, goal_dim, (16,)).state_dict().items()})
    cfg = train_config(load_params("params.yaml"), "default" if goal_conditioned else "scalar", 0)
    cfg = type(cfg).from_dict({**cfg.to_dict(), "hidden_sizes": [16]})
    save_checkpoint(path, state, cfg, embedder.model_id, dim, OUTCOMES, base_rates)
    return path


@pytest.fixture()
def embedder():
    from pnlc.embed import HashingEmbedder

    return HashingEmbedder(dim=64, seed=0)


# -- null critics ---------------------------------------------------------------------------------


def test_base_rate_critic_answers_the_training_rates_whatever_the_state(tmp_path, embedder) -> None:
    path = _checkpoint(tmp_path / "c.ckpt", embedder, BaseRates(RATES, 0.35))
    critic = load_critic(path, embedder, "base_rate")
    assert isinstance(critic, BaseRateCritic)
    a = critic.score("Quest 1 failed. Player 2 is evil.", ["Accuse Player 2.", "Stay quiet."], list(OUTCOMES))
    b = critic.score("Nothing has happened yet.", ["Propose a team of 1 and 3."], list(OUTCOMES[::-1]))
    assert np.allclose(a, [RATES, RATES])
    assert np.allclose(b, [RATES[::-1]])
    # a goal text the checkpoint never saw reads the rate of its nearest outcome sentence
    assert critic.score("s", ["t"], ["Evil wins the game!"])[0, 0] == pytest.approx(0.7)
    with pytest.raises(CriticError, match="at least one thought"):
        critic.score("s", [], list(OUTCOMES))


def test_base_rate_scalar_critic_answers_the_mean_success(tmp_path, embedder) -> None:
    path = _checkpoint(tmp_path / "s.ckpt", embedder, BaseRates(RATES, 0.35), goal_conditioned=False)
    critic = load_critic(path, embedder, "base_rate")
    assert np.allclose(critic.score_scalar("any state", ["a", "b", "c"]), 0.35)


def test_base_rate_needs_a_checkpoint_that_stores_the_rates(tmp_path, embedder) -> None:
    path = _checkpoint(tmp_path / "old.ckpt", embedder, None)
    with pytest.raises(CriticError, match="does not store.*retrain"):
        load_critic(path, embedder, "base_rate")


def test_inverted_critic_is_one_minus_the_trained_critic(tmp_path, embedder) -> None:
    path = _checkpoint(tmp_path / "c.ckpt", embedder, BaseRates(RATES, 0.35))
    trained = load_critic(path, embedder, "none")
    inverted = load_critic(path, embedder, "inverted")
    assert isinstance(inverted, InvertedCritic)
    args = ("Quest 2 succeeded.", ["Accuse Player 4.", "Vote to approve."], list(OUTCOMES))
    p = trained.score(*args)
    assert np.allclose(inverted.score(*args), 1.0 - p)
    assert not np.allclose(p, 0.5)
    with pytest.raises(CriticError, match="unknown critic transform 'flip'"):
        load_critic(path, embedder, "flip")


# -- training-data controls -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def data():
    d = random_transition_data(2000, 10, 8, 3, seed=0)
    rng = np.random.default_rng(1)
    labels = (rng.random(d.outcome_labels.shape) < [0.2, 0.5, 0.8]).astype(np.float32)
    import dataclasses

    return dataclasses.replace(d, outcome_labels=labels, success=labels[:, 0].copy())


def test_shuffled_outcomes_keep_the_rates_but_not_the_pairing(data) -> None:
    train = np.arange(0, data.num_episodes, 2)  # every other episode; the rest stands for held-out
    shuffled = shuffle_outcomes(data, train, seed=3)
    held_out = np.setdiff1d(np.arange(data.num_episodes), train)
    assert np.array_equal(shuffled.outcome_labels[held_out], data.outcome_labels[held_out])
    assert np.allclose(shuffled.outcome_labels[train].mean(0), data.outcome_labels[train].mean(0))
    assert np.allclose(shuffled.success[train].mean(), data.success[train].mean())
    moved = np.any(shuffled.outcome_labels[train] != data.outcome_labels[train], axis=1)
    assert moved.mean() > 0.3  # most episodes now carry another episode's outcomes
    # the same permutation moves labels and success together, and the seed fixes it
    assert np.array_equal(shuffled.success, shuffled.outcome_labels[:, 0])
    assert np.array_equal(shuffle_outcomes(data, train, seed=3).outcome_labels, shuffled.outcome_labels)
    assert np.array_equal(shuffled.state, data.state) and np.array_equal(shuffled.thought, data.thought)


def test_data_fractions_are_nested_subsets_with_the_same_held_out_episodes(data, params) -> None:
    from pnlc.pipeline.train import train_config
    from pnlc.value.datamodule import TransitionDataModule

    modules = {v: TransitionDataModule(data, train_config(params, v, 0)) for v in ("default", "data30", "data10")}
    full, d30, d10 = (modules[v].train_episodes for v in ("default", "data30", "data10"))
    for m in modules.values():
        assert np.array_equal(m.val_episodes, modules["default"].val_episodes)
    assert len(d30) == round(0.3 * len(full)) and len(d10) == round(0.1 * len(full))
    assert set(d10) <= set(d30) <= set(full)
    with pytest.raises(ValueError, match="train_episode_fraction"):
        subsample_episodes(full, 0.0, 0)


def test_shuffled_variant_trains_on_permuted_training_outcomes_only(data, params) -> None:
    from pnlc.pipeline.train import train_config
    from pnlc.value.datamodule import TransitionDataModule

    module = TransitionDataModule(data, train_config(params, "shuffled", 0))
    train, val = module.train_episodes, module.val_episodes
    assert np.array_equal(module.data.outcome_labels[val], data.outcome_labels[val])
    assert not np.array_equal(module.data.outcome_labels[train], data.outcome_labels[train])
    rates, success = outcome_base_rates(module.data, train)
    assert np.allclose(rates, data.outcome_labels[train].mean(0)) and success == pytest.approx(data.success[train].mean())


# -- configuration --------------------------------------------------------------------------------


def _raw():
    import yaml

    with open("params.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_unknown_transform_and_missing_variant_are_named() -> None:
    raw = _raw()
    raw["evaluate"]["critics"]["pnlc_const"]["transform"] = "zero"
    with pytest.raises(ConfigError, match=r"evaluate\.critics\.pnlc_const\.transform: 'zero' is not one of"):
        params_from_dict(raw, "params.yaml")
    raw = _raw()
    del raw["train"]["variants"]["shuffled"]
    with pytest.raises(ConfigError, match=r"evaluate\.critics\.pnlc_shuffled\.variant: 'shuffled' is not a key of train\.variants"):
        params_from_dict(raw, "params.yaml")
    raw = _raw()
    raw["train"]["variants"]["data10"]["train_episode_fraction"] = 0
    with pytest.raises(ConfigError, match=r"train\.variants\.data10\.train_episode_fraction"):
        params_from_dict(raw, "params.yaml")


def test_quick_method_list_holds_the_controls(params) -> None:
    from pnlc.pipeline.factory import critic_spec

    critics = {m: critic_spec(params, m) for m in params.raw["evaluate"]["critics"]}
    for method in ("pnlc_const", "pnlc_shuffled", "pnlc_inverted", "pnlc_data10", "pnlc_data30"):
        assert method in params.raw["sizes"]["quick"]["methods"] and critics[method].loop == "pnlc"
    assert (critics["pnlc_const"].transform, critics["pnlc_inverted"].transform) == ("base_rate", "inverted")


# -- fair baselines -------------------------------------------------------------------------------


def _agent(params, env_name: str, method: str):
    from pnlc.agents.methods import make_agent
    from pnlc.pipeline.factory import agent_config, make_env, make_policy

    env = make_env(params, env_name)
    return env, make_agent(method, make_policy(params, env_name, "prior"), None, agent_config(params, env_name))


@pytest.mark.parametrize("env_name", ["avalon", "persuasion"])
def test_lats_simulations_of_one_state_differ_across_rollouts(params, env_name) -> None:
    from pnlc.agents.roles import DecisionContext

    env, lats = _agent(params, env_name, "lats_n5")
    task = env.tasks("test")[0]
    lats.begin_episode(task, 11)
    obs = env.reset(task, 11)
    ctx = DecisionContext(env=env.name, observation=obs, summary=env.describe(), history=())
    action = lats.policy.act(ctx, lats.policy.propose_thought(ctx))
    stats = {"clones": 0}
    fresh = {env.clone().step(action).observation.text for _ in range(6)}
    assert len(fresh) == 1  # a plain clone replays the real game's future ...
    sampled = {lats.fresh_clone(env, stats).step(action).observation.text for _ in range(6)}
    assert len(sampled) > 1  # ... a LATS clone samples one of its possible futures
    assert stats["clones"] == 6


def test_lats_search_stays_deterministic_given_the_seed(params) -> None:
    from pnlc.agents.runner import EpisodeMeta, run_episode
    from pnlc.data.records import to_dict

    meta = EpisodeMeta("sim", "sim-prior", 100)
    runs = []
    for _ in range(2):
        env, lats = _agent(params, "persuasion", "lats_n5")
        runs.append(json.dumps(to_dict(run_episode(env, lats, env.tasks("test")[1], 5, meta)), sort_keys=True,
                               default=str))
    strip = re.compile(r'"(seconds|critic_ms)": [0-9.e-]+')
    assert strip.sub("", runs[0]) == strip.sub("", runs[1])


class _Recording:
    """Wraps a policy and records what it is shown when reflecting."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.shown: list[str] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def reflect(self, conduct: str, result: str) -> str:
        self.shown.append(conduct + "\n" + result)
        return self.inner.reflect(conduct, result)


AVALON_ROLES = ("Assassin", "Minion", "Morgana", "Mordred", "Oberon", "Percival", "Servant")


def _reflections(params, env_name: str, task_index: int, seed: int):
    from dataclasses import replace

    from pnlc.agents.methods import make_agent
    from pnlc.agents.runner import EpisodeMeta, run_task
    from pnlc.pipeline.factory import agent_config, make_env, make_policy

    env = make_env(params, env_name)
    policy = _Recording(make_policy(params, env_name, "prior"))
    cfg = replace(agent_config(params, env_name), reflexion_trials=2, reflexion_stop_on_success=False)
    agent = make_agent("reflexion", policy, None, cfg)
    episode = run_task(env, agent, env.tasks("test")[task_index], seed, EpisodeMeta("sim", "sim-prior", 100))
    return episode, policy.shown


def test_avalon_reflection_names_no_hidden_role(params) -> None:
    episode, shown = _reflections(params, "avalon", 0, 7)
    assert len(shown) == 1
    first_trial_roles = set(json.loads(json.dumps(episode.info["trials"][0]["outcome"]))["roles"])
    hidden = [r for r in AVALON_ROLES if r in first_trial_roles]
    assert hidden  # the game's record names roles the agent never saw ...
    seen = " ".join(s.observation for s in episode.steps)  # every role word the agent was shown in play
    leaked = [r for r in hidden if re.search(rf"\b{r}\b", shown[0]) and not re.search(rf"\b{r}\b", seen)]
    assert not leaked, f"the reflection names roles hidden from the agent: {leaked}"
    assert "roles" not in shown[0] and "assassin_target" not in shown[0]
    assert re.search(r"Result: (success|failure)", shown[0])


def test_persuasion_reflection_reveals_no_persona(params) -> None:
    _episode, shown = _reflections(params, "persuasion", 0, 7)
    assert len(shown) == 1
    for fact in ("trust", "empathy", "skepticism", "stance", "patience", "has_kids", "concerns", "budget"):
        assert fact not in shown[0]
    assert "donation=" not in shown[0] and "decision=" not in shown[0]


def test_llm_reflection_prompt_shows_only_conduct_and_result() -> None:
    from importlib import resources

    text = resources.files("pnlc.prompts").joinpath("reflect.txt").read_text(encoding="utf-8")
    assert set(re.findall(r"\{(\w+)\}", text)) == {"conduct", "result"}


def test_report_orders_controls_next_to_pnlc() -> None:
    from pnlc.evaluation.labels import order_methods

    order = order_methods(["oracle", "pnlc_data10", "pnlc", "react", "pnlc_const", "pnlc_zzz", "pnlc_shuffled"])
    assert order == ["react", "pnlc", "pnlc_const", "pnlc_shuffled", "pnlc_data10", "pnlc_zzz", "oracle"]


# -- the report's reading of the controls ---------------------------------------------------------


def _metrics(wins: dict[str, list[int]]):
    from types import SimpleNamespace

    from pnlc.data.records import Episode
    from pnlc.evaluation.metrics import compare_methods
    from pnlc.pipeline.evaluate import pnlc_versus_all

    by_method = {
        method: [
            Episode(env="avalon", task_id=f"t{i}", seed=0, policy=method, backend="sim", model="sim-prior", steps=(),
                    final_observation="", final_summary="", outcome={"good_win": bool(w)}, metric=float(w),
                    info={"method": method, "simulated": True, "reads_env_reward": False,
                          "uses_critic": method != "react", "privileged": False})
            for i, w in enumerate(ws)
        ]
        for method, ws in wins.items()
    }
    metrics = compare_methods(by_method, "avalon", reference="react", n_boot=500, ci=0.95, seed=0)
    metrics["pnlc_vs"] = pnlc_versus_all(by_method, "avalon", SimpleNamespace(bootstrap_samples=500, confidence=0.95, seed=0))
    return metrics


def test_controls_table_reads_pnlc_minus_each_control_from_the_run(tmp_path) -> None:
    from pnlc.evaluation.controls import controls_table, plot_controls

    rng = np.random.default_rng(0)
    pnlc = (rng.random(120) < 0.7).astype(int).tolist()
    metrics = _metrics({"react": [0] * 120, "pnlc": pnlc, "pnlc_const": [0] * 120, "pnlc_shuffled": list(pnlc)})
    table = controls_table([metrics], ["pnlc_const", "pnlc_shuffled"], "controls_sim",
                           {("avalon", "pnlc_shuffled"): 0.503})
    rows = {row[1]: row for row in table.rows}
    const, shuffled = rows["PNLC, base-rate critic (control)"], rows["PNLC, shuffled-outcome critic (control)"]
    assert const[-2] == "PNLC better" and const[5].startswith(f"+{100 * np.mean(pnlc):.1f}")
    assert shuffled[-2] == "no difference shown" and shuffled[5].startswith("+0.0")
    assert (const[-1], shuffled[-1]) == ("–", "0.503")
    assert any("PNLC beats 1 of 2 controls" in note for note in table.notes)
    plot_controls([metrics], ["pnlc_const", "pnlc_shuffled"], tmp_path / "controls.png")
    assert (tmp_path / "controls.png").read_bytes()[:4] == b"\x89PNG"


def test_dose_response_orders_critics_by_auc_and_reads_each_step(tmp_path) -> None:
    from pnlc.evaluation.controls import dose_points, dose_response_table, plot_dose_response

    metrics = _metrics({"react": [0] * 100, "pnlc": [1] * 30 + [0] * 70, "pnlc_data10": [1] * 60 + [0] * 40,
                        "pnlc_data30": [1] * 62 + [0] * 38})
    methods = {"pnlc": ("default", 1.0), "pnlc_data10": ("data10", 0.1), "pnlc_data30": ("data30", 0.3)}
    aucs = {("avalon", "default"): 0.72, ("avalon", "data10"): 0.61, ("avalon", "data30"): 0.66}
    points = dose_points([metrics], methods, aucs)
    assert [p.method for p in points] == ["pnlc_data10", "pnlc_data30", "pnlc"]
    table = dose_response_table(points, True, name="critic_quality_vs_agent_sim")
    steps = {row[1]: row[-1] for row in table.rows}
    assert steps == {"PNLC, critic of 10 % data": "–", "PNLC, critic of 30 % data": "within", "PNLC": "below"}
    assert any("falls below the previous critic's interval at PNLC" in note for note in table.notes)
    plot_dose_response(points, True, tmp_path / "dose.png")
    assert (tmp_path / "dose.png").read_bytes()[:4] == b"\x89PNG"


def test_critics_are_ranked_by_their_mean_goal_auc_not_the_pooled_one() -> None:
    """A critic blind to the state scores a high pooled AUC when its goals' base rates differ; the
    controls and the dose-response read the AUC averaged over the goals instead."""
    from pathlib import Path

    from pnlc.pipeline.report import goal_mean_aucs

    def doc(pooled, mean):
        return {"outcome_goals": {"pooled": {"auc": pooled}, "auc_mean": mean}}

    root = Path("results/critic")
    docs = {
        root / "webshop/sim/default/seed0/metrics.json": doc(0.884, 0.518),
        root / "webshop/sim/shuffled/seed0/metrics.json": doc(0.880, 0.515),
        root / "webshop/sim/default/seed1/metrics.json": doc(0.9, 0.7),
        root / "avalon/sim/data10/seed0/metrics.json": {"outcome_goals": {}},
    }
    assert goal_mean_aucs(docs, 0) == {("webshop", "default"): 0.518, ("webshop", "shuffled"): 0.515,
                                       ("avalon", "data10"): None}
    assert goal_mean_aucs(docs, 1) == {("webshop", "default"): 0.7}
