"""Reports: figures in one style, Markdown pages, ``results.json`` and progress lines.

Every study writes its outputs through this package, so that a reader finds the same
layout, style and wording in every study's folder.
"""
