"""The descriptions the Temporal UI shows beside each signal, query and update (Chinese, for staff)."""

# Who decided is verified from the sign-in (docs/architecture.md, "Who decided"); the typed name is not authority.
OFFICER_NOTE = "办理人身份以登录信息为准（须注明受理编号case_number和事项编码matter）；未登录的单机版记为“未核验身份”"

MATTER_APPROVE = (
    '审核通过。输入示例：{"officer": "经办人", "note": "备注", "amount": "1234.50", "overpaid": "300.00", "overpaid_source": "养老金多发1个月", "certificate_no": "户口注销证明编号", "case_number": "受理编号", "matter": "事项编码"}；发放款项的事项须填核定金额（无款项填0），逝者身故后多领的款项填overpaid及来源，户口注销须填证明编号；待遇终止事项经核查无该待遇的，填"no_benefit": true（不填金额）；'
    + OFFICER_NOTE
)
MATTER_REJECT = (
    '不予办理。输入示例：{"officer": "经办人", "reason": "不予办理的原因", "case_number": "受理编号", "matter": "事项编码"}；'
    + OFFICER_NOTE
)
MATTER_REQUEST_MATERIALS = (
    '要求补正材料（计时暂停）。输入示例：{"officer": "经办人", "items": ["需补交的材料"], "note": "备注", "case_number": "受理编号", "matter": "事项编码"}；'
    + OFFICER_NOTE
)
MATTER_MATERIALS_SUPPLEMENTED = (
    '家属已补正材料（计时恢复）。输入示例：{"matter": "事项编码", "items": ["已补交的材料"]}'
)
MATTER_EXTEND_DEADLINE = (
    '督办人延长承诺时限。输入示例：{"supervisor": "督办人", "working_days": 3, "reason": "延期原因", "case_number": "受理编号", "matter": "事项编码"}；'
    + OFFICER_NOTE
)
MATTER_WITHDRAW = (
    '（仅受理窗口签名的撤回有效，由案件转发；请在窗口办理 shenhou case withdraw）申请人撤回，未办结的事项终止。'
)
MATTER_PAYEE_CORRECTED = (
    '（仅受理窗口签名、指明本事项发放失败凭证号的更正有效，由案件转发；请在窗口办理 shenhou case correct-account）更正收款银行账户后重新发放。'
)
MATTER_PAYEE_PROVEN = (
    '（仅受理窗口签名的记录有效，由案件转发；请在窗口办理 shenhou case prove-relationship）记录已核验的亲属关系证明或继承权公证书，待核验的款项随即发放。'
)
MATTER_PAYMENT_CONFIRMED = (
    '（仅支付系统）确认款项已到账。须附支付系统对本报告的签名（signature），无签名或签名不符的一律拒绝并记录；在此手工发送不会被采信。'
)
MATTER_PAYMENT_FAILED = (
    '（仅支付系统）报告款项发放失败，转人工并等待更正收款账户。须附支付系统对本报告的签名（signature），无签名或签名不符的一律拒绝并记录。'
)
# The dynamic handler (it records misspelt names) is listed first and unnamed in the Web UI's Send a Signal
# dialog, which shows it as chosen until one is: its description reads as the prompt.
MATTER_UNKNOWN_SIGNAL = (
    "↓ 请在下方选择要发送的信号（如 approve 审核通过），此项本身不能发送；用 Custom 手工输入的名称拼错时记录为被拒绝的操作"
)
MATTER_DECIDE = (
    "经办人通过命令行作出决定（审核通过、不予办理、要求补正、登记补正材料、延长时限、确认到账、发放失败），立即返回是否受理"
)
MATTER_STATUS = (
    "查询事项的完整状态：状态、时限、决定、款项、被拒绝的操作"
)
CASE_CREMATION_CERTIFIED = (
    '殡仪馆上传火化证明。输入示例：{"certificate_no": "火化证明编号", "funeral_home": "固阳县殡仪馆", "cremated_on": "2026-11-20", "county": "固阳县"}'
)
CASE_MATERIALS_SUPPLEMENTED = (
    '窗口收到家属补正的材料，转给对应事项恢复计时。输入示例：{"matter": "hrss.enterprise_retiree_death_benefit", "items": ["已补交的材料"]}'
)
CASE_WITHDRAW = (
    '申请人撤回申请：未办结的事项终止，已审核通过的款项照常发放。须附受理窗口签名（请在窗口办理 shenhou case withdraw），无签名的一律拒绝并记录。'
)
CASE_BANK_ACCOUNT_CORRECTED = (
    '更正家属收款银行账户，发放失败的款项重新发放。仅在受理窗口办理（shenhou case correct-account），须附窗口签名；户名须为申请人本人，否则须登记委托原因和收款委托书编号。'
)
CASE_CERTIFY_CREMATION = (
    "殡仪馆或窗口通过命令行登记火化证明，立即返回是否受理"
)
CASE_WITHDRAW_APPLICATION = (
    "窗口通过命令行登记申请人撤回申请，立即返回是否受理"
)
CASE_PROVE_RELATIONSHIP = (
    "窗口通过命令行记录已核验的亲属关系证明或继承权公证书，立即返回是否受理；待核验的款项随即发放"
)
CASE_ADD_MATTERS = (
    "窗口通过命令行为同一逝者追加事项（窗口签名），立即返回是否受理；案件联办中的立即推送，其余随案件一并推送"
)
CASE_CORRECT_BANK_ACCOUNT = (
    "窗口通过命令行更正收款账户，立即返回是否受理；发放失败的款项重新发放"
)
# The dynamic handler (it records misspelt names) is listed first and unnamed in the Web UI's Send a Signal
# dialog, which shows it as chosen until one is: its description reads as the prompt.
CASE_UNKNOWN_SIGNAL = (
    "↓ 请在下方选择要发送的信号（如 approve 审核通过），此项本身不能发送；用 Custom 手工输入的名称拼错时记录为被拒绝的操作"
)
CASE_MATTER_UPDATED = (
    "（系统内部）事项工作流回报需要案件处理的进展（如款项发放失败、事项办结）；案件向引擎核实后才采用"
)
CASE_SUBMIT_APPLICATION = (
    "（系统内部）殡仪馆先上传火化证明时，窗口提交的申请"
)
CASE_STATUS = (
    "查询案件的完整状态：各事项状态、时限、决定、款项、被拒绝的操作和时间线"
)
MATTER_CASE_CONTINUED = (
    "（系统内部）案件转入新的运行：本事项办结时通知案件"
)
