"""``python -m famassist`` is the ``famassist`` command."""

from famassist.cli import app

app()
