"""Temporal workflows: one module per long-running process."""
