"""invoke entry point: `invoke --list`. The tasks live in helios/tasks.py."""

import sys

from helios.tasks import namespace

ns = namespace(sys.argv)
