"""``python -m bot`` runs the ``newsbot`` command."""

import sys

from .cli import main

if __name__ == "__main__":  # worker processes import this module again: do nothing there
    sys.exit(main())
