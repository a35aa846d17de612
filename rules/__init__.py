"""The progression engine: session history in, one flag per athlete and exercise out.

Pure functions over polars frames; no I/O. The rules themselves are in docs/rules.md.
"""

from rules.engine import FLAG_COLUMNS, evaluate, evaluate_relation
from rules.sessions import SET_COLUMNS

__all__ = ["FLAG_COLUMNS", "SET_COLUMNS", "evaluate", "evaluate_relation"]
