"""How a run is reported: lines for the terminal, markdown and a table for Prefect."""

from __future__ import annotations

from collections import Counter

from flows.discovery import Ignored
from flows.runs import RunSummary
from warehouse.load import FileInfo, FileOutcome


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
    return f"loaded     {where} ({outcome.format}): {', '.join(parts)}"


def flag_counts(summary: RunSummary) -> dict[str, int]:
    if summary.flags is None:
        return {}
    return dict(sorted(Counter(summary.flags["action"].to_list()).items()))


def lines(summary: RunSummary) -> list[str]:
    """The run summary a person reads at the end of a run."""
    out = [
        f"run {summary.run_id}: {summary.status}",
        f"  files: {len(summary.files) + summary.seen_before} seen, "
        f"{summary.count('loaded')} loaded, "
        f"{summary.count('duplicate') + summary.seen_before} duplicate, "
        f"{summary.count('failed')} failed",
        f"  sets: {summary.total('loaded')} new, {summary.total('revised')} revised, "
        f"{summary.total('rejected')} rejected",
    ]
    if summary.rules_ran:
        counts = ", ".join(f"{n} {action}" for action, n in flag_counts(summary).items())
        out.append(f"  flags as of {summary.as_of}: {counts or 'none'}")
        if summary.silence:
            out.append(f"  why none: {summary.silence}")
    elif summary.as_of is not None:
        out.append("  flags: unchanged (the sets, config and rules are as they last saw them)")
    if summary.lake_snapshot is not None:
        out.append(f"  lake: at snapshot {summary.lake_snapshot} (repflow sql --at <id> reads one)")
    out += [f"  not read (no known format): {member}" for member in summary.unknown]
    out += [
        f"  read as {outcome.decoded_as}, not UTF-8: {info.path} (check its accents)"
        for info, outcome in summary.files
        if outcome.decoded_as
    ]
    if summary.ignored:
        names = ", ".join(summary.ignored)
        out.append(f"  ignored {len(summary.ignored)} (OS or sync junk): {names}")
    out += [
        f"  skipped {reason}" for reason in summary.skipped_paths if not isinstance(reason, Ignored)
    ]
    out += [
        f"  {file_line(info, outcome)}"
        for info, outcome in summary.files
        if outcome.status == "failed"
    ]
    return out


def markdown(summary: RunSummary) -> str:
    rows = "\n".join(f"| {file_line(i, o)} |" for i, o in summary.files) or "| nothing new |"
    flags = "\n".join(f"| {action} | {n} |" for action, n in flag_counts(summary).items())
    return (
        f"# repflow run {summary.run_id}\n\n"
        f"**Status:** {summary.status}\n\n"
        f"| files seen | loaded | duplicate | failed | sets new | revised | rejected |\n"
        f"|---|---|---|---|---|---|---|\n"
        f"| {len(summary.files) + summary.seen_before} | {summary.count('loaded')} "
        f"| {summary.count('duplicate') + summary.seen_before} | {summary.count('failed')} "
        f"| {summary.total('loaded')} | {summary.total('revised')} "
        f"| {summary.total('rejected')} |\n\n"
        f"## Flags by action (as of {summary.as_of})\n\n| action | flags |\n|---|---|\n"
        f"{flags or '| (rules not re-run) | |'}\n\n"
        + (f"**Why no flag:** {summary.silence}\n\n" if summary.silence else "")
        + f"## Files\n\n| file |\n|---|\n{rows}\n"
        + "".join(f"\n**Not read** (no known format): {member}\n" for member in summary.unknown)
        + (
            f"\n**Ignored** (OS or sync junk): {', '.join(summary.ignored)}\n"
            if summary.ignored
            else ""
        )
    )


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
            "error": outcome.error,
        }
        for info, outcome in summary.files
    ]
