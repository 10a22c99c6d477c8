//! Turns stored answers into the numbers users act on: per-respondent scores in polars
//! frames, service × role aggregates, agreement, perception gaps, psychometrics, peer
//! benchmarks, region comparisons and trends. Everything that leaves this module passes
//! [`suppress::gate`]: its output type [`suppress::Cell`] can only be built there. Never
//! renders, never writes answers.
//!
//! Everything a wave shows is one typed [`Publication`] per wave version and minimum
//! cell size: views render it and compute no number of their own.
//!
//! Freshness: publications are cached per wave, minimum cell size and data version (and
//! the previous wave's, for trends), in the database (`analytics_cache`, shared by every
//! instance) and in process memory. A request reads the versions (a few small rows) and
//! serves the cached publication for exactly those; only a change to the answers or
//! invitations makes the next request recompute.

pub mod frame;
pub mod results;
pub mod stats;
pub mod suppress;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use anyhow::Context as _;

use crate::db::DbConn;
use crate::domain::{WaveId, WaveStatus};
use crate::models::{AnalyticsCacheEntry, NewAnalyticsCacheEntry, Wave};

pub use results::Publication;
pub use suppress::MinCell;

/// The wave before `wave` whose results trends compare with: the latest earlier wave that
/// has been opened.
pub fn previous_wave(conn: &mut DbConn, wave: &Wave) -> anyhow::Result<Option<Wave>> {
    let when = |w: &Wave| w.opens_at.unwrap_or(w.created_at);
    Ok(Wave::all(conn)?
        .into_iter()
        .filter(|w| w.id != wave.id && w.status != WaveStatus::Draft && when(w) < when(wave))
        .max_by_key(when))
}

/// Loads and computes a wave's publication now, without any cache.
pub fn compute(conn: &mut DbConn, wave: &WaveId, k: MinCell) -> anyhow::Result<Publication> {
    let version = Wave::data_version(conn, wave)?;
    let data = frame::load(conn, wave)?;
    let previous = previous_wave(conn, &data.wave)?
        .map(|p| frame::load(conn, &p.id))
        .transpose()?;
    let invited = crate::waves::invited(conn, wave, None)?;
    results::compute(&data, previous.as_ref(), &invited, version, k)
}

/// What a publication was computed from: the wave's data version and its previous
/// wave's (trends are made of both waves' cells).
fn versions(conn: &mut DbConn, wave: &WaveId) -> anyhow::Result<(i64, i64)> {
    let found = Wave::find(conn, wave).context("the wave does not exist")?;
    let previous = match previous_wave(conn, &found)? {
        Some(p) => Wave::data_version(conn, &p.id)?,
        None => -1,
    };
    Ok((Wave::data_version(conn, wave)?, previous))
}

type MemoryKey = (WaveId, u32);
type Memory = HashMap<MemoryKey, ((i64, i64), Arc<Publication>)>;
static MEMORY: LazyLock<Mutex<Memory>> = LazyLock::new(Default::default);

/// A wave's publication, from the cache when it holds one for the wave's current data
/// (and its previous wave's), computed and cached otherwise.
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
    let cache_key = format!("publication:k={}:previous={}", k.get(), version.1);
    let cached = AnalyticsCacheEntry::get(conn, wave, &cache_key, version.0)?
        .map(|entry| serde_json::from_str::<Publication>(&entry.payload))
        .transpose()
        .context("a cached publication cannot be read")?;
    let value = if let Some(p) = cached {
        p
    } else {
        let computed = compute(conn, wave, k)?;
        // Computed at the version read before loading: if answers changed meanwhile, the
        // stored version is already behind and the next request recomputes.
        AnalyticsCacheEntry::put(
            conn,
            &NewAnalyticsCacheEntry {
                wave_id: wave.clone(),
                cache_key,
                data_version: computed.data_version,
                payload: serde_json::to_string(&computed)?,
                computed_at: computed.computed_at,
            },
            &format!("publication:k={}:", k.get()),
        )?;
        computed
    };
    let value = Arc::new(value);
    if let Ok(mut m) = MEMORY.lock() {
        m.insert(memory_key, (version, value.clone()));
    }
    Ok(value)
}
