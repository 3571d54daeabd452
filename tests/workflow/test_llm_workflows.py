"""Claude through the whole workflow, against a Messages-API server on 127.0.0.1: a scripted model
answers each role's prompt in its format (some answers malformed, some requests faulted), and a
shrunken copy of the workflow runs with `snakemake --configfile workflow/configs/tiny-anthropic.yaml`
plus the server's base_url. Three runs share the module:

  main    response cache off: every call reaches the server, so the usage and dollars recorded in
          results/ must equal the server's own count;
  capped  response cache on and a spend cap hit mid-run: the run stops cleanly, naming the cap,
          and a rerun with the cap lifted resumes and gives main's tables;
  replay  a copy of capped, rerun with `llm.cache_mode: replay` and its server stopped: no request,
          the same tables byte for byte.

A fake API key is in the jobs' environment; no file the workflow writes may hold it."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import pytest
from loopback import (
    ENVS,
    FAKE_KEY,
    MODEL,
    TEST_TASKS,
    TRAIN_EPISODES,
    METHODS,
    USAGE_KEYS,
    copy_workflow,
    episodes,
    overrides,
    recorded_usage,
    served_usage,
    snakemake,
    succeeded,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fakes.messages_server import FakeMessagesServer  # noqa: E402
from fakes.role_model import RoleModel, role_faults, role_of  # noqa: E402

pytestmark = pytest.mark.slow

WRITTEN = ("results", ".cache", ".snakemake")  # where the workflow writes (job logs: results/logs)
CAPPED_CONCURRENCY = 1  # episodes a shard plays at once in the capped run (capped_shard_cost)


def server() -> FakeMessagesServer:
    return FakeMessagesServer(responder=RoleModel(), faults=role_faults, lifetime_s=1800.0)


def tables(root: Path) -> dict[str, bytes]:
    return {str(f.relative_to(root)): f.read_bytes() for f in sorted((root / "results/tables").rglob("*")) if f.is_file()}


def capped_shard_cost(root: Path, env: str) -> float:
    """A per-job cap under which the env's generation shard stops after at least one whole episode:
    the shard's cost less half its cheapest episode. The capped run plays one episode at a time
    (CAPPED_CONCURRENCY), so its calls come in the same order on every run and the first episode
    is whole once it has spent c1 plus one call's reservation; the cap is at least c1 + c2 + c3/2,
    more than that, since a call reserves far less than an episode costs. Below the whole shard,
    the shard cannot finish. Two episodes at once would make the stop depend on timing: they are
    journaled in order and each reserves for its next call, so a slow first episode could meet
    the cap before anything is journaled."""
    costs = [ep["usage"]["cost_usd"] for ep in episodes(root, "trajectories")[
        f"results/trajectories/{env}/anthropic/shard0.jsonl"]]
    return sum(costs) - 0.5 * min(costs)


@pytest.fixture(scope="module")
def main(tmp_path_factory):
    root = copy_workflow(tmp_path_factory.mktemp("llm") / "main")
    with server() as fake:
        succeeded(snakemake(root, overrides(fake.url, "off")))
    model: RoleModel = fake.responder  # type: ignore[assignment]
    print(f"\nloopback server (main run): {len(fake.received)} requests, {dict(fake.counts())}; "
          f"{model.malformed} first answers and {model.malformed_reasks} re-asks malformed on purpose")
    return root, fake


@pytest.fixture(scope="module")
def capped(tmp_path_factory, main):
    """A fresh copy whose jobs may each spend less than the cheapest generation shard of main cost
    (capped_shard_cost); then the same run with the cap lifted. The server stays up for replay's
    check that it is not asked.

    The capped run keeps going past a failed job: without it, which jobs ran before the first cap
    stopped the scheduler would depend on Snakemake's pick among the jobs ready at the start
    (every generation shard and the evaluations that read no critic). An Avalon shard's first
    episode costs more than the cap, so a run that began with it and an evaluation could stop
    before any shard had journaled an episode."""
    root = copy_workflow(tmp_path_factory.mktemp("llm") / "capped")
    cap = min(capped_shard_cost(main[0], env) for env in ENVS)
    fake = server().__enter__()
    try:
        stopped = snakemake(root, overrides(fake.url, "record", cap, CAPPED_CONCURRENCY), "--keep-going")
        state = {
            "partial": {p.relative_to(root): p.read_text() for p in (root / "results").rglob("*.partial")},
            "outputs": {p.relative_to(root) for p in (root / "results/trajectories").rglob("*.jsonl")},
            "logs": {p.relative_to(root): p.read_text() for p in (root / "results/logs").rglob("*.log")},
            "leftovers": [p for p in (root / "results").rglob("*") if p.name.endswith((".tmp", ".npz.tmp"))],
        }
        asked = len(fake.received)
        resumed = snakemake(root, overrides(fake.url, "record", concurrency=CAPPED_CONCURRENCY))
        succeeded(resumed)
        print(f"\nloopback server (capped run): cap ${cap:.4f} per job; {asked} requests until the cap, "
              f"{len(fake.received) - asked} more to finish; {dict(fake.counts())}")
    except BaseException:
        fake.stop()
        raise
    yield root, fake, stopped, state, cap
    fake.stop()


@pytest.fixture(scope="module")
def replay(tmp_path_factory, capped):
    root, fake = capped[0], capped[1]
    copy = tmp_path_factory.mktemp("llm") / "replay"
    shutil.copytree(root, copy, symlinks=True)
    asked = len(fake.received)
    url = fake.url
    fake.stop()
    out = snakemake(copy, overrides(url, "replay"), "--forceall")
    return copy, out, asked, len(fake.received)


# -------------------------------------------------------------------------------------------------- #


def test_the_scripted_model_recognises_every_role_prompt():
    from pnlc.agents.llm_policy import refine_texts
    from pnlc.data.prompts import load_prompt

    for role in ("summarize", "reflect", "estimate_value", "estimate_goals", "propose_goals", "act", "propose_thought"):
        assert role_of(load_prompt(role).text) == role, role
    refine = load_prompt("refine")
    for final in (False, True):
        shown, instruction = refine_texts((), final)
        text = refine.render(context="Current observation:\nx", drafts=shown, thought="t", value_text="v",
                             instruction=instruction)
        assert role_of(text) == "refine"
    assert role_of(load_prompt("persuasion_donor").text) == "donor"


def test_every_planned_episode_is_recorded_and_the_report_names_the_model(main):
    root, fake = main
    gen, ev = episodes(root, "trajectories"), episodes(root, "eval")
    assert sorted(gen) == [f"results/trajectories/{env}/anthropic/shard0.jsonl" for env in sorted(ENVS)]
    assert all(len(eps) == TRAIN_EPISODES for eps in gen.values())
    assert sorted(ev) == sorted(f"results/eval/{env}/anthropic/{m}/seed0.jsonl" for env in ENVS for m in METHODS)
    assert all(len(eps) == TEST_TASKS for eps in ev.values())
    for ep in [ep for eps in [*gen.values(), *ev.values()] for ep in eps]:
        assert ep["backend"] == "anthropic" and ep["model"] == MODEL
        assert ep["usage"]["calls"] > 0 and ep["steps"] and ep["info"]["answers"]
    for env in ENVS:
        usage = json.loads((root / f"results/annotations/{env}/anthropic.usage.json").read_text())
        assert usage["summarizer"] == "llm" and usage["calls"] > 0 and usage["episodes"] == TRAIN_EPISODES
    forms = (root / "results/tables/answer_forms_anthropic.md").read_text()
    assert "backend anthropic" in forms and MODEL in forms
    assert "anthropic" in (root / "results/tables/main_anthropic.md").read_text()


def test_recorded_usage_and_cost_equal_the_servers_own_count(main):
    root, fake = main
    served = fake.answered()
    recorded, counted = recorded_usage(root), served_usage([r["usage"] for r in served])
    assert {k: recorded[k] for k in USAGE_KEYS} == {k: counted[k] for k in USAGE_KEYS}
    assert math.isclose(recorded["cost_usd"], counted["cost_usd"], rel_tol=1e-9), (recorded, counted)
    # the faults were met and retried: every request is an answer or one of the scripted faults
    counts = fake.counts()
    assert counts["429"] and counts["529"] and counts["drop"], counts
    assert counts["ok"] == len(served)
    assert sum(counts.values()) == len(served) + counts["429"] + counts["529"] + counts["drop"]


def test_malformed_answers_were_reasked_and_defaulted_as_recorded(main):
    root, fake = main
    model: RoleModel = fake.responder  # type: ignore[assignment]
    malformed = defaulted = 0
    for eps in [*episodes(root, "trajectories").values(), *episodes(root, "eval").values()]:
        for ep in eps:
            for role in ep["info"]["answers"].values():
                malformed += role["malformed"]
                defaulted += role["defaulted"]
    for env in ENVS:
        for role in json.loads((root / f"results/annotations/{env}/anthropic.usage.json").read_text())["forms"].values():
            malformed += role["asked"] - role["first_ok"]
            defaulted += role["defaulted"]
    assert model.malformed > 0 and model.malformed_reasks > 0
    assert (malformed, defaulted) == (model.malformed, model.malformed_reasks)


def test_the_static_system_prompt_is_marked_for_prompt_caching(main):
    _, fake = main
    bodies = fake.bodies()
    with_system = [b for b in bodies if "system" in b]
    assert len(with_system) > len(bodies) / 2
    for body in with_system:
        assert len(body["system"]) == 1
        assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
        assert body["system"][0]["text"].startswith("You are an agent acting in an interactive task.")
    sent = [r["headers"].get("x-api-key") or r["headers"].get("authorization", "").removeprefix("Bearer ")
            for r in fake.received]
    assert set(sent) == {FAKE_KEY}  # the key did reach the API (so the next test's search is not vacuous)
    assert sum(r["usage"]["cache_read_input_tokens"] for r in fake.answered()) > 0


def test_the_api_key_is_in_no_file_the_workflow_writes(main, capped):
    key = FAKE_KEY.encode()
    for root in (main[0], capped[0]):
        files = [f for name in WRITTEN for f in (root / name).rglob("*") if f.is_file()]
        assert any(f.suffix == ".log" and "results/logs" in str(f) for f in files)
        assert [str(f) for f in files if key in f.read_bytes()] == []
    assert any((capped[0] / ".cache/llm").rglob("*.json"))


def test_the_spend_cap_stops_the_run_cleanly_and_a_rerun_resumes(main, capped):
    root, _, stopped, state, cap = capped
    assert stopped.returncode != 0
    assert "generate_trajectories" in stopped.stderr
    failed = [log for log in state["logs"].values() if "spend cap reached" in log]
    assert failed and all("llm.anthropic.spend_cap_usd" in log for log in failed)
    assert all(f"spend_cap_usd=${cap:.4f}" in log for log in failed)
    assert "Traceback" not in "".join(failed)
    # nothing half-written: only .partial files of whole episodes, which the rerun resumed from
    assert state["leftovers"] == []
    assert len(state["outputs"]) < len(ENVS) and state["partial"]
    for text in state["partial"].values():
        assert all(json.loads(line)["env"] in ENVS for line in text.splitlines())
        assert text == "" or text.endswith("\n")
    resumed = [p for p, text in state["partial"].items() if text and p.parts[1] == "trajectories"]
    assert resumed, "the cap came before any episode was whole; lower it in the test"
    for partial in resumed:
        log = root / "results/logs/generate_trajectories" / partial.parent.relative_to("results/trajectories") / "shard0.log"
        assert "resuming" in log.read_text()
    assert not list((root / "results").rglob("*.partial"))
    assert len(episodes(root, "trajectories")) == len(ENVS)
    assert tables(root) == tables(main[0])


def test_replay_makes_no_request_and_gives_the_same_tables(capped, replay):
    copy, out, asked_before, asked_after = replay
    succeeded(out)
    assert asked_after == asked_before
    logs = {p: p.read_text() for p in (copy / "results/logs").rglob("*.log")}
    # every job ran again (--forceall rewrote its log) and none sent a request or retried one
    assert logs and not [p for p, text in logs.items() if "HTTP Request:" in text or "anthropic_backend" in text]
    assert tables(copy) and tables(copy) == tables(capped[0])
