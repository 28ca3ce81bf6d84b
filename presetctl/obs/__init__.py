"""Observability: structured logging for every command, the log writer sink, reading logs back.

- ``records``: the JSON-lines record (one schema for every record) and how to emit one.
- ``handlers``: the size-rotated file shared by concurrent processes, and the console handler.
- ``session``: one command's logging (queue -> listener thread -> file), worker processes' logging.
- ``sink``: the engine-event consumer that writes log records.
- ``reader``: reading, filtering and following the log files (``presetctl logs``).

Nothing here imports the CLI or the state package; the engine never imports this package.
"""
