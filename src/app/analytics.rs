//! Turns stored answers into the numbers users act on: sufficient statistics of the
//! per-respondent scores ([`sums`]), service × role aggregates, agreement, perception
//! gaps, psychometrics, peer benchmarks, region comparisons and trends. Everything that
//! leaves this module passes [`suppress::decide`]: its output type [`suppress::Cell`] can
//! only be built there. Never renders, never writes answers.
//!
//! Everything a wave shows is one typed [`Publication`] per wave version and minimum
//! cell size: views render it and compute no number of their own.
//!
//! Freshness: the server's [`Publisher`] computes publications in the background and
//! requests serve the latest one; on PostgreSQL it is shared with other instances
//! through `analytics_cache` (per wave, minimum cell size, data version and the previous
//! wave's version). Commands use [`publication`], which computes on the spot unless the
//! cache holds the current version.

pub mod publisher;
pub mod results;
pub mod stats;
pub mod sums;
pub mod suppress;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use anyhow::Context as _;

use crate::core::domain::{WaveId, WaveStatus};
use crate::infra::db::DbConn;
use crate::infra::models::{AnalyticsCacheEntry, NewAnalyticsCacheEntry, Wave};

pub use publisher::{Computed, Publications, Publisher};
pub use results::Publication;
pub use suppress::MinCell;

/// The wave before `wave` whose results trends compare with: the latest earlier wave that
/// has been opened.
pub fn previous_wave(conn: &mut DbConn, wave: &Wave) -> anyhow::Result<Option<Wave>> {
    Ok(previous_among(&Wave::all(conn)?, wave).cloned())
}

/// [`previous_wave`] among `waves`.
fn previous_among<'a>(waves: &'a [Wave], wave: &Wave) -> Option<&'a Wave> {
    let when = |w: &Wave| w.opens_at.unwrap_or(w.created_at);
    waves
        .iter()
        .filter(|w| w.id != wave.id && w.status != WaveStatus::Draft && when(w) < when(wave))
        .max_by_key(|w| when(w))
}

/// Loads and computes a wave's publication now, without any cache.
pub fn compute(conn: &mut DbConn, wave: &WaveId, k: MinCell) -> anyhow::Result<Publication> {
    compute_since(conn, wave, k, &mut HashMap::new())
}

/// [`compute`], reading only the responses submitted since `rows` last read each wave
/// (the publisher keeps them between computations of a live wave).
pub fn compute_since<S: std::hash::BuildHasher>(
    conn: &mut DbConn,
    wave: &WaveId,
    k: MinCell,
    rows: &mut HashMap<WaveId, sums::Rows, S>,
) -> anyhow::Result<Publication> {
    let started = std::time::Instant::now();
    let version = Wave::data_version(conn, wave)?;
    let data = sums::load_since(conn, wave, rows.entry(wave.clone()).or_default())?;
    let previous = previous_wave(conn, &data.wave)?
        .map(|p| sums::load_since(conn, &p.id, rows.entry(p.id.clone()).or_default()))
        .transpose()?;
    let read = started.elapsed();
    let invited = crate::app::waves::invited(conn, wave, None)?;
    let counted = started.elapsed();
    let publication = results::compute(&data, previous.as_ref(), &invited, version, k);
    // Where a computation's time goes (perf/live.sh turns this on).
    tracing::debug!(
        wave.id = %wave,
        read_seconds = read.as_secs_f64(),
        invited_seconds = counted.saturating_sub(read).as_secs_f64(),
        aggregate_seconds = started.elapsed().saturating_sub(counted).as_secs_f64(),
        "computed"
    );
    for d in std::iter::once(data).chain(previous) {
        rows.entry(d.wave.id.clone()).or_default().keep(d);
    }
    publication
}

/// Brings the sums kept in `rows` for `wave` up to date without computing a publication:
/// an instance that reads another's publication keeps its own sums warm, so that it
/// reads only new responses when its turn to compute comes.
pub fn warm<S: std::hash::BuildHasher>(
    conn: &mut DbConn,
    wave: &WaveId,
    rows: &mut HashMap<WaveId, sums::Rows, S>,
) -> anyhow::Result<()> {
    let kept = rows.entry(wave.clone()).or_default();
    let data = sums::load_since(conn, wave, kept)?;
    kept.keep(data);
    Ok(())
}

/// What a publication was computed from: the wave's data version and its previous
/// wave's (trends are made of both waves' cells; -1 without one). Ordered: a larger
/// first version is newer data.
pub type Versions = (i64, i64);

/// The versions a publication of `wave` computed now would rest on.
///
/// # Errors
/// When the wave does not exist or the database cannot be read.
pub fn versions(conn: &mut DbConn, wave: &WaveId) -> anyhow::Result<Versions> {
    // Two queries: every request for a page with results makes them.
    let all = Wave::all(conn)?;
    let found = all
        .iter()
        .find(|w| &w.id == wave)
        .context("the wave does not exist")?;
    let previous = previous_among(&all, found).map(|p| &p.id);
    let ids: Vec<&WaveId> = std::iter::once(wave).chain(previous).collect();
    let of = Wave::data_versions(conn, &ids)?;
    let version = |id: &WaveId| of.get(id).copied().unwrap_or(0);
    Ok((version(wave), previous.map_or(-1, version)))
}

fn cache_prefix(k: MinCell) -> String {
    format!("publication:k={}:", k.get())
}

fn cache_key(k: MinCell, versions: Versions) -> String {
    format!("{}previous={}", cache_prefix(k), versions.1)
}

/// Stores `publication` (computed at `versions`) in the shared cache, replacing the
/// wave's publications at other versions.
fn store(
    conn: &mut DbConn,
    wave: &WaveId,
    k: MinCell,
    versions: Versions,
    publication: &Publication,
) -> anyhow::Result<()> {
    AnalyticsCacheEntry::put(
        conn,
        &NewAnalyticsCacheEntry {
            wave_id: wave.clone(),
            cache_key: cache_key(k, versions),
            data_version: publication.data_version,
            payload: encode(publication)?,
            computed_at: publication.computed_at,
        },
        &cache_prefix(k),
    )?;
    Ok(())
}

/// The publication stored in the shared cache for exactly `versions`, if any.
fn cached(
    conn: &mut DbConn,
    wave: &WaveId,
    k: MinCell,
    versions: Versions,
) -> anyhow::Result<Option<Publication>> {
    AnalyticsCacheEntry::get(conn, wave, &cache_key(k, versions), versions.0)?
        .map(|entry| decode(&entry.payload))
        .transpose()
        .context("a cached publication cannot be read")
}

/// The newest publication stored for the wave's previous-wave version `versions.1` at a
/// data version above `above` (what this instance serves), with the versions it rests
/// on: another instance's newer result, though not yet at the wave's current version.
fn cached_newer(
    conn: &mut DbConn,
    wave: &WaveId,
    k: MinCell,
    versions: Versions,
    above: i64,
) -> anyhow::Result<Option<(Versions, Publication)>> {
    let Some(entry) = AnalyticsCacheEntry::newer(conn, wave, &cache_key(k, versions), above)?
    else {
        return Ok(None);
    };
    let publication = decode(&entry.payload).context("a cached publication cannot be read")?;
    Ok(Some(((entry.data_version, versions.1), publication)))
}

/// A publication as stored for other instances: MessagePack with field names (serde's
/// tagged and flattened layout needs a self-describing format), compressed with zstd.
/// For a national wave about 16 MB, written in 0.3 s and read in 0.6 s, where JSON took
/// 160 MB, 0.3 s and 0.7 s before the database even stored or sent it.
pub fn encode(publication: &Publication) -> anyhow::Result<Vec<u8>> {
    let packed = rmp_serde::to_vec_named(publication)?;
    Ok(zstd::bulk::compress(&packed, 1)?)
}

/// The publication [`encode`] stored.
pub fn decode(stored: &[u8]) -> anyhow::Result<Publication> {
    let packed = zstd::stream::decode_all(stored)?;
    Ok(rmp_serde::from_slice(&packed)?)
}

type MemoryKey = (WaveId, u32);
type Memory = HashMap<MemoryKey, (Versions, Arc<Publication>)>;
static MEMORY: LazyLock<Mutex<Memory>> = LazyLock::new(Default::default);

/// A wave's publication, computed now unless the cache holds one for the wave's current
/// data (and its previous wave's): for commands, which may wait. Requests go through
/// [`Publisher`], which never computes on the request path.
///
/// # Errors
/// When the database cannot be read or the computation fails.
pub fn publication(
    conn: &mut DbConn,
    wave: &WaveId,
    k: MinCell,
) -> anyhow::Result<Arc<Publication>> {
    let version = versions(conn, wave)?;
    let memory_key = (wave.clone(), k.get());
    if let Some((v, value)) = MEMORY.lock().ok().and_then(|m| m.get(&memory_key).cloned())
        && v == version
    {
        return Ok(value);
    }
    let value = if let Some(p) = cached(conn, wave, k, version)? {
        p
    } else {
        let computed = compute(conn, wave, k)?;
        // Computed at the version read before loading: if answers changed meanwhile, the
        // stored version is already behind and the next request recomputes.
        store(conn, wave, k, version, &computed)?;
        computed
    };
    let value = Arc::new(value);
    if let Ok(mut m) = MEMORY.lock() {
        m.insert(memory_key, (version, value.clone()));
    }
    Ok(value)
}
