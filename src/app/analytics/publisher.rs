//! Publications computed off the request path.
//!
//! Requests never compute a wave's results: they read the wave's versions (a few small
//! rows; not for a large wave, whose versions the worker checks every second) and take
//! the latest publication held in memory, fresh or not, with the time it was computed.
//! A request that finds it stale wakes the publisher's worker thread, which
//! recomputes on connections of its own (so respondents, the outbox and pages never wait
//! for a pool connection held by analytics), at most one wave at a time, coalescing every
//! change that arrived meanwhile into the next run. Several instances on one PostgreSQL
//! database compute each version once: the one that takes the wave's advisory lock
//! computes and stores the publication in `analytics_cache`, the others read it from
//! there. The worker also keeps checking the waves people look at, so a submission is
//! published within a few seconds without anyone asking.
//!
//! Small waves compute in milliseconds, so a request that finds no fresh publication of
//! a small wave waits for it briefly instead of showing yesterday's numbers; a large wave
//! never makes a request wait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::{MinCell, Publication, Versions};
use crate::core::domain::WaveId;
use crate::infra::db::{DbConn, Pool};

/// Where views get a wave's publication: the [`Publisher`] in the server, computed on the
/// spot ([`Computed`]) on the command line.
pub trait Publications: Send + Sync {
    /// The minimum cell size the publications are gated with.
    fn min_cell(&self) -> MinCell;

    /// The latest publication of `wave`; `None` while its first one is being computed.
    ///
    /// # Errors
    /// When the database cannot be read.
    fn get(&self, conn: &mut DbConn, wave: &WaveId) -> anyhow::Result<Option<Arc<Publication>>>;
}

/// Publications computed (or read from the shared cache) when asked: for commands, which
/// may take the time.
#[derive(Debug, Clone, Copy)]
pub struct Computed(pub MinCell);

impl Publications for Computed {
    fn min_cell(&self) -> MinCell {
        self.0
    }

    fn get(&self, conn: &mut DbConn, wave: &WaveId) -> anyhow::Result<Option<Arc<Publication>>> {
        super::publication(conn, wave, self.0).map(Some)
    }
}

/// How long a request waits at most for a small wave's fresh publication (it takes
/// milliseconds, unless the machine is overloaded).
const SMALL_WAVE_WAIT: Duration = Duration::from_secs(30);
/// A wave whose last computation took less than this is small.
const SMALL_WAVE_COMPUTE: Duration = Duration::from_millis(300);
/// The least time between two computations of a large wave: an answer is still
/// published within this and one computation (about 2-4 s at a million responses on a
/// busy machine), well within the 10 s promised.
const LARGE_WAVE_GAP: Duration = Duration::from_secs(3);
/// Below this data version (changes to answers and invitations) a wave never computed
/// here yet counts as small.
const SMALL_WAVE_VERSION: i64 = 50_000;
/// How often the worker checks the versions of the waves people look at.
const POLL: Duration = Duration::from_secs(1);
/// A wave nobody asked for in this long is no longer kept fresh (its publication stays).
const INTEREST: Duration = Duration::from_secs(15 * 60);

/// What [`Publisher::refresh`] brought.
enum Refreshed {
    /// The publication at the versions asked for.
    Current(Arc<Publication>),
    /// Another instance is computing; its last stored result, newer than the one served
    /// here, rests on these versions.
    Newer(Versions, Arc<Publication>),
    /// Another instance is computing, and nothing newer is stored yet.
    Elsewhere,
}

/// One wave's state in this instance.
#[derive(Default)]
struct Slot {
    latest: Option<(Versions, Arc<Publication>)>,
    /// `latest` is another instance's result from before the current versions, served
    /// while that instance computes the next.
    interim: bool,
    asked_at: Option<Instant>,
    last_started: Option<Instant>,
    last_duration: Option<Duration>,
    /// The processor time the last computation here took (see [`Slot::work`]).
    last_work: Option<Duration>,
}

impl Slot {
    /// The processor time of the last computation here, or, before one, how long the
    /// last reading took.
    fn work(&self) -> Option<Duration> {
        self.last_work.or(self.last_duration)
    }
}

#[derive(Default)]
struct State {
    waves: HashMap<WaveId, Slot>,
    /// A request asked for something the worker has not looked at yet.
    wake: bool,
}

/// Keeps the publications of the waves people look at fresh, in the background.
pub struct Publisher {
    pool: Pool,
    k: MinCell,
    /// Least time between two computations of one wave (changes arriving meanwhile are
    /// coalesced into the next).
    min_interval: Duration,
    state: Mutex<State>,
    /// The responses read for each wave, so a recomputation reads only new ones (the
    /// worker's alone).
    rows: Mutex<HashMap<WaveId, super::sums::Rows>>,
    /// Signalled when a request wants something or a publication is stored.
    changed: Condvar,
    /// Run on each new publication before requests get it (views build their lookups
    /// here, off the request path).
    prepare: fn(&Publication),
    stop: AtomicBool,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("k", &self.k)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    /// A publisher computing with connections from `pool` (its own, not the requests'),
    /// running `prepare` on each publication before serving it.
    pub fn new(
        pool: Pool,
        k: MinCell,
        min_interval: Duration,
        prepare: fn(&Publication),
    ) -> Arc<Self> {
        Arc::new(Self {
            prepare,
            pool,
            k,
            min_interval,
            state: Mutex::new(State::default()),
            rows: Mutex::new(HashMap::new()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        })
    }

    /// Starts the worker thread.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn spawn(self: &Arc<Self>) -> anyhow::Result<()> {
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name("publisher".into())
            .spawn(move || {
                lower_priority();
                me.run();
            })
            .context("could not start the publisher")?;
        Ok(())
    }

    /// Asks the worker to stop after its current computation.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.changed.notify_all();
    }

    /// The least time between the starts of two computations of the wave in `slot`: the
    /// configured interval, and at least one and a half times the processor time the last
    /// computation took, so a large wave keeps at most two thirds of a core busy while
    /// answers keep arriving.
    ///
    /// Processor time, not elapsed time: on a busy machine the publisher (at a lower
    /// priority) takes ten times longer than the work it does, and spacing computations
    /// by that would leave the cores it yielded idle between them and delay every answer
    /// by several computations (`perf/live.sh postgres 30 2`: 8.9 s of aggregates that
    /// cost 0.7 s of processor time, then 15 s of waiting).
    ///
    /// A large wave (see [`SMALL_WAVE_COMPUTE`]) also waits at least [`LARGE_WAVE_GAP`]:
    /// computing it more often brings answers out little sooner and takes the cores from
    /// pages (`perf/live.sh postgres 30`, one instance: 13 computations in 30 s gave
    /// publication p95 3.6 s, but dashboards p95 51-59 ms where 6 gave 50 ms).
    fn gap(&self, slot: &Slot) -> Duration {
        let large = slot.last_duration.is_some_and(|d| d >= SMALL_WAVE_COMPUTE);
        self.min_interval
            .max(slot.work().unwrap_or_default() * 3 / 2)
            .max(if large {
                LARGE_WAVE_GAP
            } else {
                Duration::ZERO
            })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn run(&self) {
        let mut conn: Option<crate::infra::db::PooledConn> = None;
        while !self.stop.load(Ordering::Relaxed) {
            let c = match conn.take() {
                Some(c) => c,
                None => match self.pool.get() {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "publisher: no database connection");
                        std::thread::sleep(POLL);
                        continue;
                    }
                },
            };
            let mut c = c;
            match self.round(&mut c) {
                Ok(()) => conn = Some(c),
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "publisher: a round failed");
                    std::thread::sleep(POLL);
                }
            }
            let mut state = self.lock();
            if !state.wake {
                state = self
                    .changed
                    .wait_timeout(state, POLL)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
            state.wake = false;
        }
    }

    /// One pass over the waves people look at: read their versions and bring each stale
    /// publication up to date (from the shared cache when another instance computed it).
    fn round(&self, conn: &mut DbConn) -> anyhow::Result<()> {
        let now = Instant::now();
        let watched: Vec<WaveId> = {
            let mut state = self.lock();
            let waves = &mut state.waves;
            waves.retain(|_, s| {
                s.asked_at.is_some_and(|t| now - t < INTEREST) || s.latest.is_some()
            });
            waves
                .iter()
                .filter(|(_, s)| s.asked_at.is_some_and(|t| now - t < INTEREST))
                .map(|(w, _)| w.clone())
                .collect()
        };
        for wave in watched {
            let versions = super::versions(conn, &wave)?;
            let run = {
                let mut state = self.lock();
                let slot = state.waves.entry(wave.clone()).or_default();
                let outdated = slot.latest.as_ref().is_none_or(|(v, _)| *v != versions);
                let rested = slot
                    .last_started
                    .is_none_or(|t| now.saturating_duration_since(t) >= self.gap(slot));
                // One worker thread: nothing else computes this wave here meanwhile.
                let run = outdated && rested;
                if run {
                    slot.last_started = Some(now);
                }
                run
            };
            if !run {
                continue;
            }
            let started = Instant::now();
            let cpu = thread_cpu();
            let result = self.refresh(conn, &wave, versions);
            let mut state = self.lock();
            let slot = state.waves.entry(wave.clone()).or_default();
            match result {
                Ok(Refreshed::Current(publication)) => {
                    if slot.last_duration.is_none() {
                        slot.last_duration = Some(started.elapsed());
                    }
                    // Counted twice: part of a computation runs on a second thread,
                    // whose time this thread's clock does not see.
                    slot.last_work = cpu
                        .zip(thread_cpu())
                        .map(|(before, after)| after.saturating_sub(before) * 2);
                    if slot.latest.as_ref().is_none_or(|(v, _)| *v <= versions) {
                        slot.latest = Some((versions, publication));
                        slot.interim = false;
                    }
                }
                Ok(Refreshed::Newer(at, publication)) => {
                    // Another instance's newer result while it computes the next: served
                    // now, and looked at again next round (it is not at `versions`). Its
                    // reading time still tells a large wave (whose requests never wait)
                    // from a small one.
                    if slot.last_duration.is_none() {
                        slot.last_duration = Some(started.elapsed());
                    }
                    if slot.latest.as_ref().is_none_or(|(v, _)| v.0 < at.0) {
                        slot.latest = Some((at, publication));
                        slot.interim = true;
                    }
                    slot.last_started = None;
                }
                Ok(Refreshed::Elsewhere) => {
                    // Another instance holds the wave's lock: its result will be in the
                    // cache for a later round.
                    slot.last_started = None;
                }
                Err(e) => {
                    tracing::warn!(wave.id = %wave, error = format!("{e:#}"), "publisher: could not publish");
                }
            }
            drop(state);
            self.changed.notify_all();
        }
        Ok(())
    }

    /// The publication at `versions`: from the shared cache, or computed here under the
    /// wave's lock. While another instance computes it, that instance's last stored
    /// result when it is newer than the one served here.
    fn refresh(
        &self,
        conn: &mut DbConn,
        wave: &WaveId,
        versions: Versions,
    ) -> anyhow::Result<Refreshed> {
        if let Some(p) = super::cached(conn, wave, self.k, versions)? {
            (self.prepare)(&p);
            self.warm(conn, wave);
            return Ok(Refreshed::Current(Arc::new(p)));
        }
        if !Lease::take(conn, wave)? {
            self.warm(conn, wave);
            let served = {
                let state = self.lock();
                state
                    .waves
                    .get(wave)
                    .and_then(|s| s.latest.as_ref())
                    .map_or(-1, |(v, _)| v.0)
            };
            if let Some((at, p)) = super::cached_newer(conn, wave, self.k, versions, served)? {
                (self.prepare)(&p);
                return Ok(Refreshed::Newer(at, Arc::new(p)));
            }
            return Ok(Refreshed::Elsewhere);
        }
        // The lease covers storing the copy too: released before, another instance would
        // find nothing stored at these versions and compute them again (measured with
        // perf/live.sh: it did, and freshness was no better on a saturated machine).
        let result = self.compute_and_store(conn, wave, versions);
        let released = Lease::release(conn, wave);
        let publication = result?;
        released?;
        Ok(Refreshed::Current(publication))
    }

    /// Computes the publication under the wave's lease, serves it here and stores it in the
    /// shared cache, unless another instance stored it between the first look and the lease.
    fn compute_and_store(
        &self,
        conn: &mut DbConn,
        wave: &WaveId,
        versions: Versions,
    ) -> anyhow::Result<Arc<Publication>> {
        if let Some(p) = super::cached(conn, wave, self.k, versions)? {
            (self.prepare)(&p);
            return Ok(Arc::new(p));
        }
        let started = Instant::now();
        let computed = {
            let mut rows = self
                .rows
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::new(super::compute_since(conn, wave, self.k, &mut rows)?)
        };
        (self.prepare)(&computed);
        // Served here at once; the copy for other instances is stored after.
        self.serve(wave, versions, &computed, started.elapsed());
        let served = started.elapsed();
        // One SQLite file has one server: nobody else would read the stored copy, and
        // writing a national wave's publication (over 100 MB) into the database on every
        // recomputation would compete with respondents' commits.
        let shared = !matches!(conn, DbConn::Sqlite(_));
        if shared {
            super::store(conn, wave, self.k, versions, &computed)?;
        }
        tracing::info!(
            wave.id = %wave,
            data_version = computed.data_version,
            seconds = started.elapsed().as_secs_f64(),
            served_after = served.as_secs_f64(),
            stored = shared,
            "published"
        );
        Ok(computed)
    }

    /// Reads the wave's responses into this instance's sums while another instance
    /// computes, once: when the lease comes here, only what was submitted since is read.
    ///
    /// Only once: each read costs about a second on a national wave whatever it finds
    /// (the wave's services, and a count that checks nothing was missed), and reading
    /// every round took as much of the machine as the other instance's computation
    /// (`perf/live.sh postgres 30 2`: 1-1.5 s every two seconds).
    fn warm(&self, conn: &mut DbConn, wave: &WaveId) {
        let started = Instant::now();
        let mut rows = self
            .rows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if rows.get(wave).is_some_and(super::sums::Rows::is_warm) {
            return;
        }
        if let Err(e) = super::warm(conn, wave, &mut rows) {
            tracing::warn!(wave.id = %wave, error = format!("{e:#}"), "publisher: could not read new responses");
        }
        tracing::debug!(wave.id = %wave, seconds = started.elapsed().as_secs_f64(), "warmed");
    }

    /// Makes `publication` (computed at `versions` in `took`) the one requests get.
    fn serve(
        &self,
        wave: &WaveId,
        versions: Versions,
        publication: &Arc<Publication>,
        took: Duration,
    ) {
        let mut state = self.lock();
        let slot = state.waves.entry(wave.clone()).or_default();
        slot.last_duration = Some(took);
        if slot.latest.as_ref().is_none_or(|(v, _)| *v <= versions) {
            slot.latest = Some((versions, Arc::clone(publication)));
            slot.interim = false;
        }
        drop(state);
        self.changed.notify_all();
    }
}

impl Publications for Publisher {
    fn min_cell(&self) -> MinCell {
        self.k
    }

    fn get(&self, conn: &mut DbConn, wave: &WaveId) -> anyhow::Result<Option<Arc<Publication>>> {
        // A large wave's publication is served as it is, without asking the database
        // for the wave's versions: the worker checks them every second anyway, and a
        // request could not wait for a computation of seconds. Two queries fewer on
        // every page of a live national wave.
        {
            let mut state = self.lock();
            if let Some(slot) = state.waves.get_mut(wave)
                && let Some((v, p)) = &slot.latest
                && (slot.last_duration.is_some_and(|d| d >= SMALL_WAVE_COMPUTE)
                    || v.0 >= SMALL_WAVE_VERSION)
            {
                slot.asked_at = Some(Instant::now());
                return Ok(Some(Arc::clone(p)));
            }
        }
        let versions = super::versions(conn, wave)?;
        let mut state = self.lock();
        let slot = state.waves.entry(wave.clone()).or_default();
        slot.asked_at = Some(Instant::now());
        if let Some((v, p)) = &slot.latest
            && *v == versions
        {
            return Ok(Some(Arc::clone(p)));
        }
        let small = slot
            .last_duration
            .map_or(versions.0 < SMALL_WAVE_VERSION, |d| d < SMALL_WAVE_COMPUTE);
        // Only worth waiting when the next computation may start at once: a wave whose
        // changes are being coalesced (SAMSKAP_PUBLISH_INTERVAL_MS) shows its previous
        // publication meanwhile.
        let due = slot.last_started.map_or(Duration::ZERO, |t| {
            (t + self.gap(slot)).saturating_duration_since(Instant::now())
        });
        let small = small && due < SMALL_WAVE_COMPUTE;
        let before = slot.latest.as_ref().map(|(v, _)| v.0);
        state.wake = true;
        self.changed.notify_all();
        if small {
            let deadline = Instant::now() + SMALL_WAVE_WAIT;
            loop {
                let slot = state.waves.entry(wave.clone()).or_default();
                // The publication at the versions asked for; or, while another instance
                // computes it, that instance's newer interim result.
                if let Some((v, p)) = &slot.latest
                    && (*v >= versions || (slot.interim && before.is_none_or(|b| v.0 > b)))
                {
                    return Ok(Some(Arc::clone(p)));
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                state = self
                    .changed
                    .wait_timeout(state, left)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
        }
        Ok(state
            .waves
            .get(wave)
            .and_then(|s| s.latest.as_ref())
            .map(|(_, p)| Arc::clone(p)))
    }
}

/// How much nicer than requests the publisher's computations are: on a busy machine
/// pages and submissions get the cores first, and a computation takes longer.
const NICENESS: i32 = 5;

/// The processor time the calling thread has used, where the system tells it.
#[cfg_attr(
    target_os = "linux",
    expect(
        clippy::unnecessary_wraps,
        reason = "None on systems without a thread clock"
    )
)]
fn thread_cpu() -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Some(Duration::new(
            u64::try_from(t.tv_sec).unwrap_or(0),
            u32::try_from(t.tv_nsec).unwrap_or(0),
        ))
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Lowers the calling thread's CPU priority (threads it starts inherit it).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // On Linux the nice value belongs to the thread: PRIO_PROCESS with a thread id.
        let thread = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(thread), NICENESS) {
            tracing::debug!(error = %e, "publisher: could not lower its priority");
        }
    }
}

/// The right to compute one wave's publication among several instances: a PostgreSQL
/// session advisory lock on the publisher's connection, taken without waiting. On SQLite
/// the database belongs to one server process and its one publisher, so there is nothing
/// to share. Public so that a test (or an operator's tool) can hold a wave's lease the way
/// another instance would.
#[derive(Debug)]
pub struct Lease;

/// The advisory lock key of a wave: a stable 64-bit hash of its id.
fn lock_key(wave: &WaveId) -> i64 {
    // FNV-1a: stable across builds and instances (std's hasher is not).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in b"samskap-publication:"
        .iter()
        .chain(wave.as_str().as_bytes())
    {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

impl Lease {
    /// Takes `wave`'s lease on this connection if nobody holds it; `false` otherwise.
    ///
    /// # Errors
    /// When the database cannot be asked.
    pub fn take(conn: &mut DbConn, wave: &WaveId) -> anyhow::Result<bool> {
        use diesel::RunQueryDsl as _;
        match conn {
            DbConn::Sqlite(_) => Ok(true),
            DbConn::Pg(c) => {
                let got: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
                    .bind::<diesel::sql_types::BigInt, _>(lock_key(wave))
                    .get_result(c)
                    .context("could not ask for the wave's publication lock")?;
                Ok(got.locked)
            }
        }
    }

    /// Gives `wave`'s lease back (taken on this connection).
    ///
    /// # Errors
    /// When the database cannot be asked.
    pub fn release(conn: &mut DbConn, wave: &WaveId) -> anyhow::Result<()> {
        use diesel::RunQueryDsl as _;
        if let DbConn::Pg(c) = conn {
            diesel::sql_query("SELECT pg_advisory_unlock($1)")
                .bind::<diesel::sql_types::BigInt, _>(lock_key(wave))
                .execute(c)
                .context("could not release the wave's publication lock")?;
        }
        Ok(())
    }
}
