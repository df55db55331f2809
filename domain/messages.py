"""Chinese text for families, staff and the audit trail, in one place."""

from __future__ import annotations

from decimal import Decimal

from domain.catalogue import DEPARTMENT_NAMES, MatterDefinition
from domain.enums import Department


def case_received(case_number: str, matter_count: int) -> str:
    return f"您的身后“一件事一次办”申请已受理，受理编号{case_number}，共{matter_count}项事项，办理进度将及时告知。"


def hukou_cancelled(case_number: str) -> str:
    return f"受理编号{case_number}：逝者户口已注销，其余事项已同步推送各部门并联办理。"


def matter_approved(matter: MatterDefinition) -> str:
    return f"“{matter.short_name}”已由{matter.department_name}审核通过。"


def matter_rejected(matter: MatterDefinition, reason: str) -> str:
    return f"“{matter.short_name}”经{matter.department_name}审核不予办理，原因：{reason}。"


def materials_requested(matter: MatterDefinition, items: list[str] | tuple[str, ...]) -> str:
    return f"“{matter.short_name}”需补正材料：{'、'.join(items)}。请携带材料至“一件事一次办”窗口补交。"


def money_sent(matter: MatterDefinition, amount: Decimal) -> str:
    return f"“{matter.short_name}”款项{amount:.2f}元已发放至您登记的银行账户。"


def matter_withdrawn(matter: MatterDefinition, reason: str) -> str:
    return f"“{matter.short_name}”因申请人撤回申请已终止办理（{reason}）。"


def case_completed(case_number: str) -> str:
    return f"受理编号{case_number}：身后“一件事一次办”所有事项已办结。"


def case_withdrawn(case_number: str) -> str:
    return f"受理编号{case_number}：申请已按您的要求撤回。"


def cremation_overdue(case_number: str, count: int) -> str:
    return f"受理编号{case_number}：火化证明尚未上传（第{count}次提醒），请殡仪馆尽快上传。"


def deadline_warning(case_number: str, matter: MatterDefinition, days: int) -> str:
    return f"预警：受理编号{case_number}的“{matter.short_name}”将于{days}个工作日内到期，请尽快办理。"


def deadline_overdue(case_number: str, matter: MatterDefinition) -> str:
    return f"超时：受理编号{case_number}的“{matter.short_name}”已超过承诺时限，请部门负责人督促办理。"


def deadline_reminder(case_number: str, matter: MatterDefinition, days: int) -> str:
    return f"催办：受理编号{case_number}的“{matter.short_name}”已超期{days}个工作日。"


def supervision(case_number: str, matter: MatterDefinition, days: int) -> str:
    return (
        f"督办：受理编号{case_number}的“{matter.short_name}”已超期{days}个工作日，"
        f"由{DEPARTMENT_NAMES[Department.SUPERVISION]}督办。"
    )


def materials_reminder(case_number: str, matter: MatterDefinition, count: int) -> str:
    return f"受理编号{case_number}：“{matter.short_name}”仍在等待补正材料（第{count}次提醒）。"


def manual_handling(matter: MatterDefinition) -> str:
    return f"“{matter.short_name}”推送{matter.department_name}失败，已转人工处理。"
