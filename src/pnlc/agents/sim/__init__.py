"""Simulated (offline, seedable) implementations of the agent roles, one module per environment."""
