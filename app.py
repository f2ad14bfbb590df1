"""Entry point of the local web page; see `python app.py --help` and README.md."""
import sys

from srgan.cli import app_main

if __name__ == "__main__":
    sys.exit(app_main())
