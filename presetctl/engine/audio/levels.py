"""The levels that decide what counts as heard (no numpy: the rules import them at start-up)."""

FLOOR_DB = -140.0  # what "no output at all" reads as, in dBFS
SILENT_DB = -80.0  # a 5 ms frame peaking under this is inaudible
ONSET_RANGE = 40.0  # dB under the reachable level that still counts as not started
