"""The module's words: stage keys, statuses and action owners with their labels (msgids)."""

from core.sdk import N_

STAGES = {
    "intent": N_("Intent"),  # 意向
    "signing": N_("Signing"),  # 签约
    "land": N_("Land supply"),  # 供地
    "approval": N_("Approvals"),  # 审批
    "construction": N_("Start of construction"),  # 开工
    "production": N_("Production"),  # 投产
}
EVERY_STAGE = N_("Every stage reached")  # a project past its last stage
FILING_STATUSES = {"submitted": N_("Awaiting acceptance"), "accepted": N_("Accepted"), "granted": N_("Granted"),
                   "refused": N_("Not granted")}
BUNDLE_STATUSES = {"open": N_("In progress"), "completed": N_("Completed")}
OWNERS = {"company": N_("The company"), "helper": N_("The helper"), "department": N_("The department")}
ACTION_KINDS = {"stage": N_("Reach the stage"), "decide": N_("Decide the application"),
                "materials": N_("Hand in the missing materials"), "custom": N_("Next step")}
# The badge tone of each status, by a key the shared badge knows.
TONES = {"submitted": "submitted", "accepted": "in_progress", "granted": "resolved", "refused": "refused",
         "open": "in_progress", "completed": "resolved"}
EVENTS = {
    "project_created": N_("Project registered"), "helper_assigned": N_("Helper assigned"),
    "helper_reassigned": N_("Helper reassigned"), "stage_reached": N_("Stage reached"),
    "filed": N_("Application submitted"), "accepted": N_("Application accepted"),
    "accepted_missing": N_("Accepted with materials missing (容缺)"), "received": N_("Missing material received"),
    "commitment_met": N_("Commitment met: every missing material is in"),
    "commitment_unmet": N_("Commitment not met by its due date"), "granted": N_("Approval granted"),
    "refused": N_("Application refused"), "case_opened": N_("Turned into a case"),
    "action_added": N_("Next step set"), "escalated": N_("Slipped step escalated"),
}


def stage_label(key: str) -> str:
    """The msgid of a stage (a tenant's own stage key is shown as it is)."""
    return STAGES.get(key, key)
