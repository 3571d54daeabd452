"""Artifacts travel through a real SSH remote: a shrunken workflow copy runs once and pushes its DVC
cache to `ssh://127.0.0.1:<port>/...` (an asyncssh SFTP server started here, key login only); a
second clone of its git state pulls with `pnlc-pull` and is then current for DVC and Snakemake
alike, with the first copy's bytes, and still sees a later change."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fakes.sftp_server import SFTPServer  # noqa: E402
from test_end_to_end import (  # noqa: E402
    REPO,
    assert_agree,
    copy_workflow,
    dvc_phases,
    edit_params,
    job_env,
    run,
    snakemake_phases,
    snapshot,
)

pytestmark = pytest.mark.slow

GIT_ID = {"GIT_AUTHOR_NAME": "pnlc", "GIT_AUTHOR_EMAIL": "pnlc@localhost",
          "GIT_COMMITTER_NAME": "pnlc", "GIT_COMMITTER_EMAIL": "pnlc@localhost"}


def lock_outputs(root: Path) -> dict[str, bytes]:
    """Every file of the outputs dvc.lock records: pulled from the remote, or committed to git
    where an output has `cache: false`."""
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    return snapshot(root, [out["path"] for stage in lock["stages"].values() for out in stage.get("outs", [])])


def remote_files(server: SFTPServer, store: str) -> list[Path]:
    return [f for f in (server.root / store).rglob("*") if f.is_file()]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A first copy that ran the workflow, committed its state to git and pushed to the SSH remote."""
    base = tmp_path_factory.mktemp("remote")
    first = base / "first"
    first.mkdir()
    copy_workflow(REPO, first)
    # Smaller still than the other workflow tests: one critic variant and the methods that read it.
    edit_params(first, "train.variants", {"default": {}})
    edit_params(first, "sizes.quick.methods", ["react", "pnlc"])
    shutil.copy(REPO / ".gitignore", first / ".gitignore")
    home = base / "home"
    home.mkdir()
    with SFTPServer(base / "ssh") as server:
        # HOME is a folder of the test's own and no agent is offered, so the user's keys, ssh
        # config and agent are never read: the only credential is the key in .dvc/config.local.
        env = {**job_env(first), **GIT_ID, "HOME": str(home)}
        env.pop("SSH_AUTH_SOCK", None)
        run(["snakemake", "--cores", "2"], first, env=env)
        # The URL is shared (.dvc/config, committed); who logs in and with which key is each
        # user's own (.dvc/config.local, ignored by git).
        run(["dvc", "remote", "add", "-d", "lab", f"ssh://127.0.0.1:{server.port}/store"], first, env=env)
        set_credentials(first, server, env)
        run(["git", "add", "-A"], first, env=env)
        run(["git", "commit", "-q", "-m", "a run of the shrunken workflow"], first, env=env)
        start = time.perf_counter()
        pushed = run(["dvc", "push"], first, env=env)
        push_s = time.perf_counter() - start
        yield {"first": first, "server": server, "env": env, "home": home, "push_s": push_s, "push_log": pushed}


def set_credentials(root: Path, server: SFTPServer, env: dict) -> None:
    run(["dvc", "remote", "modify", "--local", "lab", "user", server.user], root, env=env)
    run(["dvc", "remote", "modify", "--local", "lab", "keyfile", str(server.client_key_file)], root, env=env)


@pytest.fixture(scope="module")
def second(shared, tmp_path_factory):
    """A git clone of the first copy's commit that pulled with `pnlc-pull`."""
    root = tmp_path_factory.mktemp("clone") / "second"
    env = {**shared["env"], "PYTHONPATH": str(root / "src")}
    run(["git", "clone", "-q", str(shared["first"]), str(root)], root.parent, env=env)
    set_credentials(root, shared["server"], env)
    start = time.perf_counter()
    out = run(["python", "-m", "pnlc.share", "--cores", "2"], root, env=env)
    return {"root": root, "env": env, "pull_s": time.perf_counter() - start, "pull_log": out}


def test_push_reaches_the_ssh_remote_with_key_login(shared):
    server = shared["server"]
    files = remote_files(server, "store")
    assert files, "dvc push wrote nothing to the remote"
    assert set(server.logins) == {server.user}
    # Nothing but the key file and known_hosts the test wrote holds a secret; the shared config names no key.
    assert "keyfile" not in (shared["first"] / ".dvc" / "config").read_text()
    assert "keyfile" in (shared["first"] / ".dvc" / "config.local").read_text()
    print(f"\npush: {shared['push_s']:.1f} s, {len(files)} files, {sum(f.stat().st_size for f in files)} bytes")


def test_a_second_clone_pulls_the_same_bytes_and_is_current(shared, second):
    root = second["root"]
    expected = lock_outputs(shared["first"])
    assert expected, "the first copy has no DVC-cached outputs"
    assert lock_outputs(root) == expected
    assert dvc_phases(root) == set()
    assert "Nothing to be done" in run(["snakemake", "-n", "--cores", "2"], root, env=second["env"])
    # Adopting the outputs changed no tracked file (dvc.lock included).
    assert run(["git", "status", "--porcelain"], root, stderr=False) == ""
    steps = [line for line in second["pull_log"].splitlines() if line.endswith(" s")]
    print(f"\npnlc-pull: {second['pull_s']:.1f} s ({'; '.join(steps)}); "
          f"{len(expected)} output files, {sum(len(b) for b in expected.values())} bytes")


def test_a_change_after_the_pull_is_stale_to_snakemake_and_dvc(second):
    root = second["root"]
    params = root / "params.yaml"
    original = params.read_text()
    edit_params(root, "evaluate.bootstrap_samples", 150)
    try:
        assert assert_agree(root) == {"evaluate", "report"}
    finally:
        params.write_text(original)
    report = root / "src/pnlc/pipeline/report.py"
    code = report.read_text()
    report.write_text(code + "\n# changed\n")
    try:
        assert assert_agree(root) == {"report"}
    finally:
        report.write_text(code)
    assert snakemake_phases(root) == set()


def test_pull_refuses_to_adopt_outputs_of_other_params(shared, tmp_path):
    root = tmp_path / "third"
    env = {**shared["env"], "PYTHONPATH": str(root / "src")}
    run(["git", "clone", "-q", str(shared["first"]), str(root)], tmp_path, env=env)
    set_credentials(root, shared["server"], env)
    edit_params(root, "evaluate.bootstrap_samples", 150)
    out = subprocess.run(["python", "-m", "pnlc.share"], cwd=root, capture_output=True, text=True, env=env)
    assert out.returncode == 1
    assert "evaluate" in out.stderr and "dvc repro" in out.stderr
    metadata = root / ".snakemake" / "metadata"
    assert not metadata.exists() or not any(metadata.iterdir()), "outputs of other params were adopted"
