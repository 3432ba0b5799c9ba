"""Report stage: figures (matplotlib, imported lazily) and run-directory reports."""
