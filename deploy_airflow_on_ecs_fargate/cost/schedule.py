"""Scheduled scaling actions -> the average number of tasks a service runs.

A scalable target's scheduled actions set MinCapacity/MaxCapacity at cron times in a time zone;
the service then runs its desired count clamped to that range. Averaging over a whole reference
year counts weekends, month lengths and daylight-saving shifts the way the bill will.

Cron format (six fields: minutes hours day-of-month month day-of-week year), as Application
Auto Scaling reads it:
https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The year the average is taken over: fixed, so the same template always gives the same figure.
REFERENCE_YEAR = 2026
# Actions that fired before the year starts decide the capacity on 1 January (monthly schedules
# need a month of history).
_WARM_UP_DAYS = 45

_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1
    )
}


class ScheduleError(ValueError):
    """A schedule this estimate cannot evaluate; the message names the expression."""


@dataclass(frozen=True)
class ScheduledAction:
    schedule: str
    timezone: str = "UTC"
    min_capacity: int | None = None
    max_capacity: int | None = None


@dataclass(frozen=True)
class CronSpec:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None: any day (the field is ? or *)
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # AWS numbering: 1 = Sunday ... 7 = Saturday
    years: frozenset[int] | None

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        if self.days_of_month is not None and day.day not in self.days_of_month:
            return False
        aws_weekday = (day.isoweekday() % 7) + 1  # isoweekday: Monday = 1 ... Sunday = 7
        return self.days_of_week is None or aws_weekday in self.days_of_week


def _field(text: str, low: int, high: int, names: dict[str, int], expression: str) -> frozenset[int] | None:
    if text in {"*", "?"}:
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"{expression}: bad step in {text!r}")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _value(first, names, expression), _value(last, names, expression)
        else:
            start = _value(part, names, expression)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise ScheduleError(f"{expression}: {text!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int], expression: str) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleError(f"{expression}: {text!r} is not supported by this estimate (use numbers, names, - , / * ?)")
    return int(text)


def parse_cron(expression: str) -> CronSpec:
    match = re.fullmatch(r"cron\((.+)\)", expression.strip())
    if not match or len(match.group(1).split()) != 6:
        raise ScheduleError(f"{expression}: only cron(...) schedules with six fields are supported")
    minutes, hours, days_of_month, months, days_of_week, years = match.group(1).split()
    every_minute = frozenset(range(60))
    every_hour = frozenset(range(24))
    every_month = frozenset(range(1, 13))
    return CronSpec(
        minutes=_field(minutes, 0, 59, {}, expression) or every_minute,
        hours=_field(hours, 0, 23, {}, expression) or every_hour,
        days_of_month=_field(days_of_month, 1, 31, {}, expression),
        months=_field(months, 1, 12, _MONTH_NAMES, expression) or every_month,
        days_of_week=_field(days_of_week, 1, 7, _DAY_NAMES, expression),
        years=_field(years, 1970, 2199, {}, expression),
    )


def firing_times(action: ScheduledAction, start: datetime, end: datetime) -> list[datetime]:
    """UTC instants in [start, end) at which ``action`` fires."""
    try:
        zone = ZoneInfo(action.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {action.timezone!r} in a scheduled action") from None
    spec = parse_cron(action.schedule)
    times: list[datetime] = []
    day = (start - timedelta(days=1)).astimezone(zone).date()
    last_day = (end + timedelta(days=1)).astimezone(zone).date()
    while day <= last_day:
        if spec.matches_day(day):
            for hour in sorted(spec.hours):
                for minute in sorted(spec.minutes):
                    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                    instant = local.astimezone(UTC)
                    if start <= instant < end:
                        times.append(instant)
        day += timedelta(days=1)
    return times


@dataclass(frozen=True)
class ScheduledCapacity:
    average_tasks: float
    reduced_share: float  # share of the hours the service runs fewer tasks than its desired count


def average_capacity(
    desired_count: int, actions: list[ScheduledAction], year: int = REFERENCE_YEAR
) -> ScheduledCapacity:
    """Average tasks of a service over ``year`` given its scheduled min/max capacity changes."""
    if not actions:
        return ScheduledCapacity(float(desired_count), 0.0)
    year_start = datetime(year, 1, 1, tzinfo=UTC)
    year_end = datetime(year + 1, 1, 1, tzinfo=UTC)
    events: list[tuple[datetime, ScheduledAction | None]] = []
    for action in actions:
        events.extend(
            (instant, action) for instant in firing_times(action, year_start - timedelta(days=_WARM_UP_DAYS), year_end)
        )
    events.sort(key=lambda event: event[0])

    # Each action clamps the service's current count into its new range; the count then stays
    # there (Application Auto Scaling does not restore the count the service had before).
    current = desired_count
    cursor = year_start
    task_seconds = 0.0
    reduced_seconds = 0.0
    for instant, change in [*events, (year_end, None)]:
        if instant > year_start:
            span = (min(instant, year_end) - cursor).total_seconds()
            if span > 0:
                task_seconds += current * span
                if current < desired_count:
                    reduced_seconds += span
                cursor = min(instant, year_end)
        if change is not None:
            if change.min_capacity is not None:
                current = max(current, change.min_capacity)
            if change.max_capacity is not None:
                current = min(current, change.max_capacity)
    total = (year_end - year_start).total_seconds()
    return ScheduledCapacity(task_seconds / total, reduced_seconds / total)
