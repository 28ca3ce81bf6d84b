"""The fix engine: the planner and the executor, writers per format family, fixer building blocks.

The fixers themselves live beside their rules (``Rule.fix.apply``).
"""
