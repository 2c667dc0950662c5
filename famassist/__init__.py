"""famassist: case management for Latvia's family assistant service (ģimenes asistents)."""
