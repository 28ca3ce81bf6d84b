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
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from presetctl.engine.model import FileOutcome, FileStatus, Finding, RunResult
from presetctl.report.base import ReportContext, Reporter, ReportWriter
from presetctl.safe_text import visible

# Left over by visible(): code points XML 1.0 forbids (surrogates, U+FFFE, U+FFFF).
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
SPOOL_BYTES = 1 << 20
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


def finding_line(f: Finding, with_path: bool = False, ctx: ReportContext | None = None) -> str:
    where = f"{f.line}:{f.column or 1} " if f.line is not None else ""
    text = f"{where}{f.code} {ctx.label(f) if ctx is not None else f.severity.label} {f.message}"
    loc = f.location.render()
    if loc:
        text += f" [{loc}]"
    if with_path:
        text = f"{f.path}: {text}"
    return xml_text(text)


def _case_xml(path: str, format_id: str, seconds: float, findings: tuple[Finding, ...] | list[Finding],
              status: FileStatus | None, ctx: ReportContext) -> tuple[str, bool, bool]:
    """One ``testcase`` element as indented text, and whether it failed / was skipped."""
    case = ET.Element("testcase", {"name": xml_text(path), "classname": xml_text(format_id), "time": f"{seconds:.3f}"})
    failing = [f for f in findings if ctx.fails(f)]
    skipped = False
    if failing:
        failure = ET.SubElement(case, "failure", {
            "message": f"{len(failing)} finding{'s' if len(failing) != 1 else ''} at or above {ctx.fail_threshold}",
            "type": failing[0].code})
        failure.text = "\n".join(finding_line(f, ctx=ctx) for f in failing)
    elif status in SKIPPED_STATUS:
        skipped = True
        ET.SubElement(case, "skipped", {"message": SKIPPED_STATUS[status]})
    ET.indent(case, space="  ", level=1)
    return "  " + ET.tostring(case, encoding="unicode") + "\n", bool(failing), skipped


class _JunitWriter(ReportWriter):
    """The suite's counts belong in its start tag but are known only at the end: testcases and
    the below-threshold lines are spooled to a temporary file (memory, then disk), never a tree."""

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.cases = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+", encoding="utf-8")
        self.below = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+", encoding="utf-8")
        self.tests = self.failures = self.skipped = 0
        self.known: set[str] = set()

    def _case(self, path: str, format_id: str, seconds: float, findings: tuple[Finding, ...] | list[Finding],
              status: FileStatus | None) -> None:
        text, failed, skipped = _case_xml(path, format_id, seconds, findings, status, self.ctx)
        self.cases.write(text)
        self.tests += 1
        self.failures += failed
        self.skipped += skipped
        for f in findings:
            if not self.ctx.fails(f):
                self.below.write(finding_line(f, with_path=True, ctx=self.ctx) + "\n")

    def file(self, outcome: FileOutcome) -> str:
        self.known.add(outcome.path)
        self._case(outcome.path, outcome.format, outcome.seconds, outcome.findings, outcome.status)
        return ""

    def pack(self, findings: tuple[Finding, ...]) -> str:
        by_path: dict[str, list[Finding]] = {}
        for f in findings:
            by_path.setdefault(f.path, []).append(f)
        for path in sorted(by_path):
            if path not in self.known:  # a pack-level path: a testcase of its own
                self._case(path, "presetctl", 0.0, by_path[path], None)
            else:  # pragma: no cover - cross-file findings on a checked file: its lines go with the others
                for f in by_path[path]:
                    self.below.write(finding_line(f, with_path=True, ctx=self.ctx) + "\n")
        return ""

    def end(self, result: RunResult) -> str:
        attrs = {"name": f"presetctl {result.command}", "timestamp": timestamp(result.started_at),
                 "hostname": "localhost", "tests": str(self.tests), "failures": str(self.failures), "errors": "0",
                 "skipped": str(self.skipped), "time": f"{result.duration():.3f}"}
        head = ET.tostring(ET.Element("testsuite", attrs), encoding="unicode")[:-3] + ">\n"  # from "<testsuite ... />"
        props = ET.Element("properties")
        for name, value in (("presetctl.version", self.ctx.tool_version), ("fail-threshold", self.ctx.fail_threshold),
                            ("baseline-suppressed", str(result.baseline_suppressed))):
            ET.SubElement(props, "property", {"name": name, "value": value})
        ET.indent(props, space="  ", level=1)
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n', head, "  ", ET.tostring(props, encoding="unicode"), "\n"]
        self.cases.seek(0)
        out.append(self.cases.read())
        self.below.seek(0)
        below = self.below.read()
        if below:
            system_out = ET.Element("system-out")
            system_out.text = below
            out.append("  " + ET.tostring(system_out, encoding="unicode") + "\n")
        else:
            out.append("  <system-out />\n")
        out.append("  <system-err />\n</testsuite>\n")
        self.cases.close()
        self.below.close()
        return "".join(out)


class JunitReporter(Reporter):
    name = "junit"
    description = "JUnit XML: one testcase per file (CI test-report views)"

    def writer(self, ctx: ReportContext) -> ReportWriter:
        return _JunitWriter(ctx)
