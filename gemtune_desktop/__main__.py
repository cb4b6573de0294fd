"""``python -m gemtune_desktop``: the same entry point as the ``gemtune-desktop`` executable."""

import sys

from gemtune_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
