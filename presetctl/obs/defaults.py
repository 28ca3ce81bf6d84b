"""Log rotation defaults, apart from the logging machinery: the CLI's option defaults need them at start-up."""

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 5 * MIB
DEFAULT_BACKUPS = 5
