"""Security scanning machinery: content extraction, bounded unpacking, scope and ratings.

The security rules themselves (codes ``X...``) live in ``presetctl.engine.rules.security``,
registered in ``rules/registry.py`` like every other rule.
"""
