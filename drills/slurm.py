"""The workflow on a real one-node SLURM cluster: its artifacts equal a local run's, and `sacct` lists
every job it submitted.

The drill installs Debian's SLURM (slurmctld, slurmd, slurmdbd, munge) and MariaDB with apt-get,
configures a cluster of this machine on 127.0.0.1 (its CPUs and memory as `slurmd -C` reports them,
one count-only GPU so that critic training's GPU request is scheduled as on a real cluster, and
accounting through slurmdbd, which `sacct` needs), and starts the daemons. A second run finds the
packages installed and the daemons running and reuses them; a changed configuration restarts the
SLURM daemons. Then one workflow copy at the tests' shrunken size (tests/workflow/test_end_to_end.py)
runs locally (`snakemake --cores 2`) and a second one with `--workflow-profile
workflow/profiles/slurm`, and the simulated artifacts of both are compared byte for byte.

    sudo PYTHONPATH=$PWD/src python drills/slurm.py [--size shrunken|quick] [--keep DIR]

Needs root (apt-get, daemons). `--size quick` runs the quick size of params.yaml instead of the
shrunken one. Last line: `key=value` pairs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "workflow"))

from test_end_to_end import copy_workflow, job_env, run, snapshot  # noqa: E402

PACKAGES = ["munge", "slurmctld", "slurmd", "slurm-client", "slurmdbd", "mariadb-server"]
CLUSTER, ACCOUNT, PARTITION = "pnlc", "pnlc", "main"
ETC = Path("/etc/slurm")
SPOOL = Path("/var/spool/slurm")
LOGS = Path("/var/log/slurm")
PIDS = {"slurmdbd": Path("/run/slurmdbd.pid"), "slurmctld": Path("/run/slurmctld.pid"), "slurmd": Path("/run/slurmd.pid")}
MEMORY_RESERVE_MB = 1024  # left to the OS, the database and the daemons


def sh(*cmd: str, check: bool = True, env: dict | None = None) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if check and out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return out.stdout


def install() -> bool:
    """apt-get the packages that are missing; whether any was."""
    missing = [p for p in PACKAGES if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        sh("apt-get", "update", "-q", env=env)
        sh("apt-get", "install", "-y", "-q", "--no-install-recommends", *missing, env=env)
    return bool(missing)


def node() -> dict[str, str]:
    """This machine as SLURM sees it (`slurmd -C`), less a memory reserve."""
    fields = dict(word.split("=", 1) for word in sh("slurmd", "-C").splitlines()[0].split())
    fields["RealMemory"] = str(int(fields["RealMemory"]) - MEMORY_RESERVE_MB)
    return fields


def configs() -> dict[Path, str]:
    spec = node()
    name = spec.pop("NodeName")
    host = socket.gethostname()
    described = " ".join(f"{k}={v}" for k, v in spec.items())
    slurm_conf = f"""# A one-node cluster on 127.0.0.1 (drills/slurm.py)
ClusterName={CLUSTER}
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={SPOOL}/ctld
SlurmdSpoolDir={SPOOL}/d
SlurmctldPidFile={PIDS['slurmctld']}
SlurmdPidFile={PIDS['slurmd']}
SlurmctldLogFile={LOGS}/slurmctld.log
SlurmdLogFile={LOGS}/slurmd.log
# no cgroup hierarchy to delegate inside a container: track processes by parent id
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=10
# cores and memory are consumable, so mem_mb and threads limit how many jobs share the node
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStorageTRES=gres/gpu
GresTypes=gpu
ReturnToService=2
MinJobAge=300
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
NodeName={name} NodeAddr=127.0.0.1 {described} Gres=gpu:1 State=UNKNOWN
PartitionName={PARTITION} Nodes={name} Default=YES MaxTime=INFINITE State=UP
"""
    # a GPU without a device file: the scheduler counts it, nothing is bound to the job
    gres_conf = f"NodeName={name} Name=gpu Count=1 File=/dev/null\n"
    slurmdbd_conf = f"""AuthType=auth/munge
DbdHost={host}
DbdAddr=127.0.0.1
SlurmUser=root
PidFile={PIDS['slurmdbd']}
LogFile={LOGS}/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
"""
    return {ETC / "slurm.conf": slurm_conf, ETC / "gres.conf": gres_conf, ETC / "slurmdbd.conf": slurmdbd_conf}


def write_configs() -> bool:
    """Write the configuration files that differ; whether any did."""
    changed = False
    for path, text in configs().items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed = True
        os.chmod(path, 0o600 if path.name == "slurmdbd.conf" else 0o644)
    for folder in (SPOOL / "ctld", SPOOL / "d", LOGS):
        folder.mkdir(parents=True, exist_ok=True)
    return changed


def alive(daemon: str) -> bool:
    try:
        os.kill(int(PIDS[daemon].read_text().split()[0]), 0)
        return True
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False


def stop(daemon: str) -> None:
    """End a daemon this drill started, by the id in its pid file."""
    if alive(daemon):
        pid = int(PIDS[daemon].read_text().split()[0])
        os.kill(pid, 15)
        for _ in range(50):
            if not alive(daemon):
                break
            time.sleep(0.2)


def wait(what: str, check, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not come up within {seconds:.0f} s (see {LOGS})")
        time.sleep(0.5)


def ok(*cmd: str) -> bool:
    return subprocess.run(cmd, capture_output=True).returncode == 0


def start_cluster(restart: bool) -> list[str]:
    """munge, MariaDB, slurmdbd, slurmctld, slurmd: each started unless running; the SLURM
    daemons restarted when their configuration changed. The names of the daemons started."""
    started = []
    if not ok("munge", "-n"):
        Path("/run/munge").mkdir(exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        sh("runuser", "-u", "munge", "--", "/usr/sbin/munged")
        wait("munged", lambda: ok("munge", "-n"))
        started.append("munged")
    if not ok("mysqladmin", "ping"):
        sh("/etc/init.d/mariadb", "start")
        started.append("mariadb")
    sh("mysql", "-e", "CREATE DATABASE IF NOT EXISTS slurm_acct_db; "
       "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm'; "
       "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;")
    if restart:
        for daemon in ("slurmd", "slurmctld", "slurmdbd"):
            stop(daemon)
    if not alive("slurmdbd"):
        sh("slurmdbd")
        started.append("slurmdbd")
    wait("slurmdbd", lambda: ok("sacctmgr", "-n", "list", "cluster"))
    if CLUSTER not in sh("sacctmgr", "-n", "-P", "list", "cluster", "format=cluster").split():
        sh("sacctmgr", "-i", "add", "cluster", CLUSTER)
    if ACCOUNT not in sh("sacctmgr", "-n", "-P", "list", "account", "format=account").split():
        sh("sacctmgr", "-i", "add", "account", ACCOUNT, f"cluster={CLUSTER}", "description=pnlc drill")
    user = os.environ.get("USER") or "root"
    if ACCOUNT not in sh("sacctmgr", "-n", "-P", "list", "user", user, "-s", "format=account").split():
        sh("sacctmgr", "-i", "add", "user", user, f"account={ACCOUNT}", f"cluster={CLUSTER}")
    if not alive("slurmctld"):
        sh("slurmctld")
        started.append("slurmctld")
    if not alive("slurmd"):
        sh("slurmd")
        started.append("slurmd")
    # a node drained by an earlier configuration (e.g. before its GPU was declared) comes back
    wait("the node's registration", lambda: sh("sinfo", "-h", "-o", "%T", check=False).strip() not in ("", "unknown", "unknown*"))
    if sh("sinfo", "-h", "-o", "%T").strip() in ("drained", "draining", "inval", "down", "down*"):
        sh("scontrol", "update", f"nodename={node()['NodeName']}", "state=resume")
    wait("the node", lambda: sh("sinfo", "-h", "-o", "%T", check=False).strip() in ("idle", "mixed", "allocated"))
    return started


def timed(cmd: list[str], root: Path, log: Path) -> float:
    start = time.monotonic()
    with log.open("w") as fh:
        out = subprocess.run(cmd, cwd=root, stdout=fh, stderr=subprocess.STDOUT, env=job_env(root))
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {root}; its log: {log}\n{log.read_text()[-4000:]}")
    return time.monotonic() - start


def jobs_run(log: Path) -> int:
    """Jobs Snakemake finished, from its log's last progress line."""
    done = [line for line in log.read_text().splitlines() if "steps" in line and "done" in line and " of " in line]
    return int(done[-1].split(" of ")[1].split()[0]) if done else 0


def sacct_jobs(run_started: str, root: Path) -> dict[str, str]:
    """Allocations (not steps) the SLURM run submitted from `root`: their state, and whether SLURM
    gave them a GPU."""
    out = sh("sacct", "-X", "-n", "-P", "-a", "-S", run_started, "-o", "JobID,State,AllocTRES,WorkDir%400")
    jobs = {}
    for line in out.splitlines():
        jobid, state, tres, workdir = line.split("|", 3)
        if Path(workdir).resolve() == root.resolve():
            jobs[jobid] = (state, "gres/gpu=" in tres)
    return jobs


def submitted_ids(log: Path) -> set[str]:
    """SLURM job ids of the jobs Snakemake submitted, from its log."""
    return {line.split("SLURM jobid")[1].split()[0].strip("'().,")
            for line in log.read_text().splitlines() if "SLURM jobid" in line}


def workflow_copy(root: Path, size: str) -> None:
    copy_workflow(REPO, root)
    if size == "quick":
        shutil.copy(REPO / "params.yaml", root / "params.yaml")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=["shrunken", "quick"], default="shrunken",
                        help="shrunken: the workflow tests' size (minutes); quick: params.yaml's quick size")
    parser.add_argument("--keep", type=Path, help="run the two workflow copies in this folder and keep them")
    parser.add_argument("--cluster-only", action="store_true", help="install and start the cluster, run nothing")
    parser.add_argument("--local-run", type=Path,
                        help="a finished local run of the same code and size (e.g. a fresh clone after "
                             "`snakemake --cores 2`) to compare with, instead of running one here")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("drills/slurm.py installs packages and starts daemons: run it as root")

    t0 = time.monotonic()
    installed = install()
    started = start_cluster(restart=write_configs())
    setup_s = time.monotonic() - t0
    print(f"cluster {CLUSTER}: {sh('sinfo', '-h', '-N', '-o', '%N %c CPUs %m MB %G %T').strip()}; "
          f"installed now: {installed}; daemons started: {', '.join(started) or 'none (reused)'}; {setup_s:.0f} s", flush=True)

    if args.cluster_only:
        return 0
    workspace = args.keep or Path(tempfile.mkdtemp(prefix="pnlc-slurm-"))
    rows = {}
    if args.local_run is not None:
        logs = sorted((args.local_run / ".snakemake" / "log").glob("*.snakemake.log"))
        if not logs:
            raise SystemExit(f"{args.local_run}: no .snakemake/log/*.snakemake.log; pass a folder where "
                             "`snakemake --cores 2` ran to the end")
        log = max(logs, key=jobs_run)  # the full run, not a later `dvc repro p4g`
        rows["local"] = {"root": args.local_run, "jobs": jobs_run(log), "sacct": {}, "wall_s": float("nan"), "log": log}
    for mode in ("slurm",) if args.local_run is not None else ("local", "slurm"):
        root = workspace / mode
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        workflow_copy(root, args.size)
        log = workspace / f"{mode}.log"
        run_started = sh("date", "+%Y-%m-%dT%H:%M:%S").strip()
        if mode == "local":
            seconds = timed(["snakemake", "--cores", "2"], root, log)
        else:
            seconds = timed(["snakemake", "--workflow-profile", "workflow/profiles/slurm",
                             "--default-resources", f"slurm_account={ACCOUNT}", f"slurm_partition={PARTITION}",
                             "--slurm-init-seconds-before-status-checks", "5"], root, log)
        sacct = sacct_jobs(run_started, root) if mode == "slurm" else {}
        rows[mode] = {"root": root, "jobs": jobs_run(log), "sacct": sacct, "wall_s": seconds, "log": log}
        print(f"{mode}: {rows[mode]['jobs']} jobs in {seconds:.0f} s (log {log})", flush=True)

    local, slurm = snapshot(rows["local"]["root"]), snapshot(rows["slurm"]["root"])
    if args.local_run is not None:  # a clone also holds the committed PersuasionForGood stage, which no run here makes
        local = {k: v for k, v in local.items() if not k.startswith("results/metrics/p4g")}
    differ = sorted(k for k in set(local) | set(slurm) if local.get(k) != slurm.get(k))
    states = sorted({state for state, _ in rows["slurm"]["sacct"].values()})
    gpu_jobs = sum(gpu for _, gpu in rows["slurm"]["sacct"].values())
    training = sum(1 for line in rows["slurm"]["log"].read_text().splitlines() if line.startswith("rule train_critic:"))
    submitted = submitted_ids(rows["slurm"]["log"])
    listed = len(submitted & set(rows["slurm"]["sacct"]))
    print()
    print("| run | jobs | submitted to SLURM | sacct-listed jobs | with a GPU | wall s | equal to local run |")
    print("|---|---|---|---|---|---|---|")
    print(f"| local (--cores 2) | {rows['local']['jobs']} | - | - | - | {rows['local']['wall_s']:.0f} | - |")
    print(f"| slurm (--workflow-profile workflow/profiles/slurm) | {rows['slurm']['jobs']} | {len(submitted)} | {listed} "
          f"({', '.join(states)}) | {gpu_jobs} of {training} training | {rows['slurm']['wall_s']:.0f} | "
          f"{'yes' if not differ else 'no'} ({len(local)} files) |")
    for name in differ[:20]:
        print(f"differs: {name}")
    passed = (not differ and listed == len(submitted) > 0 and states == ["COMPLETED"] and len(local) > 0
              and gpu_jobs == training > 0)
    print(f"size={args.size} jobs={rows['slurm']['jobs']} submitted={len(submitted)} sacct_listed={listed} "
          f"sacct_states={'+'.join(states)} gpu_jobs={gpu_jobs} training_jobs={training} local_wall_s={rows['local']['wall_s']:.0f} "
          f"slurm_wall_s={rows['slurm']['wall_s']:.0f} files_compared={len(local)} files_differ={len(differ)} "
          f"setup_s={setup_s:.0f} passed={passed}")
    if not args.keep:
        shutil.rmtree(workspace, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
