"""Widgets: the main window, the four tabs, dialogs. Pure presentation over qtcore and services."""
