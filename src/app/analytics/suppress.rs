//! Small-cell suppression: the one gate every aggregate passes before it leaves the server.
//!
//! Owns [`Cell`], the only type analytics publishes a number in, and [`gate`], the only way
//! to build one. A cell behind fewer than `k` respondents is hidden (primary suppression);
//! then, along the linear relations between published cells (a total and the parts it
//! splits into), more cells are hidden until no hidden cell can be recovered from visible
//! ones (complementary suppression). Peer workers are few per service, so without the
//! second step a county total minus its visible municipalities would name one person's
//! answers.
//!
//! Pure: no I/O, no frames. It never computes, changes or rounds a number; it only decides
//! whether the number is shown. Roll-ups are computed by the caller from all respondents,
//! so a hidden child still counts in its parent.

use std::iter;

use serde::{Deserialize, Serialize};

use crate::core::domain::{DEFAULT_MIN_CELL, MIN_CELL_FLOOR};

/// Why a cell is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Fewer than `k` respondents: the number itself would come too close to individuals.
    TooFew,
    /// Enough respondents, but shown it would let a reader recover a hidden cell by
    /// subtraction.
    Complementary,
}

/// One published number (or group of numbers) with the respondents behind it.
///
/// Serialises as `{"status":"shown","n":12,"value":…}`,
/// `{"status":"suppressed","reason":"too_few"}` (no `n`, no value) or `{"status":"empty"}`.
/// The field is private so that no aggregate can leave analytics without passing [`gate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Cell<T>(Inner<T>);

/// The three states; the serde tag gives the public JSON shape directly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
enum Inner<T> {
    Shown { n: u64, value: T },
    Suppressed { reason: Reason },
    Empty,
}

impl<T> Cell<T> {
    /// The value, if it may be shown.
    pub fn shown(&self) -> Option<&T> {
        match &self.0 {
            Inner::Shown { value, .. } => Some(value),
            Inner::Suppressed { .. } | Inner::Empty => None,
        }
    }

    /// The number of respondents, if it may be shown (a hidden cell hides its `n` too).
    pub fn n(&self) -> Option<u64> {
        match self.0 {
            Inner::Shown { n, .. } => Some(n),
            Inner::Suppressed { .. } | Inner::Empty => None,
        }
    }

    /// Hidden: "too few responses to show".
    pub fn is_suppressed(&self) -> bool {
        matches!(self.0, Inner::Suppressed { .. })
    }

    /// No respondents at all: "no data", which is not a secret.
    pub fn is_empty(&self) -> bool {
        matches!(self.0, Inner::Empty)
    }

    /// Why the cell is hidden, if it is.
    pub fn reason(&self) -> Option<Reason> {
        match self.0 {
            Inner::Suppressed { reason } => Some(reason),
            Inner::Shown { .. } | Inner::Empty => None,
        }
    }

    /// Transforms a shown value (formatting, rounding for display) while keeping the
    /// gate's decision: a hidden cell stays hidden.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Cell<U> {
        Cell(match self.0 {
            Inner::Shown { n, value } => Inner::Shown { n, value: f(value) },
            Inner::Suppressed { reason } => Inner::Suppressed { reason },
            Inner::Empty => Inner::Empty,
        })
    }
}

/// A cell in the publication's binary copy for other instances (see
/// `analytics::encode`): an externally tagged enum, which a binary format reads straight
/// into the value. The JSON shape's `status` tag makes every reader buffer each cell
/// first, which took most of the time of reading a national wave's copy.
#[derive(Serialize, Deserialize)]
enum Packed<T> {
    Shown(u64, T),
    Suppressed(Reason),
    Empty,
}

#[derive(Serialize)]
enum PackedRef<'a, T> {
    Shown(u64, &'a T),
    Suppressed(Reason),
    Empty,
}

impl<T: Serialize> Serialize for Cell<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            return self.0.serialize(serializer);
        }
        match &self.0 {
            Inner::Shown { n, value } => PackedRef::Shown(*n, value),
            Inner::Suppressed { reason } => PackedRef::Suppressed(*reason),
            Inner::Empty => PackedRef::Empty,
        }
        .serialize(serializer)
    }
}

/// The API document's schema of a cell: the three shapes [`Inner`] serialises to.
impl<T: schemars::JsonSchema> schemars::JsonSchema for Cell<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Cell_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = Inner::<T>::json_schema(generator);
        schema.insert(
            "description".into(),
            "One published aggregate after the suppression gate. `shown` carries n and \
             value; `suppressed` (too few respondents, or hidden so that another cell \
             cannot be derived by subtraction) carries the reason and neither; `empty` \
             (no data) carries nothing."
                .into(),
        );
        schema
    }
}

/// Reads back a cell that the gate published: only a stored publication is read this way
/// (the shared cache, which holds nothing but what [`gate`] and [`decide`] let out). A
/// hidden cell stored without its number comes back without it.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Cell<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            return Inner::deserialize(deserializer).map(Cell);
        }
        Ok(Cell(match Packed::deserialize(deserializer)? {
            Packed::Shown(n, value) => Inner::Shown { n, value },
            Packed::Suppressed(reason) => Inner::Suppressed { reason },
            Packed::Empty => Inner::Empty,
        }))
    }
}

/// Minimum respondents per published cell. Never below [`MIN_CELL_FLOOR`]: smaller groups
/// let readers identify individuals, whatever the configuration says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinCell(u32);

impl MinCell {
    /// `k`, raised to [`MIN_CELL_FLOOR`] if lower.
    pub fn new(k: u32) -> Self {
        Self(k.max(MIN_CELL_FLOOR))
    }

    /// The threshold.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for MinCell {
    /// [`DEFAULT_MIN_CELL`].
    fn default() -> Self {
        Self::new(DEFAULT_MIN_CELL)
    }
}

/// A linear relation between entries of a table about to be published:
/// `total` = sum of `parts` (a county and its municipalities, a region × role cell and its
/// service types). A total may itself be a part of another relation, to any depth.
///
/// List every published cell that adds up to the total, empty ones included: a part left
/// out of its relation is invisible to the gate and so not protected by it. Parts are
/// distinct and do not include the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// Index of the total in the table.
    pub total: usize,
    /// Indices of the cells that add up to it.
    pub parts: Vec<usize>,
}

/// THE gate: decides, for every entry `(n, value)` of a table, whether it may be shown.
/// Returns one [`Cell`] per entry, in the same order; shown cells keep their `n` and value.
///
/// 1. `n == 0` is [`Cell::is_empty`] ("no data" is not a secret).
/// 2. `0 < n < k` is suppressed as [`Reason::TooFew`].
/// 3. Until stable: a relation with exactly one hidden non-empty member would give that
///    member away by subtraction (or, for a hidden total, by addition), so its visible part
///    with the smallest `n` (lowest index on ties) is hidden as [`Reason::Complementary`], or
///    the total when no part is visible.
/// 4. When the relations are not a plain hierarchy (a cell in two relations, a total with
///    two partitions, as in a cross table with both margins), rule 3 is not enough: hidden
///    cells can then be recovered by combining several relations. An exact rank check finds
///    every such cell and hides one more neighbour of each until none is left.
///
/// # Panics
/// If a relation names an index outside `entries`: that is a bug in the caller's table.
pub fn gate<T>(entries: Vec<(u64, T)>, relations: &[Relation], k: MinCell) -> Vec<Cell<T>> {
    let ns: Vec<u64> = entries.iter().map(|(n, _)| *n).collect();
    let decisions = decide(&ns, 1, relations, k);
    entries
        .into_iter()
        .zip(decisions)
        .map(|((n, value), decision)| decision.publish(n, value))
        .collect()
}

/// A cell whose number adds up parts that are also published one by one (a statistic over
/// every role of the wave beside each role's own cell): hidden as
/// [`Reason::Complementary`] when any of `parts` is hidden, since the total minus the
/// shown parts would give the hidden one away; otherwise `cell` as it is.
pub fn with_parts<T, U>(cell: Cell<T>, parts: &[&Cell<U>]) -> Cell<T> {
    if parts.iter().any(|p| p.is_suppressed()) && cell.shown().is_some() {
        Cell(Inner::Suppressed {
            reason: Reason::Complementary,
        })
    } else {
        cell
    }
}

/// [`gate`] for a stand-alone cell that adds up with nothing else published: only the
/// primary rule can apply, and it is the same function `gate` uses.
pub fn gate_one<T>(n: u64, value: T, k: MinCell) -> Cell<T> {
    publish(n, value, primary(n, k))
}

/// The gate's decision for one cell of a table, to be applied to each of the measures the
/// cell carries (a phase score and the index of the same respondents, say) with
/// [`Decision::publish`]. Only [`decide`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision(State);

impl Decision {
    /// Whether the cell's numbers are shown.
    pub fn is_shown(self) -> bool {
        self.0 == State::Visible
    }

    /// Publishes one measure of the cell: `n` respondents behind `value`. A shown cell
    /// shows each measure with its own `n` (or as empty when that measure has none); a
    /// hidden cell hides every measure, even one with no respondents, since "empty" would
    /// tell a reader a value the pattern counted on being unknown.
    pub fn publish<T>(self, n: u64, value: T) -> Cell<T> {
        match self.0 {
            State::Visible if n == 0 => Cell(Inner::Empty),
            State::Visible => Cell(Inner::Shown { n, value }),
            State::Hidden(reason) => Cell(Inner::Suppressed { reason }),
            State::Empty => Cell(Inner::Empty),
        }
    }
}

/// The gate for tables whose cells each carry several measures over (nearly) the same
/// respondents: `ns[i]` holds cell `i`'s respondents per measure. One decision per cell
/// serves all its measures, so no difference between two measures' suppression patterns
/// can be played against the other, and the costly part runs once instead of per measure.
/// `ns` holds `measures` numbers per cell, cell after cell.
///
/// A cell is empty when every measure is, hidden as [`Reason::TooFew`] when any measure
/// has `0 < n < k`, and otherwise subject to rules 3 and 4 of [`gate`], where its size
/// (for "smallest first") is its largest `n`.
///
/// # Panics
/// If a relation names an index outside `ns`: that is a bug in the caller's table.
pub fn decide(ns: &[u64], measures: usize, relations: &[Relation], k: MinCell) -> Vec<Decision> {
    let measures = measures.max(1);
    let len = ns.len() / measures;
    for relation in relations {
        assert!(
            members(relation).all(|i| i < len),
            "relation {relation:?} names a cell outside a table of {len}"
        );
    }
    let sizes: Vec<u64> = ns
        .chunks(measures)
        .map(|m| m.iter().copied().max().unwrap_or(0))
        .collect();
    let mut state: Vec<State> = ns
        .chunks(measures)
        .map(|m| {
            if m.iter().all(|&n| n == 0) {
                State::Empty
            } else if m.iter().any(|&n| n > 0 && n < u64::from(k.get())) {
                State::Hidden(Reason::TooFew)
            } else {
                State::Visible
            }
        })
        .collect();
    complementary(&sizes, relations, &mut state);
    state.into_iter().map(Decision).collect()
}

/// How many cells the gate hid, by reason: what privacy costs in a table.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct HiddenCount {
    pub cells: usize,
    pub empty: usize,
    pub too_few: usize,
    pub complementary: usize,
}

impl HiddenCount {
    /// Counts `decisions`.
    pub fn of(decisions: &[Decision]) -> Self {
        let mut out = Self {
            cells: decisions.len(),
            ..Self::default()
        };
        for d in decisions {
            match d.0 {
                State::Empty => out.empty += 1,
                State::Hidden(Reason::TooFew) => out.too_few += 1,
                State::Hidden(Reason::Complementary) => out.complementary += 1,
                State::Visible => {}
            }
        }
        out
    }

    /// Adds another table's counts.
    pub fn add(&mut self, other: Self) {
        self.cells += other.cells;
        self.empty += other.empty;
        self.too_few += other.too_few;
        self.complementary += other.complementary;
    }
}

/// The gate's working view of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Empty,
    Visible,
    Hidden(Reason),
}

fn primary(n: u64, k: MinCell) -> State {
    if n == 0 {
        State::Empty
    } else if n < u64::from(k.get()) {
        State::Hidden(Reason::TooFew)
    } else {
        State::Visible
    }
}

fn publish<T>(n: u64, value: T, state: State) -> Cell<T> {
    Decision(state).publish(n, value)
}

fn members(relation: &Relation) -> impl Iterator<Item = usize> + '_ {
    iter::once(relation.total).chain(relation.parts.iter().copied())
}

/// Rules 3 and 4 of [`gate`]. Only ever hides cells, so it terminates.
fn complementary(ns: &[u64], relations: &[Relation], state: &mut [State]) {
    let needs_audit = !is_hierarchy(relations, ns.len());
    loop {
        settle(ns, relations, state);
        if !needs_audit {
            return;
        }
        let audit = audit(relations, state);
        if audit.exposed.is_empty() {
            return;
        }
        // Cover every exposed cell found in this round, but only one per relation: a
        // cell hidden for one exposed neighbour often protects the next as well, and the
        // next round checks again.
        let mut touched = vec![false; relations.len()];
        let mut hid_any = false;
        for &exposed in &audit.exposed {
            let around: Vec<usize> = (0..relations.len())
                .filter(|&r| {
                    audit.active[r]
                        && (relations[r].total == exposed || relations[r].parts.contains(&exposed))
                })
                .collect();
            if around.iter().any(|&r| touched[r]) {
                continue;
            }
            if let Some(extra) = cover(exposed, ns, relations, &audit.active, state) {
                state[extra] = State::Hidden(Reason::Complementary);
                hid_any = true;
                for (r, relation) in relations.iter().enumerate() {
                    if members(relation).any(|i| i == extra) {
                        touched[r] = true;
                    }
                }
            }
        }
        if !hid_any {
            return;
        }
    }
}

/// Rule 3: sweeps all relations until none has exactly one hidden member.
fn settle(ns: &[u64], relations: &[Relation], state: &mut [State]) {
    let mut changed = true;
    while changed {
        changed = false;
        for relation in relations {
            if let Some(extra) = second_hidden(relation, ns, state) {
                state[extra] = State::Hidden(Reason::Complementary);
                changed = true;
            }
        }
    }
}

/// The cell to hide when `relation` has exactly one hidden member: its smallest visible
/// part, else its total. `None` when nothing is exposed, or when the hidden member is the
/// only non-empty one (the table does not add up; nothing shown can help).
fn second_hidden(relation: &Relation, ns: &[u64], state: &[State]) -> Option<usize> {
    let hidden = members(relation)
        .filter(|&i| matches!(state[i], State::Hidden(_)))
        .count();
    if hidden != 1 {
        return None;
    }
    relation
        .parts
        .iter()
        .copied()
        .filter(|&i| state[i] == State::Visible)
        .min_by_key(|&i| (ns[i], i))
        .or_else(|| (state[relation.total] == State::Visible).then_some(relation.total))
}

/// Whether the relations form a plain hierarchy: every cell is the total of at most one
/// relation and a part of at most one, and following totals upwards never loops.
///
/// Then rule 3 alone is exact protection, so the rank check is skipped. Why: the hidden
/// cells are the edges of a graph whose vertices are the relations plus one "outside"
/// vertex (a cell links the relation it totals to the relation it is part of, or to the
/// outside). A hidden cell can be recovered by any linear combination of published numbers
/// exactly when its edge is a bridge. The relations form a forest, and after rule 3 each
/// relation touches 0 or at least 2 hidden cells, so every forest leaf also reaches the
/// outside: both sides of any edge stay connected, so there is no bridge.
fn is_hierarchy(relations: &[Relation], len: usize) -> bool {
    let mut totalled_by = vec![None; len];
    let mut part_of = vec![None; len];
    for (r, relation) in relations.iter().enumerate() {
        if totalled_by[relation.total].replace(r).is_some() {
            return false;
        }
        for &part in &relation.parts {
            if part_of[part].replace(r).is_some() {
                return false;
            }
        }
    }
    // Each relation has at most one parent (the relation its total is part of); walk up
    // from each one and give up after more steps than there are relations.
    relations.iter().all(|start| {
        let mut total = start.total;
        for _ in 0..=relations.len() {
            match part_of[total] {
                None => return true,
                Some(parent) => total = relations[parent].total,
            }
        }
        false
    })
}

/// What the rank check found.
struct Audit {
    /// Hidden cells that some linear combination of the published cells gives away.
    exposed: Vec<usize>,
    /// The relations that still constrain hidden cells after the free ones are set aside;
    /// only their members can protect an exposed cell.
    active: Vec<bool>,
}

/// Finds every hidden cell that some linear combination of the published cells gives
/// away.
///
/// Each relation is an equation over the hidden cells (shown and empty cells move to the
/// constant side). A hidden cell is recoverable exactly when its unit vector lies in the
/// row space, which after full reduction shows as a row with a single non-zero entry.
///
/// Two exact reductions keep this fast at tens of thousands of cells:
/// - A relation with two or more hidden members that appear in no other remaining
///   relation (a municipality's services of one type, say) constrains nothing else: any
///   values of the other cells can be met by moving those two against each other, and
///   neither of them is determined. Such relations are set aside, repeatedly, since that
///   can leave further cells private to one relation.
/// - What is left splits into independent systems (hidden cells linked through shared
///   relations), each reduced on its own.
///
/// Arithmetic is modulo the prime 2^61 − 1 so it is exact without big integers; a rank
/// that differs from the rational one would need a minor of this small 0/±1 matrix to be
/// a multiple of that prime.
fn audit(relations: &[Relation], state: &[State]) -> Audit {
    let hidden = |i: usize| matches!(state[i], State::Hidden(_));
    let mut active: Vec<bool> = relations.iter().map(|r| members(r).any(hidden)).collect();
    let mut uses = vec![0u32; state.len()];
    let mut relations_of: Vec<Vec<usize>> = vec![Vec::new(); state.len()];
    for (r, relation) in relations.iter().enumerate() {
        if active[r] {
            for i in members(relation).filter(|&i| hidden(i)) {
                uses[i] += 1;
                relations_of[i].push(r);
            }
        }
    }
    let mut queue: Vec<usize> = (0..relations.len()).filter(|&r| active[r]).collect();
    while let Some(r) = queue.pop() {
        if !active[r] {
            continue;
        }
        let private = members(&relations[r])
            .filter(|&i| hidden(i) && uses[i] == 1)
            .count();
        if private < 2 {
            continue;
        }
        active[r] = false;
        for i in members(&relations[r]).filter(|&i| hidden(i)) {
            uses[i] -= 1;
            if uses[i] == 1 {
                queue.extend(relations_of[i].iter().copied().filter(|&o| active[o]));
            }
        }
    }

    // Independent systems: hidden cells joined by the active relations they share.
    let mut parent: Vec<usize> = (0..state.len()).collect();
    for (r, relation) in relations.iter().enumerate() {
        if !active[r] {
            continue;
        }
        let mut cells = members(relation).filter(|&i| hidden(i));
        if let Some(first) = cells.next() {
            for other in cells {
                let (a, b) = (find(&mut parent, first), find(&mut parent, other));
                if a != b {
                    parent[a] = b;
                }
            }
        }
    }
    let mut systems: std::collections::HashMap<usize, Vec<usize>> =
        std::collections::HashMap::new();
    for (r, relation) in relations.iter().enumerate() {
        if active[r]
            && let Some(first) = members(relation).find(|&i| hidden(i))
        {
            let root = find(&mut parent, first);
            systems.entry(root).or_default().push(r);
        }
    }
    let mut column = vec![usize::MAX; state.len()];
    let mut exposed = Vec::new();
    for rows_of_system in systems.values() {
        let mut cells: Vec<usize> = rows_of_system
            .iter()
            .flat_map(|&r| members(&relations[r]).filter(|&i| hidden(i)))
            .collect();
        cells.sort_unstable();
        cells.dedup();
        for (c, &i) in cells.iter().enumerate() {
            column[i] = c;
        }
        let mut rows: Vec<Vec<u64>> = rows_of_system
            .iter()
            .map(|&r| {
                let relation = &relations[r];
                let mut row = vec![0; cells.len()];
                if hidden(relation.total) {
                    let c = column[relation.total];
                    row[c] = modp::add(row[c], 1);
                }
                for &part in relation.parts.iter().filter(|&&p| hidden(p)) {
                    let c = column[part];
                    row[c] = modp::sub(row[c], 1);
                }
                row
            })
            .collect();
        modp::reduce(&mut rows, cells.len());
        exposed.extend(rows.iter().filter_map(|row| {
            let mut non_zero = row.iter().enumerate().filter(|&(_, &v)| v != 0);
            let (c, _) = non_zero.next()?;
            non_zero.next().is_none().then_some(cells[c])
        }));
    }
    exposed.sort_unstable();
    Audit { exposed, active }
}

/// The representative of `x`'s set (union-find with path halving).
fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// The visible cell to hide so that `exposed` is no longer recoverable: the smallest
/// visible part of an active relation it belongs to, else the smallest such total, else
/// the smallest visible member of any active relation (else of any relation). Each call
/// hides one more cell, so the loop in [`complementary`] ends, at worst with every
/// related cell hidden.
fn cover(
    exposed: usize,
    ns: &[u64],
    relations: &[Relation],
    active: &[bool],
    state: &[State],
) -> Option<usize> {
    let visible = |i: &usize| state[*i] == State::Visible;
    let size = |i: &usize| (ns[*i], *i);
    let touching = || {
        relations
            .iter()
            .zip(active)
            .filter(move |(r, a)| **a && (r.total == exposed || r.parts.contains(&exposed)))
            .map(|(r, _)| r)
    };
    touching()
        .flat_map(|r| r.parts.iter().copied())
        .filter(visible)
        .min_by_key(size)
        .or_else(|| touching().map(|r| r.total).filter(visible).min_by_key(size))
        .or_else(|| {
            relations
                .iter()
                .zip(active)
                .filter(|(_, a)| **a)
                .flat_map(|(r, _)| members(r))
                .filter(visible)
                .min_by_key(size)
        })
        .or_else(|| {
            relations
                .iter()
                .flat_map(members)
                .filter(visible)
                .min_by_key(size)
        })
}

/// Exact arithmetic modulo a Mersenne prime, enough for the rank check.
mod modp {
    const PRIME: u64 = (1 << 61) - 1;

    pub(super) fn add(a: u64, b: u64) -> u64 {
        (a + b) % PRIME
    }

    pub(super) fn sub(a: u64, b: u64) -> u64 {
        (a + PRIME - b) % PRIME
    }

    #[expect(
        clippy::cast_possible_truncation,
        reason = "both halves are below 2^62"
    )]
    fn mul(a: u64, b: u64) -> u64 {
        // x mod (2^61 − 1) = (x & P) + (x >> 61), folded once more.
        let x = u128::from(a) * u128::from(b);
        let folded = (x as u64 & PRIME) + (x >> 61) as u64;
        if folded >= PRIME {
            folded - PRIME
        } else {
            folded
        }
    }

    /// Fermat: a^(p−2) is the inverse of a non-zero a.
    fn inverse(a: u64) -> u64 {
        let (mut base, mut exp, mut acc) = (a, PRIME - 2, 1);
        while exp > 0 {
            if exp & 1 == 1 {
                acc = mul(acc, base);
            }
            base = mul(base, base);
            exp >>= 1;
        }
        acc
    }

    /// Reduced row echelon form in place: every pivot is 1 and alone in its column.
    pub(super) fn reduce(rows: &mut [Vec<u64>], width: usize) {
        let mut rank = 0;
        for col in 0..width {
            if rank == rows.len() {
                return;
            }
            let Some(pivot) = (rank..rows.len()).find(|&r| rows[r][col] != 0) else {
                continue;
            };
            rows.swap(rank, pivot);
            let scale = inverse(rows[rank][col]);
            for v in &mut rows[rank] {
                *v = mul(*v, scale);
            }
            let pivot_row = rows[rank].clone();
            for (r, row) in rows.iter_mut().enumerate() {
                let factor = row[col];
                if r != rank && factor != 0 {
                    for (v, &p) in row.iter_mut().zip(&pivot_row) {
                        *v = sub(*v, mul(factor, p));
                    }
                }
            }
            rank += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn k(k: u32) -> MinCell {
        MinCell::new(k)
    }

    /// Publishes `ns` with each cell's index as its value, so tests can check values survive.
    fn publish_table(ns: &[u64], relations: &[Relation], k: MinCell) -> Vec<Cell<usize>> {
        let entries = ns.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        gate(entries, relations, k)
    }

    fn rel(total: usize, parts: &[usize]) -> Relation {
        Relation {
            total,
            parts: parts.to_vec(),
        }
    }

    // ---- unit tests ----

    #[test]
    fn small_municipality_hides_the_smallest_visible_sibling() {
        // County 0 = municipalities 1..=3.
        let ns = [17, 2, 9, 6];
        let cells = publish_table(&ns, &[rel(0, &[1, 2, 3])], k(5));
        assert_eq!(cells[1].reason(), Some(Reason::TooFew));
        assert_eq!(cells[3].reason(), Some(Reason::Complementary));
        assert_eq!(cells[2].shown(), Some(&2));
        assert_eq!(cells[0].n(), Some(17));
    }

    #[test]
    fn ties_hide_the_lowest_index() {
        let ns = [16, 7, 7, 2];
        let cells = publish_table(&ns, &[rel(0, &[1, 2, 3])], k(5));
        assert_eq!(cells[1].reason(), Some(Reason::Complementary));
        assert_eq!(cells[2].n(), Some(7));
        assert_eq!(cells[3].reason(), Some(Reason::TooFew));
    }

    #[test]
    fn hidden_total_with_visible_parts_hides_a_part() {
        // Region 0 = counties 1, 2, 3; county 1 = municipalities 4, 5.
        let ns = [34, 12, 2, 20, 7, 5];
        let relations = [rel(0, &[1, 2, 3]), rel(1, &[4, 5])];
        let cells = publish_table(&ns, &relations, k(5));
        assert_eq!(cells[2].reason(), Some(Reason::TooFew));
        assert_eq!(cells[1].reason(), Some(Reason::Complementary));
        // County 1 is hidden; with both municipalities shown it would be their sum.
        assert_eq!(cells[5].reason(), Some(Reason::Complementary));
        assert_eq!(cells[4].n(), Some(7));
        assert_eq!(cells[0].n(), Some(34));
        assert_eq!(cells[3].n(), Some(20));
    }

    #[test]
    fn visible_total_of_a_lone_hidden_part_is_hidden() {
        // Cell 1 is a part of two relations: a region with two service types (0 = 1 + 2),
        // and a role total whose only service type it is (3 = 1).
        let ns = [9, 7, 2, 7];
        let relations = [rel(0, &[1, 2]), rel(3, &[1])];
        let cells = publish_table(&ns, &relations, k(5));
        assert_eq!(cells[2].reason(), Some(Reason::TooFew));
        assert_eq!(cells[1].reason(), Some(Reason::Complementary));
        assert_eq!(cells[3].reason(), Some(Reason::Complementary));
        assert_eq!(cells[0].n(), Some(9));
    }

    #[test]
    fn empty_is_distinct_from_suppressed_and_needs_no_cover() {
        let cells = publish_table(&[8, 0, 8], &[rel(0, &[1, 2])], k(5));
        assert!(cells[1].is_empty());
        assert!(!cells[1].is_suppressed());
        assert_eq!(cells[1].reason(), None);
        assert_eq!(cells[0].n(), Some(8));
        assert_eq!(cells[2].n(), Some(8));

        // The empty part is not picked as cover: hiding "no data" would protect nothing.
        let cells = publish_table(&[8, 2, 0, 6], &[rel(0, &[1, 2, 3])], k(5));
        assert_eq!(cells[1].reason(), Some(Reason::TooFew));
        assert!(cells[2].is_empty());
        assert_eq!(cells[3].reason(), Some(Reason::Complementary));
    }

    #[test]
    fn gate_one_applies_the_threshold() {
        assert!(gate_one(0, 1.5, k(5)).is_empty());
        assert_eq!(gate_one(4, 1.5, k(5)).reason(), Some(Reason::TooFew));
        assert_eq!(gate_one(5, 1.5, k(5)).shown(), Some(&1.5));
        for n in 0..10 {
            for threshold in 3..7 {
                let alone = gate(vec![(n, n)], &[], k(threshold));
                assert_eq!(alone, vec![gate_one(n, n, k(threshold))]);
            }
        }
    }

    #[test]
    fn k_is_clamped_to_the_floor() {
        assert_eq!(MinCell::new(0).get(), 3);
        assert_eq!(MinCell::new(2).get(), 3);
        assert_eq!(MinCell::new(3).get(), 3);
        assert_eq!(MinCell::new(7).get(), 7);
        assert_eq!(MinCell::default().get(), 5);
        assert_eq!(
            gate_one(2, (), MinCell::new(1)).reason(),
            Some(Reason::TooFew)
        );
        assert_eq!(gate_one(3, (), MinCell::new(1)).n(), Some(3));
    }

    #[test]
    fn json_shapes() {
        let to_json = |cell: &Cell<f64>| serde_json::to_string(cell).expect("serialises");
        assert_eq!(
            to_json(&gate_one(12, 3.5, k(5))),
            r#"{"status":"shown","n":12,"value":3.5}"#
        );
        assert_eq!(
            to_json(&gate_one(2, 3.5, k(5))),
            r#"{"status":"suppressed","reason":"too_few"}"#
        );
        assert_eq!(to_json(&gate_one(0, 3.5, k(5))), r#"{"status":"empty"}"#);
        let cells = gate(vec![(9, 1.0), (7, 2.0), (2, 3.0)], &[rel(0, &[1, 2])], k(5));
        assert_eq!(
            serde_json::to_value(&cells).expect("serialises"),
            json!([
                {"status": "shown", "n": 9, "value": 1.0},
                {"status": "suppressed", "reason": "complementary"},
                {"status": "suppressed", "reason": "too_few"},
            ])
        );
    }

    #[test]
    fn map_keeps_the_decision() {
        let shown = gate_one(6, 2, k(5)).map(|v| v * 10);
        assert_eq!((shown.n(), shown.shown()), (Some(6), Some(&20)));
        let hidden = gate_one(2, 2, k(5)).map(|v| v * 10);
        assert_eq!(hidden.reason(), Some(Reason::TooFew));
        assert!(gate_one(0, 2, k(5)).map(|v| v * 10).is_empty());
    }

    #[test]
    #[should_panic(expected = "outside a table")]
    fn relation_outside_the_table_is_a_bug() {
        publish_table(&[5, 5], &[rel(0, &[1, 2])], k(5));
    }

    #[test]
    fn hierarchy_detection() {
        assert!(is_hierarchy(&[rel(0, &[1, 2]), rel(1, &[3, 4])], 5));
        assert!(!is_hierarchy(&[rel(0, &[1, 2]), rel(0, &[3, 4])], 5));
        assert!(!is_hierarchy(&[rel(0, &[1, 2]), rel(3, &[1, 4])], 5));
        assert!(!is_hierarchy(&[rel(0, &[1]), rel(1, &[0])], 2));
    }

    /// A 4 × 4 cross table where every row and column has 0 or ≥ 2 hidden cells, so rule 3
    /// is satisfied, yet cell (0, 2) is a bridge between two closed cycles of hidden cells.
    fn bridged_cross_table() -> (Table, Vec<bool>) {
        let table = cross(&[vec![5; 4], vec![5; 4], vec![5; 4], vec![5; 4]]);
        let hidden_cells = [
            (0, 0),
            (0, 1),
            (1, 0),
            (1, 1),
            (2, 2),
            (2, 3),
            (3, 2),
            (3, 3),
            (0, 2),
        ];
        let mut hidden = vec![false; table.ns.len()];
        for (r, c) in hidden_cells {
            hidden[r * 4 + c] = true;
        }
        (table, hidden)
    }

    #[test]
    fn rank_check_finds_the_bridge_rule_three_misses() {
        let (table, hidden) = bridged_cross_table();
        let state: Vec<State> = hidden
            .iter()
            .map(|&h| {
                if h {
                    State::Hidden(Reason::TooFew)
                } else {
                    State::Visible
                }
            })
            .collect();
        let ns = table.ns.clone();
        let mut settled = state.clone();
        settle(&ns, &table.relations, &mut settled);
        assert_eq!(settled, state, "rule 3 sees nothing to do");
        assert_eq!(audit(&table.relations, &state).exposed, vec![2]);

        let mut covered = state;
        complementary(&ns, &table.relations, &mut covered);
        assert!(audit(&table.relations, &covered).exposed.is_empty());
    }

    #[test]
    fn attackers_recover_what_is_left_unprotected() {
        // Primary suppression only: the county total gives municipality 1 away.
        let ns = [17, 2, 9, 6];
        let relations = [rel(0, &[1, 2, 3])];
        let leaky = hand_published(&ns, &[false, true, false, false]);
        assert_eq!(subtraction_attack(&leaky, &relations)[1], Some(2));
        assert_eq!(linear_attack(&leaky, &relations)[1], Some(2));

        // Across levels: the region gives county 1 away, which then gives municipality 4.
        let ns = [34, 12, 2, 20, 7, 5];
        let relations = [rel(0, &[1, 2, 3]), rel(1, &[4, 5])];
        let leaky = hand_published(&ns, &[false, true, true, false, true, false]);
        let known = subtraction_attack(&leaky, &relations);
        assert_eq!((known[1], known[2], known[4]), (None, None, None));
        let leaky = hand_published(&ns, &[false, true, false, false, true, false]);
        let known = subtraction_attack(&leaky, &relations);
        assert_eq!((known[1], known[4]), (Some(12), Some(7)));
    }

    #[test]
    fn linear_attacker_sees_through_the_bridge() {
        let (table, hidden) = bridged_cross_table();
        let published = hand_published(&table.ns, &hidden);
        let by_subtraction = subtraction_attack(&published, &table.relations);
        assert!(
            hidden
                .iter()
                .zip(&by_subtraction)
                .all(|(&h, k)| !h || k.is_none())
        );
        assert_eq!(linear_attack(&published, &table.relations)[2], Some(5));
    }

    // ---- attackers, written without the gate's helpers ----

    fn hand_published(ns: &[u64], hidden: &[bool]) -> Vec<Cell<usize>> {
        ns.iter()
            .zip(hidden)
            .enumerate()
            .map(|(i, (&n, &h))| {
                Cell(if h {
                    Inner::Suppressed {
                        reason: Reason::TooFew,
                    }
                } else if n == 0 {
                    Inner::Empty
                } else {
                    Inner::Shown { n, value: i }
                })
            })
            .collect()
    }

    /// What a reader can learn by repeatedly solving any relation with one unknown member,
    /// across all levels: the `n` of every cell it comes to know.
    fn subtraction_attack(cells: &[Cell<usize>], relations: &[Relation]) -> Vec<Option<u64>> {
        let mut known: Vec<Option<u64>> = cells
            .iter()
            .map(|c| if c.is_empty() { Some(0) } else { c.n() })
            .collect();
        loop {
            let mut learned = false;
            for relation in relations {
                let mut all = vec![relation.total];
                all.extend(&relation.parts);
                let unknown: Vec<usize> = all.into_iter().filter(|&i| known[i].is_none()).collect();
                if let [x] = unknown[..] {
                    let others: u64 = relation
                        .parts
                        .iter()
                        .filter(|&&p| p != x)
                        .map(|&p| known[p].expect("only x is unknown"))
                        .sum();
                    known[x] = Some(if x == relation.total {
                        others
                    } else {
                        known[relation.total].expect("only x is unknown") - others
                    });
                    learned = true;
                }
            }
            if !learned {
                return known;
            }
        }
    }

    /// What a reader can learn from any linear combination of the published relations
    /// (exact integer Gauss–Jordan elimination): the `n` of every cell it comes to know.
    fn linear_attack(cells: &[Cell<usize>], relations: &[Relation]) -> Vec<Option<u64>> {
        let value = |i: usize| -> Option<i128> {
            if cells[i].is_empty() {
                Some(0)
            } else {
                cells[i].n().map(i128::from)
            }
        };
        let unknowns: Vec<usize> = (0..cells.len()).filter(|&i| value(i).is_none()).collect();
        // Each relation as Σ coefficient·unknown = constant.
        let mut rows: Vec<(Vec<i128>, i128)> = relations
            .iter()
            .map(|relation| {
                let mut coefficients = vec![0; unknowns.len()];
                let mut constant = 0;
                let signed =
                    iter::once((relation.total, 1)).chain(relation.parts.iter().map(|&p| (p, -1)));
                for (i, sign) in signed {
                    if let Some(v) = value(i) {
                        constant -= sign * v;
                    } else {
                        let column = unknowns.iter().position(|&u| u == i).expect("unknown");
                        coefficients[column] += sign;
                    }
                }
                (coefficients, constant)
            })
            .collect();
        let mut rank = 0;
        for column in 0..unknowns.len() {
            let Some(pivot) = (rank..rows.len()).find(|&r| rows[r].0[column] != 0) else {
                continue;
            };
            rows.swap(rank, pivot);
            let (pivot_row, pivot_constant) = rows[rank].clone();
            for (r, (row, constant)) in rows.iter_mut().enumerate() {
                let factor = row[column];
                if r == rank || factor == 0 {
                    continue;
                }
                let scale = pivot_row[column];
                for (v, p) in row.iter_mut().zip(&pivot_row) {
                    *v = *v * scale - p * factor;
                }
                *constant = *constant * scale - pivot_constant * factor;
                let divisor = row.iter().fold(*constant, |g, &v| gcd(g, v));
                if divisor > 1 {
                    for v in row.iter_mut() {
                        *v /= divisor;
                    }
                    *constant /= divisor;
                }
            }
            rank += 1;
        }
        let mut known: Vec<Option<u64>> = (0..cells.len())
            .map(|i| value(i).map(|v| u64::try_from(v).expect("n is not negative")))
            .collect();
        for (row, constant) in &rows {
            let non_zero: Vec<usize> = (0..row.len()).filter(|&c| row[c] != 0).collect();
            if let [c] = non_zero[..] {
                assert_eq!(constant % row[c], 0, "published totals add up");
                known[unknowns[c]] = Some(u64::try_from(constant / row[c]).expect("n ≥ 0"));
            }
        }
        known
    }

    fn gcd(a: i128, b: i128) -> i128 {
        let (mut a, mut b) = (a.abs(), b.abs());
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    }

    // ---- generated tables ----

    #[derive(Debug, Clone)]
    struct Table {
        ns: Vec<u64>,
        relations: Vec<Relation>,
    }

    #[derive(Debug, Clone)]
    enum Node {
        Leaf(u64),
        Parent(Vec<Node>),
    }

    /// Flattens a tree into a table: parents hold the sum of their children and one
    /// relation each.
    fn flatten(root: &Node) -> Table {
        fn add(node: &Node, table: &mut Table) -> usize {
            match node {
                Node::Leaf(n) => {
                    table.ns.push(*n);
                    table.ns.len() - 1
                }
                Node::Parent(children) => {
                    let total = table.ns.len();
                    table.ns.push(0);
                    let parts: Vec<usize> = children.iter().map(|c| add(c, table)).collect();
                    table.ns[total] = parts.iter().map(|&p| table.ns[p]).sum();
                    table.relations.push(Relation { total, parts });
                    total
                }
            }
        }
        let mut table = Table {
            ns: Vec::new(),
            relations: Vec::new(),
        };
        add(root, &mut table);
        table
    }

    /// Interior cells row by row, then row totals, column totals and the grand total; the
    /// grand total is split both by rows and by columns.
    fn cross(interior: &[Vec<u64>]) -> Table {
        let (rows, cols) = (interior.len(), interior[0].len());
        let mut ns: Vec<u64> = interior.iter().flatten().copied().collect();
        let row_total = |r: usize| rows * cols + r;
        let col_total = |c: usize| rows * cols + rows + c;
        let grand = rows * cols + rows + cols;
        ns.extend(interior.iter().map(|row| row.iter().sum::<u64>()));
        ns.extend((0..cols).map(|c| interior.iter().map(|row| row[c]).sum::<u64>()));
        ns.push(interior.iter().flatten().sum());
        let mut relations: Vec<Relation> = (0..rows)
            .map(|r| Relation {
                total: row_total(r),
                parts: (0..cols).map(|c| r * cols + c).collect(),
            })
            .collect();
        relations.extend((0..cols).map(|c| Relation {
            total: col_total(c),
            parts: (0..rows).map(|r| r * cols + c).collect(),
        }));
        relations.push(Relation {
            total: grand,
            parts: (0..rows).map(row_total).collect(),
        });
        relations.push(Relation {
            total: grand,
            parts: (0..cols).map(col_total).collect(),
        });
        Table { ns, relations }
    }

    /// A root, 1–6 children, each with 0–5 grandchildren; leaves have 0–11 respondents.
    fn two_levels() -> impl Strategy<Value = Table> {
        prop::collection::vec((0u64..12, prop::collection::vec(0u64..12, 0..=5)), 1..=6).prop_map(
            |children| {
                let children = children
                    .into_iter()
                    .map(|(n, grandchildren)| {
                        if grandchildren.is_empty() {
                            Node::Leaf(n)
                        } else {
                            Node::Parent(grandchildren.into_iter().map(Node::Leaf).collect())
                        }
                    })
                    .collect();
                flatten(&Node::Parent(children))
            },
        )
    }

    /// Hierarchies of any shape up to five levels deep.
    fn deep() -> impl Strategy<Value = Table> {
        let leaf = (0u64..12).prop_map(Node::Leaf);
        let tree = leaf.prop_recursive(4, 64, 5, |inner| {
            prop::collection::vec(inner, 1..=5).prop_map(Node::Parent)
        });
        prop::collection::vec(tree, 1..=5).prop_map(|children| flatten(&Node::Parent(children)))
    }

    /// Cross tables (say service type × role) with both margins: not a hierarchy.
    fn cross_table() -> impl Strategy<Value = Table> {
        (1usize..=5, 1usize..=5)
            .prop_flat_map(|(rows, cols)| {
                prop::collection::vec(prop::collection::vec(0u64..12, cols), rows)
            })
            .prop_map(|interior| cross(&interior))
    }

    fn table() -> impl Strategy<Value = Table> {
        prop_oneof![two_levels(), deep(), cross_table()]
    }

    fn hidden_members(relation: &Relation, cells: &[Cell<usize>]) -> usize {
        iter::once(&relation.total)
            .chain(&relation.parts)
            .filter(|&&i| cells[i].is_suppressed())
            .count()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn shown_cells_have_at_least_k(t in table(), k in 3u32..=6) {
            let cells = publish_table(&t.ns, &t.relations, MinCell::new(k));
            for cell in &cells {
                if let Some(n) = cell.n() {
                    prop_assert!(n >= u64::from(k));
                }
            }
        }

        #[test]
        fn small_cells_are_suppressed_and_empty_ones_empty(t in table(), k in 3u32..=6) {
            let cells = publish_table(&t.ns, &t.relations, MinCell::new(k));
            prop_assert_eq!(cells.len(), t.ns.len());
            for (cell, &n) in cells.iter().zip(&t.ns) {
                if n == 0 {
                    prop_assert!(cell.is_empty());
                } else {
                    prop_assert!(!cell.is_empty());
                }
                if n > 0 && n < u64::from(k) {
                    prop_assert_eq!(cell.reason(), Some(Reason::TooFew));
                }
            }
        }

        #[test]
        fn no_relation_has_exactly_one_hidden_member(t in table(), k in 3u32..=6) {
            let cells = publish_table(&t.ns, &t.relations, MinCell::new(k));
            for relation in &t.relations {
                prop_assert_ne!(hidden_members(relation, &cells), 1, "{:?}", relation);
            }
        }

        #[test]
        fn shown_cells_keep_their_n_and_value(t in table(), k in 3u32..=6) {
            let cells = publish_table(&t.ns, &t.relations, MinCell::new(k));
            for (i, (cell, &n)) in cells.iter().zip(&t.ns).enumerate() {
                if let Some(value) = cell.shown() {
                    prop_assert_eq!(*value, i);
                    prop_assert_eq!(cell.n(), Some(n));
                }
            }
        }

        #[test]
        fn subtraction_attacker_recovers_no_suppressed_cell(t in table(), k in 3u32..=6) {
            let cells = publish_table(&t.ns, &t.relations, MinCell::new(k));
            let known = subtraction_attack(&cells, &t.relations);
            for (i, cell) in cells.iter().enumerate() {
                if cell.is_suppressed() {
                    prop_assert_eq!(known[i], None, "cell {} recovered", i);
                } else {
                    prop_assert_eq!(known[i], Some(t.ns[i]));
                }
            }
        }

        /// Backs the proof in [`is_hierarchy`] that lets the gate skip the rank check.
        #[test]
        fn hierarchies_need_no_rank_check(
            t in prop_oneof![two_levels(), deep()],
            k in 3u32..=6,
        ) {
            prop_assert!(is_hierarchy(&t.relations, t.ns.len()));
            let mut state: Vec<State> = t.ns.iter().map(|&n| primary(n, MinCell::new(k))).collect();
            settle(&t.ns, &t.relations, &mut state);
            prop_assert!(audit(&t.relations, &state).exposed.is_empty());
        }

        #[test]
        fn linear_attacker_recovers_no_suppressed_cell(t in table(), k in 3u32..=6) {
            let cells = publish_table(&t.ns, &t.relations, MinCell::new(k));
            let known = linear_attack(&cells, &t.relations);
            for (i, cell) in cells.iter().enumerate() {
                if cell.is_suppressed() {
                    prop_assert_eq!(known[i], None, "cell {} recovered", i);
                }
            }
        }
    }
}
