//! The API's OpenAPI 3.0 document (`GET /api/v1/openapi.json`), generated from the types
//! the handlers answer with and read: every schema comes from a `JsonSchema` derive on
//! the struct that is serialised (or deserialised), so the document cannot drift from the
//! JSON. What types cannot say (summaries, which statuses an operation answers with, who
//! may call it) is written once per operation in [`OPERATIONS`]; the contract test checks
//! that list against the route table and real responses against the schemas.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::errors::ErrorBody;
use super::handlers::{api, respondent_api};
use crate::app::catalogue::ServiceDetail;

/// Builds a schema (a `$ref` for a named type) in the document's generator.
pub type SchemaFn = fn(&mut SchemaGenerator) -> schemars::Schema;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Anyone.
    Public,
    /// A respondent, by the link token in the path.
    Respondent,
    /// A signed-in account: a session cookie or an API token.
    Staff,
}

/// One operation of the API.
#[derive(Debug)]
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub id: &'static str,
    pub summary: &'static str,
    pub description: Option<&'static str>,
    pub caller: Caller,
    /// Path parameters, by name in `components.parameters`.
    pub path_params: &'static [&'static str],
    /// Query parameters: the properties of this type's schema.
    pub query: Option<SchemaFn>,
    /// The request body, and whether it may be left out.
    pub body: Option<(SchemaFn, bool)>,
    /// The 200 response's description and body.
    pub ok: (&'static str, SchemaFn),
    /// Error statuses the operation answers with (each with [`ErrorBody`]).
    pub errors: &'static [u16],
}

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> schemars::Schema {
    generator.subschema_for::<T>()
}

fn any_object(_: &mut SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "object", "description": "An OpenAPI 3.0 document"})
}

const STAFF_ERRORS: &[u16] = &[401, 403, 404];
const LINK_ERRORS: &[u16] = &[400, 403, 404, 410, 429];

/// Every operation of the API, in the document's order.
pub static OPERATIONS: &[Operation] = &[
    Operation {
        method: "GET",
        path: "/api/v1/openapi.json",
        id: "getOpenApi",
        summary: "This document",
        description: None,
        caller: Caller::Public,
        path_params: &[],
        query: None,
        body: None,
        ok: ("OpenAPI 3 document", any_object),
        errors: &[],
    },
    Operation {
        method: "GET",
        path: "/api/v1/me",
        id: "getMe",
        summary: "Who the token or session belongs to",
        description: None,
        caller: Caller::Staff,
        path_params: &[],
        query: None,
        body: None,
        ok: ("The caller", schema::<api::Me>),
        errors: &[401],
    },
    Operation {
        method: "GET",
        path: "/api/v1/services/{code}",
        id: "getService",
        summary: "A service in the caller's scope",
        description: None,
        caller: Caller::Staff,
        path_params: &["code"],
        query: None,
        body: None,
        ok: ("The service", schema::<ServiceDetail>),
        errors: STAFF_ERRORS,
    },
    Operation {
        method: "GET",
        path: "/api/v1/waves",
        id: "listWaves",
        summary: "Waves that have results (opened or closed), newest first",
        description: None,
        caller: Caller::Staff,
        path_params: &[],
        query: None,
        body: None,
        ok: ("The waves", schema::<api::WaveList>),
        errors: &[401],
    },
    Operation {
        method: "GET",
        path: "/api/v1/waves/{wave}/services/{code}/results",
        id: "getServiceResults",
        summary: "A service's profile per role (n, mean, SD, 95% CI, maturity level, NA and DK \
                  shares, rwg(J)), index, perception gaps, peer benchmarks and trends from the \
                  previous wave",
        description: Some(
            "Every number passed the suppression gate jointly with everything else the wave \
             publishes: a cell behind fewer than `min_cell` respondents, or one that would let \
             a reader recover such a cell by subtraction, is `suppressed` and carries no number.",
        ),
        caller: Caller::Staff,
        path_params: &["wave", "code"],
        query: None,
        body: None,
        ok: ("The service's results", schema::<api::ServiceResults>),
        errors: &[401, 403, 404, 503],
    },
    Operation {
        method: "GET",
        path: "/api/v1/waves/{wave}/services/{code}/benchmarks",
        id: "getServiceBenchmarks",
        summary: "Percentile rank (peer groups of at least 10 services) and funnel-plot position \
                  of the service's index per role, in its service-type, health-region, county and \
                  national peer groups",
        description: None,
        caller: Caller::Staff,
        path_params: &["wave", "code"],
        query: None,
        body: None,
        ok: ("The benchmarks", schema::<api::ServiceBenchmarks>),
        errors: &[401, 403, 404, 503],
    },
    Operation {
        method: "GET",
        path: "/api/v1/waves/{wave}/regions",
        id: "listRegionCells",
        summary: "Region × role × service type × phase aggregates with small-cell and \
                  complementary suppression",
        description: Some(
            "Admins get every region. A policymaker gets the regions of their scopes and every \
             region inside them, and for comparison the national cells and the other regions \
             at the level of their scope (as on the region pages).",
        ),
        caller: Caller::Staff,
        path_params: &["wave"],
        query: Some(schema::<api::RegionQuery>),
        body: None,
        ok: ("The region cells", schema::<api::Regions<'static>>),
        errors: &[400, 401, 403, 404, 503],
    },
    Operation {
        method: "GET",
        path: "/api/v1/waves/{wave}/psychometrics",
        id: "getPsychometrics",
        summary: "ICC(1), ICC(2) (service as group), Cronbach's alpha and item descriptives per \
                  phase",
        description: None,
        caller: Caller::Staff,
        path_params: &["wave"],
        query: None,
        body: None,
        ok: ("The psychometrics", schema::<api::Psychometrics>),
        errors: &[401, 403, 404, 503],
    },
    Operation {
        method: "GET",
        path: "/api/v1/respondent/{token}",
        id: "getQuestionnaire",
        summary: "The questionnaire and the answers saved so far",
        description: Some(
            "After submission `answers` is empty: a submitted person's answers are never given \
             back through the link.",
        ),
        caller: Caller::Respondent,
        path_params: &["token"],
        query: Some(schema::<respondent_api::LangQuery>),
        body: None,
        ok: ("The questionnaire", schema::<respondent_api::Questionnaire>),
        errors: LINK_ERRORS,
    },
    Operation {
        method: "POST",
        path: "/api/v1/respondent/{token}/consent",
        id: "giveConsent",
        summary: "Give consent and start the response",
        description: None,
        caller: Caller::Respondent,
        path_params: &["token"],
        query: None,
        body: Some((schema::<respondent_api::ConsentBody>, true)),
        ok: ("Consented", schema::<respondent_api::Consented>),
        errors: &[400, 403, 404, 409, 410, 413, 422, 429],
    },
    Operation {
        method: "PUT",
        path: "/api/v1/respondent/{token}/answers",
        id: "saveAnswers",
        summary: "Save answers (all or nothing)",
        description: Some(
            "Scale items take a scale value (0-4) or a missing code (DK, NA); context items a \
             number, a choice code, true/false for yes/no, or an extra code. null clears an \
             answer. A 422 names every answer that cannot be used, and nothing is saved.",
        ),
        caller: Caller::Respondent,
        path_params: &["token"],
        query: None,
        body: Some((schema::<respondent_api::AnswersBody>, false)),
        ok: ("Saved", schema::<respondent_api::Saved>),
        errors: &[400, 403, 404, 409, 410, 413, 422, 429],
    },
    Operation {
        method: "POST",
        path: "/api/v1/respondent/{token}/submit",
        id: "submitResponse",
        summary: "Submit (idempotent); with a body, consent and save answers first in the same \
                  transaction",
        description: None,
        caller: Caller::Respondent,
        path_params: &["token"],
        query: None,
        body: Some((schema::<respondent_api::SubmitBody>, true)),
        ok: ("Submitted", schema::<respondent_api::SubmitOutcome>),
        errors: &[400, 403, 404, 409, 410, 413, 422, 429],
    },
];

/// The document, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| build().to_string())
}

fn error_response(status: u16) -> Value {
    let name = match status {
        429 => "RateLimited",
        503 => "Computing",
        _ => "Error",
    };
    json!({"$ref": format!("#/components/responses/{name}")})
}

/// Query parameters from the properties of an object schema.
fn query_parameters(schema: &Value, generator: &mut SchemaGenerator) -> Vec<Value> {
    let resolved = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .and_then(|name| generator.definitions().get(name))
        .unwrap_or(schema)
        .clone();
    let required: Vec<&str> = resolved
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    resolved
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, prop)| {
                    let mut prop = schemars::Schema::try_from(prop.clone())
                        .map_or_else(|_| prop.clone(), |p| finish(generator, p));
                    let description = prop.as_object_mut().and_then(|p| p.remove("description"));
                    let mut param = json!({
                        "name": name, "in": "query",
                        "required": required.contains(&name.as_str()),
                        "schema": prop,
                    });
                    if let Some(d) = description {
                        param["description"] = d;
                    }
                    param
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `schema` as OpenAPI 3.0 has it: the settings' transforms (`nullable`, no `const`, …),
/// which the generator applies to the definitions itself but not to a schema it hands
/// out inline.
fn finish(generator: &mut SchemaGenerator, mut schema: schemars::Schema) -> Value {
    for transform in generator.transforms_mut() {
        transform.transform(&mut schema);
    }
    schema.to_value()
}

fn build() -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut paths = Map::new();
    for op in OPERATIONS {
        let mut operation = json!({
            "operationId": op.id,
            "summary": op.summary,
        });
        if let Some(d) = op.description {
            operation["description"] = json!(d);
        }
        operation["security"] = match op.caller {
            Caller::Staff => json!([{"bearer": []}, {"session": []}]),
            Caller::Public | Caller::Respondent => json!([]),
        };
        let mut parameters: Vec<Value> = op
            .path_params
            .iter()
            .map(|p| json!({"$ref": format!("#/components/parameters/{p}")}))
            .collect();
        if let Some(query) = op.query {
            let schema = query(&mut generator);
            let schema = finish(&mut generator, schema);
            parameters.extend(query_parameters(&schema, &mut generator));
        }
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if let Some((body, optional)) = op.body {
            let schema = body(&mut generator);
            let schema = finish(&mut generator, schema);
            operation["requestBody"] = json!({
                "required": !optional,
                "content": {"application/json": {"schema": schema}},
            });
        }
        let mut responses = Map::new();
        let (description, ok) = op.ok;
        let ok = ok(&mut generator);
        let ok = finish(&mut generator, ok);
        responses.insert(
            "200".into(),
            json!({
                "description": description,
                "content": {"application/json": {"schema": ok}},
            }),
        );
        for status in op.errors {
            responses.insert(status.to_string(), error_response(*status));
        }
        operation["responses"] = Value::Object(responses);
        let entry = paths
            .entry(op.path)
            .or_insert_with(|| Value::Object(Map::new()));
        entry[op.method.to_lowercase()] = operation;
    }
    let error = generator.subschema_for::<ErrorBody>();
    let error = finish(&mut generator, error);
    let schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "samskap API",
            "version": "1.0.0",
            "description": "Staff endpoints take a session cookie or `Authorization: Bearer \
                samskap_…` (create tokens on /me). Respondent endpoints take the token from the \
                invitation link in the path. Errors are `{\"error\": {\"code\", \"message\", \
                \"field\"?, \"fields\"?}}`. Every number published passed the suppression gate: \
                a `Cell` is `shown` (with n and value), `suppressed` or `empty`.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http", "scheme": "bearer",
                    "description": "API token, `samskap_` + 64 hex characters (create one on /me; valid 90 days)",
                },
                "session": {
                    "type": "apiKey", "in": "cookie", "name": super::security::SESSION_COOKIE,
                    "description": "The browser session after signing in at /login",
                },
            },
            "parameters": {
                "token": {
                    "name": "token", "in": "path", "required": true,
                    "description": "The respondent's link token (40 hex characters)",
                    "schema": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
                },
                "code": {
                    "name": "code", "in": "path", "required": true,
                    "description": "Service code", "schema": {"type": "string"},
                },
                "wave": {
                    "name": "wave", "in": "path", "required": true,
                    "description": "Wave id (from GET /api/v1/waves)", "schema": {"type": "string"},
                },
            },
            "responses": {
                "Error": {
                    "description": "Error",
                    "content": {"application/json": {"schema": error}},
                },
                "RateLimited": {
                    "description": "Too many requests from this address (respondent routes; SAMSKAP_RESPONDENT_RATE_LIMIT a minute)",
                    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
                    "content": {"application/json": {"schema": error}},
                },
                "Computing": {
                    "description": "The wave's first publication is still being computed (a large wave just opened or the server just started): `{\"error\": {\"code\": \"computing\"}}` with `Retry-After`; try again.",
                    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
                    "content": {"application/json": {"schema": error}},
                },
            },
            "schemas": schemas,
        },
    })
}
