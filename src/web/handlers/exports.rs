//! Research exports in the browser: researchers (for the waves they are granted) and
//! admins download a wave's bundle, or several waves pooled, as one zip. Every download
//! is audit-logged. The bundle is written to a temporary directory on one thread while
//! another zips it straight into the response (`long.csv` as it is written, the rest
//! when the bundle is done), so the download starts at once and memory stays bounded
//! however large the wave.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::core::domain::{WaveId, WaveStatus};
use crate::infra::models::Wave;
use crate::web::errors::{AppError, AppResult};
use crate::web::security::Ctx;
use crate::web::{AppState, templates, with_conn};

/// `GET /exports`: the waves this user may export.
pub async fn list(state: web::Data<AppState>, ctx: Ctx) -> AppResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let lang = ctx.lang().to_owned();
    let waves = with_conn(&state, move |conn| {
        let waves = crate::app::export::exportable_waves(conn, &access)?;
        // Ticked: the newest wave with answers (the newest when none has any).
        let ticked = waves
            .iter()
            .position(|(_, n)| *n > 0)
            .unwrap_or(0);
        Ok(waves
            .iter()
            .enumerate()
            .map(|(i, (w, n))| {
                json!({
                    "id": w.id,
                    "name": w.name,
                    "status": crate::infra::i18n::fill(&lang, &format!("wave_status.{}", w.status.as_str()), &[]),
                    "answers": n,
                    "ticked": i == ticked,
                })
            })
            .collect::<Vec<_>>())
    })
    .await?;
    templates::page(
        "exports",
        &ctx,
        json!({"page_title": format!("{} · samskap", crate::infra::i18n::fill(ctx.lang(), "exports.title", &[])), "waves": waves, "labels_nb": ctx.lang() == "nb"}),
    )
}

/// `GET /exports/bundle?wave=ID[&wave=ID…]&project=NAME`: the zip.
pub async fn bundle(
    state: web::Data<AppState>,
    ctx: Ctx,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let actor = ctx.actor();
    let pairs = query.into_inner();
    let ids: Vec<WaveId> = pairs
        .iter()
        .filter(|(k, _)| k == "wave")
        .map(|(_, v)| WaveId::from_string(v.clone()))
        .collect();
    let project = pairs
        .iter()
        .find(|(k, _)| k == "project")
        .map_or_else(|| "default".to_owned(), |(_, v)| v.trim().to_owned());
    // The labels' language (`labels=en|nb`; `lang` is the page's own language switch):
    // the reader's page language unless they chose another.
    let labels = match pairs.iter().find(|(k, _)| k == "labels") {
        Some((_, v)) if crate::app::export::LANGUAGES.contains(&v.as_str()) => v.clone(),
        Some((_, v)) => {
            return Err(AppError::BadRequest {
                field: Some("labels".into()),
                message: format!(
                    "labels can be written in {}, not \"{v}\"",
                    crate::app::export::LANGUAGES.join(" or ")
                ),
            });
        }
        None => ctx.lang().to_owned(),
    };
    if ids.is_empty() {
        return Err(AppError::BadRequest {
            field: Some("wave".into()),
            message: "choose at least one wave".into(),
        });
    }
    if let Err(message) = crate::app::export::project_name(&project) {
        return Err(AppError::BadRequest {
            field: Some("project".into()),
            message,
        });
    }
    let keys = state.keys.clone();
    let publications = state.publications.clone();
    let waves = with_conn(&state, move |conn| {
        let mut waves = Vec::new();
        for id in &ids {
            if !access.can_export_wave(id) {
                return Err(AppError::Forbidden);
            }
            let wave = match Wave::find(conn, id) {
                Ok(w) if w.status != WaveStatus::Draft => w,
                Ok(_) | Err(diesel::result::Error::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            };
            waves.push(wave);
        }
        Ok(waves)
    })
    .await?;
    let dir = std::sync::Arc::new(BundleDir(std::env::temp_dir().join(format!(
        "{}{}",
        crate::app::export::TEMP_PREFIX,
        crate::infra::crypto::hex(&crate::infra::crypto::random_bytes::<8>())
    ))));
    let progress = std::sync::Arc::new(BundleProgress::default());
    // The zip's thread first: when it cannot start, nothing is written or recorded.
    let body = stream_zip(dir.clone(), progress.clone())?;
    // The bundle is written on a thread of its own while the zip thread sends it: the
    // response starts at once. From here on a failure breaks the download (the reader's
    // zip tool says it is damaged) and is logged; it cannot become an error page.
    let pool = state.pool.clone();
    let spawned = std::thread::Builder::new()
        .name("export-bundle".into())
        .spawn({
            let (dir, progress) = (dir.clone(), progress.clone());
            move || {
                let reporter = Reporter(progress);
                let result = pool
                    .get()
                    .map_err(anyhow::Error::from)
                    .and_then(|mut conn| {
                        let request = crate::app::export::Request {
                            project: &project,
                            format: "bundle",
                            via: "web",
                            lang: &labels,
                        };
                        crate::app::export::research_export(
                            &mut conn,
                            &keys,
                            &waves,
                            request,
                            &*publications,
                            &dir.0,
                            &actor,
                            &|step| {
                                if let crate::app::export::Step::Writing(_) = step {
                                    reporter.0.mark_growing_done();
                                }
                            },
                        )
                    });
                if let Err(e) = &result {
                    tracing::warn!(error = %format!("{e:#}"), "research bundle not written");
                }
                reporter.finish(result.map(|_| ()).map_err(|e| format!("{e:#}")));
            }
        });
    if let Err(e) = spawned {
        // The zip's thread stops waiting and breaks the download.
        Reporter(progress).finish(Err(format!(
            "cannot start the research bundle's thread: {e}"
        )));
    }
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"samskap-bundle.zip\"",
        ))
        .streaming(body))
}

/// How far the bundle's thread has come, for the zip's thread.
#[derive(Default)]
struct BundleProgress {
    /// Whether `long.csv` is complete, and the bundle's outcome once it has one.
    state: std::sync::Mutex<(bool, Option<Result<(), String>>)>,
    changed: std::sync::Condvar,
}

impl BundleProgress {
    fn lock(&self) -> std::sync::MutexGuard<'_, (bool, Option<Result<(), String>>)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `long.csv` is complete.
    fn mark_growing_done(&self) {
        self.lock().0 = true;
    }
}

impl crate::app::export::Progressing for BundleProgress {
    fn growing_done(&self) -> bool {
        let state = self.lock();
        state.0 || state.1.is_some()
    }

    fn finished(&self) -> anyhow::Result<()> {
        let mut state = self.lock();
        loop {
            if let Some(outcome) = &state.1 {
                return outcome.clone().map_err(anyhow::Error::msg);
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// The bundle thread's side of [`BundleProgress`]. Dropped without an outcome (the
/// thread panicked), it reports a failure, so the zip's thread never waits for ever.
struct Reporter(std::sync::Arc<BundleProgress>);

impl Reporter {
    fn finish(&self, outcome: Result<(), String>) {
        let mut state = self.0.lock();
        if state.1.is_none() {
            state.1 = Some(outcome);
        }
        drop(state);
        self.0.changed.notify_all();
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.finish(Err("the research bundle's thread stopped".into()));
    }
}

/// A bundle's temporary directory (pseudonymous microdata), removed when dropped: shared
/// by the bundle's thread and the zip's, it goes when both are done, however each ends
/// (written, an error, the reader gone, a panic).
struct BundleDir(std::path::PathBuf);

impl Drop for BundleDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The zip of a bundle directory as a response body, written on a thread of its own and
/// handed over in chunks through a bounded channel: memory holds a few chunks, however
/// large the bundle, which `progress` says how far it has come. An error when the thread
/// cannot be started.
fn stream_zip(
    dir: std::sync::Arc<BundleDir>,
    progress: std::sync::Arc<BundleProgress>,
) -> AppResult<impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> + use<>> {
    /// Chunks of at most this many bytes, at most [`CHUNKS`] of them waiting.
    const CHUNK: usize = 256 * 1024;
    const CHUNKS: usize = 4;
    /// How long a chunk waits for a reader that has stopped reading.
    const STALLED: std::time::Duration = std::time::Duration::from_secs(300);
    struct Sender {
        tx: tokio::sync::mpsc::Sender<Result<web::Bytes, std::io::Error>>,
        buf: Vec<u8>,
    }
    impl std::io::Write for Sender {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.buf.extend_from_slice(data);
            if self.buf.len() >= CHUNK {
                self.flush()?;
            }
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            if self.buf.is_empty() {
                return Ok(());
            }
            let chunk =
                web::Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
            // A reader that stays connected but stops reading would hold this thread
            // and the bundle's directory for ever: it gets five minutes.
            let deadline = std::time::Instant::now() + STALLED;
            let mut item = Ok(chunk);
            loop {
                match self.tx.try_send(item) {
                    Ok(()) => return Ok(()),
                    Err(tokio::sync::mpsc::error::TrySendError::Full(back)) => {
                        if std::time::Instant::now() >= deadline {
                            return Err(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                "the reader stopped reading",
                            ));
                        }
                        item = back;
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::BrokenPipe,
                            "the download was cancelled",
                        ));
                    }
                }
            }
        }
    }
    let (tx, rx) = tokio::sync::mpsc::channel(CHUNKS);
    // Set only when the whole zip has been handed over: a channel that closes without it
    // (an error, a panic on the thread) ends the body with an error, never as a short
    // zip that looks complete.
    let complete = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    std::thread::Builder::new()
        .name("export-zip".into())
        .spawn({
            let complete = complete.clone();
            move || {
                let mut out = Sender {
                    tx: tx.clone(),
                    buf: Vec::with_capacity(CHUNK),
                };
                let written = crate::app::export::write_zip(&dir.0, &mut out, &*progress)
                    .and_then(|out| Ok(std::io::Write::flush(out)?));
                drop(dir);
                match written {
                    Ok(()) => complete.store(true, std::sync::atomic::Ordering::Release),
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "research zip not completed");
                    }
                }
            }
        })
        .map_err(|e| anyhow::Error::new(e).context("cannot start the research zip's thread"))?;
    Ok(futures_util::stream::unfold(
        (rx, complete, false),
        |(mut rx, complete, ended)| async move {
            if ended {
                return None;
            }
            match rx.recv().await {
                Some(item) => Some((item, (rx, complete, false))),
                None if complete.load(std::sync::atomic::Ordering::Acquire) => None,
                None => Some((
                    Err(std::io::Error::other("the research zip was not completed")),
                    (rx, complete, true),
                )),
            }
        },
    ))
}

/// `GET /waves/{wave}/psychometrics`: α, ICC(1), ICC(2) per phase and item descriptives,
/// after the gate, as a page.
pub async fn psychometrics(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let wave = path.into_inner();
    super::api::may_read_psychometrics(ctx.access()?, &wave)?;
    let publications = state.publications.clone();
    let lang = ctx.lang();
    let (results, view) = with_conn(&state, move |conn| {
        let results = super::api::wave_results(conn, &wave, &*publications)?;
        let stored = crate::infra::models::Wave::find(conn, &results.wave_id)?;
        let survey = crate::app::waves::instrument_of(conn, &stored)?;
        let view = crate::app::reports::psychometrics::view(&results, &survey, lang);
        Ok((results, view))
    })
    .await?;
    templates::page(
        "psychometrics",
        &ctx,
        json!({
            "page_title": format!(
                "{} · {}",
                crate::infra::i18n::fill(ctx.lang(), "psychometrics.title", &[]),
                results.wave_name
            ),
            "wave_name": results.wave_name, "wave_id": results.wave_id, "min_cell": results.min_cell,
            "v": view,
        }),
    )
}

/// `GET /waves/{wave}/psychometrics.csv`
pub async fn psychometrics_csv(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let wave = path.into_inner();
    super::api::may_read_psychometrics(ctx.access()?, &wave)?;
    let publications = state.publications.clone();
    let actor = ctx.actor();
    let csv = with_conn(&state, move |conn| {
        let results = super::api::wave_results(conn, &wave, &*publications)?;
        let table = crate::app::export::Table::Psychometrics;
        Ok(crate::app::export::download(conn, &actor, &results, table)?)
    })
    .await?;
    Ok(super::csv_attachment("psychometrics.csv", csv))
}
