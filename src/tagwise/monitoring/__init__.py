"""Monitoring: drift statistics against the training reference, performance over time."""
