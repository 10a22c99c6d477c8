//! Words of the questionnaire pages, in bokmål and English.

use serde_json::{Map, Value};

/// Key, bokmål, English.
const WORDS: &[(&str, &str, &str)] = &[
    ("lang_name", "Norsk bokmål", "English"),
    ("other_lang", "en", "nb"),
    ("other_lang_name", "English", "Norsk bokmål"),
    ("step", "Steg", "Step"),
    ("of", "av", "of"),
    ("consent_title", "Før du begynner", "Before you start"),
    (
        "consent_purpose",
        "Undersøkelsen kartlegger hvordan erfaringskonsulenter er med når tjenesten bestemmer, lager, gir og vurderer tilbudene sine. Svarene brukes til å forbedre tjenestene og til forskning.",
        "This survey maps how peer workers take part when the service decides on, designs, delivers and assesses its offers. The answers are used to improve services and for research.",
    ),
    (
        "consent_who",
        "Ingen ser svarene dine enkeltvis. Lederen din ser bare resultater for grupper som er store nok til at ingen kan kjennes igjen. Forskere får bare data uten navn og e-post.",
        "Nobody sees your answers one by one. Your manager only sees results for groups large enough that no one can be recognised. Researchers only get data without names or e-mail addresses.",
    ),
    (
        "consent_withdraw",
        "Det er frivillig å svare. Du kan trekke svarene dine når som helst med lenken nederst på hver side; da slettes de.",
        "Answering is voluntary. You can withdraw your answers at any time with the link at the bottom of every page; they are then deleted.",
    ),
    (
        "consent_time",
        "Det tar omtrent 10 minutter. Svarene lagres for hver side, så du kan ta pause og fortsette med samme lenke.",
        "It takes about 10 minutes. Your answers are saved on every page, so you can take a break and continue with the same link.",
    ),
    (
        "consent_check",
        "Jeg har lest dette og vil svare",
        "I have read this and want to answer",
    ),
    (
        "consent_required",
        "Kryss av for at du vil svare, eller lukk siden.",
        "Tick the box to say you want to answer, or close the page.",
    ),
    ("start", "Start", "Start"),
    ("continue", "Lagre og gå videre", "Save and continue"),
    ("back", "Tilbake", "Back"),
    (
        "save_note",
        "Svarene lagres når du går videre eller tilbake.",
        "Your answers are saved when you go on or back.",
    ),
    ("review_title", "Se over svarene", "Check your answers"),
    (
        "review_intro",
        "Her er svarene dine. Du kan endre dem før du sender inn.",
        "These are your answers. You can change them before you send them.",
    ),
    ("unanswered", "Ikke besvart", "Not answered"),
    ("change", "Endre", "Change"),
    ("submit", "Send inn svarene", "Send my answers"),
    (
        "context_title",
        "Om deg og tjenesten",
        "About you and the service",
    ),
    ("yes", "Ja", "Yes"),
    ("no", "Nei", "No"),
    ("error_title", "Noe må rettes", "There is a problem"),
    ("withdraw_link", "Trekk svarene mine", "Withdraw my answers"),
    (
        "withdraw_title",
        "Trekke svarene dine?",
        "Withdraw your answers?",
    ),
    (
        "withdraw_body",
        "Alle svarene dine i denne undersøkelsen slettes, og lenken slutter å virke. Dette kan ikke angres.",
        "All your answers in this survey are deleted and the link stops working. This cannot be undone.",
    ),
    (
        "withdraw_button",
        "Ja, slett svarene mine",
        "Yes, delete my answers",
    ),
    (
        "thanks_title",
        "Takk for svarene!",
        "Thank you for your answers!",
    ),
    (
        "thanks_body",
        "Svarene dine er sendt inn. Du kan lukke siden.",
        "Your answers have been sent. You can close this page.",
    ),
    (
        "submitted_title",
        "Du har allerede svart",
        "You have already answered",
    ),
    (
        "submitted_body",
        "Takk! Svarene dine er sendt inn.",
        "Thank you! Your answers have been sent.",
    ),
    (
        "withdrawn_title",
        "Svarene dine er slettet",
        "Your answers have been deleted",
    ),
    (
        "withdrawn_body",
        "Du har trukket deg fra undersøkelsen, og svarene dine er slettet.",
        "You have withdrawn from the survey and your answers have been deleted.",
    ),
    (
        "unknown_title",
        "Vi kjenner ikke igjen lenken",
        "We do not recognise this link",
    ),
    (
        "unknown_body",
        "Sjekk at du har kopiert hele lenken fra e-posten. Spør den som sendte deg invitasjonen om du trenger en ny.",
        "Check that you copied the whole link from the e-mail. Ask whoever sent you the invitation if you need a new one.",
    ),
    (
        "closed_title",
        "Undersøkelsen er avsluttet",
        "The survey has closed",
    ),
    (
        "closed_body",
        "Det er ikke lenger mulig å svare. Takk for interessen.",
        "It is no longer possible to answer. Thank you for your interest.",
    ),
    ("expired_title", "Lenken er utløpt", "The link has expired"),
    (
        "expired_body",
        "Fristen for å svare er passert.",
        "The deadline for answering has passed.",
    ),
    (
        "notopen_title",
        "Undersøkelsen har ikke åpnet ennå",
        "The survey has not opened yet",
    ),
    (
        "notopen_body",
        "Prøv igjen når du har fått beskjed om at den er åpen.",
        "Please try again when you hear that it is open.",
    ),
    ("question", "Spørsmål", "Question"),
    ("answer", "Svar", "Answer"),
    (
        "fte_hint",
        "Bruk komma eller punktum for desimaler.",
        "Use a comma or a full stop for decimals.",
    ),
];

/// The words in `lang` (English for anything but `nb`), as a JSON object for templates.
pub fn words(lang: &str) -> Value {
    let nb = lang == "nb";
    Value::Object(
        WORDS
            .iter()
            .map(|(k, b, e)| {
                (
                    (*k).to_owned(),
                    Value::String((if nb { *b } else { *e }).to_owned()),
                )
            })
            .collect::<Map<_, _>>(),
    )
}
