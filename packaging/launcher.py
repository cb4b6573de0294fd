"""Entry script of the packaged app (PyInstaller needs a script, not a module).

Same behaviour as the ``gemtune-desktop`` console script: no arguments opens the window,
``check``/``convert``/``sandbox``/``--version`` run without one.
"""

import multiprocessing
import sys

from gemtune_desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
