"""``python -m g1000_verify``: the same as the ``g1000-verify`` console script (see ``cli``)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
