"""Package layout that pyproject.toml cannot express alone.

The repository keeps icons, stylesheets, sample data and the guide in the top-level
``resources/`` folder; installed builds carry it as the ``gemtune_desktop.resources``
package so ``importlib.resources`` (and PyInstaller) find it.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["gemtune_desktop", "gemtune_desktop.*"]), "gemtune_desktop.resources"],
    package_dir={"gemtune_desktop.resources": "resources"},
)
