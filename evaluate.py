"""Entry point; see `python evaluate.py --help` and README.md."""
import sys

from srgan.cli import evaluate_main

if __name__ == "__main__":
    sys.exit(evaluate_main())
