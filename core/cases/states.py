"""Case statuses (办理状态), flags and the labels users see."""

from core.i18n import N_

SUBMITTED = "submitted"
DISPATCHED = "dispatched"
IN_PROGRESS = "in_progress"
REFUSAL_PENDING = "refusal_pending"
REFUSED = "refused"
UNDER_REVIEW = "under_review"
RESOLVED = "resolved"
CLOSED = "closed"
WITHDRAWN = "withdrawn"
MERGED = "merged"

STATUS_LABELS = {
    SUBMITTED: N_("Awaiting dispatch"),
    DISPATCHED: N_("Dispatched"),
    IN_PROGRESS: N_("In progress"),
    REFUSAL_PENDING: N_("Refusal awaiting sign-off"),
    REFUSED: N_("Cannot be done"),
    UNDER_REVIEW: N_("Under refusal review"),
    RESOLVED: N_("Resolved, awaiting rating"),
    CLOSED: N_("Closed"),
    WITHDRAWN: N_("Withdrawn"),
    MERGED: N_("Merged"),
}
OPEN = {SUBMITTED, DISPATCHED, IN_PROGRESS, REFUSAL_PENDING, REFUSED, UNDER_REVIEW}
WITH_DEADLINE = {DISPATCHED, IN_PROGRESS, REFUSAL_PENDING}

# The sign-off chain of a refusal, in order (说"不"三级审签).
SIGN_LEVELS = ("section_head", "leader", "dept_head")
LEVEL_LABELS = {"section_head": N_("Section head"), "leader": N_("Leader in charge"), "dept_head": N_("Department head")}

RATINGS = {
    "satisfied": N_("Satisfied"),
    "basically_satisfied": N_("Basically satisfied"),
    "unsatisfied": N_("Unsatisfied"),
}
VERDICTS = {"upheld": N_("Refusal upheld"), "overturned": N_("Refusal overturned")}

ACTION_LABELS = {
    "submit": N_("Submitted"),
    "attach-company": N_("Attached the company"),
    "dispatch": N_("Dispatched"),
    "accept": N_("Accepted"),
    "object": N_("Objected to the assignment"),
    "decide-objection": N_("Decided the objection"),
    "extend": N_("Asked for an extension"),
    "decide-extension": N_("Decided the extension"),
    "resolve": N_("Resolved"),
    "refuse": N_("Filed a refusal"),
    "sign": N_("Signed the refusal"),
    "send-back": N_("Sent the refusal back"),
    "request-review": N_("Asked for refusal review"),
    "schedule-hearing": N_("Scheduled the review hearing"),
    "rule": N_("Ruled on the refusal"),
    "escalate": N_("Escalated"),
    "rate": N_("Rated"),
    "reopen": N_("Reopened"),
    "withdraw": N_("Withdrew"),
    "merge": N_("Merged into another case"),
    "redispatch": N_("Re-dispatched"),
    "attach": N_("Attached a file"),
    "overdue": N_("Became overdue"),
    "tenant_import": N_("Imported from another installation"),
    "advance": N_("Advanced the cost and resolved"),
    "settle-advance": N_("Recorded the settlement of the advance"),
}
