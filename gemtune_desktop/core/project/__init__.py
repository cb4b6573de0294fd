"""The project file: one SQLite database (``.gemtune``) holding everything a project owns.

``store.ProjectStore`` opens, locks, migrates and writes it; the other modules here are
per-area repositories (examples, jobs and loss curves, console history, evaluation runs)
that read and write their own tables through a store. Qt-free.
"""
