"""Bad inputs: each gives one clear message naming the key or file:line and what to do, a non-zero
exit, and nothing half-written.

A workspace with a shrunken configuration gets real artifacts first (8 Avalon episodes, their
annotations, a goal-conditioned and a scalar critic). Then every case runs one `pnlc` or `snakemake`
command with one thing wrong and checks: the exit code is not zero; there is no Python traceback;
the message holds the words that name the key or the file (and line) and says what to do; no file
of the workspace changed or appeared (a `.partial` journal is allowed only where the phase resumes
from it, and then the same command, rerun once the fault is gone, must give the undisturbed bytes).

    PYTHONPATH=$PWD/src python drills/bad_inputs.py [case ...]

The read-only folder and the full disk mount a small tmpfs: they need root and are reported as
skipped otherwise. Last line: `key=value` pairs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import yaml

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO / "src")}
PNLC = [sys.executable, "-m", "pnlc.cli"]


@dataclass
class Case:
    name: str
    command: list[str]                       # run in the workspace
    expect: tuple[str, ...]                  # words the message must hold
    params: Callable[[dict], None] | None = None  # edits a copy of the workspace's params.yaml
    mount: str | None = None                 # "ro" or "full": the output folder is such a tmpfs
    extra_env: dict[str, str] = field(default_factory=dict)
    server: bool = False                     # a loopback Messages API on llm.anthropic.base_url


def shrink(params: dict) -> dict:
    params["envs"] = ["avalon"]
    params["sizes"]["quick"].update(train_episodes=8, shards=1, test_tasks=2, critic_max_steps=5,
                                    methods=["react", "pnlc", "scalar_critic"])
    params["train"]["critic"].update(batch_size=32, val_every_n_steps=5, log_every_n_steps=5)
    return params


def set_key(dotted: str, value) -> Callable[[dict], None]:
    def edit(params: dict) -> None:
        *parents, last = dotted.split(".")
        node = params
        for key in parents:
            node = node[key]
        node[last] = value
    return edit


def anthropic_capped(params: dict) -> None:
    params["backend"] = "anthropic"
    params["llm"]["cache_mode"] = "off"
    params["llm"]["anthropic"]["spend_cap_usd"] = 0.0001


def anthropic_replay(params: dict) -> None:
    params["backend"] = "anthropic"
    params["llm"]["cache_mode"] = "replay"
    params["llm"]["cache_dir"] = "empty-cache"


GEN = PNLC + ["generate", "--env", "avalon", "--shard", "0"]
EVAL = PNLC + ["evaluate", "--env", "avalon", "--seed", "0"]
TRAIN = PNLC + ["train", "--env", "avalon", "--variant", "default", "--seed", "0", "--out-dir", "out/critic"]

CASES = [
    Case("unknown environment", PNLC + ["generate", "--env", "chess", "--shard", "0", "--out", "out/t.jsonl"],
         ("unknown environment 'chess'", "choose one of")),
    Case("unknown method", EVAL + ["--method", "nosuch", "--out", "out/e.jsonl"], ("unknown method 'nosuch'", "choose one of")),
    Case("unknown backend", GEN + ["--out", "out/t.jsonl"], ("backend", "'gpt' is not one of", "Fix these keys"),
         params=set_key("backend", "gpt")),
    Case("out-of-range param", TRAIN + ["--annotations", "art/avalon.npz"],
         ("train.critic.expectile", "greater than the maximum"), params=set_key("train.critic.expectile", 1.5)),
    Case("wrong-type param", EVAL + ["--method", "react", "--out", "out/e.jsonl"],
         ("sizes.quick.test_tasks", "not of type 'integer'"), params=set_key("sizes.quick.test_tasks", "many")),
    Case("empty test split", EVAL + ["--method", "react", "--out", "out/e.jsonl"],
         ("env.avalon.n_test_tasks", "less than the minimum"), params=set_key("env.avalon.n_test_tasks", 0)),
    Case("bad --config override", ["snakemake", "-n", "--config", "size=huge"], ("size: 'huge'", "--config size=quick")),
    Case("bad --config value type", ["snakemake", "-n", "--config", "backend=gpt"], ("'gpt' is not one of", "backend")),
    Case("missing params file", PNLC + ["--params", "nowhere.yaml", "generate", "--env", "avalon", "--shard", "0",
                                       "--out", "out/t.jsonl"], ("nowhere.yaml: no such file", "--params")),
    Case("missing data folder", PNLC + ["generate", "--env", "webshop", "--shard", "0", "--out", "out/w.jsonl"],
         ("no-such-folder", "env.webshop.catalogue"), params=set_key("env.webshop.catalogue", "no-such-folder")),
    Case("corrupt JSONL", PNLC + ["annotate", "--env", "avalon", "--inputs", "art/corrupt.jsonl",
                                 "--out-jsonl", "out/a.jsonl", "--out-npz", "out/a.npz", "--out-usage", "out/a.json"],
         ("art/corrupt.jsonl:4", "not valid JSON", "regenerate")),
    Case("truncated JSONL", PNLC + ["annotate", "--env", "avalon", "--inputs", "art/truncated.jsonl",
                                   "--out-jsonl", "out/a.jsonl", "--out-npz", "out/a.npz", "--out-usage", "out/a.json"],
         ("art/truncated.jsonl:2", "truncated record", "rerun")),
    Case("empty evaluation file", PNLC + ["summarize", "--env", "avalon", "--inputs", "art/empty.jsonl",
                                         "--out", "out/m.json", "--timing", "out/t.json"],
         ("art/empty.jsonl", "no episodes", "rerun")),
    Case("corrupt annotations", TRAIN + ["--annotations", "art/garbage.bin"], ("art/garbage.bin", "not a readable .npz",
                                                                               "annotation phase")),
    Case("corrupt critic", EVAL + ["--method", "pnlc", "--critic", "art/garbage.bin", "--out", "out/e.jsonl"],
         ("art/garbage.bin", "not a readable critic checkpoint", "retrain")),
    Case("encoder not the critic's", EVAL + ["--method", "pnlc", "--critic", "art/default/critic.ckpt",
                                           "--out", "out/e.jsonl"],
         ("art/default/critic.ckpt", "trained on embeddings from", "retrain"), params=set_key("embed.pad_multiple", 16)),
    Case("critic of the wrong variant", EVAL + ["--method", "pnlc", "--critic", "art/scalar/critic.ckpt",
                                              "--out", "out/e.jsonl"], ("goal-conditioned", "variant's checkpoint")),
    Case("replay-cache miss", GEN + ["--out", "out/t.jsonl"], ("empty-cache", "llm.cache_mode"),
         params=anthropic_replay),
    Case("spend cap reached", PNLC + ["generate", "--env", "persuasion", "--shard", "0", "--out", "out/t.jsonl"],
         ("spend cap reached", "llm.anthropic.spend_cap_usd"), params=anthropic_capped,
         extra_env={"ANTHROPIC_API_KEY": "sk-ant-drill-0000"}, server=True),
    Case("read-only results folder", GEN + ["--out", "mnt/t.jsonl"], ("mnt/t.jsonl", "Read-only file system"), mount="ro"),
    Case("full disk", GEN + ["--out", "mnt/t.jsonl"], ("mnt/t.jsonl", "No space left on device", "rerun"), mount="full"),
]


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env or ENV, timeout=900)


def prepare(root: Path) -> None:
    """The workspace: workflow files, a shrunken params.yaml, real artifacts under art/."""
    for name in ("Snakefile", "workflow", "profiles"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    params = shrink(yaml.safe_load((REPO / "params.yaml").read_text()))
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    art = root / "art"
    steps = [
        GEN + ["--out", "art/avalon.jsonl"],
        PNLC + ["annotate", "--env", "avalon", "--inputs", "art/avalon.jsonl", "--out-jsonl", "art/avalon.ann.jsonl",
                "--out-npz", "art/avalon.npz", "--out-usage", "art/avalon.usage.json"],
        PNLC + ["train", "--env", "avalon", "--variant", "default", "--seed", "0", "--annotations", "art/avalon.npz",
                "--out-dir", "art/default"],
        PNLC + ["train", "--env", "avalon", "--variant", "scalar", "--seed", "0", "--annotations", "art/avalon.npz",
                "--out-dir", "art/scalar"],
    ]
    for cmd in steps:
        out = run(cmd, root)
        if out.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    lines = (art / "avalon.jsonl").read_bytes().splitlines(keepends=True)
    (art / "corrupt.jsonl").write_bytes(b"".join(lines[:3]) + b'{"broken": \n' + b"".join(lines[3:]))
    (art / "truncated.jsonl").write_bytes(lines[0] + lines[1][: len(lines[1]) // 2])
    (art / "empty.jsonl").write_bytes(b"")
    (art / "garbage.bin").write_bytes(b"this is not an archive\n")


def listing(root: Path) -> dict[str, str]:
    """Every file of the workspace but Snakemake's own bookkeeping, with its content hash."""
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and rel.parts[0] not in (".snakemake", "workflow") and "__pycache__" not in rel.parts:
            files[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


@contextlib.contextmanager
def tmpfs(path: Path, kind: str) -> Iterator[None]:
    path.mkdir(exist_ok=True)
    options = "size=1m,ro" if kind == "ro" else "size=64k"
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["umount", str(path)], capture_output=True)


def can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        probe = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", tmp], capture_output=True)
        if probe.returncode == 0:
            subprocess.run(["umount", tmp], capture_output=True)
        return probe.returncode == 0


def one_case(case: Case, root: Path) -> dict[str, object]:
    """Run one case in `root` (prepared); return its row of the table."""
    env = {**ENV, **case.extra_env}
    params_backup = (root / "params.yaml").read_text()
    with contextlib.ExitStack() as stack:
        server = None
        if case.server:
            sys.path.insert(0, str(REPO))
            from tests.fakes.messages_server import FakeMessagesServer

            server = stack.enter_context(FakeMessagesServer())
        stack.callback((root / "params.yaml").write_text, params_backup)
        if case.params is not None:
            params = yaml.safe_load(params_backup)
            case.params(params)
            if case.server:
                params["llm"]["anthropic"]["base_url"] = server.url
            (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        before = listing(root)
        with tmpfs(root / "mnt", case.mount) if case.mount else contextlib.nullcontext():
            out = run(case.command, root, env)
            inside = listing(root / "mnt") if case.mount else {}
            resumed = None
            if case.mount == "full":  # the fault goes away; the same command resumes from its journal
                subprocess.run(["mount", "-o", "remount,size=4m", str(root / "mnt")], check=True)
                again = run(case.command, root, env)
                resumed = again.returncode == 0 and (root / "mnt/t.jsonl").read_bytes() == (
                    root / "art/avalon.jsonl").read_bytes()
        after = listing(root)
    message = (out.stderr + out.stdout).strip()  # snakemake writes its errors to stdout
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k) and k != "params.yaml")
    journals = [k for k in inside if k.endswith(".partial")]
    half_written = changed + [k for k in inside if not k.endswith(".partial")]
    if case.mount != "full":
        half_written += journals
    return {
        "case": case.name,
        "exit": out.returncode,
        "traceback": "Traceback" in message,
        "message names it": all(word in message for word in case.expect),
        "half-written": half_written,
        "resumed to the same bytes": resumed,
        "message": next((line.strip() for line in message.splitlines() if case.expect[0] in line),
                        message.splitlines()[-1] if message else ""),
        "stderr": message,
    }


def passed(row: dict[str, object]) -> bool:
    return (row["exit"] != 0 and not row["traceback"] and bool(row["message names it"]) and not row["half-written"]
            and row["resumed to the same bytes"] in (None, True))


def main(argv: list[str]) -> int:
    cases = [c for c in CASES if not argv or c.name in argv]
    mountable = can_mount()
    ok = skipped = 0
    with tempfile.TemporaryDirectory(prefix="bad-inputs-") as tmp:
        root = Path(tmp)
        prepare(root)
        sys.stdout.write(f"{'case':<30} {'exit':>4}  {'ok':<4} message\n")
        for case in cases:
            if case.mount and not mountable:
                skipped += 1
                sys.stdout.write(f"{case.name:<30} {'-':>4}  SKIP needs root and mount (tmpfs)\n")
                continue
            row = one_case(case, root)
            ok += passed(row)
            sys.stdout.write(f"{case.name:<30} {row['exit']:>4}  {'PASS' if passed(row) else 'FAIL'} {row['message']}\n")
            if not passed(row):
                sys.stdout.write(f"    {row}\n")
    sys.stdout.write(f"cases={len(cases)} passed={ok} skipped={skipped} failed={len(cases) - ok - skipped}\n")
    return 0 if ok + skipped == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
