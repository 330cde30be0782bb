"""`python -m trainer` = `ganstudio-train`."""
import sys

from .cli import main

sys.exit(main())
