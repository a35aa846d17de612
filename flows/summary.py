"""How a run is reported: lines for the terminal, markdown and a table for Prefect."""

from __future__ import annotations

from collections import Counter

from flows.discovery import Ignored
from flows.runs import RunSummary
from sources.timestamps import DateOrder
from sources.units import FROM_FILE
from warehouse.load import FileInfo, FileOutcome


def decided(outcome: FileOutcome) -> list[str]:
    """What was decided for a file that did not say: the unit of its loads (with the evidence)
    and the order of its dates in numbers."""
    said = []
    if outcome.unit_source not in (None, FROM_FILE) and outcome.unit_evidence:
        said.append(outcome.unit_evidence)
    if outcome.date_order_source is not None:
        said.append(DateOrder(outcome.date_order, outcome.date_order_source).sentence)
    return said


def file_line(info: FileInfo, outcome: FileOutcome) -> str:
    where = (
        info.path
        if info.athlete_id is None or info.path.startswith(info.athlete_id)
        else (f"{info.athlete_id}: {info.path}")
    )
    if outcome.status == "failed":
        return f"failed     {where}: {outcome.error}"
    if outcome.status == "duplicate":
        return f"duplicate  {where}: the same content was loaded before"
    parts = [f"{outcome.loaded} new"]
    if outcome.revised:
        parts.append(f"{outcome.revised} revised")
    if outcome.corrected:
        parts.append(f"{outcome.corrected} corrected")
    if outcome.unchanged:
        parts.append(f"{outcome.unchanged} already stored")
    if outcome.rejected:
        parts.append(f"{outcome.rejected} rejected")
    if outcome.skipped:
        parts.append(f"{outcome.skipped} skipped")
    if outcome.unknown:
        parts.append(f"{len(outcome.unknown)} members not read")
    if outcome.decoded_as:
        parts.append(f"read as {outcome.decoded_as}, not UTF-8")
    return (
        f"loaded     {where} ({outcome.format}): {'; '.join([', '.join(parts), *decided(outcome)])}"
    )


def deferred_line(path: str, why: str) -> str:
    """A file left for the next run: it changed while it was read, or is still being written."""
    return f"deferred   {path}: {why}; read again by the next run"


def flag_counts(summary: RunSummary) -> dict[str, int]:
    if summary.flags is None:
        return {}
    return dict(sorted(Counter(summary.flags["action"].to_list()).items()))


def rules_said(summary: RunSummary) -> str | None:
    """What the rules did in this run, in a line; None for a run that does not evaluate them
    (`ingest`)."""
    if summary.rules_ran:
        counts = ", ".join(f"{n} {action}" for action, n in flag_counts(summary).items())
        if counts or summary.silence:  # a silence is said on a line of its own
            return f"flags as of {summary.as_of}: {counts or 'none'}"
        return (
            f"flags as of {summary.as_of}: none (the rules ran: no exercise has working sets "
            "within its program's dormant_days of that date)"
        )
    if summary.as_of is not None:
        return "flags: unchanged (the sets, config and rules are as they last saw them)"
    return None


def notes(summary: RunSummary) -> list[str]:
    """Everything else a run has to say: where the lake is, what was not read or ignored, what
    was decided for files that did not say, the files left for the next run, runs found
    interrupted, the files that failed."""
    out = []
    if summary.lake_snapshot is not None:
        out.append(f"lake: at snapshot {summary.lake_snapshot} (repflow sql --at <id> reads one)")
    out += [f"not read (no known format): {member}" for member in summary.unknown]
    out += [
        f"read as {outcome.decoded_as}, not UTF-8: {info.path} (check its accents)"
        for info, outcome in summary.files
        if outcome.decoded_as
    ]
    out += [
        f"{info.path}: {said}"
        for info, outcome in summary.files
        if outcome.status == "loaded"
        for said in decided(outcome)
    ]
    if summary.ignored:
        out.append(
            f"ignored {len(summary.ignored)} (OS or sync junk): {', '.join(summary.ignored)}"
        )
    out += [
        f"skipped {reason}" for reason in summary.skipped_paths if not isinstance(reason, Ignored)
    ]
    out += [deferred_line(path, why) for path, why in summary.deferred]
    out += [f"interrupted: {run}" for run in summary.interrupted]
    out += [
        file_line(info, outcome) for info, outcome in summary.files if outcome.status == "failed"
    ]
    return out


def lines(summary: RunSummary) -> list[str]:
    """The run summary a person reads at the end of a run."""
    said = rules_said(summary)
    return [
        f"run {summary.run_id}: {summary.status}",
        f"  files: {len(summary.files) + summary.seen_before} seen, "
        f"{summary.count('loaded')} loaded, "
        f"{summary.count('duplicate') + summary.seen_before} duplicate, "
        f"{summary.count('failed')} failed",
        f"  sets: {summary.total('loaded')} new, {summary.total('revised')} revised, "
        f"{summary.total('rejected')} rejected",
        *([f"  {said}"] if said else []),
        *([f"  why none: {summary.silence}"] if summary.rules_ran and summary.silence else []),
        *(f"  {note}" for note in notes(summary)),
    ]


def markdown(summary: RunSummary) -> str:
    """The run's Prefect artifact: the same facts as `lines`, as markdown."""
    said = rules_said(summary)
    silent = summary.silence if summary.rules_ran else None
    counts = flag_counts(summary)
    flags = "\n".join(f"| {action} | {n} |" for action, n in counts.items())
    rows = "\n".join(f"| {cell(file_line(i, o))} |" for i, o in summary.files)
    return (
        f"# repflow run {summary.run_id}: {summary.status}\n\n"
        f"| files seen | loaded | duplicate | failed | sets new | revised | rejected |\n"
        f"|---|---|---|---|---|---|---|\n"
        f"| {len(summary.files) + summary.seen_before} | {summary.count('loaded')} "
        f"| {summary.count('duplicate') + summary.seen_before} | {summary.count('failed')} "
        f"| {summary.total('loaded')} | {summary.total('revised')} "
        f"| {summary.total('rejected')} |\n\n"
        + (f"## Flags\n\n{said[0].upper()}{said[1:]}.\n\n" if said else "")
        + (f"**Why no flag:** {cell(silent)}\n\n" if silent else "")
        + (f"| action | flags |\n|---|---|\n{flags}\n\n" if counts else "")
        + "## Files\n\n"
        + (f"| file |\n|---|\n{rows}\n" if rows else "Nothing new in the inbox.\n")
        + "".join(f"\n- {cell(note)}" for note in notes(summary))
        + ("\n" if notes(summary) else "")
    )


def failed_markdown(error: BaseException) -> str:
    """The artifact of a run that stopped on an error (the lock held, a full disk), which has
    no summary to show: what stopped it."""
    return f"# repflow run failed\n\nThe run stopped: {cell(f'{type(error).__name__}: {error}')}\n"


def cell(text: str) -> str:
    """Text safe in a markdown table cell or list item: no line breaks, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def file_rows(summary: RunSummary) -> list[dict[str, object]]:
    return [
        {
            "path": info.path,
            "athlete_id": info.athlete_id,
            "format": outcome.format,
            "status": outcome.status,
            "rows_loaded": outcome.loaded,
            "rows_revised": outcome.revised,
            "rows_rejected": outcome.rejected,
            "unit": outcome.unit,
            "unit_source": outcome.unit_source,
            "date_order": outcome.date_order,
            "error": outcome.error,
        }
        for info, outcome in summary.files
    ]
