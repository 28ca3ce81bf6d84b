"""Security scanning: rules that find hostile content in preset packs (codes ``X001``...).

Each module holds one concern and exports ``RULES`` (registered in ``rules/registry.py``);
``content.py`` walks a document's text and decoded payloads once per file for all of them, and
``scope.py`` says which codes ``scan-security`` reports and how file-level codes are rated.
"""
