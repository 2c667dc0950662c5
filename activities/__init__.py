"""Activities: all I/O of the workflows. Idempotent; no clock reads."""
