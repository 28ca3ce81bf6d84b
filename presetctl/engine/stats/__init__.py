"""The stats command's engine: one module per section, ``run.collect`` as the entry point."""
