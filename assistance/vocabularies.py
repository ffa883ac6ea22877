"""Coded values of assistance, return and reintegration."""

from django.utils.translation import gettext_lazy as _

YES_NO = [("yes", _("Yes")), ("no", _("No"))]

SERVICE_TYPE = [
    ("shelter", _("Shelter or accommodation")),
    ("medical", _("Medical")),
    ("psychosocial", _("Psychosocial")),
    ("legal", _("Legal")),
    ("travel_documents", _("Travel documents")),
    ("return_travel", _("Return travel")),
    ("reception", _("Reception on arrival")),
    ("reintegration_grant", _("Reintegration grant")),
    ("education", _("Education")),
    ("vocational_training", _("Vocational training")),
    ("job_placement", _("Job placement")),
    ("micro_enterprise", _("Micro-enterprise")),
    ("family_tracing", _("Family tracing")),
    ("cash_or_material", _("Cash or material support")),
    ("other", _("Other")),
]

SERVICE_STATUS = [
    ("planned", _("Planned")),
    ("in_progress", _("In progress")),
    ("delivered", _("Delivered")),
    ("declined", _("Declined by the person")),
]

HEALTH = [
    ("good", _("Good")),
    ("minor", _("Minor problems")),
    ("serious", _("Serious problems")),
    ("urgent", _("Needs urgent care")),
]

PHYSICAL_CONDITIONS = [
    ("injuries", _("Injuries")),
    ("infectious_disease", _("Infectious disease")),
    ("reproductive_health", _("Sexual or reproductive health")),
    ("chronic_illness", _("Chronic illness")),
    ("dental", _("Dental")),
    ("other", _("Other")),
]

MENTAL_CONDITIONS = [
    ("anxiety", _("Anxiety")),
    ("depression", _("Depression")),
    ("trauma_symptoms", _("Post-traumatic stress symptoms")),
    ("substance_use", _("Substance use")),
    ("self_harm_risk", _("Risk of self-harm")),
    ("other", _("Other")),
]

IDENTITY_DOCUMENTS = [
    ("valid", _("Has valid identity documents")),
    ("expired", _("Documents expired")),
    ("lost", _("Documents lost")),
    ("held_by_exploiter", _("Documents held by the exploiter")),
    ("never_had", _("Never had documents")),
]

LEGAL_STATUS = [
    ("regular", _("Regular stay")),
    ("irregular", _("Irregular stay")),
    ("asylum_seeker", _("Asylum seeker")),
    ("victim_permit", _("Residence permit for victims")),
    ("citizen", _("Citizen of the country")),
]

PROCEEDINGS = [
    ("criminal_case", _("Criminal case against traffickers")),
    ("immigration", _("Immigration proceedings")),
    ("labour_claim", _("Labour or compensation claim")),
    ("family_law", _("Family law proceedings")),
    ("none", _("No proceedings")),
]

COOPERATION = [
    ("yes", _("Willing")),
    ("no", _("Not willing")),
    ("undecided", _("Undecided")),
]

LITERACY = [
    ("literate", _("Reads and writes")),
    ("partial", _("Reads and writes a little")),
    ("none", _("Does not read or write")),
]

SKILLS = [
    ("agriculture", _("Agriculture")),
    ("sewing", _("Sewing or tailoring")),
    ("cooking", _("Cooking")),
    ("hairdressing", _("Hairdressing or beauty")),
    ("construction", _("Construction")),
    ("computer", _("Computer skills")),
    ("driving", _("Driving")),
    ("trading", _("Trading")),
    ("other", _("Other")),
]

WORK_WISH = [
    ("employment", _("Employment")),
    ("self_employment", _("Self-employment")),
    ("education", _("Education")),
    ("training", _("Vocational training")),
    ("undecided", _("Undecided")),
]

WISHES = [
    ("return", _("Return home")),
    ("stay", _("Stay in this country")),
    ("third_country", _("Go to a third country")),
    ("undecided", _("Undecided")),
]

SAFE_TO_RETURN = [("yes", _("Yes")), ("no", _("No")), ("unsure", _("Unsure"))]

TRAVEL_DOCUMENT = [
    ("passport", _("Own passport")),
    ("emergency", _("Emergency travel document")),
    ("laissez_passer", _("Laissez-passer")),
    ("none_yet", _("Not yet issued")),
]

ESCORT = [
    ("none", _("None")),
    ("staff", _("Mission staff")),
    ("medical", _("Medical escort")),
    ("police", _("Police")),
    ("family", _("Family member")),
]

DIMENSIONS = [
    ("economic", _("Economic")),
    ("social", _("Social")),
    ("psychosocial", _("Psychosocial")),
]
