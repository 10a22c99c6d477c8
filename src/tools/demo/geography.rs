//! Norway's specialist-health and municipal geography for the demo: the four regional
//! health authorities, the fifteen counties of 2024, a realistic set of municipalities
//! (numbers from the 2024 reform; population in thousands, rounded, for weighting) and
//! the health trusts that serve them. Demo data only: not an authoritative register.

/// A regional health authority and its counties.
pub const HEALTH_REGIONS: &[(&str, &[&str])] = &[
    (
        "Helse Sør-Øst",
        &[
            "Østfold",
            "Akershus",
            "Buskerud",
            "Oslo",
            "Innlandet",
            "Vestfold",
            "Telemark",
            "Agder",
        ],
    ),
    ("Helse Vest", &["Rogaland", "Vestland"]),
    ("Helse Midt-Norge", &["Møre og Romsdal", "Trøndelag"]),
    ("Helse Nord", &["Nordland", "Troms", "Finnmark"]),
];

/// County name, county number, and the health trust serving it unless a municipality
/// says otherwise.
pub const COUNTIES: &[(&str, &str, &str)] = &[
    ("Oslo", "03", "Oslo universitetssykehus HF"),
    ("Rogaland", "11", "Helse Stavanger HF"),
    ("Møre og Romsdal", "15", "Helse Møre og Romsdal HF"),
    ("Nordland", "18", "Nordlandssykehuset HF"),
    ("Østfold", "31", "Sykehuset Østfold HF"),
    ("Akershus", "32", "Akershus universitetssykehus HF"),
    ("Buskerud", "33", "Vestre Viken HF"),
    ("Innlandet", "34", "Sykehuset Innlandet HF"),
    ("Vestfold", "39", "Sykehuset i Vestfold HF"),
    ("Telemark", "40", "Sykehuset Telemark HF"),
    ("Agder", "42", "Sørlandet sykehus HF"),
    ("Vestland", "46", "Helse Bergen HF"),
    ("Trøndelag", "50", "St. Olavs hospital HF"),
    ("Troms", "55", "Universitetssykehuset Nord-Norge HF"),
    ("Finnmark", "56", "Finnmarkssykehuset HF"),
];

/// A municipality: county, number, name, population in thousands, and the health trust
/// when it is not the county's default.
#[derive(Debug)]
pub struct Municipality {
    pub county: &'static str,
    pub number: &'static str,
    pub name: &'static str,
    pub population_k: u32,
    pub trust: Option<&'static str>,
}

const fn m(
    county: &'static str,
    number: &'static str,
    name: &'static str,
    population_k: u32,
) -> Municipality {
    Municipality {
        county,
        number,
        name,
        population_k,
        trust: None,
    }
}

const fn mt(
    county: &'static str,
    number: &'static str,
    name: &'static str,
    population_k: u32,
    trust: &'static str,
) -> Municipality {
    Municipality {
        county,
        number,
        name,
        population_k,
        trust: Some(trust),
    }
}

pub const MUNICIPALITIES: &[Municipality] = &[
    m("Oslo", "0301", "Oslo", 717),
    m("Østfold", "3101", "Halden", 32),
    m("Østfold", "3103", "Moss", 51),
    m("Østfold", "3105", "Sarpsborg", 59),
    m("Østfold", "3107", "Fredrikstad", 85),
    m("Østfold", "3118", "Indre Østfold", 46),
    m("Østfold", "3120", "Rakkestad", 8),
    m("Akershus", "3201", "Bærum", 131),
    m("Akershus", "3203", "Asker", 98),
    m("Akershus", "3205", "Lillestrøm", 91),
    m("Akershus", "3207", "Nordre Follo", 62),
    m("Akershus", "3209", "Ullensaker", 43),
    m("Akershus", "3222", "Lørenskog", 47),
    m("Akershus", "3240", "Eidsvoll", 27),
    m("Akershus", "3216", "Vestby", 19),
    m("Akershus", "3226", "Aurskog-Høland", 18),
    m("Buskerud", "3301", "Drammen", 103),
    m("Buskerud", "3303", "Kongsberg", 28),
    m("Buskerud", "3305", "Ringerike", 31),
    m("Buskerud", "3312", "Lier", 28),
    m("Buskerud", "3314", "Øvre Eiker", 20),
    m("Buskerud", "3316", "Modum", 14),
    m("Buskerud", "3324", "Gol", 5),
    m("Buskerud", "3330", "Hol", 4),
    m("Innlandet", "3401", "Kongsvinger", 18),
    m("Innlandet", "3403", "Hamar", 32),
    m("Innlandet", "3405", "Lillehammer", 29),
    m("Innlandet", "3407", "Gjøvik", 31),
    m("Innlandet", "3411", "Ringsaker", 35),
    m("Innlandet", "3413", "Stange", 21),
    m("Innlandet", "3420", "Elverum", 22),
    m("Innlandet", "3421", "Trysil", 7),
    m("Vestfold", "3901", "Horten", 28),
    m("Vestfold", "3903", "Holmestrand", 26),
    m("Vestfold", "3905", "Tønsberg", 58),
    m("Vestfold", "3907", "Sandefjord", 65),
    m("Vestfold", "3909", "Larvik", 48),
    m("Vestfold", "3911", "Færder", 27),
    m("Telemark", "4001", "Porsgrunn", 37),
    m("Telemark", "4003", "Skien", 56),
    m("Telemark", "4005", "Notodden", 13),
    m("Telemark", "4012", "Bamble", 14),
    m("Telemark", "4014", "Kragerø", 10),
    m("Agder", "4201", "Risør", 7),
    m("Agder", "4202", "Grimstad", 24),
    m("Agder", "4203", "Arendal", 46),
    m("Agder", "4204", "Kristiansand", 116),
    m("Agder", "4205", "Lindesnes", 24),
    m("Agder", "4206", "Farsund", 10),
    m("Agder", "4207", "Flekkefjord", 9),
    m("Rogaland", "1101", "Eigersund", 15),
    m("Rogaland", "1103", "Stavanger", 146),
    mt("Rogaland", "1106", "Haugesund", 38, "Helse Fonna HF"),
    m("Rogaland", "1108", "Sandnes", 83),
    m("Rogaland", "1120", "Klepp", 20),
    m("Rogaland", "1121", "Time", 19),
    m("Rogaland", "1124", "Sola", 28),
    m("Rogaland", "1127", "Randaberg", 11),
    mt("Rogaland", "1149", "Karmøy", 43, "Helse Fonna HF"),
    m("Vestland", "4601", "Bergen", 291),
    mt("Vestland", "4602", "Kinn", 17, "Helse Førde HF"),
    mt("Vestland", "4613", "Bømlo", 12, "Helse Fonna HF"),
    mt("Vestland", "4614", "Stord", 19, "Helse Fonna HF"),
    m("Vestland", "4621", "Voss", 16),
    m("Vestland", "4624", "Bjørnafjorden", 26),
    m("Vestland", "4626", "Øygarden", 39),
    m("Vestland", "4627", "Askøy", 30),
    m("Vestland", "4631", "Alver", 30),
    mt("Vestland", "4640", "Sogndal", 12, "Helse Førde HF"),
    mt("Vestland", "4647", "Sunnfjord", 22, "Helse Førde HF"),
    m("Møre og Romsdal", "1505", "Kristiansund", 24),
    m("Møre og Romsdal", "1506", "Molde", 32),
    m("Møre og Romsdal", "1508", "Ålesund", 58),
    m("Møre og Romsdal", "1515", "Herøy", 9),
    m("Møre og Romsdal", "1516", "Ulstein", 9),
    m("Møre og Romsdal", "1520", "Ørsta", 11),
    m("Møre og Romsdal", "1577", "Volda", 11),
    m("Trøndelag", "5001", "Trondheim", 214),
    mt(
        "Trøndelag",
        "5006",
        "Steinkjer",
        24,
        "Helse Nord-Trøndelag HF",
    ),
    mt("Trøndelag", "5007", "Namsos", 15, "Helse Nord-Trøndelag HF"),
    m("Trøndelag", "5025", "Røros", 6),
    m("Trøndelag", "5028", "Melhus", 17),
    m("Trøndelag", "5031", "Malvik", 15),
    mt(
        "Trøndelag",
        "5035",
        "Stjørdal",
        25,
        "Helse Nord-Trøndelag HF",
    ),
    mt(
        "Trøndelag",
        "5037",
        "Levanger",
        20,
        "Helse Nord-Trøndelag HF",
    ),
    mt("Trøndelag", "5038", "Verdal", 15, "Helse Nord-Trøndelag HF"),
    m("Trøndelag", "5059", "Orkland", 19),
    m("Nordland", "1804", "Bodø", 53),
    m("Nordland", "1806", "Narvik", 22),
    mt("Nordland", "1813", "Brønnøy", 8, "Helgelandssykehuset HF"),
    mt("Nordland", "1820", "Alstahaug", 7, "Helgelandssykehuset HF"),
    mt("Nordland", "1824", "Vefsn", 13, "Helgelandssykehuset HF"),
    mt("Nordland", "1833", "Rana", 26, "Helgelandssykehuset HF"),
    mt("Nordland", "1818", "Herøy", 2, "Helgelandssykehuset HF"),
    m("Nordland", "1841", "Fauske", 10),
    m("Nordland", "1860", "Vestvågøy", 12),
    m("Nordland", "1865", "Vågan", 10),
    m("Nordland", "1870", "Sortland", 11),
    m("Troms", "5501", "Tromsø", 78),
    m("Troms", "5503", "Harstad", 25),
    m("Troms", "5520", "Bardu", 4),
    m("Troms", "5524", "Målselv", 7),
    m("Troms", "5530", "Senja", 15),
    m("Troms", "5532", "Balsfjord", 6),
    m("Troms", "5536", "Lyngen", 3),
    m("Troms", "5544", "Nordreisa", 5),
    m("Finnmark", "5601", "Alta", 21),
    m("Finnmark", "5603", "Hammerfest", 11),
    m("Finnmark", "5605", "Sør-Varanger", 10),
    m("Finnmark", "5607", "Vadsø", 6),
    m("Finnmark", "5610", "Karasjok", 3),
    m("Finnmark", "5612", "Kautokeino", 3),
    m("Finnmark", "5622", "Porsanger", 4),
    m("Finnmark", "5628", "Tana", 3),
];

/// Private non-profit hospitals with a catchment area of their own, and where they are.
pub const EXTRA_TRUSTS: &[(&str, &str)] = &[
    ("Lovisenberg Diakonale Sykehus", "Oslo"),
    ("Diakonhjemmet Sykehus", "Oslo"),
];

/// Ideal (non-profit) organisations that run substance-use and low-threshold services
/// under agreement with the health authorities or municipalities.
pub const IDEAL_ORGANISATIONS: &[&str] = &[
    "Blå Kors Norge",
    "Kirkens Bymisjon",
    "Frelsesarmeen",
    "Stiftelsen Bergensklinikkene",
    "Fossumkollektivet",
];
