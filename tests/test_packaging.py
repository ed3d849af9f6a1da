"""`pip install .` into a clean virtualenv gives a working `fupin`.

The installed package must carry its schemas, SQL and example queries, keep its
warehouse and working area in the current directory (never in site-packages),
and install `tasks` and `flows` under the `fupin` namespace only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")

pytestmark = pytest.mark.slow


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FUPIN_", "PREFECT_", "VIRTUAL_ENV")) and k != "PYTHONPATH"}
    return {**env, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **extra}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with the pinned dependencies and a (non-editable) fupin."""
    if not UV.exists():
        pytest.skip("uv is installed by `make setup`; run the tests through it")
    venv = tmp_path_factory.mktemp("pkg") / "venv"
    for cmd in (
        [str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)],
        [str(UV), "pip", "sync", "--quiet", "--python", str(venv / "bin" / "python"),
         str(REPO / "requirements.lock")],
        [str(UV), "pip", "install", "--quiet", "--no-deps", "--reinstall-package", "fupin",
         "--python", str(venv / "bin" / "python"), str(REPO)],
    ):  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=_clean_env())
        assert done.returncode == 0, done.stderr[-3000:]
    return venv


def test_an_installed_fupin_runs_from_any_folder(installed: Path, tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    shutil.copytree(REPO / "samples" / "pages", pages)
    work = tmp_path / "work"
    work.mkdir()
    fupin = installed / "bin" / "fupin"
    version = subprocess.run([str(fupin), "--version"], capture_output=True, text=True,
                             cwd=work, env=_clean_env(), timeout=120)  # fmt: skip
    assert version.returncode == 0 and version.stdout.startswith("fupin "), version.stderr

    run = subprocess.run([str(fupin), "run", str(pages), "--json"], capture_output=True,
                         text=True, cwd=work, env=_clean_env(), timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert (work / "warehouse" / "fupin.duckdb").is_file()
    assert (work / "warehouse" / "data_docs" / "fupin.duckdb" / "index.html").is_file()
    assert (work / ".fupin").is_dir()

    sql = subprocess.run([str(fupin), "sql", "SELECT count(*) AS n FROM v_facts", "--json"],
                         capture_output=True, text=True, cwd=work, env=_clean_env(),
                         timeout=120)  # fmt: skip
    assert sql.returncode == 0, sql.stderr
    assert '"n": 0' not in sql.stdout and '"n"' in sql.stdout

    site = next((installed / "lib").glob("python3*/site-packages"))
    assert not (site / "tasks").exists() and not (site / "flows").exists()
    assert (site / "fupin" / "tasks" / "extract").is_dir()
    for module in ("tasks/pipeline/kinds.py", "tasks/acquire/fetch.py", "report.py",
                   "evaluate.py"):
        assert (site / "fupin" / module).is_file(), module
    assert (site / "fupin" / "schemas" / "indicators.yaml").is_file()
    assert (site / "fupin" / "tasks" / "static" / "data_docs_offline.css").is_file()
    leftovers = [p for p in (site / "fupin").rglob("*")
                 if p.suffix in {".duckdb", ".wal"} or p.name in {".fupin", "report.html"}]
    assert leftovers == []
