"""Main's catalogue as it was written in Python before the catalogue became a file (domain/catalogue.yaml),
kept verbatim: tests/domain/test_catalogue.py checks that the packaged file reproduces it exactly."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from domain.enums import Channel, Department, MaterialKind, MatterCode, PensionStatus

DEPARTMENT_NAMES: dict[Department, str] = {
    Department.POLICE: "公安局（户籍地派出所）",
    Department.HRSS: "人社局",
    Department.NHSA: "医保局",
    Department.MCA: "民政局",
    Department.HPF: "住房公积金中心",
    Department.DPF: "残联",
    Department.VA: "退役军人事务局",
    Department.SUPERVISION: "县政务服务局",
}


MATERIAL_LABELS: dict[MaterialKind, str] = {
    MaterialKind.REGISTRATION_FORM: "身后“一件事一次办”登记表",
    MaterialKind.DEATH_CERTIFICATE: "居民死亡医学证明（推断）书",
    MaterialKind.DECEASED_ID_CARD: "逝者身份证",
    MaterialKind.DECEASED_HUKOU_BOOK: "逝者户口簿",
    MaterialKind.DECEASED_BANK_CARD: "逝者银行卡",
    MaterialKind.APPLICANT_ID_CARD: "申请人身份证",
    MaterialKind.APPLICANT_HUKOU_BOOK: "申请人户口簿",
    MaterialKind.APPLICANT_BANK_CARD: "申请人收款银行卡",
    MaterialKind.RELATIONSHIP_PROOF: "亲属关系证明",
    MaterialKind.PAYEE_AUTHORISATION: "收款委托书",
    MaterialKind.OTHER: "其他材料",
}

# What every application brings to the window (seed §三(二)2), whatever matters it chooses.
BASE_MATERIALS: tuple[MaterialKind, ...] = (
    MaterialKind.REGISTRATION_FORM,
    MaterialKind.DEATH_CERTIFICATE,
    MaterialKind.DECEASED_ID_CARD,
    MaterialKind.DECEASED_HUKOU_BOOK,
    MaterialKind.APPLICANT_ID_CARD,
    MaterialKind.APPLICANT_HUKOU_BOOK,
)
# Matters that pay the family also need the card the money goes to; pensions the deceased's card too.
_PAYS = (MaterialKind.APPLICANT_BANK_CARD,)
_PENSION = (MaterialKind.APPLICANT_BANK_CARD, MaterialKind.DECEASED_BANK_CARD)


class MatterDefinition(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: MatterCode
    department: Department
    name: str
    short_name: str
    pays_family: bool
    time_limit_working_days: int
    max_amount: Decimal | None = None
    # Beyond BASE_MATERIALS; checked at intake and listed with every other problem (一次告知).
    required_materials: tuple[MaterialKind, ...] = ()

    @property
    def department_name(self) -> str:
        return DEPARTMENT_NAMES[self.department]


_M = MatterCode
_D = Department

DEFAULT_MATTERS: tuple[MatterDefinition, ...] = (
    MatterDefinition(
        code=_M.HUKOU_CANCELLATION, department=_D.POLICE, name="死亡人员户口注销",
        short_name="户口注销", pays_family=False, time_limit_working_days=2,
    ),
    MatterDefinition(
        code=_M.ENTERPRISE_RETIREE_DEATH_BENEFIT, department=_D.HRSS,
        name="退休企业职工死亡个人账户一次性待遇申领（含丧葬补助金、抚恤金）",
        short_name="企业退休职工死亡待遇", pays_family=True, time_limit_working_days=15,
        max_amount=Decimal("1000000.00"),
        required_materials=_PENSION,
    ),
    MatterDefinition(
        code=_M.ENTERPRISE_EMPLOYEE_DEATH_BENEFIT, department=_D.HRSS,
        name="在职企业职工死亡个人账户一次性待遇申领（含丧葬补助金、抚恤金）",
        short_name="企业在职职工死亡待遇", pays_family=True, time_limit_working_days=15,
        max_amount=Decimal("1000000.00"),
        required_materials=_PENSION,
    ),
    MatterDefinition(
        code=_M.INSTITUTION_EMPLOYEE_DEATH_TERMINATION, department=_D.HRSS,
        name="机关事业单位人员在职死亡终止参保（含个人账户一次性待遇）",
        short_name="机关事业在职死亡终止参保", pays_family=True, time_limit_working_days=15,
        max_amount=Decimal("1000000.00"),
        required_materials=_PENSION,
    ),
    MatterDefinition(
        code=_M.INSTITUTION_RETIREE_DEATH_TERMINATION, department=_D.HRSS,
        name="机关事业单位人员退休死亡终止发放",
        short_name="机关事业退休死亡终止发放", pays_family=True, time_limit_working_days=15,
        max_amount=Decimal("1000000.00"),
        required_materials=_PENSION,
    ),
    MatterDefinition(
        code=_M.RESIDENT_PENSION_FUNERAL_SUBSIDY, department=_D.HRSS,
        name="城乡居民养老保险丧葬补助金申领",
        short_name="城乡居民丧葬补助金", pays_family=True, time_limit_working_days=15,
        max_amount=Decimal("100000.00"),
        required_materials=_PENSION,
    ),
    MatterDefinition(
        code=_M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT, department=_D.NHSA,
        name="城镇职工医疗保险个人账户余额提现（清算）",
        short_name="医保个人账户清算", pays_family=True, time_limit_working_days=5,
        max_amount=Decimal("1000000.00"),
        required_materials=_PAYS,
    ),
    MatterDefinition(
        code=_M.SOCIAL_ASSISTANCE_TERMINATION, department=_D.MCA,
        name="死亡人员社会救助待遇注销（低保、特困等）",
        short_name="社会救助待遇注销", pays_family=False, time_limit_working_days=5,
    ),
    MatterDefinition(
        code=_M.PROVIDENT_FUND_DEATH_WITHDRAWAL, department=_D.HPF,
        name="职工死亡或宣告死亡提取",
        short_name="公积金死亡提取", pays_family=True, time_limit_working_days=3,
        max_amount=Decimal("5000000.00"),
        required_materials=_PAYS,
    ),
    MatterDefinition(
        code=_M.DISABILITY_SUBSIDY_TERMINATION, department=_D.DPF,
        name="困难残疾人员生活补贴和重度残疾人员护理补贴终止",
        short_name="残疾人补贴终止", pays_family=False, time_limit_working_days=5,
    ),
    MatterDefinition(
        code=_M.PREFERENTIAL_BENEFIT_TERMINATION, department=_D.VA,
        name="优抚对象丧葬补助费和抚恤金待遇终止",
        short_name="优抚待遇终止", pays_family=True, time_limit_working_days=10,
        max_amount=Decimal("1000000.00"),
        required_materials=_PAYS,
    ),
)

PENSION_MATTERS: dict[PensionStatus, MatterCode] = {
    PensionStatus.ENTERPRISE_RETIREE: _M.ENTERPRISE_RETIREE_DEATH_BENEFIT,
    PensionStatus.ENTERPRISE_EMPLOYEE: _M.ENTERPRISE_EMPLOYEE_DEATH_BENEFIT,
    PensionStatus.INSTITUTION_EMPLOYEE: _M.INSTITUTION_EMPLOYEE_DEATH_TERMINATION,
    PensionStatus.INSTITUTION_RETIREE: _M.INSTITUTION_RETIREE_DEATH_TERMINATION,
    PensionStatus.RESIDENT_PENSIONER: _M.RESIDENT_PENSION_FUNERAL_SUBSIDY,
}

# Seed §三(三)2: online applications are approved by 公安, 人社, 医保 and 残联 only.
DEFAULT_CHANNEL_DEPARTMENTS: dict[Channel, frozenset[Department]] = {
    Channel.WINDOW: frozenset(_D) - {_D.SUPERVISION},
    Channel.ONLINE: frozenset({_D.POLICE, _D.HRSS, _D.NHSA, _D.DPF}),
}
