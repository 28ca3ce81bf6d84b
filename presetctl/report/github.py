"""``github``: GitHub Actions workflow commands, one annotation per finding.

``::error file=PATH,line=L,col=C,title=CODE::MESSAGE``. The runner parses every stdout line
that starts with ``::``, so text from files must not be able to end the line (newlines are
escaped as the runner documents) nor hide in the log (control and bidi characters are shown
as visible escapes first).
"""

from __future__ import annotations

from presetctl.engine.model import FileOutcome, Finding, Severity
from presetctl.report.base import ReportContext, Reporter, ReportWriter
from presetctl.report.sarif import encodable
from presetctl.safe_text import visible as _visible

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def visible(text: str) -> str:
    """Control, bidi and invisible characters, and undecodable file-name bytes, as escapes."""
    return encodable(_visible(text))


def escape_data(text: str) -> str:
    """The message part (after ``::``), as the Actions toolkit escapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A ``key=value`` property: also ``:`` and ``,``, which end a value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding, ctx: ReportContext | None = None) -> str:
    props = [f"file={escape_property(visible(f.path))}"]
    if f.line is not None:
        props.append(f"line={f.line}")
        if f.column is not None:
            props.append(f"col={f.column}")
    title = f"{f.code} ({f.security.label})" if ctx is not None and ctx.security and f.security else f.code
    props.append(f"title={escape_property(title)}")
    message = visible(f.message)
    loc = f.location.render()
    if loc and f.line is None:  # with a line the annotation already points there (as ``concise``)
        message += f" [{visible(loc)}]"
    if f.hint:
        message += f"\nhint: {visible(f.hint)}"  # a second line in the annotation
    level = ctx.level(f) if ctx is not None else f.severity
    return f"::{COMMAND[level]} {','.join(props)}::{escape_data(message)}"


# pragma: no mutate start (joining annotations; the escaping is above; docs/testing.md)
class _GithubWriter(ReportWriter):
    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx

    def file(self, outcome: FileOutcome) -> str:
        return "".join(annotation(f, self.ctx) + "\n" for f in outcome.findings)

    def pack(self, findings: tuple[Finding, ...]) -> str:
        return "".join(annotation(f, self.ctx) + "\n" for f in findings)


class GithubReporter(Reporter):
    name = "github"
    description = "GitHub Actions workflow commands (annotations on the changed files)"

    def writer(self, ctx: ReportContext) -> ReportWriter:
        return _GithubWriter(ctx)
# pragma: no mutate end
