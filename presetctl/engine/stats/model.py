"""Frozen values of the stats command: facts gathered per file, and the sections computed from them.

Workers send back :class:`FileFacts` (small, picklable); each section module turns the whole
list into a :class:`Section`: JSON-ready ``data`` plus generic :class:`Table` and
:class:`Chart` values that any renderer (rich, CSV, HTML) can draw without knowing the section.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from presetctl.engine.model import FileStatus
from presetctl.engine.options import Options

if TYPE_CHECKING:  # numpy loads when stats runs, not with every command
    import numpy as np
    import numpy.typing as npt


# Every section the command knows, in output order.
SECTIONS = ("overview", "taxonomy", "duplicates", "naming", "sound", "audio", "history")

# Metadata fields whose completeness the naming section counts.
METADATA_FIELDS = ("name", "author", "category", "tags", "description", "license", "synth_version", "created")


@dataclass(frozen=True, slots=True)
class ParamSchema:
    """The numeric parameters of a preset, in the order its values come: names and known bounds.

    Bounds and defaults are NaN where the loader does not know them. Presets of one synth share
    one schema object, so a worker's answer carries it once (pickle keeps shared references).
    """

    names: tuple[str, ...]
    minimum: tuple[float, ...]
    maximum: tuple[float, ...]
    default: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class PresetFacts:
    """What the sections need to know about one preset (one voice of a bank)."""

    ref: str  # how outputs name it: the path, or "path#N" for preset N (1-based) of a bank
    path: str
    format: str
    index: int | None = None
    name: str | None = None
    author: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    filled: frozenset[str] = frozenset()  # METADATA_FIELDS that hold a non-blank value
    synth: str | None = None
    synth_version: str | None = None
    voices: int | None = None
    unison: int | None = None
    oscillators: int | None = None
    modulations: tuple[tuple[str, str], ...] = ()  # (source, target)
    effects: tuple[tuple[str, bool], ...] = ()  # (type, enabled)
    embedded_bytes: int = 0
    sound_hash: str = ""
    schema: ParamSchema | None = None
    values: npt.NDArray[np.float64] | None = field(default=None, compare=False)  # NaN: not numeric


@dataclass(frozen=True, slots=True)
class FileFacts:
    path: str
    format: str
    status: FileStatus
    size: int
    presets: tuple[PresetFacts, ...] = ()
    rule_counts: tuple[tuple[str, int], ...] = ()  # naming/metadata rule code -> findings in this file
    problem: str = ""  # why a file was skipped or could not be parsed (code: message)


@dataclass(frozen=True, slots=True)
class Wanted:
    """Which facts the chosen sections need (parameters and rule runs cost time)."""

    parameters: bool = True
    rules: bool = True
    sound_hash: bool = True


@dataclass(frozen=True, slots=True)
class RecordedRun:
    """One run from the run history, as the history section sees it (the CLI reads it; the
    engine never opens the history itself)."""

    id: str
    command: str
    started_at: float  # Unix time
    outcome: str  # clean, findings, error, interrupted; "no end" when the run is still going or its process died
    exit_code: int | None
    files: int
    findings: int
    counts: Mapping[str, int]  # findings by severity
    by_rule: Mapping[str, int] | None = None  # findings per rule code; None when not read (outside the window)


@dataclass(frozen=True, slots=True)
class RecoveryStat:
    """Tool errors of one code across the recorded runs, and how well their recovery worked."""

    code: str
    name: str
    occurrences: int
    runs: int
    retries: int
    recovered: int
    failed: int

    @property
    def success_rate(self) -> float | None:
        """Share of the occurrences a recovery was tried for that it saved; None when none was tried."""
        tried = self.recovered + self.failed
        return self.recovered / tried if tried else None


@dataclass(frozen=True)
class HistoryFacts:
    """What the run history knows about the runs over some targets (``problem``: why it could not be read)."""

    targets: tuple[str, ...]
    runs: tuple[RecordedRun, ...] = ()  # oldest first
    recovery: tuple[RecoveryStat, ...] = ()  # tool errors of those runs, most frequent first
    problem: str = ""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A picture cell: a voice's level over its test note (dBFS, evenly spaced over ``seconds``).

    Renderers draw it as a Unicode sparkline (terminal), inline SVG (HTML) or its numbers (CSV).
    """

    points: tuple[float, ...]
    seconds: float
    key_up: float | None = None  # when the key was released (seconds), marked in the picture

    @classmethod
    def of(cls, levels: Sequence[float], seconds: float, key_up: float | None = None) -> Envelope:
        """From an analysis' levels, to 0.01 dB (what the analysis keeps): a voice read back from the
        render cache (float32) and one rendered now then give the same picture and the same JSON."""
        return cls(tuple(round(float(p), 2) for p in levels), seconds, key_up)


Cell = str | int | float | tuple[str, ...] | Envelope  # a tuple: a list of paths, one per line; an Envelope: a picture


@dataclass(frozen=True, slots=True)
class StatsContext:
    """What section computations may know besides the facts."""

    options: Options
    threshold: float = 0.02
    top: int = 20  # rows kept in ranked tables (JSON keeps everything)
    history: HistoryFacts | None = None  # the history section's input; None when the caller did not read it


@dataclass(frozen=True, slots=True)
class Table:
    """A table any renderer can draw; ``key`` names it in CSV output."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    more: int = 0  # rows left out (the JSON output has them)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    flagged: bool = False  # drawn in the warning colour (over a limit, an outlier)


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart or histogram (bars in order)."""

    key: str
    title: str
    bars: tuple[Bar, ...]
    unit: str = ""
    histogram: bool = False


@dataclass(frozen=True)
class Section:
    name: str
    data: Mapping[str, Any]  # JSON-ready: the --json value of this section
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatsResult:
    roots: tuple[str, ...]
    sections: tuple[Section, ...]
    files: int
    presets: int
    seconds: float
    jobs: int

    def to_json(self) -> dict[str, Any]:
        return {s.name: dict(s.data) for s in self.sections}

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)
