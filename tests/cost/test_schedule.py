"""Scheduled actions -> average running tasks, with the arithmetic done by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deploy_airflow_on_ecs_fargate.cost.schedule import (
    ScheduledAction,
    ScheduleError,
    average_capacity,
    firing_times,
    parse_cron,
)

DOWN = "cron(0 20 ? * MON-FRI *)"
UP = "cron(0 7 ? * MON-FRI *)"


def test_no_schedule_means_the_desired_count_all_year() -> None:
    assert average_capacity(2, []).average_tasks == 2
    assert average_capacity(2, []).reduced_share == 0


def test_weekday_office_hours() -> None:
    actions = [ScheduledAction(DOWN, "UTC", 0, 0), ScheduledAction(UP, "UTC", 1, 3)]
    capacity = average_capacity(1, actions)
    # 2026 has 261 weekdays (365 days = 52 weeks + 1 day, and 1 January 2026 is a Thursday).
    # Up 07:00-20:00 on weekdays: 261 x 13 h = 3393 h of the year's 8760 h = 0.387329...
    assert capacity.average_tasks == pytest.approx(261 * 13 / 8760)
    assert capacity.reduced_share == pytest.approx(1 - 261 * 13 / 8760)


def test_the_time_zone_moves_the_firing_instant_with_daylight_saving() -> None:
    action = ScheduledAction(UP, "Europe/Lisbon", 1, 1)
    january = firing_times(action, datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))
    july = firing_times(action, datetime(2026, 7, 6, tzinfo=UTC), datetime(2026, 7, 7, tzinfo=UTC))
    # Lisbon is UTC+0 in winter and UTC+1 in summer: 07:00 local is 07:00 UTC, then 06:00 UTC.
    assert january == [datetime(2026, 1, 5, 7, 0, tzinfo=UTC)]
    assert july == [datetime(2026, 7, 6, 6, 0, tzinfo=UTC)]


def test_scale_up_returns_to_its_minimum_not_to_the_old_count() -> None:
    # Application Auto Scaling clamps the current count into the new range; it does not remember
    # the count before the night. Desired 2, night 0, morning min 1: the day runs 1 task.
    actions = [ScheduledAction("cron(0 20 * * ? *)", "UTC", 0, 0), ScheduledAction("cron(0 8 * * ? *)", "UTC", 1, 3)]
    capacity = average_capacity(2, actions)
    # 08:00-20:00 = 12 h a day at 1 task: 12 / 24 = 0.5 on average.
    assert capacity.average_tasks == pytest.approx(0.5)


def test_an_action_without_bounds_leaves_them_as_they_were() -> None:
    actions = [ScheduledAction("cron(0 20 * * ? *)", "UTC", 0, 0), ScheduledAction("cron(0 8 * * ? *)", "UTC")]
    assert average_capacity(1, actions).average_tasks == 0


def test_cron_fields() -> None:
    spec = parse_cron("cron(0/15 8-10 ? JAN,JUL MON-FRI *)")
    assert spec.minutes == {0, 15, 30, 45}
    assert spec.hours == {8, 9, 10}
    assert spec.months == {1, 7}
    assert spec.days_of_week == {2, 3, 4, 5, 6}  # AWS numbers days 1 (Sunday) to 7 (Saturday)
    spec = parse_cron("cron(30 6 ? * SUN,SAT 2026)")
    assert spec.days_of_week == {1, 7}
    assert spec.years == {2026}


@pytest.mark.parametrize(
    "expression", ["rate(5 minutes)", "cron(0 8 L * ? *)", "cron(0 8 ? * 6#3 *)", "cron(0 25 * * ? *)"]
)
def test_unsupported_or_invalid_schedules_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_cron(expression)
