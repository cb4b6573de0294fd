"""Fixtures shared by the domain tests: a real project file in the test's folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gemtune_desktop.core.project.store import ProjectStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ProjectStore]:
    """A new, empty project (the current schema), closed after the test."""
    s = ProjectStore.create(tmp_path / "p.gemtune")
    yield s
    s.close()
