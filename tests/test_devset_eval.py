"""bench/devset_eval.py on a development set of its own: read from files, and fetched
over HTTP at each page's original URL path (``--by-url``), where a date that only the
address holds dates the page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

# page id -> (URL, text); the first states no date, its address does
PAGES = {
    "u1": ("http://news.example.cn/html/xw/2019/0305/4417.html",
           "会宁县扶贫工作取得新进展\n\n全县现有建档立卡贫困户1200户，贫困发生率2.1%。"
           "县里组织干部进村入户，逐户核实收入和住房情况，帮助群众发展种养产业。\n"),
    "u2": ("https://www.example.com.cn/新闻/view.php?id=77&lang=zh",
           "靖远县召开脱贫攻坚推进会\n\n发布时间：2018-06-12 09:30\n\n"
           "截至目前，全县有贫困村45个。会上通报了各乡镇的工作进度，"
           "要求各级干部压实责任，抓好产业和就业帮扶。\n"),
}
GOLD = [
    {"seed": "u1", "indicator": "poor_households", "region": "会宁县", "year": 2019,
     "value": 1200, "unit": "household"},
    {"seed": "u1", "indicator": "poverty_incidence", "region": "会宁县", "year": 2019,
     "value": 2.1, "unit": "percent"},
    {"seed": "u2", "indicator": "poor_villages", "region": "靖远县", "year": 2018,
     "value": 45, "unit": "village"},
]


@pytest.fixture(scope="module")
def devset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("devset")
    (root / "cache").mkdir()
    rows = []
    for pid, (url, text) in PAGES.items():
        (root / "cache" / f"{pid}.txt").write_text(text, encoding="utf-8")
        rows.append({"id": pid, "url": url, "site": url.split("/")[2], "script": "simplified",
                     "level": "county", "published": None, "published_from": None})
    rows[0].update(published="2019-03-05", published_from="url")
    rows[1].update(published="2018-06-12", published_from="text")
    (root / "pages.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (root / "gold.jsonl").write_text(
        "".join(json.dumps(g, ensure_ascii=False) + "\n" for g in GOLD), encoding="utf-8")
    return root


def _eval(devset: Path, *flags: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "devset_eval.py"), "--json", "--devset",
         str(devset), *flags],
        capture_output=True, text=True, env=env, timeout=600, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_by_url_reads_the_date_in_the_address(devset: Path) -> None:
    out = _eval(devset, "--by-url")
    assert out["read_by"] == "url"
    assert out["publication_dates"]["in_url"] == {"stated": 1, "found": 1, "missed": []}
    assert out["publication_dates"]["in_text"]["found"] == 1
    overall = out["overall"]
    assert overall["counts"]["matched"] == 3  # every page came back under its own id
    assert overall["year_accuracy"] == 1.0


def test_files_know_only_the_dates_the_text_states(devset: Path) -> None:
    out = _eval(devset)
    assert out["read_by"] == "file"
    assert "in_url" not in out["publication_dates"]
    assert out["overall"]["counts"]["matched"] == 3
    errors = {(e["seed"], e["predicted_year"]) for e in out["overall"]["year_errors"]}
    assert errors == {("u1", None)}
