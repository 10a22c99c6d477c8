//! The statistics of `../shared/instrument.md` as small pure functions over sufficient
//! statistics (n, Σx, Σx²), so that results roll up from services to regions without
//! rereading answers. No I/O, no polars.

use serde::Serialize;

/// Count, sum and sum of squares of a set of values: enough for mean, SD, CI and
/// one-way ANOVA, and additive across groups.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub sum: f64,
    pub sum_sq: f64,
}

impl Moments {
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
    }

    pub fn merge(&mut self, other: &Self) {
        self.n += other.n;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    #[expect(clippy::cast_precision_loss, reason = "counts of respondents")]
    fn nf(&self) -> f64 {
        self.n as f64
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.nf())
    }

    /// Sample variance (n − 1); `None` below two values.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| {
            let n = self.nf();
            ((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0)
        })
    }

    pub fn sd(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// Sum of squared deviations from the mean.
    fn ss(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        (self.sum_sq - self.sum * self.sum / self.nf()).max(0.0)
    }
}

/// Mean with SD and a t-based 95% confidence interval (none when n < 2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Estimate {
    pub mean: f64,
    pub sd: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

pub fn estimate(m: &Moments) -> Option<Estimate> {
    let mean = m.mean()?;
    let sd = m.sd();
    let half = sd.map(|s| t975(m.nf() - 1.0) * s / m.nf().sqrt());
    Some(Estimate {
        mean,
        sd,
        ci_low: half.map(|h| mean - h),
        ci_high: half.map(|h| mean + h),
    })
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (two-sided 95%), within
/// 1e-9 of R's `qt` for every df. `df` may be fractional (Welch); NaN below or at zero.
///
/// Below 1,000 degrees of freedom statrs inverts the distribution function. Above it
/// statrs loses precision (off by 1e-4 at a million) while the Cornish–Fisher expansion
/// around the normal quantile, to the fourth term, is exact to about 1e-12 there.
/// Below this many degrees of freedom [`t975`] inverts the distribution function.
const T_EXACT_BELOW: f64 = 1000.0;

/// [`t975`] below [`T_EXACT_BELOW`], remembered for whole degrees of freedom (every CI of
/// a mean has n − 1 of them): inverting the distribution function for each of a national
/// wave's 200,000 cells was a third of the time of its aggregates.
fn t975_small(df: f64) -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    /// The bits of each whole df's quantile; 0 (the bits of 0.0, never a quantile here)
    /// until computed. Any thread may compute one: they all get the same value.
    static KNOWN: [AtomicU64; 1000] = [const { AtomicU64::new(0) }; 1000];
    let exact = || {
        statrs::distribution::StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |t| {
            statrs::distribution::ContinuousCDF::inverse_cdf(&t, 0.975)
        })
    };
    if df.fract() != 0.0 {
        return exact();
    }
    // A whole number in 1..1000 (t975 checked the range).
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a whole number between 1 and 999"
    )]
    let slot = &KNOWN[df as usize];
    match slot.load(Ordering::Relaxed) {
        0 => {
            let t = exact();
            slot.store(t.to_bits(), Ordering::Relaxed);
            t
        }
        bits => f64::from_bits(bits),
    }
}

pub fn t975(df: f64) -> f64 {
    if df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if df < T_EXACT_BELOW {
        return t975_small(df);
    }
    let (z, v) = (Z95, df);
    let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v.powi(2))
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92_160.0 * v.powi(4))
}

/// rwg(J) agreement of a group on a J-item scale, from the mean of the items'
/// within-group variances and the uniform null variance σ²ₑ = (A² − 1)/12; truncated to 0
/// when the observed variance exceeds the null.
pub fn rwg_j(items: usize, mean_item_variance: f64, null_variance: f64) -> f64 {
    if mean_item_variance > null_variance {
        return 0.0;
    }
    #[expect(clippy::cast_precision_loss, reason = "a handful of items")]
    let j = items as f64;
    let ratio = mean_item_variance / null_variance;
    let agreement = j * (1.0 - ratio);
    agreement / (agreement + ratio)
}

/// ICC(1) and ICC(2) from a one-way ANOVA with the groups as factor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Icc {
    pub icc1: f64,
    pub icc2: f64,
    pub groups: u64,
    pub respondents: u64,
}

/// `None` with fewer than two groups, no within-group replication, or no variance
/// between groups.
#[expect(
    clippy::cast_precision_loss,
    reason = "counts of respondents and groups"
)]
pub fn icc(groups: &[Moments]) -> Option<Icc> {
    let groups: Vec<&Moments> = groups.iter().filter(|g| g.n > 0).collect();
    let g = groups.len();
    let n: u64 = groups.iter().map(|m| m.n).sum();
    if g < 2 || n <= g as u64 {
        return None;
    }
    let mut all = Moments::default();
    for m in &groups {
        all.merge(m);
    }
    let ss_within: f64 = groups.iter().map(|m| m.ss()).sum();
    let ss_between = all.ss() - ss_within;
    let msb = ss_between / (g as f64 - 1.0);
    let msw = ss_within / (n as f64 - g as f64);
    if msb <= 0.0 {
        return None;
    }
    let sum_k = n as f64;
    let sum_k2: f64 = groups.iter().map(|m| (m.n as f64).powi(2)).sum();
    let k_bar = (sum_k - sum_k2 / sum_k) / (g as f64 - 1.0);
    Some(Icc {
        icc1: (msb - msw) / (msb + (k_bar - 1.0) * msw),
        icc2: (msb - msw) / msb,
        groups: g as u64,
        respondents: n,
    })
}

/// Cronbach's α from complete cases: k/(k − 1)·(1 − Σσ²ᵢ/σ²ₓ).
pub fn cronbach_alpha(items: &[Moments], totals: &Moments) -> Option<f64> {
    let k = items.len();
    let total_var = totals.variance()?;
    if k < 2 || total_var <= 0.0 {
        return None;
    }
    let item_var: Option<f64> = items.iter().map(Moments::variance).sum();
    #[expect(clippy::cast_precision_loss, reason = "a handful of items")]
    let k = k as f64;
    Some(k / (k - 1.0) * (1.0 - item_var? / total_var))
}

/// Percentile rank of `value` among `others` (which include it): 100·(B + 0.5·E)/N.
/// One value against its group; [`PercentileRanks`] ranks a whole group in N log N.
#[expect(clippy::cast_precision_loss, reason = "counts of services")]
pub fn percentile_rank(value: f64, all: &[f64]) -> f64 {
    let below = all.iter().filter(|x| **x < value).count();
    let equal = all.iter().filter(|x| (**x - value).abs() < 1e-12).count();
    100.0 * (below as f64 + 0.5 * equal as f64) / all.len() as f64
}

/// A peer group's values sorted once, so every member's [`percentile_rank`] is two
/// binary searches instead of a pass over the group (national groups have thousands of
/// services).
#[derive(Debug, Clone)]
pub struct PercentileRanks(Vec<f64>);

impl PercentileRanks {
    /// The group; values that are not numbers are left out.
    pub fn new(all: impl IntoIterator<Item = f64>) -> Self {
        let mut sorted: Vec<f64> = all.into_iter().filter(|x| !x.is_nan()).collect();
        sorted.sort_by(f64::total_cmp);
        Self(sorted)
    }

    /// The same as [`percentile_rank`] of `value` against the group.
    #[expect(clippy::cast_precision_loss, reason = "counts of services")]
    pub fn rank(&self, value: f64) -> f64 {
        let below = self.0.partition_point(|x| *x < value);
        let equal = self.0.partition_point(|x| *x < value + 1e-12)
            - self.0.partition_point(|x| *x <= value - 1e-12);
        100.0 * (below as f64 + 0.5 * equal as f64) / self.0.len() as f64
    }
}

/// Control limits of a funnel plot at a unit size `n` around a group's target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct FunnelLimits {
    pub lower95: f64,
    pub upper95: f64,
    pub lower998: f64,
    pub upper998: f64,
}

/// Two-sided normal quantiles for 95% and 99.8% limits.
pub const Z95: f64 = 1.959_963_984_540_054;
pub const Z998: f64 = 3.090_232_306_167_813;

#[expect(clippy::cast_precision_loss, reason = "counts of respondents")]
pub fn funnel_limits(target: f64, sd: f64, n: u64) -> FunnelLimits {
    funnel_limits_at(target, sd, n as f64)
}

/// [`funnel_limits`] at any unit size, for drawing the limit lines between sizes.
pub fn funnel_limits_at(target: f64, sd: f64, n: f64) -> FunnelLimits {
    let se = sd / n.max(1.0).sqrt();
    FunnelLimits {
        lower95: target - Z95 * se,
        upper95: target + Z95 * se,
        lower998: target - Z998 * se,
        upper998: target + Z998 * se,
    }
}

/// Change between two independent means with a Welch 95% CI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Change {
    pub previous: f64,
    pub current: f64,
    pub change: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

#[expect(clippy::cast_precision_loss, reason = "counts of respondents")]
pub fn change(previous: &Moments, current: &Moments) -> Option<Change> {
    let (p, c) = (previous.mean()?, current.mean()?);
    let half = match (previous.variance(), current.variance()) {
        (Some(vp), Some(vc)) => {
            let (ap, ac) = (vp / previous.n as f64, vc / current.n as f64);
            let se2 = ap + ac;
            if se2 > 0.0 {
                // Welch–Satterthwaite degrees of freedom, not rounded (as R's t.test).
                let df = se2 * se2
                    / (ap * ap / (previous.n as f64 - 1.0) + ac * ac / (current.n as f64 - 1.0));
                Some(t975(df) * se2.sqrt())
            } else {
                Some(0.0)
            }
        }
        _ => None,
    };
    Some(Change {
        previous: p,
        current: c,
        change: c - p,
        ci_low: half.map(|h| c - p - h),
        ci_high: half.map(|h| c - p + h),
    })
}

/// The share of `invited` people who `answered`: none when nobody was invited. The one
/// response rate: the wave page, the rates per service and the publication (which also
/// keeps it back below the minimum cell size) all use it.
#[expect(
    clippy::cast_precision_loss,
    reason = "counts of people, far below 2^52"
)]
pub fn response_rate(answered: u64, invited: u64) -> Option<f64> {
    (invited > 0).then(|| answered as f64 / invited as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_rate_needs_someone_invited() {
        assert_eq!(response_rate(0, 0), None);
        assert_eq!(response_rate(3, 4), Some(0.75));
        assert_eq!(response_rate(0, 5), Some(0.0));
    }

    fn moments(xs: &[f64]) -> Moments {
        let mut m = Moments::default();
        for x in xs {
            m.add(*x);
        }
        m
    }

    #[test]
    fn t_quantiles_match_tables_and_approach_the_normal() {
        // R 4.2: options(digits = 17); qt(0.975, df), an independent implementation.
        for (df, r) in [
            (1.0, 12.706_204_736_174_694),
            (10.0, 2.228_138_851_986_274),
            (31.0, 2.039_513_446_396_408),
            (40.0, 2.021_075_390_306_273),
            (57.3, 2.002_238_268_231_336),
            (120.0, 1.979_930_405_082_422),
            (500.0, 1.964_719_837_467_367),
            (999.5, 1.962_340_270_383_845),
            (1000.0, 1.962_339_080_826_408),
            (1e4, 1.960_201_239_890_626),
            (1e5, 1.959_987_707_534_609),
            (1e6, 1.959_966_356_814_107),
        ] {
            // Twice: the second time a whole df's quantile is the remembered one.
            for _ in 0..2 {
                assert!(
                    (t975(df) - r).abs() < 1e-9,
                    "df {df}: {} against R's {r}",
                    t975(df)
                );
            }
        }
        assert!(t975(0.0).is_nan());
        assert!((t975(1e12) - Z95).abs() < 1e-9);
    }

    #[test]
    fn rwg_is_one_with_full_agreement_and_zero_beyond_the_null() {
        assert!((rwg_j(5, 0.0, 2.0) - 1.0).abs() < 1e-12);
        assert!(rwg_j(5, 2.5, 2.0).abs() < 1e-12);
        // J = 5, s̄² = 1: 5·0.5 / (5·0.5 + 0.5) = 2.5 / 3.
        assert!((rwg_j(5, 1.0, 2.0) - 2.5 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn alpha_of_identical_items_is_one() {
        let item = moments(&[1.0, 2.0, 3.0, 4.0]);
        let total = moments(&[3.0, 6.0, 9.0, 12.0]);
        let a = cronbach_alpha(&[item, item, item], &total).expect("alpha");
        assert!((a - 1.0).abs() < 1e-12);
    }

    #[test]
    fn sorted_ranks_equal_the_definition() {
        use proptest::prelude::*;
        proptest!(|(values in proptest::collection::vec(0u8..40, 1..200))| {
            // Coarse values (tenths) so ties are common.
            let all: Vec<f64> = values.iter().map(|v| f64::from(*v) / 10.0).collect();
            let ranks = PercentileRanks::new(all.iter().copied());
            for v in &all {
                prop_assert!((ranks.rank(*v) - percentile_rank(*v, &all)).abs() < 1e-9);
            }
        });
    }

    #[test]
    fn percentile_rank_counts_ties_half() {
        assert!((percentile_rank(2.0, &[1.0, 2.0, 2.0, 3.0]) - 50.0).abs() < 1e-12);
        assert!((percentile_rank(3.0, &[1.0, 2.0, 2.0, 3.0]) - 87.5).abs() < 1e-12);
    }
}
