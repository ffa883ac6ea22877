"""UN M49 geographic regions (Standard country or area codes for statistical use).

Used to generalise countries in anonymised research data: a country (ISO 3166-1 alpha-2)
can be coarsened to its M49 sub-region, and further to its M49 region.

Source: United Nations Statistics Division, "Standard country or area codes for statistical
use (M49)", https://unstats.un.org/unsd/methodology/m49/

Notes:

* The M49 *intermediate* regions "Sub-Saharan Africa" and "Latin America and the Caribbean"
  are not used; the finer sub-regions below them are (e.g. Eastern Africa, Caribbean,
  South America), together with Northern Africa and Northern America.
* Antarctica (AQ) has no region in M49; it is placed in sub-region 0 / region 0
  "No region". Remote territories that M49 does assign (e.g. Bouvet Island and South
  Georgia: South America; Heard and McDonald Islands: Australia and New Zealand; French
  Southern Territories and British Indian Ocean Territory: Eastern Africa; US Minor Outlying
  Islands: Micronesia) follow M49.
* Taiwan (TW) is not listed separately in M49; it is placed in Eastern Asia.
* Kosovo (XK), if present in the country list, is placed in Southern Europe.
"""

NO_REGION = 0

REGIONS: dict[int, str] = {
    NO_REGION: "No region",
    2: "Africa",
    19: "Americas",
    142: "Asia",
    150: "Europe",
    9: "Oceania",
}

SUBREGIONS: dict[int, tuple[str, int]] = {
    NO_REGION: ("No region", NO_REGION),
    # Africa
    15: ("Northern Africa", 2),
    14: ("Eastern Africa", 2),
    17: ("Middle Africa", 2),
    18: ("Southern Africa", 2),
    11: ("Western Africa", 2),
    # Americas
    29: ("Caribbean", 19),
    13: ("Central America", 19),
    5: ("South America", 19),
    21: ("Northern America", 19),
    # Asia
    143: ("Central Asia", 142),
    30: ("Eastern Asia", 142),
    35: ("South-eastern Asia", 142),
    34: ("Southern Asia", 142),
    145: ("Western Asia", 142),
    # Europe
    151: ("Eastern Europe", 150),
    154: ("Northern Europe", 150),
    39: ("Southern Europe", 150),
    155: ("Western Europe", 150),
    # Oceania
    53: ("Australia and New Zealand", 9),
    54: ("Melanesia", 9),
    57: ("Micronesia", 9),
    61: ("Polynesia", 9),
}

# M49 sub-region code -> space-separated ISO 3166-1 alpha-2 codes.
_MEMBERS: dict[int, str] = {
    NO_REGION: "AQ",
    # Africa
    15: "DZ EG EH LY MA SD TN",
    14: "BI DJ ER ET IO KE KM MG MU MW MZ RE RW SC SO SS TF TZ UG YT ZM ZW",
    17: "AO CD CF CG CM GA GQ ST TD",
    18: "BW LS NA SZ ZA",
    11: "BF BJ CI CV GH GM GN GW LR ML MR NE NG SH SL SN TG",
    # Americas
    29: "AG AI AW BB BL BQ BS CU CW DM DO GD GP HT JM KN KY LC MF MQ MS PR SX TC TT VC VG VI",
    13: "BZ CR GT HN MX NI PA SV",
    5: "AR BO BR BV CL CO EC FK GF GS GY PE PY SR UY VE",
    21: "BM CA GL PM US",
    # Asia
    143: "KG KZ TJ TM UZ",
    30: "CN HK JP KP KR MN MO TW",
    35: "BN ID KH LA MM MY PH SG TH TL VN",
    34: "AF BD BT IN IR LK MV NP PK",
    145: "AE AM AZ BH CY GE IL IQ JO KW LB OM PS QA SA SY TR YE",
    # Europe
    151: "BG BY CZ HU MD PL RO RU SK UA",
    154: "AX DK EE FI FO GB GG IE IM IS JE LT LV NO SE SJ",
    39: "AD AL BA ES GI GR HR IT ME MK MT PT RS SI SM VA XK",
    155: "AT BE CH DE FR LI LU MC NL",
    # Oceania
    53: "AU CC CX HM NF NZ",
    54: "FJ NC PG SB VU",
    57: "FM GU KI MH MP NR PW UM",
    61: "AS CK NU PF PN TK TO TV WF WS",
}

SUBREGION_OF: dict[str, int] = {
    code: sub for sub, codes in _MEMBERS.items() for code in codes.split()
}


def subregion(alpha2: str) -> int:
    """Return the M49 sub-region code of an ISO 3166-1 alpha-2 country code.

    Raises KeyError for an unknown code.
    """
    return SUBREGION_OF[alpha2.upper()]


def region(alpha2: str) -> int:
    """Return the M49 region code of an ISO 3166-1 alpha-2 country code.

    Raises KeyError for an unknown code.
    """
    return SUBREGIONS[subregion(alpha2)][1]
