"""Validate catalog files: `python -m trackers.catalog [FILES…]`."""

import sys

from trackers.catalog import main

sys.exit(main())
