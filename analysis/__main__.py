"""Entry point for ``python -m analysis``."""

import sys

from analysis.runner.cli import main

sys.exit(main())
