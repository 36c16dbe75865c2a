"""The values of the enforcement module and what users see for them (msgids)."""

from core.sdk import N_, yuan

LIST_KINDS = {
    "no_penalty": N_("Minor first violations not penalised (首违不罚)"),
    "mitigated": N_("Violations penalised lightly or mitigated (从轻减轻)"),
    "no_coercion": N_("Measures not applied (不予强制)"),
}
OUTCOMES = {
    "corrected": N_("Corrected with guidance"),
    "not_penalised": N_("Not penalised under a list item"),
    "mitigated": N_("Mitigated penalty"),
    "penalised": N_("Penalised"),
}
INSPECTION_STATUSES = {"planned": N_("Announced"), "inspected": N_("Inspected"), "cancelled": N_("Cancelled")}
FINDING_STATUSES = {"final": N_("Outcome decided"), "awaiting_signoff": N_("Awaiting the head's sign-off"),
                    "returned": N_("Returned for a new outcome")}
INSPECTION_STEPS = ("propose-joint", "join", "inspected", "cancel")
FINDING_STEPS = ("sign-off", "revise", "contest")
LABELS = dict(list_kinds=LIST_KINDS, outcomes=OUTCOMES, inspection_statuses=INSPECTION_STATUSES,
              finding_statuses=FINDING_STATUSES)


def yuan_sign(fen: int | None) -> str:
    """Money from integer fen as yuan with its sign: ¥12,345.67."""
    return f"¥{yuan(fen)}"


LABELS["yuan"] = yuan_sign
