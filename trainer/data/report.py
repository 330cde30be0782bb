"""What a dataset source held: how many images are usable and why the others were skipped.

Plain values only (no torch), so the UI can show a report without touching the training code.
"""
from __future__ import annotations

from dataclasses import dataclass, field

#: How many file names per skip reason a report keeps (the count is always complete).
EXAMPLES_PER_REASON = 5

# Skip reasons, one fixed phrase each, so callers and tests can match them.
UNSUPPORTED = "unsupported file type"       # extension is not png/jpg/jpeg/webp/bmp
NOT_AN_IMAGE = "not an image"               # image extension, but the bytes are no known image format
CORRUPT = "corrupt image"                   # recognised format, decoding failed (truncated, bad data)
UNREADABLE = "unreadable"                   # the file could not be read at all (permissions, I/O error)
TOO_SMALL = "too small"                     # shorter side < half the training resolution
TOO_LARGE = "too large"                     # over Pillow's decompression-bomb pixel limit
NO_CLASS_FOLDER = "outside class folders"   # labels=True and the file is not inside a top-level subfolder


class DatasetError(ValueError):
    """The source cannot be used at all (missing, unknown spec, nothing usable). One-line message."""


@dataclass
class DatasetReport:
    """Outcome of reading a source: usable count, skipped counts and first few names per reason."""

    source: str
    resolution: int
    usable: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def skip(self, name: str, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        names = self.examples.setdefault(reason, [])
        if len(names) < EXAMPLES_PER_REASON:
            names.append(name)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def summary(self) -> str:
        """Human-readable text: one line for the totals, one line per skip reason."""
        lines = [f"{self.source}: {self.usable} usable image{'s' if self.usable != 1 else ''} "
                 f"at {self.resolution}x{self.resolution}"
                 + (f", {self.skipped_total} skipped" if self.skipped_total else "")]
        for reason in sorted(self.skipped, key=lambda r: (-self.skipped[r], r)):
            n = self.skipped[reason]
            names = self.examples.get(reason, [])
            more = f", ... (+{n - len(names)} more)" if n > len(names) else ""
            lines.append(f"  skipped {n} ({reason}): {', '.join(names)}{more}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"source": self.source, "resolution": self.resolution, "usable": self.usable,
                "skipped": dict(self.skipped), "examples": {k: list(v) for k, v in self.examples.items()},
                "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict) -> "DatasetReport":
        return cls(source=str(d["source"]), resolution=int(d["resolution"]), usable=int(d["usable"]),
                   skipped={str(k): int(v) for k, v in d.get("skipped", {}).items()},
                   examples={str(k): [str(x) for x in v] for k, v in d.get("examples", {}).items()},
                   notes=[str(x) for x in d.get("notes", [])])
