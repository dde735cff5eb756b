"""Image measurements against the budget kept in the repo (budget.toml).

The integration suite records, per distro, into reports/measurements.toml (see `record`):

    [bookworm]
    image = "helios:bookworm"
    size_bytes = 1612345678          # docker image inspect .Size
    start_seconds = 21.4             # container start -> /health answers 200
    idle_memory_bytes = 612345678    # container memory once the desktop is up and idle

`python -m helios.measure` prints every matrix distro against its budget and exits 1 when a
measured value exceeds its budget or a measurement is missing (missing is reported, never passed;
`--allow-missing` only reports it). Bad budget or report files exit 2 with one line.
"""

import argparse
import math
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import tomli_w
from pydantic import Field, field_validator

from helios import ROOT, HeliosError, matrix, tomlfile

BUDGET_FILE = ROOT / "budget.toml"
REPORT_FILE = ROOT / "reports" / "measurements.toml"


@dataclass(frozen=True)
class Metric:
    """One measured quantity: its key in the report and in the budget, and the display unit."""

    label: str
    report_key: str
    budget_key: str
    scale: float  # report value / scale = value in budget units
    unit: str


METRICS = (
    Metric("size", "size_bytes", "size_gb", 1e9, "GB"),
    Metric("start", "start_seconds", "start_seconds", 1.0, "s"),
    Metric("idle memory", "idle_memory_bytes", "idle_memory_mib", 2.0**20, "MiB"),
)
BUDGET_KEYS = {m.budget_key for m in METRICS}
# Besides the metrics: the image, when, and the start-time runs behind the median with the
# machine's CPU/IO pressure before each (tests/integration/test_measurements.py).
START_DETAIL = {"start_runs", "start_pressure"}
REPORT_KEYS = {m.report_key for m in METRICS} | {"image", "measured_at"} | START_DETAIL
# The streaming benchmark's table ([bench.<distro>.<variant>], tests/integration/test_bench.py).
BENCH = "bench"


@dataclass(frozen=True)
class Row:
    distro: str
    metric: Metric
    value: float | None  # in budget units; None when not measured
    limit: float

    @property
    def status(self) -> str:
        if self.value is None:
            return "MISSING"
        return "ok" if self.value <= self.limit else "OVER"


Positive = Annotated[float, Field(strict=False)]


class Limits(tomlfile.Strict):
    """Budget values in budget units; a table may set any of them."""

    size_gb: Positive | None = None
    start_seconds: Positive | None = None
    idle_memory_mib: Positive | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a positive number")
        if not math.isfinite(value) or value <= 0:
            raise ValueError("must be a positive number")
        return value

    def set_values(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class BudgetFile(tomlfile.Strict):
    defaults: Limits = Limits()
    distro: dict[str, Limits] = Field(default_factory=dict)


def load_budget(path: Path, distros: list[str]) -> dict[str, dict[str, float]]:
    """Per distro, every budget key: [defaults] overridden by [distro.<name>]."""
    data = tomlfile.validated(path, BudgetFile)
    extra = set(data.distro) - set(distros)
    if extra:
        raise HeliosError(f"{path}: budget for unknown distro(s) {', '.join(sorted(extra))}")
    budget = {}
    for name in distros:
        limits = data.defaults.set_values() | data.distro.get(name, Limits()).set_values()
        missing = BUDGET_KEYS - set(limits)
        if missing:
            raise HeliosError(
                f"{path}: distro {name} has no budget for {', '.join(sorted(missing))} "
                "(set it in [defaults] or [distro.<name>])"
            )
        budget[name] = limits
    return budget


def _positive(where: str, key: str, value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise HeliosError(f"{where}: '{key}' must be a positive number, got {value!r}")
    return float(value)


def load_report(path: Path) -> dict[str, dict[str, Any]]:
    """The measurements file, or an empty report when it does not exist yet."""
    if not path.exists():
        return {}
    data = tomlfile.load(path)
    for name, entry in data.items():
        if name == BENCH:
            _check_bench(path, entry)
            continue
        if not isinstance(entry, dict):
            raise HeliosError(f"{path}: [{name}] must be a table of measurements")
        unknown = set(entry) - REPORT_KEYS
        if unknown:
            raise HeliosError(f"{path}: [{name}] unknown key(s) {', '.join(sorted(unknown))}")
        for metric in METRICS:
            if metric.report_key in entry:
                _positive(f"{path}: [{name}]", metric.report_key, entry[metric.report_key])
    return data


def _stamped(entry: dict[str, Any]) -> dict[str, Any]:
    """`entry` with its measured_at time, keys sorted (as the report stores a table)."""
    entry["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dict(sorted(entry.items()))


def _save(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(dict(sorted(report.items()))))


def _check_bench(path: Path, bench: Any) -> None:
    """[bench.<distro>.<variant>] tables of numbers and lists (the streaming benchmark's)."""
    where = f"{path}: [{BENCH}]"
    if not isinstance(bench, dict):
        raise HeliosError(f"{where} must be a table of distros")
    for distro, variants in bench.items():
        tables = isinstance(variants, dict) and all(isinstance(v, dict) for v in variants.values())
        if not tables:
            raise HeliosError(f"{where}: [{BENCH}.{distro}] must hold one table per variant")


def record_bench(
    distro: str, variant: str, values: dict[str, Any], path: Path = REPORT_FILE
) -> None:
    """Store one streaming-benchmark result as [bench.<distro>.<variant>] (others are kept)."""
    report = load_report(path)
    report.setdefault(BENCH, {}).setdefault(distro, {})[variant] = _stamped(dict(values))
    _save(report, path)


def record(distro: str, values: dict[str, Any], path: Path = REPORT_FILE) -> None:
    """Merge one distro's measurements into the report (other distros are kept)."""
    unknown = set(values) - REPORT_KEYS
    if unknown:
        raise HeliosError(f"unknown measurement(s) {', '.join(sorted(unknown))}")
    report = load_report(path)
    entry = report.get(distro, {})
    if "start_seconds" in values:
        # A new start time replaces the runs behind an older one (none of them are its runs).
        entry = {k: v for k, v in entry.items() if k not in START_DETAIL}
    report[distro] = _stamped(entry | values)
    _save(report, path)


def compare(budget: dict[str, dict[str, float]], report: dict[str, dict[str, Any]]) -> list[Row]:
    rows = []
    for distro, limits in budget.items():
        measured = report.get(distro, {})
        for metric in METRICS:
            raw = measured.get(metric.report_key)
            value = None if raw is None else raw / metric.scale
            rows.append(Row(distro, metric, value, limits[metric.budget_key]))
    return rows


def table(rows: list[Row]) -> str:
    lines = [f"{'distro':<10} {'metric':<12} {'measured':>12} {'budget':>12}  status"]
    for row in rows:
        value = "-" if row.value is None else f"{row.value:.2f} {row.metric.unit}"
        limit = f"{row.limit:.2f} {row.metric.unit}"
        lines.append(
            f"{row.distro:<10} {row.metric.label:<12} {value:>12} {limit:>12}  {row.status}"
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helios.measure", description="Compare image measurements to budget.toml."
    )
    parser.add_argument("--budget", type=Path, default=BUDGET_FILE)
    parser.add_argument("--report", type=Path, default=REPORT_FILE)
    parser.add_argument(
        "--allow-missing", action="store_true", help="report missing measurements, don't fail"
    )
    parser.add_argument("distros", nargs="*", help="distros to check (default: all)")
    return parser


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        distros = matrix.load()
        wanted = matrix.names(matrix.select(distros, args.distros))
        budget = load_budget(args.budget, matrix.names(distros))
        rows = compare({name: budget[name] for name in wanted}, load_report(args.report))
    except HeliosError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table(rows))
    over = [r for r in rows if r.status == "OVER"]
    missing = [r for r in rows if r.status == "MISSING"]
    if over:
        print(f"FAIL: {len(over)} value(s) over budget", file=sys.stderr)
    if missing:
        verdict = "reported only (--allow-missing)" if args.allow_missing else "FAIL"
        print(
            f"{verdict}: {len(missing)} measurement(s) missing from {args.report}; "
            "run `nox -s integration` with built images",
            file=sys.stderr,
        )
    return 1 if over or (missing and not args.allow_missing) else 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
