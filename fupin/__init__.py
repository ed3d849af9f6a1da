"""fupin: Chinese poverty-alleviation news pages -> a DuckDB statistical warehouse.

The repository keeps ``tasks/``, ``flows/``, ``schemas/`` and ``warehouse/`` as
top-level folders; an installed fupin carries them inside this package
(``fupin.tasks``, ``fupin.flows``, ...), so nothing generic lands in
site-packages. Run from a checkout, the checkout's root is searched for those
subpackages too, so ``fupin.tasks`` means the checkout's ``tasks/``.
"""

# First, so that its exit handler is the first registered and runs last.
from fupin import quick_exit  # noqa: F401, I001
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

_checkout = Path(__file__).resolve().parent.parent
if (_checkout / "pyproject.toml").is_file() and (_checkout / "tasks" / "__init__.py").is_file():
    __path__.append(str(_checkout))

try:
    __version__ = version("fupin")
except PackageNotFoundError:  # a checkout used without installing it
    __version__ = "0+checkout"
