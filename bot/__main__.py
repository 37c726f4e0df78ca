"""``python -m bot`` runs the ``newsbot`` command."""

import sys

from .cli import main

sys.exit(main())
