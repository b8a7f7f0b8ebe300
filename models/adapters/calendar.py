"""iCalendar exports (Outlook/Exchange, Google, Apple) to canonical `meetings` rows, and back.

Output columns are the contract's meeting columns, all Utf8 like any other landed source:
started_at is naive local time in the program's zone (`YYYY-MM-DDTHH:MM:SS`), duration_min is a
number as text (`30`, `37.5`). `_source_row` is the 1-based position of the VEVENT in the file.

Choices (documented in docs/mapping.md):
- Recurring series are expanded up to `as_of` (occurrences starting before it), EXDATE and
  RECURRENCE-ID overrides respected. A recurring instance's meeting_id is
  `<UID>/<original start>` (RFC 5545 form: `20240105T150000Z` for zoned times, no `Z` for
  floating ones, `20240105` for dates), so it is stable across re-exports even when the
  instance is moved. A single event's meeting_id is its UID; an event without UID gets
  `ics-<hash of its content>`.
- Aware times are converted to the program zone; floating times are taken as already local.
  TZIDs resolve through the file's VTIMEZONE, then IANA, then Windows names (icalendar maps
  "Pacific Standard Time" etc.). A TZID nothing resolves is rejected rather than guessed.
- All-day events start at local midnight with duration_min null: a calendar block says nothing
  about how long people met, and 1440 minutes would swamp every contact-hours metric.
- STATUS:CANCELLED (or a METHOD:CANCEL file) gives status `cancelled`; `X-MENTORSCOPE-STATUS`
  (written by `meetings_to_ics`) carries `no_show`; anything else is `held`.
- mode, initiated_by, agenda_shared and questions_prepared stay null: LOCATION text is too
  unreliable to guess a mode from.
- Outlook writes `BYDAY=MO, TU` with spaces, which icalendar refuses; such an RRULE is repaired by
  removing the whitespace. Any other broken property rejects its event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl

from models.adapters.rejection import Rejection
from models.adapters.text_table import SOURCE_ROW

if TYPE_CHECKING:
    from icalendar import Component

MEETING_COLUMNS = (
    "meeting_id",
    "match_id",
    "started_at",
    "duration_min",
    "mode",
    "initiated_by",
    "agenda_shared",
    "questions_prepared",
    "status",
)
STATUS_PROPERTY = "X-MENTORSCOPE-STATUS"
_EARLIEST = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class EventInfo:
    """What a match resolver may look at: lower-cased attendee and organizer addresses."""

    uid: str
    summary: str
    emails: frozenset[str]
    organizer: str | None


MatchResolver = Mapping[frozenset[str], str] | Callable[[EventInfo], str | None]


def pair_resolver(emails_by_match: Mapping[str, Iterable[str]]) -> dict[frozenset[str], str]:
    """A resolver from match_id -> the addresses of its mentor and mentee."""
    return {
        frozenset(e.strip().casefold() for e in emails): m for m, emails in emails_by_match.items()
    }


def summary_pattern_resolver(pattern: str) -> Callable[[EventInfo], str | None]:
    """A resolver reading the match id from SUMMARY via a regex with a `match_id` group."""
    compiled = re.compile(pattern)

    def resolve(info: EventInfo) -> str | None:
        found = compiled.search(info.summary)
        return found.group("match_id") if found else None

    return resolve


def resolve_match(resolver: MatchResolver, info: EventInfo) -> tuple[str | None, str, str]:
    """(match_id or None, rule, reason). A pair matches when all its addresses are on the event;
    extra guests (a coordinator, a room) do not prevent it."""
    if callable(resolver):
        found = resolver(info)
        return found, "no_match", "the match rule found no match for this event"
    hits = sorted({m for key, m in resolver.items() if key and key <= info.emails})
    if len(hits) == 1:
        return hits[0], "", ""
    if hits:
        return None, "ambiguous_match", f"attendees fit several matches: {hits}"
    return (
        None,
        "no_match",
        f"none of the event's {len(info.emails)} attendee/organizer addresses form a known match",
    )


def _address(value: object) -> str:
    return re.sub(r"(?i)^mailto:", "", str(value)).strip().casefold()


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _event_info(event: Component, uid: str) -> EventInfo:
    organizer = _address(event["ORGANIZER"]) if event.get("ORGANIZER") else None
    emails = {_address(a) for a in _as_list(event.get("ATTENDEE"))}
    if organizer:
        emails.add(organizer)
    emails.discard("")
    return EventInfo(uid, str(event.get("SUMMARY", "")), frozenset(emails), organizer)


def _ical_key(value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.strftime("%Y%m%dT%H%M%S")
        return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(round(float(value), 6))


def _components(data: bytes) -> list[Component]:
    import icalendar

    found = icalendar.Component.from_ical(data, multiple=True)
    return list(found)


def _file_rejection(path: Path, reason: str) -> Rejection:
    return Rejection(str(path), "", "ics_parse", reason)


def _read_components(path: Path) -> tuple[list[Component], list[Rejection]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [_file_rejection(path, f"cannot read the file: {exc}")]
    try:
        components = _components(data)
    except Exception as exc:  # icalendar raises ValueError and friends on garbage
        return [], [_file_rejection(path, f"not an iCalendar file: {exc}")]
    if not components:
        text = data.decode("utf-8", errors="replace").upper()
        reason = "no complete iCalendar component in the file"
        if "BEGIN:VCALENDAR" in text and "END:VCALENDAR" not in text:
            reason += " (BEGIN:VCALENDAR has no END:VCALENDAR: a truncated export?)"
        return [], [_file_rejection(path, reason)]
    return components, []


def _events(components: list[Component]) -> list[tuple[Component, Component | None]]:
    """(VEVENT, its VCALENDAR or None) in file order, bare VEVENTs included."""
    events = []
    for component in components:
        if component.name == "VEVENT":
            events.append((component, None))
        else:
            events.extend((event, component) for event in component.walk("VEVENT"))
    return events


def _repair(event: Component) -> list[tuple[str, str]]:
    """Fix what is known to be harmless; return the errors that remain."""
    import icalendar

    remaining = []
    for prop, message in event.errors:
        if prop == "RRULE":
            raw = event.get("RRULE")
            try:
                event["RRULE"] = icalendar.vRecur.from_ical(re.sub(r"\s+", "", str(raw)))
                continue
            except (ValueError, TypeError):
                pass
        remaining.append((prop, message))
    return remaining


def _uid(event: Component) -> str:
    uid = str(event.get("UID", "")).strip()
    if uid:
        return uid
    return "ics-" + hashlib.sha256(event.to_ical()).hexdigest()[:16]


def _check(event: Component) -> str | None:
    """Why an event cannot be used, or None."""
    remaining = _repair(event)
    if remaining:
        return "; ".join(f"malformed {p}: {m}" for p, m in remaining)
    if event.get("DTSTART") is None:
        return "the event has no DTSTART"
    start = event["DTSTART"]
    if "TZID" in start.params and isinstance(start.dt, dt.datetime) and start.dt.tzinfo is None:
        return f"unknown time zone TZID={start.params['TZID']!r} (no VTIMEZONE, IANA or Windows)"
    try:
        if (event.get("DTEND") or event.get("DURATION")) and event.end < event.start:
            return "the event ends before it starts"
    except (TypeError, ValueError) as exc:
        return f"cannot compute its end: {exc}"
    return None


def _as_of_bound(as_of: dt.date, zone: ZoneInfo) -> dt.datetime:
    if isinstance(as_of, dt.datetime):
        return as_of if as_of.tzinfo else as_of.replace(tzinfo=zone)
    # A date means "through that day".
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=zone)


def ics_to_meetings(
    path: Path | str,
    match_resolver: MatchResolver,
    as_of: dt.date,
    default_tz: str,
) -> tuple[pl.DataFrame, list[Rejection]]:
    """Meetings from one .ics file, in `default_tz` local time; problems come back as rejections.

    `as_of`: occurrences starting before it are kept (a date means through its end; a naive
    datetime is in `default_tz`). Events are expanded with recurring-ical-events.
    """
    import icalendar
    import recurring_ical_events

    path = Path(path)
    zone = ZoneInfo(default_tz)
    bound = _as_of_bound(as_of, zone)
    local_bound = bound.astimezone(zone).replace(tzinfo=None)
    components, rejections = _read_components(path)

    groups: dict[str, list[tuple[int, Component, Component | None]]] = {}
    for index, (event, calendar) in enumerate(_events(components), start=1):
        uid = _uid(event)
        problem = _check(event)
        if problem:
            rejections.append(
                Rejection(str(path), f"event {index} (uid {uid})", "ics_event", problem, index)
            )
            continue
        groups.setdefault(uid, []).append((index, event, calendar))

    rows: list[dict[str, str | int | None]] = []
    for uid, members in groups.items():
        index = members[0][0]
        calendar = members[0][2]
        wrapper = icalendar.Calendar()
        if calendar is not None and calendar.get("X-WR-TIMEZONE"):
            wrapper["X-WR-TIMEZONE"] = calendar["X-WR-TIMEZONE"]
        for _, event, _ in members:
            wrapper.add_component(event)
        cancelled_file = (
            calendar is not None and str(calendar.get("METHOD", "")).upper() == "CANCEL"
        )
        recurring = any(
            e.get("RRULE") or e.get("RDATE") or e.get("RECURRENCE-ID") for _, e, _ in members
        )
        has_end = any(e.get("DTEND") or e.get("DURATION") for _, e, _ in members)
        where = f"event {index} (uid {uid})"
        try:
            occurrences = list(recurring_ical_events.of(wrapper).between(_EARLIEST, bound))
        except Exception as exc:  # the library raises many types on odd rules
            rejections.append(
                Rejection(str(path), where, "ics_recurrence", f"cannot expand: {exc}", index)
            )
            continue
        for occurrence in occurrences:
            row = _meeting_row(occurrence, uid, recurring, has_end, zone, cancelled_file)
            if row["started_at_dt"] >= local_bound:
                continue
            info = _event_info(occurrence, uid)
            match_id, rule, reason = resolve_match(match_resolver, info)
            if match_id is None:
                rejections.append(
                    Rejection(
                        str(path),
                        f"{where} at {row['started_at']}",
                        rule,
                        reason,
                        index,
                        {
                            "meeting_id": str(row["meeting_id"]),
                            "emails": ", ".join(sorted(info.emails)),
                        },
                    )
                )
                continue
            row["match_id"] = match_id
            row[SOURCE_ROW] = index
            rows.append(row)
    return _frame(rows), rejections


def _meeting_row(
    occurrence: Component,
    uid: str,
    recurring: bool,
    has_end: bool,
    zone: ZoneInfo,
    cancelled_file: bool,
) -> dict:
    start = occurrence.start
    all_day = not isinstance(start, dt.datetime)
    if all_day:
        local = dt.datetime.combine(start, dt.time())
    elif start.tzinfo is not None:
        local = start.astimezone(zone).replace(tzinfo=None)
    else:
        local = start
    duration = None
    if has_end and not all_day:
        duration = _number_text((occurrence.end - start).total_seconds() / 60)
    original = occurrence.get("RECURRENCE-ID")
    key = _ical_key(original.dt if original is not None else start)
    status_text = str(occurrence.get("STATUS", "")).upper()
    own = str(occurrence.get(STATUS_PROPERTY, "")).strip().lower()
    if status_text == "CANCELLED" or cancelled_file:
        status = "cancelled"
    elif own in {"held", "cancelled", "no_show"}:
        status = own
    else:
        status = "held"
    return {
        "meeting_id": f"{uid}/{key}" if recurring else uid,
        "started_at": local.strftime("%Y-%m-%dT%H:%M:%S"),
        "started_at_dt": local,
        "duration_min": duration,
        "status": status,
    }


def _frame(rows: list[dict]) -> pl.DataFrame:
    schema = {c: pl.String for c in MEETING_COLUMNS} | {SOURCE_ROW: pl.Int64}
    data = {c: [r.get(c) for r in rows] for c in schema}
    return pl.DataFrame(data, schema=schema)


def _start_of(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return dt.datetime.fromisoformat(str(value))


def meetings_to_ics(
    meetings: pl.DataFrame,
    emails_by_match: Mapping[str, Iterable[str]],
    tz: str | None = None,
) -> str:
    """An .ics text with one VEVENT per meeting; `ics_to_meetings` reads the same rows back.

    started_at is naive local time: written in `tz` (with its VTIMEZONE) when given, else as
    floating time. DTSTAMP is the start time so the output is deterministic.
    """
    import icalendar

    zone = ZoneInfo(tz) if tz else None
    calendar = icalendar.Calendar()
    calendar.add("PRODID", "-//Mentorscope//adapters//EN")
    calendar.add("VERSION", "2.0")
    for row in meetings.iter_rows(named=True):
        start = _start_of(row["started_at"])
        if zone is not None:
            start = start.replace(tzinfo=zone)
        event = icalendar.Event()
        event.add("UID", str(row["meeting_id"]))
        event.add("SUMMARY", "Mentoring meeting")
        event.add("DTSTART", start)
        stamp = start.astimezone(dt.UTC) if start.tzinfo else start.replace(tzinfo=dt.UTC)
        event.add("DTSTAMP", stamp)
        duration = row.get("duration_min")
        if duration is not None and str(duration).strip() != "":
            event.add("DTEND", start + dt.timedelta(minutes=float(duration)))
        status = (row.get("status") or "held").strip().lower()
        event.add("STATUS", "CANCELLED" if status == "cancelled" else "CONFIRMED")
        if status == "no_show":
            event.add(STATUS_PROPERTY, "no_show")
        for email in sorted(emails_by_match.get(str(row["match_id"]), ())):
            event.add("ATTENDEE", f"mailto:{email}")
        calendar.add_component(event)
    if zone is not None:
        calendar.add_missing_timezones()
    return calendar.to_ical().decode("utf-8")
