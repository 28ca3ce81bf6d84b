"""presetctl: validate, fix, scan and measure synthesizer preset libraries."""

__version__ = "0.1.0"
