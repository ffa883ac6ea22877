"""Realistic cross-mission duplicates for measuring accuracy: labelled, seeded, any size.

A person is registered once by one mission in one script; about a fifth are registered
again by another mission, often in another script or transliteration, with the usual
damage: a typo, day and month of birth swapped, only an estimated age, given and family
names swapped, citizenship not recorded. Name pools are small on purpose: many different
people share a common name and birth year, which is what makes clusters chain.

As the registration form asks, a record may also hold a place of birth (a town, or a
village with a name of its own, in the registering mission's script; recorded at 70 % of
registrations) and a document number (about 45 % of people hold an identity document,
which each registration records with a chance of 55 %: documents are often confiscated),
under ``extra``. They come from a random stream of their own, so the other fields are
the same as without them.
"""

import random
from datetime import date

# country -> (given names female, given names male, family names); each name is
# (native script, common Latin transliteration, another transliteration)
POOLS = {
    "UA": (
        [
            ("Олена", "Olena", "Elena"),
            ("Ірина", "Iryna", "Irina"),
            ("Оксана", "Oksana", "Oxana"),
            ("Наталія", "Nataliia", "Natalia"),
            ("Юлія", "Yuliia", "Julia"),
            ("Тетяна", "Tetiana", "Tatiana"),
            ("Світлана", "Svitlana", "Svetlana"),
            ("Марія", "Mariia", "Maria"),
        ],
        [
            ("Андрій", "Andrii", "Andrey"),
            ("Олександр", "Oleksandr", "Alexander"),
            ("Сергій", "Serhii", "Sergey"),
            ("Дмитро", "Dmytro", "Dmitry"),
            ("Віктор", "Viktor", "Victor"),
        ],
        [
            ("Шевченко", "Shevchenko", "Chevtchenko"),
            ("Коваленко", "Kovalenko", "Kowalenko"),
            ("Бондаренко", "Bondarenko", "Bondarenko"),
            ("Ткаченко", "Tkachenko", "Tkatchenko"),
            ("Кравчук", "Kravchuk", "Krawtschuk"),
            ("Мельник", "Melnyk", "Melnik"),
            ("Поліщук", "Polishchuk", "Polischuk"),
            ("Савченко", "Savchenko", "Sawtschenko"),
            ("Гончаренко", "Honcharenko", "Goncharenko"),
        ],
    ),
    "MD": (
        [
            ("Ana", "Ana", "Anna"),
            ("Maria", "Maria", "Mariya"),
            ("Elena", "Elena", "Yelena"),
            ("Tatiana", "Tatiana", "Tatyana"),
            ("Cristina", "Cristina", "Kristina"),
            ("Mihaela", "Mihaela", "Mikhaela"),
        ],
        [
            ("Ion", "Ion", "Ivan"),
            ("Vasile", "Vasile", "Vasili"),
            ("Andrei", "Andrei", "Andrey"),
            ("Mihai", "Mihai", "Mikhai"),
        ],
        [
            ("Popescu", "Popescu", "Popesku"),
            ("Rusu", "Rusu", "Russu"),
            ("Ceban", "Ceban", "Cheban"),
            ("Țurcanu", "Turcanu", "Tsurkanu"),
            ("Munteanu", "Munteanu", "Munteanu"),
            ("Lungu", "Lungu", "Lungu"),
            ("Ciobanu", "Ciobanu", "Chobanu"),
        ],
    ),
    "NG": (
        [
            ("Adébáyọ̀", "Adebayo", "Adebayor"),
            ("Chiamaka", "Chiamaka", "Chiamaka"),
            ("Ngozi", "Ngozi", "Ngozie"),
            ("Ọlápẹ̀jú", "Olapeju", "Olapejou"),
            ("Blessing", "Blessing", "Blessin"),
            ("Funmilayo", "Funmilayo", "Funmilayo"),
        ],
        [
            ("Chinedu", "Chinedu", "Chinedou"),
            ("Oluwaṣẹun", "Oluwaseun", "Oluwashegun"),
            ("Emeka", "Emeka", "Emekah"),
        ],
        [
            ("Okafor", "Okafor", "Okafo"),
            ("Adéyẹmí", "Adeyemi", "Adeyemmi"),
            ("Okonkwo", "Okonkwo", "Okonkow"),
            ("Ògúnlẹ́yẹ", "Ogunleye", "Ogunleyeh"),
            ("Eze", "Eze", "Ezeh"),
            ("Nwosu", "Nwosu", "Nwosou"),
        ],
    ),
    "VN": (
        [
            ("Thị Lan", "Thi Lan", "Lan"),
            ("Thị Hương", "Thi Huong", "Huong"),
            ("Thu Trang", "Thu Trang", "Trang"),
            ("Ngọc Ánh", "Ngoc Anh", "Ngoc Anh"),
            ("Thị Mai", "Thi Mai", "Mai"),
        ],
        [
            ("Văn Minh", "Van Minh", "Minh"),
            ("Đức Anh", "Duc Anh", "Duc Anh"),
            ("Quốc Bảo", "Quoc Bao", "Quoc Bao"),
        ],
        [
            ("Nguyễn", "Nguyen", "Nguyen"),
            ("Trần", "Tran", "Tran"),
            ("Lê", "Le", "Le"),
            ("Phạm", "Pham", "Pham"),
            ("Hoàng", "Hoang", "Huang"),
            ("Vũ", "Vu", "Vu"),
        ],
    ),
    "NP": (
        [
            ("सीता", "Sita", "Seeta"),
            ("गीता", "Gita", "Geeta"),
            ("सरिता", "Sarita", "Sareeta"),
            ("मीना", "Mina", "Meena"),
        ],
        [("राम", "Ram", "Raam"), ("हरि", "Hari", "Hary"), ("बिकास", "Bikash", "Vikas")],
        [
            ("श्रेष्ठ", "Shrestha", "Shresta"),
            ("तामाङ", "Tamang", "Tamong"),
            ("गुरुङ", "Gurung", "Goorung"),
            ("थापा", "Thapa", "Tapa"),
        ],
    ),
    "TH": (
        [("สมหญิง", "Somying", "Som Ying"), ("มาลี", "Mali", "Malee"), ("สุดา", "Suda", "Sudaa")],
        [("สมชาย", "Somchai", "Som Chai"), ("ประยุทธ", "Prayut", "Prayuth")],
        [
            ("สุขสวัสดิ์", "Suksawat", "Sooksawat"),
            ("ศรีสุข", "Srisuk", "Sri Suk"),
            ("แสงทอง", "Saengthong", "Sangtong"),
        ],
    ),
    "ET": (
        [("አበባ", "Abeba", "Abebba"), ("ትዕግስት", "Tigist", "Tegist"), ("መሰረት", "Meseret", "Meserat")],
        [("አበበ", "Abebe", "Abebeh"), ("ዳዊት", "Dawit", "Dawitt")],
        [
            ("ቢቂላ", "Bikila", "Bekila"),
            ("ገብረ", "Gebre", "Ghebre"),
            ("ታደሰ", "Tadesse", "Tadese"),
            ("ወልዴ", "Wolde", "Welde"),
        ],
    ),
}
COUNTRIES = list(POOLS)
# Family names are also made from roots and endings, for a realistic long tail of rarer
# names beside the common ones above: (native root, Latin root, other Latin root).
ROOTS = {
    "UA": [
        ("Кравц", "Kravts", "Krawz"),
        ("Петр", "Petr", "Petr"),
        ("Бойк", "Boik", "Boyk"),
        ("Лисен", "Lysen", "Lisen"),
        ("Марч", "March", "Martch"),
        ("Остап", "Ostap", "Ostap"),
        ("Гаври", "Havry", "Gavri"),
        ("Дорош", "Dorosh", "Dorosch"),
    ],
    "MD": [
        ("Botnar", "Botnar", "Botnari"),
        ("Grec", "Grec", "Grek"),
        ("Cojoc", "Cojoc", "Kozhok"),
        ("Guțu", "Gutu", "Gutsu"),
        ("Rotar", "Rotar", "Rotari"),
        ("Mocan", "Mocan", "Mokan"),
    ],
    "NG": [
        ("Ade", "Ade", "Adeh"),
        ("Oke", "Oke", "Okeh"),
        ("Nwa", "Nwa", "Nwah"),
        ("Obi", "Obi", "Obih"),
        ("Ola", "Ola", "Olah"),
        ("Chuk", "Chuk", "Chuck"),
    ],
    "VN": [
        ("Đặng", "Dang", "Dang"),
        ("Bùi", "Bui", "Bui"),
        ("Đỗ", "Do", "Doh"),
        ("Hồ", "Ho", "Hoh"),
        ("Ngô", "Ngo", "Ngoh"),
    ],
    "NP": [
        ("पौडेल", "Paudel", "Poudel"),
        ("अधिकारी", "Adhikari", "Adikari"),
        ("राई", "Rai", "Raai"),
        ("मगर", "Magar", "Magor"),
    ],
    "TH": [
        ("วงศ์", "Wong", "Vong"),
        ("ชัย", "Chai", "Chay"),
        ("ทอง", "Thong", "Tong"),
        ("ศรี", "Si", "Sri"),
    ],
    "ET": [
        ("ሀይለ", "Haile", "Hayle"),
        ("ተስፋ", "Tesfa", "Tesfah"),
        ("ገብረ", "Gebre", "Gabre"),
        ("ወልደ", "Welde", "Wolde"),
    ],
}
ENDINGS = {
    "UA": [
        ("енко", "enko", "enko"),
        ("ук", "uk", "ouk"),
        ("ич", "ych", "itch"),
        ("ишин", "yshyn", "ishin"),
    ],
    "MD": [("", "", ""), ("escu", "escu", "esku"), ("eanu", "eanu", "yanu")],
    "NG": [
        ("yemi", "yemi", "yemmi"),
        ("kwu", "kwu", "kwuh"),
        ("nna", "nna", "na"),
        ("dele", "dele", "delle"),
    ],
    "VN": [("", "", "")],
    "NP": [("", "", "")],
    "TH": [("sakul", "sakul", "sakoon"), ("chai", "chai", "chay"), ("phan", "phan", "pan")],
    "ET": [
        ("mariam", "mariam", "maryam"),
        ("giorgis", "giorgis", "georgis"),
        ("selassie", "selassie", "sellasie"),
    ],
}


# country -> towns (native script, common Latin transliteration, another), most common first
TOWNS = {
    "UA": [
        ("Київ", "Kyiv", "Kiev"),
        ("Одеса", "Odesa", "Odessa"),
        ("Харків", "Kharkiv", "Kharkov"),
        ("Львів", "Lviv", "Lvov"),
        ("Чернівці", "Chernivtsi", "Czernowitz"),
        ("Вінниця", "Vinnytsia", "Vinnitsa"),
    ],
    "MD": [
        ("Chișinău", "Chisinau", "Kishinev"),
        ("Bălți", "Balti", "Beltsy"),
        ("Cahul", "Cahul", "Kagul"),
        ("Orhei", "Orhei", "Orgeyev"),
        ("Soroca", "Soroca", "Soroki"),
    ],
    "NG": [
        ("Benin City", "Benin City", "Benin"),
        ("Lagos", "Lagos", "Lagos"),
        ("Ibadan", "Ibadan", "Ibadan"),
        ("Enugu", "Enugu", "Enugu"),
        ("Onitsha", "Onitsha", "Onicha"),
    ],
    "VN": [
        ("Nghệ An", "Nghe An", "Nghean"),
        ("Hà Tĩnh", "Ha Tinh", "Hatinh"),
        ("Hà Nội", "Ha Noi", "Hanoi"),
        ("Hải Phòng", "Hai Phong", "Haiphong"),
        ("Quảng Bình", "Quang Binh", "Quangbinh"),
    ],
    "NP": [
        ("काठमाडौं", "Kathmandu", "Katmandu"),
        ("सिन्धुपाल्चोक", "Sindhupalchok", "Sindhupalchowk"),
        ("मकवानपुर", "Makwanpur", "Makawanpur"),
        ("नुवाकोट", "Nuwakot", "Nuvakot"),
    ],
    "TH": [
        ("เชียงราย", "Chiang Rai", "Chiangrai"),
        ("อุดรธานี", "Udon Thani", "Udonthani"),
        ("ขอนแก่น", "Khon Kaen", "Khonkaen"),
        ("กรุงเทพ", "Krung Thep", "Bangkok"),
    ],
    "ET": [
        ("አዲስ አበባ", "Addis Ababa", "Addis Abeba"),
        ("ጎንደር", "Gondar", "Gonder"),
        ("ደሴ", "Dessie", "Dese"),
        ("ጅማ", "Jimma", "Jima"),
    ],
}
VILLAGE_ENDINGS = {
    "UA": ("івка", "ivka", "ivka"),
    "MD": ("eni", "eni", "eny"),
    "NG": ("-Ugwu", "-Ugwu", " Ugwu"),
    "VN": (" Thôn", " Thon", " Thon"),
    "NP": ("पुर", "pur", "poor"),
    "TH": ("บุรี", "buri", "buree"),
    "ET": ("ሜዳ", "meda", "medda"),
}
EXTRA_FIELDS = ("place_of_birth", "document_number")  # under each record's extra
PLACE_RECORDED = 0.7
HAS_DOCUMENT = 0.45
DOCUMENT_RECORDED = 0.55


def _place(country: str, rng: random.Random) -> tuple[str, str, str]:
    """A town (60 %) or a village named from the country's roots."""
    if rng.random() < 0.6:
        towns = TOWNS[country]
        return towns[min(int(rng.expovariate(0.7)), len(towns) - 1)]
    root, ending = rng.choice(ROOTS[country]), VILLAGE_ENDINGS[country]
    return tuple(r + e for r, e in zip(root, ending, strict=True))


def _document(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCEHKMOPTX") for _ in range(2))
    return letters + "".join(rng.choice("0123456789") for _ in range(7))


def _extra(place, script: int, document: str, rng: random.Random, typo: bool = False) -> dict:
    extra = {}
    if rng.random() < PLACE_RECORDED:
        extra["place_of_birth"] = place[script]
    if document and rng.random() < DOCUMENT_RECORDED:
        if typo and rng.random() < 0.05:  # one digit misread
            i = rng.randrange(2, len(document))
            document = document[:i] + rng.choice("0123456789") + document[i + 1 :]
        extra["document_number"] = document
    return extra


def _family(country: str, rng: random.Random) -> tuple[str, str, str]:
    if rng.random() < 0.45:
        return rng.choice(POOLS[country][2])
    root, ending = rng.choice(ROOTS[country]), rng.choice(ENDINGS[country])
    return tuple(r + e for r, e in zip(root, ending, strict=True))


def _typo(name: str, rng: random.Random) -> str:
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    kind = rng.random()
    if kind < 0.4:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind < 0.7:
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]


def generate(n: int, *, duplicate_rate: float = 0.2, seed: int = 1) -> tuple[list[dict], list[int]]:
    """Records (dict with id, names, dob, birth_year, sex, citizenship, and the further
    fields under extra) and a person label each."""
    rng = random.Random(seed)
    extra_rng = random.Random(seed * 7919 + 1)  # the further fields: a stream of their own
    records: list[dict] = []
    labels: list[int] = []
    person = 0
    while len(records) < n:
        country = rng.choice(COUNTRIES)
        female, male, _common = POOLS[country]
        sex = "F" if rng.random() < 0.72 else "M"
        given = rng.choice(female if sex == "F" else male)
        family = _family(country, rng)
        born = date(rng.randint(1965, 2009), rng.randint(1, 12), rng.randint(1, 28))
        known_dob = rng.random() < 0.8
        first_script = rng.choice((0, 1, 1))
        place = _place(country, extra_rng)
        document = _document(extra_rng) if extra_rng.random() < HAS_DOCUMENT else ""
        records.append(
            _record(
                len(records),
                given[first_script],
                family[first_script],
                born if known_dob else None,
                born.year if known_dob else born.year + rng.choice((-1, 0, 0, 1)),
                sex,
                country,
                _extra(place, first_script, document, extra_rng),
            )
        )
        labels.append(person)
        if rng.random() < duplicate_rate and len(records) < n:
            script = rng.choice([s for s in (0, 1, 2) if s != first_script] + [first_script])
            g, f = given[script], family[script]
            if rng.random() < 0.25:
                g = _typo(g, rng)
            if rng.random() < 0.2:
                f = _typo(f, rng)
            if rng.random() < 0.1:
                g, f = f, g
            dob = born if rng.random() < 0.75 else None
            if dob and dob.day <= 12 and rng.random() < 0.2:
                dob = date(dob.year, dob.day, dob.month)
            year = dob.year if dob else born.year + rng.choice((-1, 0, 0, 0, 1))
            records.append(
                _record(
                    len(records),
                    g,
                    f,
                    dob,
                    year,
                    sex if rng.random() < 0.97 else "",
                    country if rng.random() < 0.85 else "",
                    _extra(place, script, document, extra_rng, typo=True),
                )
            )
            labels.append(person)
        person += 1
    return records, labels


def _record(index, given, family, dob, year, sex, citizenship, extra) -> dict:
    return {
        "id": f"r{index}",
        "given_name": given,
        "family_name": family,
        "date_of_birth": dob.isoformat() if dob else "",
        "birth_year": year,
        "sex": sex,
        "citizenship": citizenship,
        "extra": extra,
    }


CSV_FIELDS = (
    "id",
    "given_name",
    "family_name",
    "date_of_birth",
    "birth_year",
    "sex",
    "citizenship",
    *EXTRA_FIELDS,
)


def csv_row(record: dict) -> dict:
    """A record as a line of the CSV that dedupe_link reads (the further fields as columns)."""
    row = {name: record[name] for name in CSV_FIELDS if name in record}
    row.update(record.get("extra") or {})
    return row


def true_pairs(labels: list[int]) -> set[tuple[int, int]]:
    by_person: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        by_person.setdefault(label, []).append(index)
    pairs = set()
    for members in by_person.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                pairs.add((members[x], members[y]))
    return pairs
