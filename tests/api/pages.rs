use samskap::tools::demo::{self, DemoOptions};

use crate::helpers::spawn_app;

#[actix_web::test]
async fn unknown_route_gets_the_friendly_404_page() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let body = response.text().await.expect("body");
    assert!(body.contains("Page not found"), "{body}");
    assert!(body.contains("href=\"/\""), "offers a way back");
}

#[actix_web::test]
async fn pages_and_error_pages_are_in_the_requested_language() {
    let app = spawn_app().await;
    let login = app.get("/login?lang=nb").await.text().await.expect("body");
    assert!(login.contains("<html lang=\"nb\">"), "{login}");
    assert!(login.contains("<h1>Logg inn</h1>"), "{login}");

    let in_bokmal = |req: reqwest::RequestBuilder| req.header("Accept-Language", "nb-NO,nb;q=0.9");
    let missing = in_bokmal(app.client.get(format!("{}/no/such/page", app.address)))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
    let body = missing.text().await.expect("body");
    assert!(body.contains("<html lang=\"nb\">"), "{body}");
    assert!(body.contains("Fant ikke siden"), "{body}");

    // An error an extractor returns: a form without the right CSRF token.
    let refused = in_bokmal(app.client.post(format!("{}/login", app.address)))
        .form(&[("_csrf", "wrong"), ("email", "a@b.no"), ("password", "x")])
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 403);
    let body = refused.text().await.expect("body");
    assert!(body.contains("Prøv igjen"), "{body}");
}

#[actix_web::test]
async fn empty_home_page_explains_how_to_get_started() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.expect("body");
    assert!(body.contains("No services yet"));
    assert!(body.contains("samskap import services"));
}

#[actix_web::test]
async fn home_page_lists_regions_counties_and_services() {
    let app = spawn_app().await;
    let mut conn = app.db.connect();
    let options = DemoOptions {
        services: 60,
        seed: 3,
    };
    demo::load(&mut conn, options).expect("demo loads");
    let catalogue = demo::catalogue(options);

    let body = app.get("/").await.text().await.expect("body");
    for region in [
        "Helse Sør-Øst",
        "Helse Vest",
        "Helse Midt-Norge",
        "Helse Nord",
    ] {
        assert!(body.contains(region), "{region} missing");
    }
    for county in ["Oslo", "Vestland", "Finnmark", "Møre og Romsdal"] {
        assert!(body.contains(county), "{county} missing");
    }
    for service in catalogue.iter().take(10) {
        let escaped = service.service_name.replace('&', "&amp;");
        assert!(body.contains(&escaped), "{} missing", service.service_name);
    }
    assert!(body.contains("<dd>60</dd>"), "service total shown");
}

#[actix_web::test]
async fn static_assets_are_embedded_cached_and_revalidated() {
    let app = spawn_app().await;
    let response = app.get("/static/samskap.css").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/css");
    let etag = response.headers()["etag"].clone();
    let again = app
        .client
        .get(format!("{}/static/samskap.css", app.address))
        .header("If-None-Match", etag)
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 304);
    assert_eq!(app.get("/static/missing.css").await.status(), 404);
}

#[actix_web::test]
async fn every_page_carries_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/healthz", "/nope"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
    }
    // Static files keep their own caching.
    let css = app.get("/static/samskap.css").await;
    assert_eq!(css.headers()["cache-control"], "public, max-age=3600");
    assert!(
        !css.headers().contains_key("strict-transport-security"),
        "no HSTS over plain http"
    );
    // Behind https (the base URL says so): HSTS on every answer.
    let tls = crate::helpers::spawn_app_with(|s| {
        s.base_url = Some("https://samskap.example.org".into());
    })
    .await;
    for path in ["/", "/static/samskap.css", "/nope"] {
        let response = tls.get(path).await;
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
}
