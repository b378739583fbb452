"""`python -m nabla_atheris` runs the command line."""

import sys

from nabla_atheris.cli import run

sys.exit(run())
