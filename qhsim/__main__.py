"""``python -m qhsim ...``: the same command line as the ``qhsim`` script."""

import sys

from qhsim.cli import main

sys.exit(main())
