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
    Ok(
        AnalyticsCacheEntry::get(conn, wave, &cache_key(k, versions), versions.0)?
            .and_then(|entry| readable(wave, &entry.payload)),
    )
}

/// The stored publication, unless it cannot be read (written in an older format by an
/// earlier version): then it is computed again, and the new copy replaces it.
fn readable(wave: &WaveId, stored: &[u8]) -> Option<Publication> {
    decode(stored)
        .inspect_err(|e| {
            tracing::warn!(wave.id = %wave, error = format!("{e:#}"), "a stored publication cannot be read; computing it again");
        })
        .ok()
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
    Ok(readable(wave, &entry.payload).map(|p| ((entry.data_version, versions.1), p)))
}

/// The layout of [`encode`]'s bytes, stored as their first byte: a copy in another
/// layout (written by an older version) is not read but computed again.
const STORED_FORMAT: u8 = 3;

/// A publication as stored for other instances: compact MessagePack (structs as arrays,
/// cells as externally tagged enums: see `suppress::Cell`'s serde), compressed with zstd
/// as it is written, behind a format byte.
///
/// Format 1 was MessagePack with field names and the JSON's tagged cells: about 108 MB
/// before compression, built whole in memory, and read through serde's buffering of
/// tagged and flattened values. See docs/performance.md for both, measured.
pub fn encode(publication: &Publication) -> anyhow::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut out = vec![STORED_FORMAT];
    let mut compressor = zstd::stream::Encoder::new(&mut out, 1)?;
    {
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut compressor);
        rmp_serde::encode::write(&mut buffered, publication)?;
        buffered.flush()?;
    }
    compressor.finish()?;
    Ok(out)
}

/// The publication [`encode`] stored.
///
/// # Errors
/// When `stored` is not a publication in [`STORED_FORMAT`].
pub fn decode(stored: &[u8]) -> anyhow::Result<Publication> {
    let Some((&format, compressed)) = stored.split_first() else {
        anyhow::bail!("the stored publication is empty");
    };
    anyhow::ensure!(
        format == STORED_FORMAT,
        "the stored publication is in format {format}, not {STORED_FORMAT}"
    );
    let packed = zstd::stream::decode_all(compressed)?;
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
