"""Coded answers of the Screening Interview Form: fixed vocabularies research can count.

Codes follow the CTDC global dataset where it has one (DESIGN.md, reference
vocabularies). "Unknown", "declined to answer" and "not applicable" are not codes of a
vocabulary: they are recorded apart, for every question alike (see
`interviews.questionnaire.MISSING`).
"""

from django.utils.translation import gettext_lazy as _

YES_NO = [("yes", _("Yes")), ("no", _("No"))]

CONSENT = [("given", _("Given")), ("refused", _("Refused"))]

REFERRAL_SOURCE = [
    ("self_referred", _("Self-referred")),
    ("police", _("Police")),
    ("ngo", _("NGO")),
    ("embassy", _("Embassy or consulate")),
    ("hotline", _("Hotline")),
    ("other_organisation", _("Other organisation")),
]

SEX = [
    ("female", _("Female")),
    ("male", _("Male")),
    ("transgender", _("Transgender/non-conforming")),
]

MARITAL_STATUS = [
    ("single", _("Single")),
    ("married", _("Married")),
    ("partnership", _("Living with a partner")),
    ("separated", _("Separated or divorced")),
    ("widowed", _("Widowed")),
]

EDUCATION = [
    ("none", _("No formal education")),
    ("primary", _("Primary")),
    ("lower_secondary", _("Lower secondary")),
    ("upper_secondary", _("Upper secondary")),
    ("vocational", _("Vocational")),
    ("higher", _("Higher education")),
]

OCCUPATION = [
    ("unemployed", _("Unemployed")),
    ("student", _("Student")),
    ("agriculture", _("Agriculture")),
    ("domestic_work", _("Domestic work")),
    ("construction", _("Construction")),
    ("manufacturing", _("Manufacturing")),
    ("hospitality", _("Hospitality")),
    ("trade", _("Trade or sales")),
    ("informal", _("Informal or casual work")),
    ("other", _("Other")),
]

RECRUITMENT_METHOD = [
    ("job_offer", _("Job offer")),
    ("abduction", _("Abduction")),
    ("marriage_proposal", _("Marriage or intimate-partner proposal")),
    ("family_member", _("Through a family member")),
    ("internet", _("Internet or social media")),
    ("other", _("Other")),
]

RECRUITER_RELATIONSHIP = [
    ("intimate_partner", _("Intimate partner")),
    ("friend", _("Friend")),
    ("family", _("Family")),
    ("other", _("Other")),
]

TRANSPORT = [
    ("air", _("Air")),
    ("bus_or_car", _("Bus or car")),
    ("train", _("Train")),
    ("sea", _("Sea or river")),
    ("on_foot", _("On foot")),
    ("other", _("Other")),
]

DOCUMENTS_USED = [
    ("own", _("Own documents")),
    ("forged", _("Forged documents")),
    ("none", _("No documents")),
    ("taken_away", _("Documents taken away")),
]

BORDER_CROSSING = [
    ("regular", _("Regular")),
    ("irregular", _("Irregular")),
    ("both", _("Both regular and irregular")),
]

EXPLOITATION_TYPE = [
    ("sexual", _("Sexual exploitation")),
    ("forced_labour", _("Forced labour")),
    ("forced_marriage", _("Forced marriage")),
    ("begging", _("Begging")),
    ("forced_criminality", _("Forced criminality")),
    ("organ_removal", _("Organ removal")),
    ("slavery", _("Slavery and similar practices")),
    ("other", _("Other")),
]

LABOUR_SECTOR = [
    ("agriculture", _("Agriculture")),
    ("aquafarming", _("Aquafarming")),
    ("begging", _("Begging")),
    ("construction", _("Construction")),
    ("domestic_work", _("Domestic work")),
    ("hospitality", _("Hospitality")),
    ("illicit_activities", _("Illicit activities")),
    ("manufacturing", _("Manufacturing")),
    ("mining_or_drilling", _("Mining or drilling")),
    ("peddling", _("Peddling")),
    ("transportation", _("Transportation")),
    ("other", _("Other")),
]

EARNINGS_KEPT_BY = [
    ("person", _("The person")),
    ("exploiter", _("The exploiter")),
    ("shared", _("Shared with the exploiter")),
    ("family", _("The person's family")),
    ("no_earnings", _("There were no earnings")),
]

MEANS_OF_CONTROL = [
    ("debt_bondage", _("Debt bondage")),
    ("takes_earnings", _("Takes earnings")),
    ("restricts_financial_access", _("Restricts financial access")),
    ("threats", _("Threats")),
    ("psychological_abuse", _("Psychological abuse")),
    ("physical_abuse", _("Physical abuse")),
    ("sexual_abuse", _("Sexual abuse")),
    ("false_promises", _("False promises")),
    ("psychoactive_substances", _("Psychoactive substances")),
    ("restricts_movement", _("Restricts movement")),
    ("restricts_medical_care", _("Restricts medical care")),
    ("excessive_working_hours", _("Excessive working hours")),
    ("uses_children", _("Uses children")),
    ("threat_of_law_enforcement", _("Threat of law enforcement")),
    ("withholds_necessities", _("Withholds necessities")),
    ("withholds_documents", _("Withholds documents")),
    ("other", _("Other")),
]

EXIT_METHOD = [
    ("escaped", _("Escaped")),
    ("rescued", _("Rescued")),
    ("released", _("Released")),
    ("self_reported", _("Self-reported to the authorities")),
    ("other", _("Other")),
]

DETERMINATION = [
    ("victim", _("Victim of trafficking")),
    ("not_victim", _("Not a victim of trafficking")),
    ("inconclusive", _("Inconclusive")),
]
