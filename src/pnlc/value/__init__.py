"""The value model: goal relabeling and the goal-conditioned IQL critic (PAPER.md §3-4).

- config:      TrainConfig, GoalMixture (every knob explicit)
- data:        TransitionData, the critic's input contract, with save_npz / load_npz
- relabel:     vectorised, seeded hindsight goal relabeling on resident tensors
- losses, networks: pure IQL losses, mlp(), V and twin Q (sigmoid-bounded)
- module, datamodule: the LightningModule (V, then Q, then target) and the episode-split DataModule
- checkpoint:  save_checkpoint, load_critic -> ValueModel (numpy in, probabilities out)
- diagnostics: held-out AUC, reliability curve, ECE; figures
- train:       fit(data, cfg, out_dir) -> metrics

Submodules import torch / lightning; importing this package does not.
"""
