"""Great Expectations suites for documents and facts, and the split they drive.

The suites are data: static expectations come from ``schemas/expectations/*.json``,
per-indicator bounds, units and integer checks are generated from the taxonomy,
and cross-fact checks from ``cross_checks.yaml``. Checks GE cannot express on one
row (households ≤ persons within a document) are computed as boolean columns
first, and GE validates those columns, so every verdict comes out of GE with
the check's name. One GE context is built per process and reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from fupin.tasks.data_docs import make_site_offline
from fupin.tasks.extract.taxonomy import Indicator, load_taxonomy

if TYPE_CHECKING:  # pandas (≈ 40 MB, 0.2 CPU-s) is imported where a frame is built: the
    import pandas as pd  # flow's process imports this module and validates in another

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
EXPECTATIONS = SCHEMAS / "expectations"
ROW_ID = "row_id"
_LOCK = threading.Lock()


@dataclass
class Verdict:
    """Which rows failed which expectations, plus one summary row per expectation."""

    failures: dict[int, list[str]] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)

    def failed(self, row_id: int) -> list[str]:
        return self.failures.get(row_id, [])


def _spec(name: str, type_: str, **kwargs: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "kwargs": kwargs}


def taxonomy_expectations(indicators: Iterable[Indicator]) -> list[dict[str, Any]]:
    """Known indicator, unit, bounds and whole numbers, all driven by the taxonomy.

    Bounds and units travel as per-row columns (``min_value``, ``max_value``,
    ``indicator_unit``, joined from the taxonomy by ``fact_frame``) so that a
    handful of expectations cover every indicator: one expectation per indicator
    would cost GE a metric pass each.
    """
    indicators = list(indicators)
    return [
        _spec("indicator_known", "expect_column_values_to_be_in_set", column="indicator",
              value_set=[i.code for i in indicators]),
        # The taxonomy's unit joined per row: GE's pair-in-set check loops over rows in
        # Python (a third of all validation time), its pair-equal check is vectorised.
        _spec("unit_matches_indicator", "expect_column_pair_values_to_be_equal",
              column_A="unit", column_B="indicator_unit"),
        _spec("value_not_below_indicator_min", "expect_column_pair_values_a_to_be_greater_than_b",
              column_A="value", column_B="min_value", or_equal=True,
              ignore_row_if="either_value_is_missing"),
        _spec("value_not_above_indicator_max", "expect_column_pair_values_a_to_be_greater_than_b",
              column_A="max_value", column_B="value", or_equal=True,
              ignore_row_if="either_value_is_missing"),
        _spec("whole_number_for_counts", "expect_column_values_to_be_between",
              column="fraction_if_whole", max_value=1e-6),
    ]


@cache
def cross_checks() -> dict[str, Any]:
    return yaml.safe_load((EXPECTATIONS / "cross_checks.yaml").read_text(encoding="utf-8"))


def cross_check_expectations() -> list[dict[str, Any]]:
    config = cross_checks()
    names = [pair["name"] for pair in config["pairs"]] + [config["subset_check"]]
    return [
        _spec(name, "expect_column_values_to_be_in_set", column=f"chk_{name}", value_set=[True])
        for name in names
    ]


def add_cross_check_columns(facts: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per cross-fact check; True where the fact is consistent."""
    config = cross_checks()
    out = facts.copy()
    keyed = out[out["year"].notna() & out["region_code"].notna()]
    key = ["doc_key", "region_code", "year"]
    for pair in config["pairs"]:
        larger = (keyed[keyed["indicator"] == pair["larger"]]
                  .groupby(key)["value"].max().rename("limit"))
        smaller = keyed[keyed["indicator"] == pair["smaller"]]
        # joined, not looked up row by row (iterrows was a fifth of the frame's cost)
        over = smaller["value"] > smaller.join(larger, on=key)["limit"] * 1.0005
        out[f"chk_{pair['name']}"] = ~over.reindex(out.index, fill_value=False)
    parents = out["subset_of"].map(out.set_index("fact_id")["value"])
    out[f"chk_{config['subset_check']}"] = ~(parents.notna() & (out["value"] > parents * 1.0005))
    out["parent_value"] = parents  # what the subset check compared with, kept in ``observed``
    return out


def fact_frame(rows: list[dict[str, Any]], published: dict[str, date | None]) -> pd.DataFrame:
    """The candidate facts with the helper columns the suite reads."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame[ROW_ID] = range(len(frame))
    pub_year = frame["doc_key"].map(lambda k: published.get(k).year if published.get(k) else None)
    today = date.today().year
    frame["latest_year"] = pub_year.fillna(today).astype(int) + 1
    taxonomy = {i.code: i for i in load_taxonomy()}
    frame["min_value"] = frame["indicator"].map(
        lambda c: taxonomy[c].min_value if c in taxonomy else None).astype("Float64")
    frame["indicator_unit"] = frame["indicator"].map(
        lambda c: taxonomy[c].unit if c in taxonomy else None)
    frame["max_value"] = frame["indicator"].map(
        lambda c: taxonomy[c].max_value if c in taxonomy else None).astype("Float64")
    whole = frame["indicator"].map(lambda c: c in taxonomy and taxonomy[c].integer)
    fraction = frame["value"].map(
        lambda v: abs(v - round(v)) if v is not None and math.isfinite(v) else 0.0)
    frame["fraction_if_whole"] = fraction.where(whole, 0.0)
    frame["year"] = frame["year"].astype("Int64")
    frame["period_start"] = frame["period_start"].astype("Int64")
    return add_cross_check_columns(frame)


def document_frame(rows: list[dict[str, Any]], today: date | None = None) -> pd.DataFrame:
    """Documents as the suite reads them; each row carries its body's ``cjk_share``."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    today = today or date.today()
    frame[ROW_ID] = range(len(frame))
    frame["published_days_ahead"] = frame["published_date"].map(
        lambda d: (d - today).days if d is not None and not pd.isna(d) else None
    ).astype("Int64")
    return frame


_OBSERVED_COLUMNS = ("indicator", "value", "unit", "indicator_unit", "min_value",
                     "max_value", "parent_value", "year", "region", "region_code",
                     "region_note", "latest_year", "body_chars", "cjk_share",
                     "published_days_ahead")


def observed(row: Any, failed: list[str]) -> str:
    """What the failing expectations saw, as a compact JSON object for the analyst."""
    import pandas as pd

    seen = {
        col: (None if pd.isna(row[col]) else row[col])
        for col in _OBSERVED_COLUMNS
        if col in row.index
    }
    return json.dumps({"failed": failed, **seen}, ensure_ascii=False, default=str)


def _load_suite_file(name: str) -> list[dict[str, Any]]:
    data = json.loads((EXPECTATIONS / f"{name}.json").read_text(encoding="utf-8"))
    return list(data["expectations"])


def suite_specs(name: str) -> list[dict[str, Any]]:
    specs = _load_suite_file(name)
    if name == "facts":
        specs += taxonomy_expectations(load_taxonomy()) + cross_check_expectations()
    return specs


class Validator:
    """Holds one ephemeral GE context and the two suites for a whole run."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        for name in list(logging.root.manager.loggerDict):
            if name.startswith("great_expectations"):
                logging.getLogger(name).setLevel(logging.ERROR)
        self._gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        source = self.context.data_sources.add_pandas("fupin")
        self._definitions = {}
        for name in ("documents", "facts"):
            asset = source.add_dataframe_asset(name)
            batch = asset.add_batch_definition_whole_dataframe(f"{name}_batch")
            suite = self.context.suites.add(self._build_suite(name))
            self._definitions[name] = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{name}_validation", data=batch, suite=suite)
            )

    def build_docs(self, folder: Path) -> Path:
        """Render Data Docs into ``folder``, adding this process's results to its history.

        Results are copied into a file store inside ``folder`` (``results/``), and the
        index lists everything that store holds, so each run adds to the history
        instead of replacing it. Only this run's pages and the suites are rendered;
        the pages of earlier runs stay as they were written.
        """
        folder = folder.resolve()
        # one store and site per folder; the site's name heads its index page
        name = f"{folder.name} · {hashlib.sha1(str(folder).encode()).hexdigest()[:8]}"
        with _LOCK:
            context = self.context
            if name not in context.stores:
                context.add_store(name, {
                    "class_name": "ValidationResultsStore",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                      "base_directory": str(folder / "results")},
                })
                context.add_data_docs_site(
                    site_name=name,
                    site_config={
                        "class_name": "SiteBuilder",
                        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                          "base_directory": str(folder)},
                        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                        "site_section_builders": {
                            "validations": {"source_store_name": name},
                            "profiling": "None",
                        },
                    },
                )
            history = context.stores[name]
            fresh = context.validation_results_store.list_keys()
            for key in fresh:
                history.set(key, context.validation_results_store.get(key))
            context.build_data_docs(
                site_names=[name],
                resource_identifiers=[*context.expectations_store.list_keys(), *fresh],
            )
        make_site_offline(folder)
        return folder / "index.html"

    def _build_suite(self, name: str) -> Any:
        gx = self._gx
        suite = gx.ExpectationSuite(name=name)
        for spec in suite_specs(name):
            cls = _expectation_class(spec["type"])
            suite.add_expectation(cls(**spec["kwargs"], meta={"name": spec["name"]}))
        return suite

    def validate(self, suite: str, frame: pd.DataFrame, run_name: str | None = None) -> Verdict:
        """GE's verdicts on ``frame``; ``run_name`` (the fupin run id) labels the result
        in the Data Docs history."""
        if frame.empty:
            return Verdict()
        from great_expectations.core.run_identifier import RunIdentifier

        with _LOCK:  # GE contexts are not thread-safe; batches validate one at a time
            result = self._definitions[suite].run(
                batch_parameters={"dataframe": frame},
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": [ROW_ID],
                },
                run_id=(RunIdentifier(run_name=ge_run_name(run_name),
                                      run_time=datetime.now(UTC))
                        if run_name else None),
            )
        verdict = Verdict()
        for res in result.results:
            name = res.expectation_config.meta.get("name") or res.expectation_config.type
            info = res.result or {}
            if res.exception_info and res.exception_info.get("raised_exception"):
                raise RuntimeError(
                    f"expectation {name} could not run: {res.exception_info['exception_message']}"
                )
            for item in info.get("unexpected_index_list") or []:
                verdict.failures.setdefault(int(item[ROW_ID]), []).append(name)
            verdict.results.append(
                {
                    "suite": suite,
                    "expectation": name,
                    "success": bool(res.success),
                    "element_count": int(info.get("element_count") or len(frame)),
                    "unexpected_count": int(info.get("unexpected_count") or 0),
                }
            )
        return verdict


def ge_run_name(run_id: str) -> str:
    """The name GE files a run's results under: "run-<run id>".

    GE parses a run name as a date wherever it can (with no run time given, and again
    when it titles a Data Docs page), and a run id's random tail can read as a time
    zone past ±24 h: "…Z-9043ad" is an offset of -90:43, and GE then raises (about one
    run id in 1,800). A leading word no date parser knows keeps the name a name.
    """
    return f"run-{run_id}"


def build_data_docs(folder: str) -> str:
    """Data Docs of this process's validator (its suites and the results it produced)."""
    return str(get_validator().build_docs(Path(folder)))


def _expectation_class(type_: str) -> Any:
    import great_expectations as gx

    camel = "".join(part.capitalize() for part in type_.split("_"))
    return getattr(gx.expectations, camel)


# Libraries Great Expectations imports whenever they are installed, for SQL and AWS data
# sources; fupin gives it only pandas frames. They are installed for other parts
# (Prefect's server database, the S3 test server), and importing them took 1.1 of the
# 3.5 CPU-seconds of GE's import in each validation process. botocore stays: s3fs
# reads the run's batches through it when FUPIN_STORAGE is an S3 URL.
UNUSED_GE_BACKENDS = ("sqlalchemy", "boto3")


def skip_unused_backends() -> None:
    """Let GE find its SQL and AWS back-ends missing, as it does where they are not
    installed; only for a process that does nothing but validate, since another
    part of the process may need them (a module already imported is kept)."""
    for name in UNUSED_GE_BACKENDS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "not found"


_VALIDATOR: Validator | None = None


def get_validator() -> Validator:
    """The process-wide validator: GE context creation is paid once per process."""
    global _VALIDATOR
    with _LOCK:
        if _VALIDATOR is None:
            _VALIDATOR = Validator()
        return _VALIDATOR
