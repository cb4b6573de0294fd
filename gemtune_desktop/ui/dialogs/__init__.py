"""Dialogs and windows of the whole app: About, the error dialog, the first-run welcome, the offline guide."""
