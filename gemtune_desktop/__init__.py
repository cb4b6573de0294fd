"""GemTune Desktop: turn a spreadsheet of examples into a tuned Gemini model.

This module only carries the version; it imports nothing heavy so that the command
line (``check``, ``convert``, ``sandbox``) and the window both start fast.
"""

__version__ = "0.1.0"
APP_NAME = "GemTune Desktop"
ORG_NAME = "GemTune"
APP_ID = "gemtune-desktop"
