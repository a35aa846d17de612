"""One night of the soak test (test_soak.py) as a process that SIGKILLs itself at a chosen
call of a step: before or after the k-th batch stored (gym.STORE_BATCH files each), the rules,
or the publish. The caller
picks the point from its seed, never a timer, so the kill falls at the same place every time.

    python -m tests.reliability.soak_night INBOX DB AS_OF STEP AT before|after RUN_ID_FILE

It writes its run id to RUN_ID_FILE as the run starts, and exits 3 if the kill never came.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flows import discovery, pipeline
from flows.config import load
from tests.reliability.gym import STORE_BATCH


def killing(step: Callable[..., Any], at: int, after: bool) -> Callable[..., Any]:
    """`step`, dying with SIGKILL at its `at`-th call, before it runs or after it returns."""
    calls = 0

    def wrapped(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == at and not after:
            os.kill(os.getpid(), signal.SIGKILL)
        result = step(*args)
        if calls == at and after:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    return wrapped


def main(argv: list[str]) -> int:
    inbox, db, as_of, step, at, when, run_id_file = argv
    new_run_id = pipeline.new_run_id

    def recorded(now: datetime) -> str:
        run_id = new_run_id(now)
        Path(run_id_file).write_text(run_id)
        return run_id

    pipeline.new_run_id = recorded  # execute takes no run id: record the one it makes
    steps = pipeline.Steps()
    steps = replace(steps, **{step: killing(getattr(steps, step), int(at), when == "after")})
    config = load({"inbox": Path(inbox), "db": Path(db), "settle_s": 0, "batch_files": STORE_BATCH})
    files, skipped = discovery.inbox_files(config)
    pipeline.execute(config, files, "run", date.fromisoformat(as_of), steps, skipped=skipped)
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
