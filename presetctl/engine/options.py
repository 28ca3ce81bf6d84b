"""Run options: everything the engine needs to know, built by the CLI or an API caller.

Options are frozen and picklable so worker processes receive them once per chunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from presetctl.engine.model import Severity

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Resource limits; exceeding one is always a finding, never silent.

    Defaults follow what trusted scanners use (ClamAV: 25 MB scanned per file inside archives,
    100 MB per scan, recursion 16, 10,000 files) while admitting real presets: a Vital preset
    with embedded samples reaches 4 MB, and the biggest factory banks a few tens of MB.
    """

    max_file_size: int = 64 * MIB  # checked with lstat before a file is read
    max_nesting: int = 64  # JSON/XML nesting depth considered sane
    max_string: int = 16 * MIB  # one string value (Vital embeds base64 samples)
    max_decompressed: int = 100 * MIB  # total bytes inflated from one file
    max_entry_size: int = 25 * MIB  # bytes inflated from one archive member
    max_entries: int = 10_000  # members of one archive
    max_ratio: int = 100  # compressed:uncompressed ratio considered a bomb
    max_recursion: int = 16  # archives inside archives
    file_seconds: float = 10.0  # time budget to scan one file


@dataclass(frozen=True)
class Thresholds:
    """Performance-impact thresholds for the audio/performance rules."""

    max_voice_load: int = 256  # voices x unison x oscillators
    max_modulations: int = 64
    max_effects: int = 8


@dataclass(frozen=True)
class PackConfig:
    """Facts about the pack as a whole, from config: defaults for fixes and version gates."""

    author: str | None = None
    license: str | None = None
    min_versions: Mapping[str, str] = field(default_factory=dict)  # format id -> oldest synth version
    max_versions: Mapping[str, str] = field(default_factory=dict)  # format id -> newest allowed


@dataclass(frozen=True)
class Budgets:
    """What a whole run may cost (``[tool.presetctl.budgets]``); going over one is a warning finding
    (E003) and a log record, never a stop. None: no budget."""

    wall_time: float | None = None  # seconds, start of discovery to the end of the pack rules
    peak_memory: int | None = None  # bytes, resident memory of presetctl and its workers together


@dataclass(frozen=True)
class Options:
    """Everything that decides what a run checks and reports: the config file and flags resolved."""

    select: tuple[str, ...] = ("ALL",)
    profiles: tuple[str, ...] = ()  # opt-in rule profiles enabled on top of the default set
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (glob, codes)
    severity_overrides: Mapping[str, Severity] = field(default_factory=dict)
    taxonomy: tuple[str, ...] = ("auto",)  # profile names and/or extra categories
    category_aliases: Mapping[str, str] = field(default_factory=dict)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    thresholds: Thresholds = field(default_factory=Thresholds)
    pack: PackConfig = field(default_factory=PackConfig)
    jobs: int | None = None  # None: all cores
    levels: frozenset[str] | None = None  # restrict to these rule levels (scan-security)
    rate_security: bool = False  # give file/parse codes their security rating (scan-security)
    show_unknown: bool = False
    budgets: Budgets = field(default_factory=Budgets)
    shard: tuple[int, int] | None = None  # (K, N): check only the files of shard K of N (engine/shard.py)
