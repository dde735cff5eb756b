"""invoke entry point: `invoke --list`. The tasks live in helios/tasks.py."""

from helios.tasks import namespace

ns = namespace()
