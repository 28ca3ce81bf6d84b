"""``python -m presetctl``."""

from presetctl.cli.app import main

if __name__ == "__main__":
    main()
