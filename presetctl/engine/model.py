"""Frozen result types shared by every layer: findings, presets, per-file outcomes, run results.

Everything a run produces is a value defined here, so a reporter, a history store or a
benchmark can consume a run without knowing how rules or loaders work.
"""

from __future__ import annotations

import enum
import hashlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar, overload

from presetctl.engine.incidents import Incident

T = TypeVar("T")


class Severity(enum.IntEnum):
    """Severity of a finding; ordered so thresholds compare with ``>=``."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


class SecuritySeverity(enum.IntEnum):
    """Security rating of a security finding (CVSS-like words, as SARIF consumers expect)."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def score(self) -> str:
        """SARIF ``security-severity`` value (GitHub maps >=9 critical, >=7 high, >=4 medium)."""
        return {1: "3.0", 2: "5.5", 3: "8.0", 4: "9.5"}[int(self)]

    @property
    def severity(self) -> Severity:
        """The validate severity a security rating maps to by default."""
        if self >= SecuritySeverity.HIGH:
            return Severity.ERROR
        if self == SecuritySeverity.MEDIUM:
            return Severity.WARNING
        return Severity.INFO

    @classmethod
    def parse(cls, text: str) -> SecuritySeverity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown security severity {text!r} (expected critical, high, medium or low)"
            ) from None


@dataclass(frozen=True, slots=True)
class Location:
    """Where inside a file a finding points.

    ``pointer`` is a JSON pointer for JSON documents or an element path for XML; ``offset`` is a
    byte offset in binary content; ``voice`` numbers a preset inside a bank (1-based); ``entry``
    names a member of an archive. Any combination may be set. ``render()`` is the stable text
    used in reports and as the baseline key (never a line number, which moves with edits).
    """

    pointer: str = ""
    offset: int | None = None
    voice: int | None = None
    entry: str = ""

    def render(self) -> str:
        parts: list[str] = []
        if self.entry:
            parts.append(f"entry {self.entry}")
        if self.voice is not None:
            parts.append(f"voice {self.voice}")
        if self.pointer:
            parts.append(self.pointer)
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        return " ".join(parts)

    def __bool__(self) -> bool:
        return bool(self.pointer or self.entry) or self.offset is not None or self.voice is not None


NOWHERE = Location()


@dataclass(frozen=True, slots=True)
class Related:
    """Another place a finding is about: the other members of a duplicate group (``name``: what
    the preset there is called, when that helps to tell them apart)."""

    path: str
    location: Location = NOWHERE
    name: str = ""

    def render(self) -> str:
        where = self.location.render()
        return f"{self.path} ({where})" if where else self.path


@dataclass(frozen=True, slots=True)
class Violation:
    """What a rule check (or a loader) yields: the engine adds path, code and severity.

    ``code`` is set by emitters that produce several codes (loaders, discovery); a rule's own
    check may leave it empty and the engine fills in the rule's code.
    """

    message: str
    location: Location = NOWHERE
    code: str = ""
    hint: str = ""
    data: Mapping[str, Any] | None = None  # machine-readable details a fix may use
    related: tuple[Related, ...] = ()  # other places the finding is about (duplicate groups)


@dataclass(frozen=True, slots=True)
class Finding:
    """One reported problem, fully resolved (the JSON contract of every reporter)."""

    path: str
    code: str
    severity: Severity
    message: str
    location: Location = NOWHERE
    line: int | None = None
    column: int | None = None
    hint: str = ""
    fixable: bool = False
    security: SecuritySeverity | None = None
    rule_name: str = ""
    related: tuple[Related, ...] = ()  # the other members of a duplicate group, all of them

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        return (self.path, self.line or 0, self.column or 0, self.location.render(), self.code, self.message)

    def baseline_key(self) -> tuple[str, str, str]:
        return (self.path, self.code, self.location.render())


@dataclass(frozen=True, slots=True)
class OutOfRange:
    """What a synth does with a stored value outside a parameter's range, as its own source says.

    ``effect`` is a phrase for a value outside everything below ("Helm plays it as stored ...");
    ``written`` is a wider range the synth itself saves (values its own load conversions produce
    and it writes back unclamped), so a value there is the synth's, not the file's, doing;
    ``indexed``: the value is truncated to an index into a table read without a bound check.
    """

    synth: str
    effect: str
    written: tuple[float, float] | None = None
    indexed: bool = False


@dataclass(frozen=True, slots=True)
class Parameter:
    """One synth parameter, normalized. ``minimum``/``maximum`` are None where unknown: the range
    of the synth's knob (what its editor can set). ``out_of_range`` says what the synth does
    beyond it (None: not known; the value is then only compared with the range)."""

    name: str
    value: float | int | bool | str | None
    minimum: float | None = None
    maximum: float | None = None
    default: float | int | bool | str | None = None
    pointer: str = ""
    out_of_range: OutOfRange | None = None


Scalar = float | int | bool | str | None


@dataclass(frozen=True, slots=True)
class ParameterColumns:
    """A preset's parameters as parallel tuples, one entry per :class:`Parameter` in the same order
    (name, value, minimum, maximum, default): what ``stats`` reads of 400 parameters x 20,000
    presets without building 8 million objects. ``Preset.columns()`` is the one way to get them."""

    names: tuple[str, ...]
    values: tuple[Scalar, ...]
    minimum: tuple[float | None, ...]
    maximum: tuple[float | None, ...]
    default: tuple[Scalar, ...]

    @classmethod
    def of(cls, params: Iterable[Parameter]) -> ParameterColumns:
        ps = tuple(params)
        return cls(tuple(p.name for p in ps), tuple(p.value for p in ps), tuple(p.minimum for p in ps),
                   tuple(p.maximum for p in ps), tuple(p.default for p in ps))


@dataclass(frozen=True, slots=True)
class Modulation:
    """A modulation routing: source, target and depth when the format has one."""

    source: str
    target: str
    amount: float | None = None


@dataclass(frozen=True, slots=True)
class Effect:
    """An effect of the preset's chain, and whether it is switched on."""

    type: str
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class AssetRef:
    """A sample or wavetable the preset refers to (path) or embeds (size in bytes)."""

    kind: str
    path: str = ""
    sha256: str = ""
    embedded_bytes: int = 0


@dataclass(frozen=True)
class Preset:
    """A sound, normalized across formats. Banks (DX7) hold several.

    Parameters are produced lazily by ``parameter_source`` because building hundreds of
    objects per file would dominate the clean path for rules that never look at them.
    """

    format: str
    name: str | None = None
    author: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    description: str | None = None
    license: str | None = None
    synth: str | None = None
    synth_version: str | None = None
    created: str | None = None
    modified: str | None = None
    voices: int | None = None
    unison: int | None = None
    oscillators: int | None = None
    modulations: tuple[Modulation, ...] = ()
    effects: tuple[Effect, ...] = ()
    assets: tuple[AssetRef, ...] = ()
    index: int | None = None  # 1-based number inside a bank, None for single-preset files
    pointers: Mapping[str, str] = field(default_factory=dict)  # metadata field -> location pointer
    parameter_source: Callable[[], Iterable[Parameter]] | None = field(default=None, repr=False, compare=False)
    sound_key: Callable[[], bytes] | None = field(default=None, repr=False, compare=False)
    # The same parameters column-wise, from a loader that can read them so (tests/test_scale.py holds
    # every such loader to ``ParameterColumns.of(parameters)``); None: derived from ``parameters``.
    column_source: Callable[[], ParameterColumns] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def parameters(self) -> tuple[Parameter, ...]:
        return tuple(self.parameter_source()) if self.parameter_source is not None else ()

    def columns(self) -> ParameterColumns:
        """The parameters as columns: the loader's fast reading when it has one."""
        return self.column_source() if self.column_source is not None else ParameterColumns.of(self.parameters)

    def sound_hash(self) -> str:
        """Identity of the sound (the data without name and metadata); "" when the format has none."""
        key = self.sound_key() if self.sound_key is not None else b""
        # SHA-256 runs in hardware on current CPUs: 2.5x faster than blake2b on a 26 KB preset.
        return hashlib.sha256(key).hexdigest()[:24] if key else ""

    def location(self, field_name: str = "") -> Location:
        """Location of a metadata field (or of the preset itself inside a bank)."""
        return Location(pointer=self.pointers.get(field_name, ""), voice=self.index)


class FileStatus(enum.Enum):
    VALIDATED = "validated"  # a loader understood it and the rules ran
    RECOGNIZED = "recognized"  # format known, only recognized (no deep validation)
    UNKNOWN = "unknown"  # no loader claims it
    SKIPPED = "skipped"  # not read: symlink, special file, too large, unreadable
    BROKEN = "broken"  # a loader claimed it but could not parse it


@dataclass(frozen=True, slots=True)
class PresetSummary:
    """The compact facts pack-level rules (duplicates, drift) need, sent back from workers."""

    path: str
    format: str
    name: str | None
    author: str | None
    category: str | None
    sound_hash: str
    index: int | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What checking one file found: its format, status, presets and findings."""

    path: str
    format: str
    status: FileStatus
    size: int
    presets: int = 0
    findings: tuple[Finding, ...] = ()
    summaries: tuple[PresetSummary, ...] = ()
    seconds: float = 0.0
    incidents: tuple[Incident, ...] = ()  # tool errors met on this file (a retried read, ...)
    digest: str = ""  # SHA-256 of the bytes checked, when the run keeps a cache ("" otherwise)


_EMPTY: tuple[Any, ...] = ()


class TextColumn(Sequence[str]):
    """Strings kept as one UTF-8 buffer and their ends (``surrogatepass``: any str comes back as it
    went in, a file name that is not UTF-8 too): a path costs its length and 8 bytes."""

    __slots__ = ("_text", "_ends")

    def __init__(self) -> None:
        self._text = bytearray()
        self._ends = array("Q")

    def append(self, value: str) -> None:
        self._text += value.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._text))

    def _at(self, i: int) -> str:
        return self._text[self._ends[i - 1] if i else 0 : self._ends[i]].decode("utf-8", "surrogatepass")

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._at(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("index out of range")
        return self._at(index)

    def __iter__(self) -> Iterator[str]:
        return (self._at(i) for i in range(len(self)))


class Coded(Sequence[T]):
    """A column of few distinct values (formats, statuses): each value once, 2 bytes an entry."""

    __slots__ = ("_values", "_codes", "_index")

    def __init__(self) -> None:
        self._values: list[T] = []
        self._index: dict[T, int] = {}
        self._codes = array("H")

    def append(self, value: T) -> None:
        try:
            self._codes.append(self._index[value])
        except KeyError:
            self._index[value] = len(self._values)
            self._values.append(value)
            self._codes.append(self._index[value])

    def __len__(self) -> int:
        return len(self._codes)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._values[c] for c in self._codes[index]]
        return self._values[self._codes[index]]

    def __iter__(self) -> Iterator[T]:
        values = self._values
        return (values[c] for c in self._codes)

    def counts(self) -> Counter[T]:
        """How many entries hold each value, in the order the values were first met."""
        return Counter({self._values[code]: n for code, n in sorted(Counter(self._codes).items())})


class FileTable(Sequence[FileOutcome]):
    """The per-file outcomes of a run, column-wise: what ``RunResult.files`` holds.

    A run over 100,000 files keeps one entry per file until its end (reports count them, the
    history and the API list them). As a tuple of FileOutcome objects that was about 2 KB a file
    with the presets' summaries; here a clean file costs its path and 33 bytes of columns, and
    findings, summaries, tool errors and digests are kept only for the files that have them.
    Reading an entry builds the same FileOutcome that was appended (tests/test_scale.py). The
    runner appends while the run goes; nobody appends after the RunResult is made.
    """

    __slots__ = ("_paths", "_formats", "_status", "_size", "_presets", "_seconds", "_extra", "_digests")

    def __init__(self, outcomes: Iterable[FileOutcome] = ()) -> None:
        self._paths = TextColumn()  # about 50 bytes a path where a str is 90 and its pointer 8
        self._formats: Coded[str] = Coded()  # the few format names: 2 bytes a file
        self._status: Coded[FileStatus] = Coded()
        self._size = array("q")
        self._presets = array("q")
        self._seconds = array("d")
        # index -> (findings, summaries, incidents), for the files that have any of them
        self._extra: dict[int, tuple[tuple[Finding, ...], tuple[PresetSummary, ...], tuple[Incident, ...]]] = {}
        self._digests: dict[int, str] = {}  # when the run keeps a cache
        for o in outcomes:
            self.append(o)

    def append(self, o: FileOutcome) -> None:
        """Add ``o``."""
        i = len(self._paths)
        self._paths.append(o.path)
        self._formats.append(o.format)
        self._status.append(o.status)
        self._size.append(o.size)
        self._presets.append(o.presets)
        self._seconds.append(o.seconds)
        if o.findings or o.summaries or o.incidents:
            self._extra[i] = (o.findings, o.summaries, o.incidents)
        if o.digest:
            self._digests[i] = o.digest

    def _at(self, i: int) -> FileOutcome:
        findings, summaries, incidents = self._extra.get(i, (_EMPTY, _EMPTY, _EMPTY))
        return FileOutcome(self._paths[i], self._formats[i], self._status[i], self._size[i], self._presets[i],
                           findings, summaries, self._seconds[i], incidents, self._digests.get(i, ""))

    def __len__(self) -> int:
        return len(self._paths)

    @overload
    def __getitem__(self, index: int) -> FileOutcome: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[FileOutcome, ...]: ...

    def __getitem__(self, index: int | slice) -> FileOutcome | tuple[FileOutcome, ...]:
        if isinstance(index, slice):
            return tuple(self._at(i) for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("file index out of range")
        return self._at(index)

    def __iter__(self) -> Iterator[FileOutcome]:
        return (self._at(i) for i in range(len(self._paths)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"FileTable({len(self)} files)"

    # --- what reports and metrics count, without building an outcome per file -----------------
    @property
    def paths(self) -> Sequence[str]:
        return self._paths

    def presets(self) -> int:
        return sum(self._presets)

    def format_at(self, i: int) -> str:
        return self._formats[i]

    def status_counts(self) -> Counter[FileStatus]:
        return self._status.counts()

    def format_counts(self) -> Counter[str]:
        return self._formats.counts()

    def bytes_checked(self) -> int:
        skipped = FileStatus.SKIPPED
        return sum(size for size, status in zip(self._size, self._status, strict=True) if status is not skipped)

    def summaries(self) -> Sequence[PresetSummary]:
        """``runner.pack_summaries`` of these files, from the columns. Without any preset's summary
        (the default rules read only paths) a view that builds each stand-in as it is read: 100,000
        of them were 10 MB at the end of a run."""
        if not any(found[1] for found in self._extra.values()):
            return _StandIns(self, array("I", (i for i, n in enumerate(self._presets) if n)))
        out: list[PresetSummary] = []
        extra = self._extra
        for i, n in enumerate(self._presets):
            found = extra.get(i)
            if found is not None and found[1]:
                out.extend(found[1])
            elif n:
                out.append(PresetSummary(self._paths[i], self._formats[i], None, None, None, ""))
        return out

    def with_findings(self) -> Iterator[FileOutcome]:
        """The outcomes that have findings, summaries, tool errors or a digest (in order)."""
        return (self._at(i) for i in sorted(self._extra))


class _StandIns(Sequence[PresetSummary]):
    """The summaries of a FileTable whose files have none: one stand-in with its path a file with presets."""

    __slots__ = ("_table", "_indices")

    def __init__(self, table: FileTable, indices: array[int]) -> None:
        self._table = table
        self._indices = indices

    def _at(self, i: int) -> PresetSummary:
        return PresetSummary(self._table.paths[i], self._table.format_at(i), None, None, None, "")

    def __len__(self) -> int:
        return len(self._indices)

    @overload
    def __getitem__(self, index: int) -> PresetSummary: ...

    @overload
    def __getitem__(self, index: slice) -> list[PresetSummary]: ...

    def __getitem__(self, index: int | slice) -> PresetSummary | list[PresetSummary]:
        if isinstance(index, slice):
            return [self._at(i) for i in self._indices[index]]
        return self._at(self._indices[index])

    def __iter__(self) -> Iterator[PresetSummary]:
        return (self._at(i) for i in self._indices)


def file_count_of(files: Sequence[FileOutcome]) -> tuple[int, Counter[FileStatus], Counter[str]]:
    """Presets, files by status and files by format of ``files`` (a FileTable counts its columns)."""
    if isinstance(files, FileTable):
        return files.presets(), files.status_counts(), files.format_counts()
    return (sum(o.presets for o in files), Counter(o.status for o in files), Counter(o.format for o in files))


@dataclass(frozen=True, slots=True)
class StageTiming:
    """Wall seconds of one stage of a run (discover, check, pack, total)."""

    stage: str
    seconds: float


@dataclass(frozen=True)
class RunResult:
    """Everything a run yields; reporters, history and benchmarks consume only this."""

    command: str
    roots: tuple[str, ...]
    files: Sequence[FileOutcome]  # a FileTable from the runner; any sequence (a tuple) from elsewhere
    findings: tuple[Finding, ...]
    timings: tuple[StageTiming, ...] = ()
    baseline_suppressed: int = 0
    started_at: str = ""
    jobs: int = 1
    pack: tuple[Finding, ...] = ()  # the cross-file findings (also at the end of ``findings``)
    cwd: str = ""  # the working folder relative paths start from

    @cached_property
    def counts(self) -> dict[str, int]:
        out = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in self.findings:
            out[f.severity.label] += 1
        return out

    @cached_property
    def security_counts(self) -> dict[str, int]:
        """Findings per security rating (those without one are not counted)."""
        out = {s.label: 0 for s in sorted(SecuritySeverity, reverse=True)}
        for f in self.findings:
            if f.security is not None:
                out[f.security.label] += 1
        return out

    @cached_property
    def _file_counts(self) -> tuple[int, Counter[FileStatus], Counter[str]]:
        return file_count_of(self.files)

    @property
    def presets(self) -> int:
        """Presets read (a bank counts each voice)."""
        return self._file_counts[0]

    @cached_property
    def status_counts(self) -> dict[str, int]:
        counted = self._file_counts[1]
        return {s.value: counted.get(s, 0) for s in FileStatus}

    @cached_property
    def format_counts(self) -> dict[str, int]:
        return dict(sorted(self._file_counts[2].items()))

    def duration(self) -> float:
        return sum(t.seconds for t in self.timings if t.stage == "total")

    def fails(self, threshold: Severity) -> bool:
        return any(f.severity >= threshold for f in self.findings)

    def fails_security(self, threshold: SecuritySeverity) -> bool:
        return any(f.security is not None and f.security >= threshold for f in self.findings)
