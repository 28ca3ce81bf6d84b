"""The fix engine: fixers per rule, writers per format family, the planner and the executor."""
