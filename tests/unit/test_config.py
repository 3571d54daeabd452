import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pnlc.config import ConfigError, load_params, params_from_dict, schema_path


@pytest.fixture
def raw(repo):
    return yaml.safe_load((repo / "params.yaml").read_text())


def test_shipped_params_are_valid(repo):
    params = load_params(repo / "params.yaml")
    assert params.size == "quick" and params.backend == "sim"
    assert params.run.train_episodes > 0
    assert params.section("generate").seed == params.raw["generate"]["seed"]


def test_top_level_keys_equal_schema_properties(repo, raw):
    schema = yaml.safe_load(schema_path().read_text())
    assert set(raw) == set(schema["properties"]) == set(schema["required"])


def test_out_of_range_value_names_the_key_path(raw):
    bad = copy.deepcopy(raw)
    bad["train"]["critic"]["expectile"] = 1.7
    with pytest.raises(ConfigError, match=r"train\.critic\.expectile: 1\.7 is greater than the maximum of 1"):
        params_from_dict(bad)


def test_unknown_key_is_rejected(raw):
    bad = copy.deepcopy(raw)
    bad["evaluate"]["n_goals"] = 4
    with pytest.raises(ConfigError, match=r"evaluate: Additional properties are not allowed \('n_goals'"):
        params_from_dict(bad)


def test_wrong_type_is_rejected(raw):
    bad = copy.deepcopy(raw)
    bad["sizes"]["quick"]["shards"] = "two"
    with pytest.raises(ConfigError, match=r"sizes\.quick\.shards: 'two' is not of type 'integer'"):
        params_from_dict(bad)


def test_missing_key_is_rejected(raw):
    bad = copy.deepcopy(raw)
    del bad["evaluate"]["refine_rounds"]
    with pytest.raises(ConfigError, match="'refine_rounds' is a required property"):
        params_from_dict(bad)


def test_size_selects_the_paper_sizes(raw):
    paper = copy.deepcopy(raw)
    paper["size"] = "paper"
    params = params_from_dict(paper)
    assert params.run.train_episodes == 2500 and params.run.test_tasks == 100


def test_unknown_size_is_rejected(raw):
    bad = copy.deepcopy(raw)
    bad["size"] = "huge"
    with pytest.raises(ConfigError, match="size: 'huge' is not a key of sizes"):
        params_from_dict(bad)


def test_unknown_method_names_the_size_and_the_choices(raw):
    bad = copy.deepcopy(raw)
    bad["sizes"]["quick"]["methods"].append("pnlc_magic")
    with pytest.raises(ConfigError, match=r"sizes\.quick\.methods\[\d+\]: unknown method 'pnlc_magic'.*evaluate\.critics"):
        params_from_dict(bad)


def test_a_critic_method_must_read_a_trained_variant(raw):
    bad = copy.deepcopy(raw)
    bad["evaluate"]["critics"]["pnlc"]["variant"] = "missing"
    with pytest.raises(ConfigError, match=r"evaluate\.critics\.pnlc\.variant: 'missing' is not a key of train\.variants"):
        params_from_dict(bad)


def test_sections_are_frozen(repo):
    params = load_params(repo / "params.yaml")
    gen = params.section("generate")
    with pytest.raises(Exception):
        gen.seed = 3


def test_malformed_yaml_names_file_and_line(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text("size: quick\nbackend: [sim\n")
    with pytest.raises(ConfigError, match=r"params\.yaml:\d+: not valid YAML"):
        load_params(p)


def test_cli_reports_config_errors_with_exit_code_2(tmp_path, raw):
    bad = copy.deepcopy(raw)
    bad["train"]["critic"]["expectile"] = 1.7
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(bad))
    out = subprocess.run(
        [sys.executable, "-m", "pnlc.cli", "--params", str(p), "generate", "--env", "avalon",
         "--shard", "0", "--out", str(tmp_path / "x.jsonl")],
        capture_output=True, text=True,
    )
    assert out.returncode == 2
    assert "train.critic.expectile: 1.7 is greater than the maximum of 1" in out.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_cli_help_lists_phases():
    out = subprocess.run([sys.executable, "-m", "pnlc.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for phase in ("generate", "annotate", "train", "evaluate", "report"):
        assert phase in out.stdout


def test_cli_import_stays_light():
    code = "import sys, pnlc.cli; heavy = [m for m in ('torch', 'lightning', 'transformers', 'anthropic') if m in sys.modules]; print(heavy)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


def test_a_job_sees_only_the_keys_it_was_given(raw):
    """A workflow job is given a projection of the configuration; it reads those values exactly and
    any other key is an error naming that key, so a job cannot depend on an undeclared value."""
    from pnlc.config import job_params, project

    given = project(raw, ["backend", "sizes.{size}.test_tasks", "env.{env}", "evaluate.critics.{method}?"],
                    {"env": "avalon", "method": "react"})
    assert given == {"backend": raw["backend"], "size": raw["size"],
                     "sizes": {raw["size"]: {"test_tasks": raw["sizes"][raw["size"]]["test_tasks"]}},
                     "env": {"avalon": raw["env"]["avalon"]}}
    params = job_params(given, "job")
    assert params.run.test_tasks == raw["sizes"][raw["size"]]["test_tasks"]
    assert params.section("avalon").agent_role == raw["env"]["avalon"]["agent_role"]
    with pytest.raises(ConfigError, match=r"sizes\.quick\.train_episodes: not in the configuration this job was given"):
        params.run.train_episodes
    with pytest.raises(ConfigError, match="evaluate: not in the configuration"):
        params.raw["evaluate"]
    with_critic = project(raw, ["evaluate.critics.{method}?"], {"method": "pnlc"})
    assert with_critic == {"evaluate": {"critics": {"pnlc": raw["evaluate"]["critics"]["pnlc"]}}}
    with pytest.raises(ConfigError, match="no wildcard"):
        project(raw, ["env.{env}"], {})


def test_a_given_value_is_still_checked_against_the_schema(raw):
    from pnlc.config import job_params

    with pytest.raises(ConfigError, match="train.critic.expectile"):
        job_params({"train": {"critic": {"expectile": 1.7}}}, "job")


@pytest.mark.parametrize("path", sorted(Path(__file__).resolve().parents[2].glob("workflow/configs/*.yaml")),
                         ids=lambda p: p.name)
def test_every_shipped_configfile_is_valid_over_params_yaml(raw, path):
    """A shipped --configfile, merged over params.yaml as Snakemake merges it, passes the schema."""
    from snakemake.utils import update_config

    merged = copy.deepcopy(raw)
    update_config(merged, yaml.safe_load(path.read_text()))
    params_from_dict(merged, str(path))


def test_a_configfile_merge_with_a_wrong_type_is_refused(raw):
    """The merge above keeps the schema's checks: a nested key of the wrong type is refused."""
    from snakemake.utils import update_config

    bad = copy.deepcopy(raw)
    update_config(bad, {"sizes": {"quick": {"eval_seeds": "zero"}}})
    with pytest.raises(ConfigError, match="eval_seeds"):
        params_from_dict(bad, "bad.yaml")
