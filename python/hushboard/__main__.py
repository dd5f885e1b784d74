"""``python -m hushboard`` is the ``hushboard`` command."""

import sys

from hushboard.cli import main

sys.exit(main())
