"""`python -m trainer` = `ganstudio-train`."""
from .cli import entry

entry()
