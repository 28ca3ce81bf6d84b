"""``presetctl report``: browsing the findings of a run.

Layers, each usable on its own:

- :mod:`.source` loads a run (today a JSON report file; run history plugs in as one more source);
- :mod:`.view` (grouping, sorting, filters), :mod:`.diff`, :mod:`.export` and :mod:`.context` are
  pure functions over :class:`presetctl.engine.model.Finding` values;
- :mod:`.static` (Rich), :mod:`.html_report` (one HTML file) and :mod:`.tui` (Textual) are views
  over them. Only the CLI imports the Textual app, and only when it opens it.
"""
