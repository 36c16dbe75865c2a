"""The values of the cadre module and what users see for them (msgids)."""

from core.sdk import N_

RATINGS = {"excellent": N_("Excellent"), "good": N_("Good"), "average": N_("Average"), "poor": N_("Poor")}
OUTCOMES = {
    "promoted": N_("Promoted or moved to a key post"),
    "rank": N_("Rank promotion"),
    "suitable": N_("Suitable-post placement"),
    "standby": N_("Standby"),
    "transfer": N_("Transfer"),
    "honours": N_("Eligible for awards and honours"),  # 评优评先
    "none": N_("No change"),
}
EVALUATOR_ROLES = {"cadre_evaluator": N_("Evaluator"), "cadre_org": N_("Organization department")}
CAMPAIGN_STATUSES = {"open": N_("Open"), "closed": N_("Closed")}
# Scoring criteria a tenant may name in the setting `cadre_score_criteria` (others are shown as typed).
SCORE_CRITERIA = {
    "service": N_("Service to companies"),
    "efficiency": N_("Efficiency"),
    "integrity": N_("Integrity"),
    "initiative": N_("Initiative and responsibility"),
}
# The three distinctions (三个区分开来).
DISTINCTIONS = {
    "inexperience": N_("A mistake from inexperience in trying something new, not a knowing violation"),
    "unforbidden": N_("Exploring where nothing forbade it, not defying an explicit ban"),
    "no_private_gain": N_("An unintended slip while pushing development, not acting for private gain"),
}
# Fault-tolerance criteria a tenant may require in the setting `cadre_tolerance_criteria`.
TOLERANCE_CRITERIA = {
    "lawful": N_("Lawful"),
    "reform": N_("Genuine reform"),
    "diligent": N_("Diligent, without intent"),
    "no_benefit": N_("No private benefit"),
    "procedure": N_("Due procedure"),
    "corrected": N_("Corrected once known"),
}
APPLICATION_STATUSES = {"applied": N_("Applied"), "verified": N_("Verified"), "publicity": N_("In publicity"),
                        "final": N_("Final"), "stopped": N_("Stopped by an objection")}
DECISIONS = {"exempted": N_("Exempted"), "reduced": N_("Liability reduced"), "refused": N_("Refused")}
PUBLISHED_DECISIONS = ("exempted", "reduced")  # published (公示) before they take effect; a refusal is final at once
# Publicity (公示) and objections (异议).
PUBLICITY_KINDS = {"exemption": N_("Fault-tolerance exemption"), "outcome": N_("Cadre evaluation outcome")}
PUBLICITY_STATUSES = {"open": N_("In publicity"), "effective": N_("In effect"), "stopped": N_("Stopped by an objection")}
OBJECTION_STATUSES = {"pending": N_("Awaiting an answer"), "upheld": N_("Upheld"), "not_upheld": N_("Not upheld")}
CAMPAIGN_STEPS = ("add-cadre", "add-evaluator", "generate", "score", "rate", "outcome", "close")
APPLICATION_STEPS = ("verify", "decide", "finalize")


def suggested_rating(average: float | None) -> str:
    """The rating an average score suggests: 90+ excellent, 75+ good, 60+ average, else poor."""
    if average is None:
        return ""
    return "excellent" if average >= 90 else "good" if average >= 75 else "average" if average >= 60 else "poor"
