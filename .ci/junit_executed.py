#!/usr/bin/env python3
"""Exit non-zero unless a pytest junit XML report shows at least one executed test.

Usage: junit_executed.py REPORT.xml   (prints one summary line)
Executed = tests - skipped. A missing or unreadable report is a failure too, so a tier that
never ran (or ran zero tests, pytest exit 5) cannot pass CI silently.
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

COUNTERS = ("tests", "failures", "errors", "skipped")


def counts(report: Path) -> dict[str, int]:
    """Sum the testsuite counters of a junit XML file."""
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    return {key: sum(int(s.get(key, "0")) for s in suites) for key in COUNTERS}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: junit_executed.py REPORT.xml", file=sys.stderr)
        return 2
    report = Path(argv[0])
    try:
        total = counts(report)
    except (OSError, ET.ParseError) as exc:
        print(f"error: junit report {report} unreadable ({exc}): the tier did not run")
        return 1
    executed = total["tests"] - total["skipped"]
    print(
        f"{report}: {total['tests']} tests, {executed} executed, {total['skipped']} skipped, "
        f"{total['failures']} failed, {total['errors']} errors"
    )
    if executed <= 0:
        print(f"error: {report}: the tier executed zero tests (all skipped or none collected)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
