"""County policy: the catalogue plus every rule a county sets by configuration rather than code.

The worker resolves the policy once per case (an activity) so a policy change never alters a running
case's history.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.catalogue import SUPERVISOR_LABEL, MatterDefinition, active_catalogue
from domain.enums import CertificateIssuer, Channel, Department, MaterialKind, MatterCode, Recipient

_I = CertificateIssuer




class LadderPolicy(BaseModel):
    """The escalation ladder (docs/domain.md, "The escalation ladder"), in working days."""

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
    # A matter under review with neither a deadline nor a ladder step ahead (no normal path leaves one so)
    # looks at itself again after this long.
    long_overdue_reminder_every: timedelta = timedelta(days=30)
    # A funeral home's certificate that no application follows closes after this long.
    application_timeout: timedelta = timedelta(days=90)
    # Reminders to the funeral home stop after this many; then the supervisor handles it by hand.
    cremation_reminders_max: int = Field(default=5, ge=1)
    # A payment the paying system has not confirmed after this many working days goes to the supervisor.
    payment_confirmation_working_days: int = Field(default=3, ge=1)
    # Reminders counted in working days: at this hour local on a working
    # day, each saying how many working days the wait has lasted, at most so many per wait.
    reminder_hour: int = Field(default=9, ge=0, le=23)
    payment_reminder_every_working_days: int = Field(default=1, ge=1)
    payment_reminders_max: int = Field(default=5, ge=1)
    materials_reminder_every_working_days: int = Field(default=5, ge=1)
    materials_reminders_max: int = Field(default=4, ge=1)
    long_overdue_reminder_every_working_days: int = Field(default=20, ge=1)
    long_overdue_reminders_max: int = Field(default=6, ge=1)


class DeathCertificateRules(BaseModel):
    """Who may sign the 居民死亡医学证明（推断）书 for each kind of death.

    From ``switch_date`` home deaths are certified on the national electronic certificate by township or
    community health centres; before it, and for ``transition_days`` after it, the village or residents'
    committee's certificate is accepted too, as is the new kind issued early.
    """

    model_config = ConfigDict(frozen=True)

    switch_date: date = date(2026, 7, 1)
    transition_days: int = Field(default=90, ge=0)
    home_before: frozenset[CertificateIssuer] = frozenset(
        {_I.VILLAGE_COMMITTEE, _I.COMMUNITY, _I.TOWNSHIP_HEALTH_CENTRE, _I.COMMUNITY_HEALTH_CENTRE}
    )
    home_from: frozenset[CertificateIssuer] = frozenset({_I.TOWNSHIP_HEALTH_CENTRE, _I.COMMUNITY_HEALTH_CENTRE})
    medical: frozenset[CertificateIssuer] = frozenset({_I.MEDICAL_INSTITUTION, _I.CARE_HOME_CLINIC})
    # A death in a 医养结合 care home (``home``) certified by the home's own clinic: accepted whatever the date.
    care_home: frozenset[CertificateIssuer] = frozenset({_I.CARE_HOME_CLINIC})

    def home_issuers(self, death_date: date) -> frozenset[CertificateIssuer]:
        if death_date < self.switch_date + timedelta(days=self.transition_days):
            return self.home_before | self.care_home
        return self.home_from | self.care_home


class WindowPlace(BaseModel):
    """Where and when the county's “一件事一次办” window receives families: told to those the online
    channel cannot serve and to families asked to bring materials (补正). Example values: set the county's
    own in the policy file."""

    model_config = ConfigDict(frozen=True)

    name: str = "固阳县政务服务中心“一件事一次办”窗口"
    address: str = "固阳县金山镇政务服务中心一楼"
    hours: str = "工作日 9:00–12:00，13:30–17:30（法定节假日除外）"
    phone: str = "0472-8121234"


class StaffContacts(BaseModel):
    """The mobile numbers staff notices go to (the dispatcher's recipients other than the family).

    Example numbers: a county sets its own in the policy file. Kept out of every serialised copy of the
    policy (``exclude``), so no staff number enters a workflow's history.
    """

    model_config = ConfigDict(frozen=True)

    departments: dict[Department, str] = Field(default_factory=lambda: {
        department: f"1390472{index:04d}" for index, department in enumerate(Department, start=1)
    })
    department_heads: dict[Department, str] = Field(default_factory=lambda: {
        department: f"1390472{index:04d}" for index, department in enumerate(Department, start=101)
    })
    supervisor: str = "13904720200"
    funeral_home: str = "13904720300"

    def number_for(self, recipient: Recipient, department: Department | None) -> str | None:
        """The number a staff notice goes to; None when the policy names none."""
        if recipient is Recipient.SUPERVISOR:
            return self.supervisor or None
        if recipient is Recipient.FUNERAL_HOME:
            return self.funeral_home or None
        if department is None:
            return None
        if recipient is Recipient.DEPARTMENT:
            return self.departments.get(department)
        if recipient is Recipient.DEPARTMENT_HEAD:
            return self.department_heads.get(department)
        return None


class MatterPolicy(BaseModel):
    """The slice of the county policy a matter works under, fixed when the case pushes it."""

    model_config = ConfigDict(frozen=True)

    definition: MatterDefinition
    # The catalogue (domain/catalogue.py) the definition was copied from when the case started, and the name
    # of its supervising department (督办).
    catalogue_version: str | None = None
    supervisor_name: str | None = None
    timezone: str
    ladder: LadderPolicy
    waits: WaitPolicy
    supervisors: frozenset[str] = frozenset()


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True)

    county: str = "固阳县"
    insured_area: str = "中心城区"
    # Written before the county's name in an address ("内蒙古自治区包头市固阳县"); ignored when comparing.
    city: str = "包头市"
    province: str = "内蒙古自治区"
    timezone: str = "Asia/Shanghai"
    # The catalogue (domain/catalogue.py) the case started under: its version, and the enabled matters and
    # their reach; a new catalogue never changes a running case's (its history holds them).
    catalogue_version: str | None = None
    # What the officer's brief calls the questions and materials the catalogue adds (Catalogue.added_labels).
    catalogue_labels: dict[str, str] = Field(default_factory=dict)
    matters: tuple[MatterDefinition, ...] = Field(default_factory=lambda: active_catalogue().definitions())
    channel_departments: dict[Channel, frozenset[Department]] = Field(
        default_factory=lambda: active_catalogue().channel_departments()
    )
    ladder: LadderPolicy = LadderPolicy()
    waits: WaitPolicy = WaitPolicy()
    death_certificates: DeathCertificateRules = DeathCertificateRules()
    # What every application must bring, whatever its matters (each matter may add its own).
    base_materials: tuple[MaterialKind, ...] = Field(default_factory=lambda: active_catalogue().base_material_kinds())
    # Only these may extend a deadline (督办); an example name: set the county's own in the policy file.
    supervisors: frozenset[str] = frozenset({"张主任"})
    # Where staff open a scan by its SHA-256 (a matter's page links each material there); None: no links.
    # The worker of the embedded default sets its own codec server's address (runtime/materials.py).
    scan_url: str | None = None
    window: WindowPlace = WindowPlace()
    # Excluded from serialisation: the policy travels into workflow histories, staff numbers must not.
    contacts: StaffContacts = Field(default_factory=StaffContacts, exclude=True)

    def matter(self, code: MatterCode | str) -> MatterDefinition:
        for matter in self.matters:
            if matter.code == code:
                return matter
        raise KeyError(code)

    def for_case(self, codes: tuple[MatterCode, ...]) -> Policy:
        """The policy with only the matters one case runs (what its history keeps)."""
        return self.model_copy(update={"matters": tuple(m for m in self.matters if m.code in codes)})

    def for_matter(self, code: MatterCode | str) -> MatterPolicy:
        """What one matter's workflow needs of the county policy, and nothing more."""
        return MatterPolicy(definition=self.matter(code), catalogue_version=self.catalogue_version,
                            supervisor_name=self.catalogue_labels.get(SUPERVISOR_LABEL),
                            timezone=self.timezone, ladder=self.ladder, waits=self.waits, supervisors=self.supervisors)

    def departments_for(self, channel: Channel) -> frozenset[Department]:
        return self.channel_departments.get(channel, frozenset())
