//! The questionnaire at `/s/{token}`: works without JavaScript; consent, one page per
//! phase, context questions, review, submit; save as you go; withdraw.

mod ui;

use std::collections::{BTreeMap, HashMap};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::questionnaire::{self as q, Link, LinkState, PageItem, Stored};
use crate::core::instrument::format::ContextKind;
use crate::web::errors::{AppError, AppResult};
use crate::web::security::{CsrfForm, Ctx};
use crate::web::{AppState, templates, with_conn};

pub use ui::words;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    lang: Option<String>,
}

/// What a questionnaire page is drawn for: a respondent's link (`/s/{token}`, the form
/// posts and saves), or an admin's preview of a role's form (the form only moves between
/// pages with GET, and nothing is stored).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Form<'a> {
    pub survey: &'a crate::core::instrument::format::SurveyFile,
    pub role: &'a str,
    /// The page's address without its query: `/s/{token}`, or the preview's.
    pub base: &'a str,
    pub preview: bool,
    /// Who holds the answers, as configured (the consent page).
    pub privacy: &'a crate::infra::config::PrivacySettings,
    /// Days after closing that the e-mail address is kept (the wave's; none in a preview).
    pub retention_days: Option<i32>,
}

impl<'a> Form<'a> {
    fn of(
        link: &'a Link,
        base: &'a str,
        privacy: &'a crate::infra::config::PrivacySettings,
    ) -> Self {
        Self {
            survey: &link.survey,
            role: link.role(),
            base,
            preview: false,
            privacy,
            retention_days: Some(link.wave.email_retention_days),
        }
    }

    /// The address of `page` in `lang`.
    fn href(self, page: &str, lang: &str) -> String {
        format!("{}?page={page}&lang={lang}", self.base)
    }

    fn withdraw_href(self, lang: &str) -> Option<String> {
        (!self.preview).then(|| format!("{}/withdraw?lang={lang}", self.base))
    }

    /// What the templates need to draw the form element.
    fn view(self, lang: &str) -> Value {
        json!({"action": self.base, "method": if self.preview { "get" } else { "post" },
               "preview": self.preview,
               "preview_note": self.preview.then(|| crate::infra::i18n::fill(lang, "respondent.preview_note", &[]))})
    }
}

fn pick_lang(link: &Link, requested: Option<&str>) -> String {
    requested
        .filter(|l| link.survey.languages.iter().any(|x| x == l))
        .map_or_else(|| link.language().to_owned(), str::to_owned)
}

fn message_page(
    ctx: &Ctx,
    status: StatusCode,
    lang: &str,
    key: &str,
    token: Option<&str>,
) -> AppResult<HttpResponse> {
    let w = words(lang);
    templates::page_with_status(
        status,
        "s_message",
        ctx,
        json!({
            "page_title": w[format!("{key}_title")].clone(), "page_lang": lang, "respondent": true, "w": w,
            "title": w[format!("{key}_title")].clone(), "body": w[format!("{key}_body")].clone(),
            "withdraw_href": token.map(|t| format!("/s/{t}/withdraw?lang={lang}")),
            "second": null,
        }),
    )
}

/// An unknown link: the language is unknown too, so both are shown unless one was asked for.
fn unknown_page(ctx: &Ctx, lang: Option<&str>) -> AppResult<HttpResponse> {
    if let Some(lang) = lang {
        return message_page(ctx, StatusCode::NOT_FOUND, lang, "unknown", None);
    }
    let (nb, en) = (words("nb"), words("en"));
    templates::page_with_status(
        StatusCode::NOT_FOUND,
        "s_message",
        ctx,
        json!({
            "page_title": format!("{} / {}", nb["unknown_title"].as_str().unwrap_or_default(), en["unknown_title"].as_str().unwrap_or_default()),
            "page_lang": "nb", "respondent": true, "w": nb,
            "title": nb["unknown_title"], "body": nb["unknown_body"],
            "second": {"title": en["unknown_title"], "body": en["unknown_body"]},
            "withdraw_href": null,
        }),
    )
}

/// Pages other than the questionnaire itself, for every state but "active".
fn state_page(
    ctx: &Ctx,
    state: &LinkState,
    token: &str,
    lang: Option<&str>,
) -> Option<AppResult<HttpResponse>> {
    let l = |link: &Link| pick_lang(link, lang);
    Some(match state {
        LinkState::Unknown => unknown_page(ctx, lang),
        LinkState::NotOpen(link) => {
            message_page(ctx, StatusCode::FORBIDDEN, &l(link), "notopen", None)
        }
        LinkState::Closed(link) => message_page(ctx, StatusCode::GONE, &l(link), "closed", None),
        LinkState::Expired(link) => message_page(ctx, StatusCode::GONE, &l(link), "expired", None),
        LinkState::Withdrawn(link) => {
            message_page(ctx, StatusCode::GONE, &l(link), "withdrawn", None)
        }
        LinkState::Submitted(link) => {
            message_page(ctx, StatusCode::OK, &l(link), "submitted", Some(token))
        }
        LinkState::Active(_) => return None,
    })
}

/// View model of one item, with its current (or just entered) value and error.
fn item_view(
    form: Form<'_>,
    item: PageItem<'_>,
    lang: &str,
    value: &str,
    error: Option<&String>,
) -> Value {
    let text = q::question_text(item, form.role, lang);
    let base = |kind: &str| json!({"code": item.code(), "text": text, "kind": kind, "value": value, "error": error, "id": format!("item-{}", item.code())});
    match item {
        PageItem::Scored(i) => {
            let scale = form.survey.scales.get(&i.scale);
            let mut options: Vec<Value> = scale
                .map(|s| {
                    s.points
                        .iter()
                        .map(|p| json!({"value": p.value.to_string(), "label": q::text(&p.label, lang), "hint": "", "checked": value == p.value.to_string()}))
                        .collect()
                })
                .unwrap_or_default();
            options.extend(scale.into_iter().flat_map(|s| &s.missing).map(|m| json!({"value": m.code, "label": q::text(&m.label, lang), "hint": "", "checked": value == m.code, "missing": true})));
            let mut v = base("choice");
            v["options"] = Value::Array(options);
            v
        }
        PageItem::Context(c) => {
            let help = q::text(&c.help, lang);
            let extra: Vec<Value> = c.extra_codes.iter().map(|e| json!({"value": e.code, "label": q::text(&e.label, lang), "checked": value == e.code, "hint": ""})).collect();
            let mut v = match c.kind {
                ContextKind::SingleChoice => {
                    let mut v = base("choice");
                    v["options"] = c.options.iter().map(|o| json!({"value": o.code, "label": q::text(&o.label, lang), "hint": "", "checked": value == o.code})).chain(extra).collect();
                    v
                }
                ContextKind::YesNo => {
                    let w = words(lang);
                    let mut v = base("choice");
                    v["options"] = json!([
                        {"value": "yes", "label": w["yes"], "hint": "", "checked": value == "yes" || value == "1"},
                        {"value": "no", "label": w["no"], "hint": "", "checked": value == "no" || value == "0"},
                    ]);
                    v
                }
                ContextKind::Rating => {
                    let low = c.low_label.as_ref().map_or("", |t| q::text(t, lang));
                    let high = c.high_label.as_ref().map_or("", |t| q::text(t, lang));
                    let mut v = base("choice");
                    v["options"] = (1..=5)
                        .map(|n| {
                            let hint = match n { 1 => low, 5 => high, _ => "" };
                            json!({"value": n.to_string(), "label": n.to_string(), "hint": hint, "checked": value == n.to_string()})
                        })
                        .collect();
                    v
                }
                ContextKind::Integer
                | ContextKind::Number
                | ContextKind::Year
                | ContextKind::Percentage => {
                    let mut v = base("number");
                    v["inputmode"] = json!(if c.kind == ContextKind::Number
                        || c.kind == ContextKind::Percentage
                    {
                        "decimal"
                    } else {
                        "numeric"
                    });
                    v["extra_checked"] = json!(extra.iter().any(|e| e["checked"] == true));
                    v["extra"] = Value::Array(extra);
                    v["suffix"] = json!(if c.kind == ContextKind::Percentage {
                        "%"
                    } else {
                        ""
                    });
                    v
                }
            };
            v["help"] = json!(help);
            v
        }
    }
}

fn progress(pages: &[String], current: &str) -> Value {
    let index = pages.iter().position(|p| p == current).unwrap_or(0);
    json!({"current": index + 1, "total": pages.len()})
}

fn page_title(form: Form<'_>, page: &str, lang: &str) -> String {
    if page == "context" {
        return words(lang)["context_title"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    form.survey
        .phases
        .iter()
        .find(|p| p.code == page)
        .map(|p| q::text(&p.title, lang).to_owned())
        .unwrap_or_default()
}

fn render_question_page(
    ctx: &Ctx,
    status: StatusCode,
    form: Form<'_>,
    page: &str,
    lang: &str,
    values: &BTreeMap<String, String>,
    errors: &HashMap<String, String>,
) -> AppResult<HttpResponse> {
    let pages = q::pages(form.survey, form.role);
    let w = words(lang);
    let items: Vec<Value> = q::items_on(form.survey, form.role, page)
        .into_iter()
        .map(|i| {
            item_view(
                form,
                i,
                lang,
                values.get(i.code()).map_or("", String::as_str),
                errors.get(i.code()),
            )
        })
        .collect();
    let error_list: Vec<Value> = q::items_on(form.survey, form.role, page)
        .into_iter()
        .filter_map(|i| errors.get(i.code()).map(|e| json!({"href": format!("#item-{}", i.code()), "question": q::question_text(i, form.role, lang), "text": e})))
        .collect();
    // What each point of the page's answer scales means: once, above the questions,
    // instead of under every question (a page was 3,850 px tall on a phone).
    let mut scales: Vec<&str> = Vec::new();
    for i in q::items_on(form.survey, form.role, page) {
        if let PageItem::Scored(item) = i
            && !scales.contains(&item.scale.as_str())
        {
            scales.push(item.scale.as_str());
        }
    }
    let legend: Vec<Value> = scales
        .iter()
        .filter_map(|name| form.survey.scales.get(*name))
        .flat_map(|s| &s.points)
        .filter(|p| !q::text(&p.description, lang).is_empty())
        .map(|p| json!({"label": q::text(&p.label, lang), "description": q::text(&p.description, lang)}))
        .collect();
    let description = form
        .survey
        .phases
        .iter()
        .find(|p| p.code == page)
        .map(|p| q::text(&p.description, lang).to_owned())
        .unwrap_or_default();
    templates::page_with_status(
        status,
        "s_page",
        ctx,
        json!({
            "page_title": format!("{} · {}", page_title(form, page, lang), q::text(&form.survey.title, lang)),
            "page_lang": lang, "respondent": true, "w": w,
            "survey_title": q::text(&form.survey.title, lang),
            "heading": page_title(form, page, lang), "description": description,
            "progress": progress(&pages, page), "page_id": page, "lang": lang,
            "items": items, "errors": error_list, "has_errors": !errors.is_empty(), "legend": legend,
            "form": form.view(lang),
            "switch_href": form.href(page, w["other_lang"].as_str().unwrap_or("en")),
            "withdraw_href": form.withdraw_href(lang),
        }),
    )
}

fn render_consent(
    ctx: &Ctx,
    status: StatusCode,
    form: Form<'_>,
    lang: &str,
    error: bool,
) -> AppResult<HttpResponse> {
    let w = words(lang);
    let pages = q::pages(form.survey, form.role);
    let role = form.survey.roles.get(form.role);
    templates::page_with_status(
        status,
        "s_consent",
        ctx,
        json!({
            "page_title": q::text(&form.survey.title, lang), "page_lang": lang, "respondent": true, "w": w,
            "survey_title": q::text(&form.survey.title, lang), "description": q::text(&form.survey.description, lang),
            "intro": role.map_or("", |r| q::text(&r.intro, lang)),
            "facts": consent_facts(form, lang),
            "progress": progress(&pages, "consent"), "lang": lang, "error": error,
            "form": form.view(lang),
            "switch_href": form.href("consent", w["other_lang"].as_str().unwrap_or("en")),
            "withdraw_href": form.withdraw_href(lang),
        }),
    )
}

/// What the consent page tells the respondent, once each: who holds the answers and how
/// to reach them, the legal basis, who sees what, how long the address is kept, that
/// answering is voluntary, and the time it takes. The purpose is the survey's own
/// description above it.
fn consent_facts(form: Form<'_>, lang: &str) -> Vec<Value> {
    let fill = crate::infra::i18n::fill;
    let mut facts = Vec::new();
    let mut fact = |term: &str, text: String| {
        facts.push(
            json!({"term": fill(lang, &format!("respondent.fact_{term}"), &[]), "text": text}),
        );
    };
    if let Some(controller) = &form.privacy.controller {
        let contact = form
            .privacy
            .contact
            .as_deref()
            .map_or_else(String::new, |c| {
                fill(lang, "respondent.fact_contact", &[("contact", c)])
            });
        fact("controller", format!("{controller}{contact}"));
    }
    fact("purpose", fill(lang, "respondent.fact_purpose_text", &[]));
    fact(
        "legal_basis",
        form.privacy
            .legal_basis
            .clone()
            .unwrap_or_else(|| fill(lang, "respondent.fact_legal_basis_consent", &[])),
    );
    fact("who", fill(lang, "respondent.consent_who", &[]));
    fact(
        "kept",
        form.retention_days.map_or_else(
            || fill(lang, "respondent.fact_kept_wave", &[]),
            |d| {
                fill(
                    lang,
                    "respondent.fact_kept_days",
                    &[("days", &d.to_string())],
                )
            },
        ),
    );
    fact("withdraw", fill(lang, "respondent.consent_withdraw", &[]));
    fact("time", fill(lang, "respondent.consent_time", &[]));
    facts
}

/// A stored number as the respondent writes it: `2.5` is shown as `2,5` in bokmål (a
/// Norwegian respondent who typed 2,5 sees 2,5 again); anything else as stored.
fn as_typed(raw: &str, lang: &str) -> String {
    if lang == "nb" && raw.contains('.') && raw.parse::<f64>().is_ok() {
        raw.replace('.', ",")
    } else {
        raw.to_owned()
    }
}

/// The questions of the respondent's form left unanswered, in page order: (page, code,
/// question text).
fn unanswered(
    form: Form<'_>,
    lang: &str,
    answers: &BTreeMap<String, Stored>,
) -> Vec<(String, String, String)> {
    q::pages(form.survey, form.role)
        .iter()
        .filter(|p| *p != "consent" && *p != "review")
        .flat_map(|p| {
            q::items_on(form.survey, form.role, p)
                .into_iter()
                .filter(|i| {
                    answers
                        .get(i.code())
                        .is_none_or(|a| a.raw().trim().is_empty())
                })
                .map(|i| {
                    (
                        p.clone(),
                        i.code().to_owned(),
                        q::question_text(i, form.role, lang).to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The review page. With questions unanswered it says how many, links to each, and asks
/// the respondent to confirm sending anyway (`refused`: they pressed send without).
fn render_review(
    ctx: &Ctx,
    form: Form<'_>,
    lang: &str,
    answers: &BTreeMap<String, Stored>,
    refused: bool,
) -> AppResult<HttpResponse> {
    let w = words(lang);
    let pages = q::pages(form.survey, form.role);
    let missing = unanswered(form, lang, answers);
    let total: usize = pages
        .iter()
        .filter(|p| *p != "consent" && *p != "review")
        .map(|p| q::items_on(form.survey, form.role, p).len())
        .sum();
    let count = [
        ("n", missing.len().to_string()),
        ("total", total.to_string()),
    ];
    let count: Vec<(&str, &str)> = count.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let missing_view: Vec<Value> = missing
        .iter()
        .map(|(p, code, text)| {
            json!({"text": text, "href": format!("{}#item-{code}", form.href(p, lang))})
        })
        .collect();
    let sections: Vec<Value> = pages
        .iter()
        .filter(|p| *p != "consent" && *p != "review")
        .map(|p| {
            let rows: Vec<Value> = q::items_on(form.survey, form.role, p)
                .into_iter()
                .map(|i| {
                    let view = item_view(form, i, lang, &answers.get(i.code()).map(Stored::raw).unwrap_or_default(), None);
                    let label = view["options"].as_array().and_then(|o| o.iter().find(|x| x["checked"] == true)).map(|o| o["label"].clone());
                    let shown = label.unwrap_or_else(|| json!(answers.get(i.code()).map(|a| as_typed(&a.raw(), lang)).filter(|s| !s.is_empty())));
                    json!({"code": i.code(), "text": q::question_text(i, form.role, lang), "answer": shown})
                })
                .collect();
            json!({"page": p, "title": page_title(form, p, lang), "rows": rows, "href": form.href(p, lang)})
        })
        .collect();
    templates::page(
        "s_review",
        ctx,
        json!({
            "page_title": format!("{} · {}", w["review_title"].as_str().unwrap_or_default(), q::text(&form.survey.title, lang)),
            "page_lang": lang, "respondent": true, "w": w, "survey_title": q::text(&form.survey.title, lang),
            "progress": progress(&pages, "review"), "lang": lang, "sections": sections, "form": form.view(lang),
            "missing": missing_view,
            "missing_summary": crate::infra::i18n::fill(lang, "respondent.review_missing", &count),
            "missing_confirm": crate::infra::i18n::fill(lang, "respondent.review_missing_confirm", &count),
            "missing_refused": refused.then(|| crate::infra::i18n::fill(lang, "respondent.review_missing_required", &count)),
            "back_page": pages.get(pages.len().saturating_sub(2)).cloned(),
            "switch_href": form.href("review", w["other_lang"].as_str().unwrap_or("en")),
            "withdraw_href": form.withdraw_href(lang),
        }),
    )
}

async fn resolve(state: &web::Data<AppState>, token: String) -> AppResult<LinkState> {
    let keys = state.keys.clone();
    with_conn(state, move |conn| Ok(q::open_link(conn, &keys, &token)?)).await
}

/// `GET /s/{token}`
pub async fn show(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let link_state = resolve(&state, token.clone()).await?;
    if let Some(page) = state_page(&ctx, &link_state, &token, query.lang.as_deref()) {
        return page;
    }
    let LinkState::Active(link) = link_state else {
        return Err(AppError::NotFound);
    };
    let lang = pick_lang(&link, query.lang.as_deref());
    let base = format!("/s/{token}");
    let form = Form::of(&link, &base, &state.settings.privacy);
    let Some(response) = &link.response else {
        return render_consent(&ctx, StatusCode::OK, form, &lang, false);
    };
    let pages = q::pages(&link.survey, link.role());
    let page = query
        .page
        .clone()
        .or_else(|| response.current_page.clone())
        .filter(|p| pages.contains(p) && p != "consent")
        .unwrap_or_else(|| pages[1].clone());
    let rid = response.id.clone();
    let answers = with_conn(&state, move |conn| Ok(q::answers_of(conn, &rid)?)).await?;
    if page == "review" {
        return render_review(&ctx, form, &lang, &answers, false);
    }
    let values: BTreeMap<String, String> = answers
        .iter()
        .map(|(k, v)| (k.clone(), as_typed(&v.raw(), &lang)))
        .collect();
    render_question_page(
        &ctx,
        StatusCode::OK,
        form,
        &page,
        &lang,
        &values,
        &HashMap::new(),
    )
}

/// `POST /s/{token}`: consent, save a page (and go on or back), or submit.
#[expect(clippy::implicit_hasher, reason = "an extractor, the hasher is ours")]
pub async fn post(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let link_state = resolve(&state, token.clone()).await?;
    if let Some(page) = state_page(
        &ctx,
        &link_state,
        &token,
        form.get("lang").map(String::as_str),
    ) {
        return page;
    }
    let LinkState::Active(link) = link_state else {
        return Err(AppError::NotFound);
    };
    let lang = pick_lang(&link, form.get("lang").map(String::as_str));
    let base = format!("/s/{token}");
    let drawn = Form::of(&link, &base, &state.settings.privacy);
    let page = form.get("page").cloned().unwrap_or_default();
    let action = form
        .get("action")
        .map_or("continue", String::as_str)
        .to_owned();
    let pages = q::pages(&link.survey, link.role());
    let go = |to: &str| {
        Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/s/{token}?page={to}&lang={lang}"),
            ))
            .finish())
    };

    if page == "consent" {
        if form.get("consent").map(String::as_str) != Some("yes") {
            return render_consent(&ctx, StatusCode::UNPROCESSABLE_ENTITY, drawn, &lang, true);
        }
        let (keys, l, t, lg) = (
            state.keys.clone(),
            link.clone(),
            token.clone(),
            lang.clone(),
        );
        with_conn(&state, move |conn| {
            Ok(q::consent(conn, &keys, &l, &t, &lg)?)
        })
        .await?;
        return go(&pages[1]);
    }
    let Some(response) = link.response.clone() else {
        return render_consent(&ctx, StatusCode::UNPROCESSABLE_ENTITY, drawn, &lang, true);
    };
    if page == "review" {
        if action == "submit" {
            let confirmed = form.get("send_unanswered").map(String::as_str) == Some("yes");
            return submit(&state, &ctx, &link, &response.id, &token, &lang, confirmed).await;
        }
        return go(&pages[pages.len() - 2]);
    }
    let Some(index) = pages.iter().position(|p| *p == page) else {
        return Err(AppError::BadRequest {
            field: Some("page".into()),
            message: format!("{page:?} is not a page of this questionnaire"),
        });
    };

    // Check every item on the page; save the good ones, report the rest.
    let mut good = Vec::new();
    let mut errors = HashMap::new();
    let mut values = BTreeMap::new();
    for item in q::items_on(&link.survey, link.role(), &page) {
        // An extra code (e.g. "never") ticked beside a number wins over the number.
        let raw = form
            .get(&format!("{}__code", item.code()))
            .filter(|c| !c.is_empty())
            .or_else(|| form.get(item.code()))
            .cloned()
            .unwrap_or_default();
        match q::parse_answer(&link.survey, item, &raw, &lang) {
            Ok(stored) => {
                // Radios left empty keep what was saved; a cleared text field clears it.
                let is_text = matches!(item, PageItem::Context(c) if matches!(c.kind, ContextKind::Integer | ContextKind::Number | ContextKind::Year | ContextKind::Percentage));
                if stored.is_some() || (is_text && form.contains_key(item.code())) {
                    good.push((item.code().to_owned(), stored));
                }
            }
            Err(message) => {
                errors.insert(item.code().to_owned(), message);
            }
        }
        values.insert(item.code().to_owned(), raw);
    }
    let (wave, rid, p, lg) = (
        link.wave.clone(),
        response.id.clone(),
        page.clone(),
        lang.clone(),
    );
    let saved = with_conn(&state, move |conn| {
        q::save(conn, &wave, &rid, &good, Some(&p), &lg)?;
        Ok(q::answers_of(conn, &rid)?)
    })
    .await?;
    if !errors.is_empty() {
        // Show what was typed for the bad fields, and what is stored for the rest.
        let mut shown: BTreeMap<String, String> = saved
            .iter()
            .map(|(k, v)| (k.clone(), as_typed(&v.raw(), &lang)))
            .collect();
        for code in errors.keys() {
            shown.insert(code.clone(), values.get(code).cloned().unwrap_or_default());
        }
        return render_question_page(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            drawn,
            &page,
            &lang,
            &shown,
            &errors,
        );
    }
    let target = if action == "back" {
        index.saturating_sub(1).max(1)
    } else if action == "stay" {
        // Enter pressed in the form (its default button): saved, the same page again.
        index
    } else {
        (index + 1).min(pages.len() - 1)
    };
    go(&pages[target])
}

/// Sends the response from the review page: questions left unanswered only when the
/// respondent ticked that they want to send without them (`confirmed`).
async fn submit(
    state: &web::Data<AppState>,
    ctx: &Ctx,
    link: &Link,
    response: &crate::core::domain::ResponseId,
    token: &str,
    lang: &str,
    confirmed: bool,
) -> AppResult<HttpResponse> {
    let rid = response.clone();
    let answers = with_conn(state, move |conn| Ok(q::answers_of(conn, &rid)?)).await?;
    let base = format!("/s/{token}");
    let form = Form::of(link, &base, &state.settings.privacy);
    if !confirmed && !unanswered(form, lang, &answers).is_empty() {
        let mut page = render_review(ctx, form, lang, &answers, true)?;
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(page);
    }
    let (l, rid) = (link.clone(), response.clone());
    with_conn(state, move |conn| Ok(q::submit(conn, &l, &rid)?)).await?;
    let w = words(lang);
    templates::page(
        "s_message",
        ctx,
        json!({"page_title": w["thanks_title"], "page_lang": lang, "respondent": true, "w": w, "title": w["thanks_title"], "body": w["thanks_body"], "withdraw_href": format!("/s/{token}/withdraw?lang={lang}")}),
    )
}

/// `GET /s/{token}/withdraw`: asks to confirm.
pub async fn withdraw_form(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let link = match resolve(&state, token.clone()).await? {
        LinkState::Active(link) | LinkState::Submitted(link) | LinkState::Expired(link) => link,
        other => {
            return state_page(&ctx, &other, &token, query.lang.as_deref())
                .unwrap_or(Err(AppError::NotFound));
        }
    };
    let lang = pick_lang(&link, query.lang.as_deref());
    let w = words(&lang);
    templates::page(
        "s_withdraw",
        &ctx,
        json!({"page_title": w["withdraw_title"], "page_lang": lang, "respondent": true, "w": w, "token": token, "lang": lang}),
    )
}

#[derive(Debug, Deserialize)]
pub struct WithdrawForm {
    lang: Option<String>,
}

/// `POST /s/{token}/withdraw`: deletes the answers.
pub async fn withdraw(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<WithdrawForm>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let link = match resolve(&state, token.clone()).await? {
        LinkState::Active(link) | LinkState::Submitted(link) | LinkState::Expired(link) => link,
        other => {
            return state_page(&ctx, &other, &token, form.lang.as_deref())
                .unwrap_or(Err(AppError::NotFound));
        }
    };
    let lang = pick_lang(&link, form.lang.as_deref());
    let (keys, l, t) = (state.keys.clone(), link.clone(), token.clone());
    with_conn(&state, move |conn| Ok(q::withdraw(conn, &keys, &l, &t)?)).await?;
    message_page(&ctx, StatusCode::OK, &lang, "withdrawn", None)
}

#[derive(Debug, Deserialize)]
pub struct PreviewQuery {
    page: Option<String>,
    lang: Option<String>,
    /// The button pressed on the page before: `continue`, `back`, `stay` or `submit`.
    action: Option<String>,
}

/// `GET /admin/surveys/{id}/preview/{role}`: a stored questionnaire version as a
/// respondent in `role` sees it, page by page, in either of its languages. The pages are
/// the respondent's own templates; their buttons only move between pages (GET), so
/// nothing is stored, and what is chosen on one page is not kept on the next.
pub async fn preview(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, String)>,
    query: web::Query<PreviewQuery>,
) -> AppResult<HttpResponse> {
    let (id, role) = path.into_inner();
    let instrument = crate::core::domain::InstrumentId::from_string(id.clone());
    let survey = with_conn(
        &state,
        move |conn| match crate::infra::models::InstrumentRow::find(conn, &instrument) {
            Ok(row) => Ok(crate::app::surveys::load_stored(&row)?),
            Err(diesel::result::Error::NotFound) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        },
    )
    .await?;
    if !survey.roles.contains_key(&role) {
        return Err(AppError::NotFound);
    }
    let lang = query
        .lang
        .clone()
        .filter(|l| survey.languages.contains(l))
        .or_else(|| survey.languages.first().cloned())
        .unwrap_or_else(|| "nb".to_owned());
    let base = format!("/admin/surveys/{id}/preview/{role}");
    let form = Form {
        survey: &survey,
        role: &role,
        base: &base,
        preview: true,
        privacy: &state.settings.privacy,
        retention_days: None,
    };
    let pages = q::pages(&survey, &role);
    let asked = query
        .page
        .clone()
        .filter(|p| pages.contains(p))
        .unwrap_or_else(|| pages[0].clone());
    let index = pages.iter().position(|p| *p == asked).unwrap_or(0);
    // The page the pressed button leads to, as on a respondent's link.
    let page = match query.action.as_deref() {
        Some("continue") => &pages[(index + 1).min(pages.len() - 1)],
        Some("back") if index > 1 => &pages[index - 1],
        Some("back") => &pages[index.min(1)],
        Some("submit") => {
            let w = words(&lang);
            return templates::page(
                "s_message",
                &ctx,
                json!({"page_title": w["thanks_title"], "page_lang": lang, "respondent": true, "w": w,
                       "title": w["thanks_title"], "body": w["thanks_body"], "withdraw_href": null,
                       "form": form.view(&lang), "back_href": form.href(&pages[0], &lang)}),
            );
        }
        _ => &asked,
    };
    match page.as_str() {
        "consent" => render_consent(&ctx, StatusCode::OK, form, &lang, false),
        "review" => render_review(&ctx, form, &lang, &BTreeMap::new(), false),
        _ => render_question_page(
            &ctx,
            StatusCode::OK,
            form,
            page,
            &lang,
            &BTreeMap::new(),
            &HashMap::new(),
        ),
    }
}
