"""Pure domain rules of the family assistant service (no I/O)."""
