"""Entry point; see `python export.py --help` and README.md."""
import sys

from srgan.cli import export_main

if __name__ == "__main__":
    sys.exit(export_main())
