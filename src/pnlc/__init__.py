"""pnlc: Planning with a Natural Language Critic (Hong, Dragan, Levine; NeurIPS 2025), reproduced."""

__version__ = "0.1.0"
