"""The coach's report: one static HTML page with charts, read from the analyst snapshot.

`repflow report` calls `write_report`; the page needs no network (charts are inline SVG).
"""

from report.data import SnapshotOutdated, UnknownAthlete
from report.page import write_report

__all__ = ["SnapshotOutdated", "UnknownAthlete", "write_report"]
