"""County policy: the catalogue plus the knobs DOMAIN.md calls configuration.

The worker resolves the policy once per case (an activity) so a policy change never alters a running
case's history.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.catalogue import DEFAULT_CHANNEL_DEPARTMENTS, DEFAULT_MATTERS, MatterDefinition
from domain.enums import Channel, Department, MatterCode


class LadderPolicy(BaseModel):
    """The escalation ladder of DOMAIN.md §6, in working days."""

    model_config = ConfigDict(frozen=True)

    warning_working_days_before: int = Field(default=1, ge=0)
    reminder_every_working_days: int = Field(default=1, ge=1)
    supervision_after_working_days: int = Field(default=3, ge=1)
    # After this many working days overdue the ladder keeps reminding at a slower pace.
    daily_reminders_until: int = Field(default=10, ge=1)
    slow_reminder_every_working_days: int = Field(default=5, ge=1)


class WaitPolicy(BaseModel):
    """Bounds on waits that are not department deadlines."""

    model_config = ConfigDict(frozen=True)

    cremation_certificate_timeout: timedelta = timedelta(hours=4)
    cremation_reminder_every: timedelta = timedelta(days=1)
    materials_reminder_every: timedelta = timedelta(days=7)
    payment_retry_reminder_every: timedelta = timedelta(days=1)
    long_overdue_reminder_every: timedelta = timedelta(days=30)
    # A funeral home's certificate that no application follows closes after this long.
    application_timeout: timedelta = timedelta(days=90)


class MatterPolicy(BaseModel):
    """The slice of the county policy a matter works under, fixed when the case pushes it."""

    model_config = ConfigDict(frozen=True)

    definition: MatterDefinition
    timezone: str
    ladder: LadderPolicy
    waits: WaitPolicy


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True)

    county: str = "固阳县"
    insured_area: str = "中心城区"
    timezone: str = "Asia/Shanghai"
    matters: tuple[MatterDefinition, ...] = DEFAULT_MATTERS
    channel_departments: dict[Channel, frozenset[Department]] = Field(
        default_factory=lambda: dict(DEFAULT_CHANNEL_DEPARTMENTS)
    )
    ladder: LadderPolicy = LadderPolicy()
    waits: WaitPolicy = WaitPolicy()

    def matter(self, code: MatterCode | str) -> MatterDefinition:
        for matter in self.matters:
            if matter.code == code:
                return matter
        raise KeyError(code)

    def for_matter(self, code: MatterCode | str) -> MatterPolicy:
        """What one matter's workflow needs of the county policy, and nothing more."""
        return MatterPolicy(definition=self.matter(code), timezone=self.timezone, ladder=self.ladder, waits=self.waits)

    def departments_for(self, channel: Channel) -> frozenset[Department]:
        return self.channel_departments.get(channel, frozenset())
