"""``python -m medeq``: the ``medeq`` command (see :mod:`medeq.cli`)."""

import sys

from .cli import main

sys.exit(main())
