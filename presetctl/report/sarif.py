"""``sarif``: SARIF 2.1.0 for code-scanning services (GitHub code scanning, Azure DevOps, IDEs).

One run; ``tool.driver.rules`` holds every rule that has a result, with its documentation, so
the log explains itself without presetctl installed. Messages keep the text from the files (a
SARIF viewer shows them as data); the JSON itself never carries a raw control, bidi or other
invisible character: those are written as ``\\uXXXX`` escapes, which decode to the same text.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from presetctl.engine.events import RunStarted
from presetctl.engine.model import FileOutcome, Finding, Location, Related, RunResult, SecuritySeverity, Severity
from presetctl.engine.rules.base import Rule
from presetctl.engine.rules.registry import BY_CODE
from presetctl.report.base import ReportContext, Reporter, ReportWriter
from presetctl.report.json_report import JsonArrayWriter, indented
from presetctl.safe_text import encodable, json_dumps, json_safe

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/presetctl/"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "presetctlFinding/v1"

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
__all__ = ["SarifReporter", "dumps", "encodable", "json_safe"]  # the last two moved to safe_text


def dumps(value: Any) -> str:
    """Indented JSON of ``value`` (strings made encodable), safe to print or open in an editor."""
    return json_dumps(value) + "\n"


def artifact_uri(path: str) -> tuple[str, bool]:
    """(URI, relative?) for a reported path: percent-encoded, forward slashes.

    Undecodable bytes of a file name (surrogateescape) are encoded as the original bytes.
    """
    raw = path.replace("\\", "/").encode("utf-8", "surrogateescape")
    uri = quote(raw, safe="/-._~!$&'()*+;=@")
    if raw.startswith(b"/"):
        return "file://" + uri, False
    return uri, True


def fingerprint(f: Finding) -> str:
    """Line-independent identity of a finding: it survives edits that move lines."""
    key = "\0".join((f.path, f.code, f.location.render()))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def _help_text(rule: Rule) -> tuple[str, str]:
    present = rule.doc.sections(rule.fix)
    text = "\n\n".join(f"{title}\n{body}" for title, body in present)
    markdown = f"**{rule.code}** `{rule.name}`: {rule.summary}\n\n" + "\n\n".join(
        f"### {title}\n{body}" for title, body in present)
    return text, markdown


def _security(code: str, findings: list[Finding]) -> SecuritySeverity | None:
    rule = BY_CODE.get(code)
    ratings = [f.security for f in findings if f.security is not None]
    if rule is not None and rule.security is not None:
        ratings.append(rule.security)
    return max(ratings) if ratings else None


def rule_descriptor(code: str, findings: list[Finding]) -> dict[str, Any]:
    """The reportingDescriptor of ``code``; codes outside the registry get a minimal one."""
    rule = BY_CODE.get(code)
    security = _security(code, findings)
    tags: list[str] = []
    if rule is None:
        first = findings[0]
        out: dict[str, Any] = {
            "id": code,
            "name": first.rule_name or code,
            "shortDescription": {"text": first.rule_name or code},
            "defaultConfiguration": {"level": LEVEL[first.severity]},
        }
    else:
        text, markdown = _help_text(rule)
        out = {
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.doc.what},
            "help": {"text": text, "markdown": markdown},
            "defaultConfiguration": {"level": LEVEL[rule.severity]},
        }
        tags.append(rule.level.value)
    if security is not None and "security" not in tags:  # the security level's tag is already "security"
        tags.append("security")
    properties: dict[str, Any] = {"tags": tags}
    if security is not None:
        properties["security-severity"] = security.score
    out["properties"] = properties
    return out


def _location_properties(loc: Location, byte_region: bool) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if loc.pointer:
        props["pointer"] = loc.pointer
    if loc.voice is not None:
        props["voice"] = loc.voice
    if loc.entry:
        props["archiveEntry"] = loc.entry
    if loc.offset is not None and not byte_region:
        props["byteOffset"] = loc.offset  # an offset inside an archive member, not in the file
    return props


def result_location(f: Finding) -> dict[str, Any]:
    uri, relative = artifact_uri(f.path)
    artifact: dict[str, Any] = {"uri": uri}
    if relative:
        artifact["uriBaseId"] = SRCROOT
    physical: dict[str, Any] = {"artifactLocation": artifact}
    loc = f.location
    region: dict[str, Any] = {}
    if f.line is not None:
        region["startLine"] = f.line
        if f.column is not None:
            region["startColumn"] = f.column
    byte_region = loc.offset is not None and not loc.entry
    if byte_region:
        region["byteOffset"] = loc.offset
    if region:
        physical["region"] = region
    out: dict[str, Any] = {"physicalLocation": physical}
    if loc:
        out["logicalLocations"] = [{"fullyQualifiedName": loc.render(), "kind": "element"}]
        props = _location_properties(loc, byte_region)
        if props:
            out["properties"] = props
    return out


def related_location(r: Related, index: int) -> dict[str, Any]:
    """Another member of a duplicate group, as SARIF's ``relatedLocations`` entry."""
    out = result_location(Finding(r.path, "", Severity.INFO, "", r.location))
    text = r.location.render() + (f" {r.name!r}" if r.name else "")
    return {"id": index, **out, **({"message": {"text": text}} if text else {})}


def result_item(f: Finding, rule_index: int, fp: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [result_location(f)],
        "partialFingerprints": {FINGERPRINT_KEY: fp},
    }
    if f.related:
        item["relatedLocations"] = [related_location(r, i) for i, r in enumerate(f.related, 1)]
    props: dict[str, Any] = {"fixable": f.fixable}
    if f.hint:
        props["hint"] = f.hint
    if f.security is not None:
        props["securityRating"] = f.security.label
    item["properties"] = props
    return item


class _SarifWriter(ReportWriter):
    """Results are written as they come; the rules they used (in order of first use, which
    ``ruleIndex`` points into) follow in ``tool`` at the end: JSON members have no order."""

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.results = JsonArrayWriter(4)
        self.by_code: dict[str, list[Finding]] = {}  # one finding per code, plus those with a rating
        self.index: dict[str, int] = {}
        self.seen: dict[str, int] = {}

    def begin(self, run: RunStarted) -> str:
        return '{\n  "$schema": ' + json_dumps(SCHEMA_URI) + ',\n  "version": "2.1.0",\n  "runs": [\n    {\n' \
               '      "results": ['

    def _items(self, findings: tuple[Finding, ...]) -> str:
        out: list[str] = []
        for f in findings:
            if f.code not in self.index:
                self.index[f.code] = len(self.index)
                self.by_code[f.code] = [f]
            elif f.security is not None:
                self.by_code[f.code].append(f)
            base = fingerprint(f)
            self.seen[base] = self.seen.get(base, 0) + 1
            out.append(self.results.item(result_item(f, self.index[f.code], f"{base}:{self.seen[base]}")))
        return "".join(out)

    def file(self, outcome: FileOutcome) -> str:
        return self._items(outcome.findings)

    def pack(self, findings: tuple[Finding, ...]) -> str:
        return self._items(findings)

    def end(self, result: RunResult) -> str:
        tail = {
            "tool": {"driver": {
                "name": "presetctl",
                "version": self.ctx.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(code, self.by_code[code]) for code in self.index],
            }},
            "invocations": [{"executionSuccessful": True}],
            "columnKind": "unicodeCodePoints",
            "properties": {"command": result.command, "baselineSuppressed": result.baseline_suppressed},
        }
        rest = indented(tail, 2)[1:]  # the members, without the opening brace
        return self.results.close() + "," + rest + "\n  ]\n}\n"


class SarifReporter(Reporter):
    name = "sarif"
    description = "SARIF 2.1.0 (GitHub code scanning and other SARIF viewers)"

    def writer(self, ctx: ReportContext) -> ReportWriter:
        return _SarifWriter(ctx)
