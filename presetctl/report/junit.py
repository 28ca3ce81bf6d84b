"""``junit``: JUnit XML, one testcase per checked file, for CI test-report views.

Valid against the common Ant/Jenkins JUnit schema (tests/schemas/JUnit.xsd): one
``testsuite`` with ``properties``, the testcases, ``system-out`` and ``system-err``. A file
fails when it has findings at or above the fail threshold (one ``failure`` listing them);
findings below the threshold go to the suite's ``system-out``; files that were skipped or are
in no known format are ``skipped``. Text from files goes through :func:`visible`: XML 1.0
cannot carry most control characters even as character references, and CI pages should not
render bidi overrides either.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from presetctl.engine.model import FileStatus, Finding, RunResult, Severity
from presetctl.report.base import ReportContext, Reporter
from presetctl.report.safe_text import visible

# Left over by visible(): code points XML 1.0 forbids (surrogates, U+FFFE, U+FFFF).
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
SKIPPED_STATUS = {FileStatus.SKIPPED: "not read (see its findings)", FileStatus.UNKNOWN: "no known preset format"}


def xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", visible(text))


def timestamp(started_at: str) -> str:
    """ISO 8601 without time zone, in UTC, as the schema requires."""
    try:
        when = datetime.fromisoformat(started_at)
    except ValueError:
        when = datetime.now(UTC)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def finding_line(f: Finding, with_path: bool = False) -> str:
    where = f"{f.line}:{f.column or 1} " if f.line is not None else ""
    text = f"{where}{f.code} {f.severity.label} {f.message}"
    loc = f.location.render()
    if loc:
        text += f" [{loc}]"
    if with_path:
        text = f"{f.path}: {text}"
    return xml_text(text)


def _testcase(suite: ET.Element, path: str, format_id: str, seconds: float) -> ET.Element:
    return ET.SubElement(suite, "testcase", {"name": xml_text(path), "classname": xml_text(format_id),
                                             "time": f"{seconds:.3f}"})


def junit_tree(result: RunResult, ctx: ReportContext) -> ET.Element:
    threshold = Severity.parse(ctx.fail_threshold)
    by_path = result.findings_by_path()
    suite = ET.Element("testsuite", {"name": f"presetctl {result.command}",
                                     "timestamp": timestamp(result.started_at), "hostname": "localhost"})
    props = ET.SubElement(suite, "properties")
    for name, value in (("presetctl.version", ctx.tool_version), ("fail-threshold", threshold.label),
                        ("baseline-suppressed", str(result.baseline_suppressed))):
        ET.SubElement(props, "property", {"name": name, "value": value})

    cases: list[tuple[str, str, float, FileStatus | None]] = [
        (o.path, o.format, o.seconds, o.status) for o in result.files]
    known = {o.path for o in result.files}
    cases += [(p, "presetctl", 0.0, None) for p in sorted(by_path) if p not in known]  # pack-level paths

    failures = skipped = 0
    below: list[Finding] = []
    for path, format_id, seconds, status in cases:
        case = _testcase(suite, path, format_id, seconds)
        findings = by_path.get(path, [])
        failing = [f for f in findings if f.severity >= threshold]
        below += [f for f in findings if f.severity < threshold]
        if failing:
            failures += 1
            failure = ET.SubElement(case, "failure", {
                "message": f"{len(failing)} finding{'s' if len(failing) != 1 else ''} at or above {threshold.label}",
                "type": failing[0].code})
            failure.text = "\n".join(finding_line(f) for f in failing)
        elif status in SKIPPED_STATUS:
            skipped += 1
            ET.SubElement(case, "skipped", {"message": SKIPPED_STATUS[status]})

    out = ET.SubElement(suite, "system-out")
    if below:
        out.text = "\n".join(finding_line(f, with_path=True) for f in below) + "\n"
    ET.SubElement(suite, "system-err")
    for key, count in (("tests", len(cases)), ("failures", failures), ("errors", 0), ("skipped", skipped)):
        suite.set(key, str(count))
    suite.set("time", f"{result.duration():.3f}")
    return suite


class JunitReporter(Reporter):
    name = "junit"
    description = "JUnit XML: one testcase per file (CI test-report views)"

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        tree = junit_tree(result, ctx)
        ET.indent(tree, space="  ")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(tree, encoding="unicode") + "\n"
