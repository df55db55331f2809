"""Chinese text for families, staff and the audit trail, in one place."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.catalogue import DEPARTMENT_NAMES, MATERIAL_LABELS, MatterDefinition
from domain.enums import Department, EscalationStep, MaterialKind, MatterState

# The case's answer to a payee correction when none of its payments waits for one.
NO_FAILED_PAYMENT = "没有发放失败待重新发放的款项"


def case_received(case_number: str, matter_count: int) -> str:
    return f"您的身后“一件事一次办”申请已受理，受理编号{case_number}，共{matter_count}项事项，办理进度将及时告知。"


def invitation(case_number: str, county: str, address: str, hours: str) -> str:
    """The one SMS to the family when the funeral home opened the case; "在网上" gets the portal's address."""
    return (f"【{county}政务服务】您好，殡仪馆已为逝者办理火化登记，受理编号{case_number}。身后“一件事一次办”可到"
            f"{address}窗口（{hours}）或在网上一次申请，办理户口注销、养老金等事项。回复T退订。")


def hukou_cancelled(
    case_number: str, remaining: int = 0, *, awaiting_cremation: bool = False, withdrawn: bool = False
) -> str:
    """What is true when 户口注销 is approved: nothing else was applied for, the application was withdrawn
    meanwhile, the other matters wait for the cremation certificate, or they are pushed now."""
    if remaining and withdrawn:
        return f"受理编号{case_number}：逝者户口已注销；申请已撤回，其余{remaining}项事项不再推送。"
    if remaining == 0:
        return f"受理编号{case_number}：逝者户口已注销，本次申请无其他事项。"
    if awaiting_cremation:
        return (f"受理编号{case_number}：逝者户口已注销；其余{remaining}项事项待殡仪馆上传火化证明后"
                f"推送各部门办理，届时另行告知。")
    return f"受理编号{case_number}：逝者户口已注销，其余{remaining}项事项已同步推送各部门并联办理。"


def matters_pushed(case_number: str, count: int) -> str:
    """The cremation certificate arrived after 户口注销: the other matters are pushed now."""
    return f"受理编号{case_number}：已收到火化证明，其余{count}项事项已推送各部门并联办理。"


def hukou_carried(previous_case: str, certificate_no: str) -> str:
    """The timeline's entry when 户口注销 was approved in an earlier case of the same deceased."""
    return (f"户口注销已在前次申请{previous_case}中办结（户口注销证明{certificate_no}），本次沿用，"
            f"不再推送派出所")


def hukou_carried_reason(previous_case: str) -> str:
    return f"沿用前次申请{previous_case}的户口注销证明"


def reapplied(previous_case: str) -> str:
    return f"（前次申请{previous_case}未能办成，本次重新申请）"


def added_after(earlier_case: str) -> str:
    return f"（案件{earlier_case}已办结，本案件办理其后追加的事项）"


def matters_added(case_number: str, names: list[str], *, pushed: bool, earlier_case: str | None = None) -> str:
    """The family's message when matters are added to its case (or, after 办结, to a new linked case)."""
    listed = "、".join(f"“{name}”" for name in names)
    where = (f"已为您追加办理{listed}（原案件{earlier_case}已办结，追加事项受理编号{case_number}）"
             if earlier_case else f"受理编号{case_number}：已为您追加办理{listed}")
    then = "，已推送相关部门办理。" if pushed else "，将与其余事项一并推送相关部门办理。"
    return where + then


def matters_added_event(names: list[str], channel: str) -> str:
    where = "网上" if channel == "online" else "窗口"
    return f"{where}追加事项：{'、'.join(names)}"


def addition_accepted(case_number: str, count: int, names: str, *, pushed: bool) -> str:
    then = "已推送相关部门" if pushed else "将与其余事项一并推送"
    return f"已追加{count}项事项（{names}），{then}，受理编号{case_number}"


def addition_duplicate(name: str, state: str) -> str:
    return f"“{name}”已在本案件中（{state}），不能重复追加"


def addition_present(name: str, case_number: str, state: str) -> str:
    return f"“{name}”已在案件{case_number}中办理（{state}），不能重复申请"


def added_case_received(case_number: str, earlier_case: str, names: list[str]) -> str:
    listed = "、".join(f"“{name}”" for name in names)
    return (f"您追加的{listed}已受理，受理编号{case_number}（原案件{earlier_case}已办结），"
            f"户口注销沿用原案件结果，办理进度将及时告知。")


def added_case_started(case_number: str, earlier_case: str) -> str:
    return f"案件{earlier_case}已办结，追加事项另行立案并关联原案件，受理编号{case_number}"


def addition_unknown(code: str) -> str:
    return f"本县暂未开通事项{code}"


ADDITION_HUKOU = "户口注销随申请办理，无需追加"
ADDITION_UNVERIFIED = "追加事项未经受理窗口或网上申请平台签名确认，不予受理"
# An addition the portal signed for matters only the window takes (domain/decisions.py, ``may_sign``).
ADDITION_PORTAL_REACH = "网上只能追加网上可办的事项，该追加不予受理；其余事项请到窗口办理"
ADDITION_UNAVAILABLE = "本案件暂不能追加事项"
ADDITION_NO_REGISTER = "本机无法读取案件登记库，不能追加事项"
ADDITION_HUKOU_FIRST = "户口注销尚未办结，不能追加事项，请重新申请（shenhou case start）"
ADDITION_TOO_MANY = "该逝者的案件已达上限，请到窗口人工处理"
ADDITION_REPEATED = "追加的事项有重复"
ADDITION_ACCOUNT_GIVEN = "本案件已登记收款账户；如需更改，请办理收款账户更正"
ADDITION_CARD_GIVEN = "本案件已登记逝者银行卡号"
ADDITION_ACCOUNT_NEEDED = "追加的事项需向家属发放款项，请填写收款账户"


def addition_refused_closed(state: str) -> str:
    return f"案件已{state}，不能追加事项"


ADDITION_NO_APPLICATION = "案件尚未收到家属申请，请先受理申请"
ADDITION_CLOSING = "案件正在办结，请稍后再追加（将另行立案并关联本案件）"


def matter_approved(matter: MatterDefinition) -> str:
    return f"“{matter.short_name}”已由{matter.department_name}审核通过。"


def claim_lapsing(case_number: str, matter: str, deadline: date, left: int) -> str:
    day = f"{deadline.year}年{deadline.month}月{deadline.day}日"
    return (f"受理编号{case_number}：逝者可申领的“{matter}”须在{day}前申请（尚余{left}个工作日），"
            f"逾期可能无法领取。请尽快到“一件事一次办”窗口申请。回复T退订。")


def one_withdrawn(case_number: str, matter: str) -> str:
    return f"受理编号{case_number}：您已撤回“{matter}”，其余事项继续办理。"


def one_withdrawn_event(matter: str, reason: str) -> str:
    return f"申请人撤回“{matter}”：{reason}；其余事项继续办理"


ONE_WITHDRAWN_ACK = "撤回已登记，该事项停止办理，其余事项继续"


def not_withdrawable(matter: str, state: str) -> str:
    return f"“{matter}”当前为{state}，不能撤回（已审核通过的款项照常发放）"


HUKOU_NOT_ALONE = "户口注销不能单独撤回；如不再办理，请撤回整个申请"


def no_benefit(officer: str) -> str:
    return f"经核查逝者无该项待遇，无需终止（{officer}）"


def no_benefit_family(matter: MatterDefinition) -> str:
    return f"“{matter.short_name}”经{matter.department_name}核查，逝者无该项待遇，无需办理。"


# The proofs that let an applicant who is not spouse, child or parent be paid (DOMAIN.md §9).
PROOF_TEXT = "亲属关系证明或继承权公证书"


def proof_awaited() -> str:
    return f"申请人不是逝者的配偶、子女或父母，款项待窗口核验{PROOF_TEXT}后发放"


def proof_awaited_family(matter: MatterDefinition, net: Decimal) -> str:
    return (f"“{matter.short_name}”已由{matter.department_name}审核通过，应发{net:.2f}元。"
            f"您不是逝者的配偶、子女或父母，请携带{PROOF_TEXT}到“一件事一次办”窗口核验，核验后发放。")


def proof_waiting(case_number: str, matter: MatterDefinition, days: int) -> str:
    return (f"受理编号{case_number}：“{matter.short_name}”的款项待核验{PROOF_TEXT}已{days}个工作日，"
            f"请尽快携带原件到“一件事一次办”窗口办理。")


def payee_proven(proof: str, document: str) -> str:
    return f"窗口已核验{_material(proof)}（{document}）"


PROOF_RECORDED = "已记录核验的亲属关系证明，待核验的款项随即发放"


def proof_kinds(kinds: tuple[str, ...]) -> str:
    return "核验的材料须为" + "或".join(_material(kind) for kind in kinds)


def _material(kind: str) -> str:
    """A material's name as the packaged catalogue has it (a county's own material shows its code)."""
    return MATERIAL_LABELS.get(MaterialKind(kind), kind)


def proof_required_at_intake(relationship: str) -> str:
    return f"申请人与逝者关系为{relationship}，领取款项须先在窗口核验{PROOF_TEXT}"


def matter_rejected(matter: MatterDefinition, reason: str) -> str:
    return f"“{matter.short_name}”经{matter.department_name}审核不予办理，原因：{reason}。"


def materials_requested(matter: MatterDefinition, items: list[str] | tuple[str, ...]) -> str:
    return f"“{matter.short_name}”需补正材料：{'、'.join(items)}。请携带材料至“一件事一次办”窗口补交。"


def money_sent(matter: MatterDefinition, amount: Decimal) -> str:
    return f"“{matter.short_name}”款项{amount:.2f}元已发放至您登记的银行账户，银行已确认到账。"


def approved_amount(matter: MatterDefinition, gross: Decimal, offset: Decimal, net: Decimal) -> str:
    """What was approved (核定) for the family, before the money moves."""
    if offset > 0:
        return (f"“{matter.short_name}”已由{matter.department_name}审核通过，核定{gross:.2f}元，"
                f"抵扣逝者身故后多领的{offset:.2f}元，实发{net:.2f}元，款项发放后另行告知。")
    return f"“{matter.short_name}”已由{matter.department_name}审核通过，核定{gross:.2f}元，款项发放后另行告知。"


def nothing_to_pay(matter: MatterDefinition, gross: Decimal, offset: Decimal) -> str:
    if offset > 0:
        return (f"“{matter.short_name}”已由{matter.department_name}审核通过，核定{gross:.2f}元，"
                f"与逝者身故后多领的{offset:.2f}元相抵，无款项发放。")
    return f"“{matter.short_name}”已由{matter.department_name}审核通过，无款项发放。"


def money_to_return(matter: MatterDefinition, gross: Decimal, offset: Decimal, due: Decimal) -> str:
    return (f"“{matter.short_name}”已由{matter.department_name}审核通过，核定{gross:.2f}元；逝者身故后多领"
            f"{offset:.2f}元，抵扣后尚需退回{due:.2f}元，无款项发放。请按{matter.department_name}的通知办理退回。")


def money_to_collect(case_number: str, matter: MatterDefinition, due: Decimal) -> str:
    return f"受理编号{case_number}的“{matter.short_name}”抵扣后家属尚需退回{due:.2f}元，请通知家属并办理追回。"


def payment_failed_family(matter: MatterDefinition) -> str:
    return f"“{matter.short_name}”款项未能转入您登记的银行账户，请携带本人银行卡到“一件事一次办”窗口更正收款账户。"


def payment_unconfirmed(case_number: str, matter: MatterDefinition, days: int, reference: str) -> str:
    return (f"受理编号{case_number}的“{matter.short_name}”款项已下达发放指令{days}个工作日，"
            f"支付系统仍未确认到账（凭证号{reference}），请核查。")


def deadline_moved(matter: MatterDefinition, deadline: str) -> str:
    return f"节假日安排已更新，“{matter.short_name}”的承诺期限调整为{deadline}。"


def hukou_rejected(case_number: str, reason: str) -> str:
    return (f"受理编号{case_number}：派出所未能办理逝者户口注销（原因：{reason}），其余事项因此未推送。"
            f"请核对户籍等信息后，到县政务大厅“一件事一次办”窗口重新申请，重新申请不受本次影响。")


def matter_withdrawn(matter: MatterDefinition, reason: str) -> str:
    return f"“{matter.short_name}”因申请人撤回申请已终止办理（{reason}）。"


def case_completed(case_number: str) -> str:
    return f"受理编号{case_number}：身后“一件事一次办”所有事项已办结。"


def case_withdrawn(case_number: str) -> str:
    return f"受理编号{case_number}：申请已按您的要求撤回。"


def cremation_manual(case_number: str, count: int) -> str:
    return (f"受理编号{case_number}：已提醒殡仪馆{count}次仍未收到火化证明，各联办事项无法推送，"
            f"请督办人员联系殡仪馆人工处理。")


def cremation_overdue(case_number: str, count: int) -> str:
    return f"受理编号{case_number}：火化证明尚未上传（第{count}次提醒），请殡仪馆尽快上传。"


def deadline_warning(case_number: str, matter: MatterDefinition, days: int) -> str:
    return f"预警：受理编号{case_number}的“{matter.short_name}”将于{days}个工作日内到期，请尽快办理。"


def deadline_overdue(case_number: str, matter: MatterDefinition) -> str:
    return f"超时：受理编号{case_number}的“{matter.short_name}”已超过承诺时限，请部门负责人督促办理。"


def deadline_reminder(case_number: str, matter: MatterDefinition, days: int) -> str:
    return f"催办：受理编号{case_number}的“{matter.short_name}”已超期{days}个工作日。"


def supervision(case_number: str, matter: MatterDefinition, days: int, bureau: str | None = None) -> str:
    """``bureau``: the supervising department's name in the catalogue the case started under."""
    return (
        f"督办：受理编号{case_number}的“{matter.short_name}”已超期{days}个工作日，"
        f"由{bureau or DEPARTMENT_NAMES[Department.SUPERVISION]}督办。"
    )


def materials_waiting(case_number: str, matter: MatterDefinition, days: int) -> str:
    return f"受理编号{case_number}：“{matter.short_name}”已等待补正材料{days}个工作日，请尽快到窗口补交。"


def payment_failed_waiting(case_number: str, matter: MatterDefinition, days: int) -> str:
    return f"受理编号{case_number}：“{matter.short_name}”款项发放失败已{days}个工作日，仍待更正收款账户后重新发放。"


def manual_handling(matter: MatterDefinition) -> str:
    return f"“{matter.short_name}”推送{matter.department_name}失败，已转人工处理。"


# --- a matter's timeline and audit trail ----------------------------------------------------------------

MATTER_ENDED = "事项办结"
PAYEE_CORRECTED = "收款账户已更正，重新下达发放指令"
UNKNOWN_SIGNAL = "不认识的操作名称，请检查拼写（如 approve、reject、request_materials）"
# What a deadline moved during 补正 was before (it had none).
PAUSED = "（暂停中）"


def decision_taken(state: str, reference: str | None = None) -> str:
    """The CLI's answer to a decision the matter applied; ``reference``: the payment instruction it gave."""
    if reference is None:
        return f"决定已受理，事项状态：{state}"
    return f"决定已受理，事项状态：{state}，发放凭证号{reference}（待支付系统确认到账）"


def last_refusal(action: str, reason: str) -> str:
    return f"最近一次被拒绝的操作：{action}——{reason}"


def refused(action: str, reason: str, by: str | None) -> str:
    return f"拒绝{by}的操作{action}：{reason}" if by else f"拒绝操作{action}：{reason}"


def push_summary(matter: MatterDefinition) -> str:
    return f"推送{matter.department_name}，计算承诺期限"


def pushed(matter: MatterDefinition, manual: bool, stop: date | None = None) -> str:
    event = f"已推送{matter.department_name}，承诺时限{matter.time_limit_working_days}个工作日"
    if stop is not None:
        event += f"，{stops_on(stop)}"
    return event + "（推送失败，转人工处理）" if manual else event


def approved(officer: str) -> str:
    return f"审核通过（{officer}）"


def stops_on(day: date) -> str:
    """A termination's stop date, as its push and status show it."""
    return f"停发日期{day:%Y-%m-%d}"


def approved_money(gross: Decimal, offset: Decimal, source: str | None, net: Decimal, stop: date | None = None
                   ) -> str:
    """What an approval of money adds to its timeline entry: the amounts, and what is paid or returned; 多领 is
    what was paid on or after a termination's stop date."""
    after = f"，{stops_on(stop)}后所发" if stop else ""
    text = f"，核定{gross:.2f}元" + (f"，抵扣多领{offset:.2f}元（{source}{after}）" if offset else "")
    if net > 0:
        return text + f"，实发{net:.2f}元"
    if net == 0:
        return text + "，无款项发放"
    return text + f"，家属尚需退回{-net:.2f}元"


def payment_not_instructed(cause: str) -> str:
    return f"款项发放失败：{cause}，待更正收款账户"


def payment_instructed(amount: Decimal, reference: str) -> str:
    return f"已下达发放指令{amount:.2f}元，凭证号{reference}，待支付系统确认到账"


def payment_confirmed(amount: Decimal, by: str, reference: str) -> str:
    return f"支付系统确认到账{amount:.2f}元（{by}），凭证号{reference}"


def payment_reported_failed(by: str, reason: str) -> str:
    return f"支付系统报告发放失败（{by}）：{reason}，待更正收款账户"


def payment_unconfirmed_handling(days: int) -> str:
    """Why an unconfirmed payment is flagged for manual handling."""
    return f"款项下达指令{days}个工作日未确认到账"


def rejected(officer: str, reason: str) -> str:
    return f"不予办理（{officer}）：{reason}"


def paused(officer: str, items: list[str] | tuple[str, ...], remaining: int, overdue: bool) -> str:
    left = "已超期，补正后仍按超期督办" if overdue else f"剩余{remaining}个工作日"
    return f"要求补正（{officer}）：{'、'.join(items)}；计时暂停，{left}"


def resumed(items: list[str] | tuple[str, ...], remaining: int) -> str:
    left = f"剩余{remaining}个工作日" if remaining else "已超期，继续督办"
    return f"材料已补正：{'、'.join(items)}；恢复计时，{left}"


def extended(supervisor: str, working_days: int, reason: str) -> str:
    return f"督办人{supervisor}延长时限{working_days}个工作日：{reason}"


def withdrawn(reason: str) -> str:
    return f"申请人撤回，事项终止：{reason}"


def deadline_replanned(was: str, now: str) -> str:
    return f"节假日安排更新，承诺期限由{was}调整为{now}"


def warning_fired(days_before: int) -> str:
    return f"预警：距承诺时限不足{days_before}个工作日"


OVERDUE_FIRED = "超时：已超过承诺时限，已通知部门负责人"


def supervision_fired(days: int) -> str:
    return f"督办：已超期{days}个工作日，县政务服务局督办"


def reminder_fired(days: int) -> str:
    return f"催办：已超期{days}个工作日"


# Added to a ladder step's entry when its date was counted without the official holiday schedule.
APPROXIMATE = "（日期按法定节假日规则推算，以官方安排为准）"

# --- what a matter's next timer is for (its summary in the Web UI) -------------------------------------------

_WAIT_NAMES = {
    MatterState.PAYING.value: "提醒支付系统未确认到账",
    MatterState.PAYMENT_FAILED.value: "提醒发放失败待更正账户",
    MatterState.AWAITING_PROOF.value: "提醒家属到窗口核验亲属关系证明",
    MatterState.AWAITING_MATERIALS.value: "提醒家属补正材料",
    "long_overdue": "长期超期提醒督办",
}
# A matter under review with no ladder step ahead looks at itself again.
TIMER_CHECK = "到期检查"


def timer_for_wait(wait: str, days: int) -> str:
    return f"{_WAIT_NAMES.get(wait, '提醒')}（已{days}个工作日）"


def timer_for_rung(step: EscalationStep, days_overdue: int) -> str:
    if step == EscalationStep.WARNING:
        return "预警：承诺期限将至"
    if step == EscalationStep.OVERDUE:
        return "超时：承诺期限届满"
    name = "督办" if step == EscalationStep.SUPERVISION else "催办"
    return f"{name}：超期{days_overdue}个工作日"
