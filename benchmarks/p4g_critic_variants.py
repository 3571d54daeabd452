"""PersuasionForGood: the critic under other settings, on the P4G experiment's own split.

    python benchmarks/p4g_critic_variants.py [--variant NAME KEY=VALUE [KEY=VALUE ...]] ...

Each variant is params.yaml with its `KEY=VALUE` overrides (dotted keys, YAML values, e.g.
`p4g.embed.lexical_features=8192` or `p4g.critic.weight_decay=1.0`), run through the same code as
`snakemake --cores 2 p4g_all` (`pnlc.pipeline.p4g.p4g_experiment`: 814 training and 203 held-out
dialogues), its outputs in a temporary folder. `baseline` (params.yaml as it is) always runs first.
Without `--variant`, the variants measured for the README's P4G section run (the baseline reads
4,096 hashed-word buckets and one hidden layer of 16, `p4g.embed` and `p4g.critic` in params.yaml):

- `512 buckets, 256x256`: the simulated tasks' settings (`p4g.embed={}`, `p4g.critic={}`);
- `hidden 8`, `hidden 32`, `hidden 64x64`: other critic widths.

For each it prints the critic's held-out AUC overall and by thirds (95 % bootstrap over dialogues),
the logistic probe on that variant's embeddings, the critic's AUC and the probe's on its own
validation dialogues (163 of the 814 training dialogues; never the held-out ones), the training
updates and seconds. Minutes per variant (4096 buckets: about 8) on one core.
Last line: key=value pairs, the critic's held-out AUC per variant (spaces as underscores).
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MEASURED = {
    "512 buckets, 256x256": {"p4g.embed": {}, "p4g.critic": {}},
    "hidden 8": {"p4g.critic.hidden_sizes": [8]},
    "hidden 32": {"p4g.critic.hidden_sizes": [32]},
    "hidden 64x64": {"p4g.critic.hidden_sizes": [64, 64]},
}


def override(raw: dict, key: str, value) -> dict:
    """A copy of `raw` with the dotted `key` set; `params_from_dict` then refuses a key the schema
    does not know, naming it."""
    out = copy.deepcopy(raw)
    *sections, last = key.split(".")
    node = out
    for part in sections:
        node = node.setdefault(part, {})
    node[last] = value
    return out


def run(raw: dict, source: str) -> dict:
    from pnlc.config import params_from_dict
    from pnlc.pipeline.p4g import p4g_experiment

    params = params_from_dict(raw, source)
    with tempfile.TemporaryDirectory(prefix="p4g-variant-") as tmp:
        t = Path(tmp)
        report = p4g_experiment(params, t / "m.json", t / "auc.png", t / "rel.png", t, threads=1,
                                timing_out=t / "timing.json")
        timing = json.loads((t / "timing.json").read_text(encoding="utf-8"))
    return report | {"timing": timing}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    ap.add_argument("--variant", nargs="+", action="append", metavar=("NAME", "KEY=VALUE"),
                    help="a name, then dotted params keys with YAML values; repeatable")
    args = ap.parse_args()
    base = yaml.safe_load(args.params.read_text(encoding="utf-8"))
    variants: dict[str, dict] = {}
    for spec in args.variant or []:
        name, pairs = spec[0], spec[1:]
        if not pairs or any("=" not in p for p in pairs):
            raise SystemExit(f"--variant {name}: give KEY=VALUE pairs after the name")
        variants[name] = {k: yaml.safe_load(v) for k, v in (p.split("=", 1) for p in pairs)}
    if not variants:
        variants = MEASURED

    aucs = {}
    for name, changes in {"baseline": {}, **variants}.items():
        raw = base
        for key, value in changes.items():
            raw = override(raw, key, value)
        r = run(raw, str(args.params))
        critic = r["auc"][r["critic"]]
        probe = next(v for k, v in r["auc"].items() if k.startswith("linear probe"))
        goal = next(g for g in r["critic_training"]["outcome_goals"]["per_goal"] if g["goal"] == r["goal"])
        train = r["timing"]["critic_training"]
        cells = "  ".join(f"{third} {critic[third]['auc']:.3f} [{critic[third]['lo']:.3f}, {critic[third]['hi']:.3f}]"
                          for third in ("all", "early", "middle", "late"))
        print(f"{name:24s} critic {cells}; probe {probe['all']['auc']:.3f}; validation: critic "
              f"{goal['auc']:.3f}, probe {goal['linear_probe_auc']:.3f}; {train['updates']} updates, "
              f"{train['train_seconds']:.0f} s", flush=True)
        aucs[name] = critic["all"]["auc"]
    print(" ".join(f"{name.replace(' ', '_').replace(',', '')}={auc:.3f}" for name, auc in aucs.items()))


if __name__ == "__main__":
    main()
