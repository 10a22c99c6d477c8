//! Turns stored answers into the numbers users act on: per-respondent scores in polars
//! frames, service × role aggregates, agreement, perception gaps, psychometrics, peer
//! benchmarks, region comparisons and trends. Everything that leaves this module passes
//! [`suppress::gate`]: its output type [`suppress::Cell`] can only be built there. Never
//! renders, never writes answers.
//!
//! Freshness: results are cached per wave, minimum cell size and data version, in the
//! database (`analytics_cache`, shared by every instance) and in process memory. A
//! request reads the wave's data version (a few small rows) and serves the cached
//! results for exactly that version; only a change to the answers makes the next request
//! recompute, so no dashboard request rescans answers that have not changed.

pub mod frame;
pub mod results;
pub mod stats;
pub mod suppress;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use anyhow::Context as _;
use serde_json::Value;

use crate::db::DbConn;
use crate::domain::{WaveId, WaveStatus};
use crate::models::{AnalyticsCacheEntry, NewAnalyticsCacheEntry, Wave};

pub use results::WaveResults;
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

/// Loads and computes a wave's results now, without any cache.
pub fn compute(conn: &mut DbConn, wave: &WaveId, k: MinCell) -> anyhow::Result<WaveResults> {
    let version = Wave::data_version(conn, wave)?;
    let data = frame::load(conn, wave)?;
    let previous = previous_wave(conn, &data.wave)?
        .map(|p| frame::load(conn, &p.id))
        .transpose()?;
    results::compute(&data, previous.as_ref(), version, k)
}

type MemoryKey = (WaveId, u32);
type Memory = HashMap<MemoryKey, (i64, Arc<Value>)>;
static MEMORY: LazyLock<Mutex<Memory>> = LazyLock::new(Default::default);

/// A wave's results as JSON, from the cache when it holds them for the wave's current
/// data version, computed (and cached) otherwise.
pub fn results(conn: &mut DbConn, wave: &WaveId, k: MinCell) -> anyhow::Result<Arc<Value>> {
    let version = Wave::data_version(conn, wave)?;
    let memory_key = (wave.clone(), k.get());
    if let Some((v, value)) = MEMORY.lock().ok().and_then(|m| m.get(&memory_key).cloned())
        && v == version
    {
        return Ok(value);
    }
    let cache_key = format!("results:k={}", k.get());
    let value: Value =
        if let Some(entry) = AnalyticsCacheEntry::get(conn, wave, &cache_key, version)? {
            serde_json::from_str(&entry.payload).context("a cached result is not valid JSON")?
        } else {
            let computed = compute(conn, wave, k)?;
            let value = serde_json::to_value(&computed)?;
            let payload = value.to_string();
            // Computed at the version read before loading: if answers changed meanwhile, the
            // stored version is already behind and the next request recomputes.
            AnalyticsCacheEntry::put(
                conn,
                &NewAnalyticsCacheEntry {
                    wave_id: wave.clone(),
                    cache_key,
                    data_version: computed.data_version,
                    payload,
                    computed_at: crate::db::now(),
                },
            )?;
            value
        };
    let value = Arc::new(value);
    if let Ok(mut m) = MEMORY.lock() {
        m.insert(memory_key, (version, value.clone()));
    }
    Ok(value)
}
