"""The history database schema, as forward migrations.

``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``; ``PRAGMA user_version`` holds
the version reached, ``PRAGMA application_id`` marks the file as presetctl's. A migration is only
ever appended, never edited: a database written by an older presetctl is carried forward step by
step, and one written by a newer presetctl (a higher version) is left alone.
"""

from __future__ import annotations

APPLICATION_ID = int.from_bytes(b"PCtl", "big")  # "PCtl": a foreign SQLite file has another (or 0)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 0 -> 1: runs, their findings (the fields of the JSON report), tool errors, recovery attempts.
    (
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            command TEXT NOT NULL,
            arguments TEXT NOT NULL,          -- JSON object: the command's parameters as parsed
            targets TEXT NOT NULL,            -- JSON array of absolute target paths
            targets_key TEXT NOT NULL,        -- SHA-256 of the sorted targets: "the same targets"
            cwd TEXT NOT NULL,
            version TEXT NOT NULL,
            config_hash TEXT NOT NULL DEFAULT '',
            pid INTEGER NOT NULL DEFAULT 0,
            started_at REAL NOT NULL,         -- Unix time
            ended_at REAL,                    -- NULL while running, or when the process died
            exit_code INTEGER,
            outcome TEXT NOT NULL DEFAULT 'running',
            files INTEGER NOT NULL DEFAULT 0,
            findings INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            warnings INTEGER NOT NULL DEFAULT 0,
            infos INTEGER NOT NULL DEFAULT 0,
            tool_errors INTEGER NOT NULL DEFAULT 0,
            status_counts TEXT NOT NULL DEFAULT '{}',  -- JSON: files by status
            timings TEXT NOT NULL DEFAULT '{}'          -- JSON: seconds by stage
        )""",
        "CREATE INDEX runs_by_start ON runs (started_at)",
        "CREATE INDEX runs_by_targets ON runs (targets_key, command, started_at)",
        """CREATE TABLE findings (
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            path TEXT NOT NULL,
            code TEXT NOT NULL,
            name TEXT NOT NULL,
            severity TEXT NOT NULL,
            security_severity TEXT,
            message TEXT NOT NULL,
            location TEXT NOT NULL,
            pointer TEXT,
            "offset" INTEGER,
            voice INTEGER,
            entry TEXT,
            line INTEGER,
            "column" INTEGER,
            fixable INTEGER NOT NULL,
            hint TEXT,
            PRIMARY KEY (run_id, seq)
        ) WITHOUT ROWID""",
        """CREATE TABLE tool_errors (
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            at REAL NOT NULL,
            code TEXT NOT NULL,
            message TEXT NOT NULL,
            file TEXT NOT NULL DEFAULT '',
            stage TEXT NOT NULL DEFAULT '',
            rule TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL,            -- reported | recovered | failed
            retries INTEGER NOT NULL DEFAULT 0,
            critical INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, seq)
        ) WITHOUT ROWID""",
        "CREATE INDEX tool_errors_by_code ON tool_errors (code)",
        """CREATE TABLE recovery_attempts (
            run_id TEXT NOT NULL,
            error_seq INTEGER NOT NULL,
            number INTEGER NOT NULL,
            delay REAL NOT NULL,
            succeeded INTEGER NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            at REAL NOT NULL,
            PRIMARY KEY (run_id, error_seq, number),
            FOREIGN KEY (run_id, error_seq) REFERENCES tool_errors (run_id, seq) ON DELETE CASCADE
        ) WITHOUT ROWID""",
    ),
    # 1 -> 2: the other members of a duplicate group a finding names (the JSON report's ``related``).
    (
        "ALTER TABLE findings ADD COLUMN related TEXT NOT NULL DEFAULT '[]'",  # a JSON array, as in the report
    ),
    # 2 -> 3: files by format (the JSON report's ``summary.by_format``): `presetctl report RUN` shows them.
    (
        "ALTER TABLE runs ADD COLUMN format_counts TEXT NOT NULL DEFAULT '{}'",  # JSON: files by format
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
