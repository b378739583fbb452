"""`python -m nabla_atheris` runs the command line."""

import sys

from nabla_atheris.cli import main

sys.exit(main())
