"""Qt-free domain code: examples, formats, validation, job specs, metrics.

Nothing in this package imports PySide6, pyqtgraph, keyring or a network library, so it
runs (and is tested) without a display, and the command line uses it directly.
"""
