//! Scoring: one respondent's answers → phase scores, maturity levels, the 0-100 index and
//! the weakest-link level. Pure functions driven entirely by the rules in the survey
//! file; no I/O, no defaults hidden in code.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::core::instrument::format::{Band, MissingMeaning, SurveyFile};

/// A compact answer slot: no recognisable answer.
pub const SLOT_UNANSWERED: i8 = -1;
/// A compact answer slot: "don't know" (missing).
pub const SLOT_DONT_KNOW: i8 = -2;
/// A compact answer slot: "did not take place" (not applicable).
pub const SLOT_NOT_APPLICABLE: i8 = -3;
/// The most scored items a phase may have: analytics sums phase scores exactly as
/// integer multiples of 1 / lcm(1..=items), which stays far inside 128 bits up to here.
pub const MAX_PHASE_ITEMS: usize = 24;

/// One answer as stored: a value on the scale, a missing code, or the option chosen on a
/// single-choice question (read only for the evidence questions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AnswerValue<'a> {
    Value(f64),
    Code(&'a str),
    Choice(&'a str),
}

/// A compact evidence slot: an occasion was named.
pub const SLOT_OCCASION: i8 = 1;
/// A compact evidence slot: no occasion ([`crate::core::instrument::format::Evidence::none`]).
pub const SLOT_NO_OCCASION: i8 = 0;

/// A phase's evidence question, as scoring reads it.
#[derive(Debug, Clone, PartialEq)]
struct EvidenceRule {
    /// Index of the phase in the survey's phase order.
    phase: usize,
    item: String,
    /// The options that name a kind of occasion.
    kinds: HashSet<String>,
    none: String,
    /// Roles asked it.
    roles: Vec<String>,
}

/// A phase's result for one respondent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseResult {
    pub phase: String,
    /// Mean of the valid answers; `None` below the phase's minimum of valid answers.
    pub score: Option<f64>,
    /// Maturity level of `score`.
    pub level: Option<u32>,
    /// Answers on the scale.
    pub valid: u32,
    /// Missing codes meaning "don't know" (missing).
    pub dont_know: u32,
    /// Missing codes meaning "did not take place" (not applicable).
    pub not_applicable: u32,
    /// Items without any (or without a recognisable) answer.
    pub unanswered: u32,
}

/// A respondent's profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RespondentScore {
    /// One entry per phase, in the survey's phase order.
    pub phases: Vec<PhaseResult>,
    /// Mean of the phase scores × `index_multiplier`. `None` unless every phase has a
    /// score: an unscored phase would otherwise count as strength or weakness.
    pub index: Option<f64>,
    /// The lowest phase level (weakest link). `None` unless every phase has a level.
    pub weakest_level: Option<u32>,
}

#[derive(Debug, Clone)]
struct PhaseRule {
    code: String,
    items: Vec<String>,
    min_valid: u32,
}

/// The scoring rules of one instrument version, prepared for fast repeated use.
#[derive(Debug, Clone)]
pub struct ScoringRules {
    phases: Vec<PhaseRule>,
    bands: Vec<Band>,
    multiplier: f64,
    /// Valid values per item.
    valid_values: HashMap<String, Vec<i64>>,
    not_applicable: HashSet<String>,
    dont_know: HashSet<String>,
    /// Each scored item's place in [`ScoringRules::item_codes`].
    positions: HashMap<String, usize>,
    /// The evidence questions, their slots following the scored items' in survey phase
    /// order.
    evidence: Vec<EvidenceRule>,
    /// The lowest phase score that is a high rating (the `from` of the evidence section's
    /// band), when the survey has an evidence section.
    high_from: Option<f64>,
    min_backed_share: f64,
}

impl ScoringRules {
    /// Reads the rules from a (checked) survey file.
    pub fn new(file: &SurveyFile) -> Self {
        let phases: Vec<PhaseRule> = file
            .phases
            .iter()
            .map(|p| PhaseRule {
                code: p.code.clone(),
                items: file
                    .items
                    .iter()
                    .filter(|i| i.phase == p.code)
                    .map(|i| i.code.clone())
                    .collect(),
                min_valid: p.min_valid_items.unwrap_or(file.scoring.min_valid_items),
            })
            .collect();
        let valid_values = file
            .items
            .iter()
            .map(|i| {
                let values = file
                    .scales
                    .get(&i.scale)
                    .map(|s| s.points.iter().map(|p| p.value).collect())
                    .unwrap_or_default();
                (i.code.clone(), values)
            })
            .collect();
        let mut not_applicable = HashSet::new();
        let mut dont_know = HashSet::new();
        for scale in file.scales.values() {
            for m in &scale.missing {
                match m.meaning {
                    MissingMeaning::NotApplicable => not_applicable.insert(m.code.clone()),
                    MissingMeaning::Missing => dont_know.insert(m.code.clone()),
                };
            }
        }
        let positions = phases
            .iter()
            .flat_map(|p| p.items.iter().cloned())
            .enumerate()
            .map(|(i, c)| (c, i))
            .collect();
        let evidence: Vec<EvidenceRule> = file
            .evidence
            .iter()
            .flat_map(|e| {
                file.phases.iter().enumerate().filter_map(move |(i, p)| {
                    let item = file.evidence_question(&p.code)?;
                    Some(EvidenceRule {
                        phase: i,
                        item: item.code.clone(),
                        kinds: item
                            .options
                            .iter()
                            .filter(|o| o.code != e.none)
                            .map(|o| o.code.clone())
                            .collect(),
                        none: e.none.clone(),
                        roles: item.roles.clone(),
                    })
                })
            })
            .collect();
        let high_from = file.evidence.as_ref().and_then(|e| {
            file.scoring
                .bands
                .iter()
                .find(|b| b.level == e.high_level)
                .map(|b| b.from)
        });
        Self {
            positions,
            evidence,
            high_from,
            min_backed_share: file.evidence.as_ref().map_or(0.0, |e| e.min_backed_share),
            phases,
            bands: file.scoring.bands.clone(),
            multiplier: file.scoring.index_multiplier,
            valid_values,
            not_applicable,
            dont_know,
        }
    }

    /// What the mean of the phase scores is multiplied by to give the index.
    pub fn index_multiplier(&self) -> f64 {
        self.multiplier
    }

    /// Phase codes in order.
    pub fn phase_codes(&self) -> impl Iterator<Item = &str> {
        self.phases.iter().map(|p| p.code.as_str())
    }

    /// The maturity level of a phase score: the band with `from <= score < to`, the last
    /// band also taking `score == to`.
    pub fn level(&self, score: f64) -> Option<u32> {
        let last = self.bands.len().checked_sub(1)?;
        self.bands
            .iter()
            .enumerate()
            .find(|(i, b)| score >= b.from && (score < b.to || (*i == last && score <= b.to)))
            .map(|(_, b)| b.level)
    }

    fn is_valid(&self, item: &str, value: f64) -> bool {
        #[expect(
            clippy::cast_precision_loss,
            reason = "scale values are small integers"
        )]
        self.valid_values.get(item).is_some_and(|vals| {
            vals.iter()
                .any(|v| (*v as f64 - value).abs() < f64::EPSILON)
        })
    }

    /// Scored item codes in phase order; each phase's items are the range
    /// [`ScoringRules::layout`] gives. Analytics stores one compact slot per item.
    pub fn item_codes(&self) -> Vec<&str> {
        self.phases
            .iter()
            .flat_map(|p| p.items.iter().map(String::as_str))
            .collect()
    }

    /// Each phase's code, its items' range in [`ScoringRules::item_codes`] and its minimum
    /// of valid answers.
    pub fn layout(&self) -> Vec<(&str, std::ops::Range<usize>, u32)> {
        let mut start = 0;
        self.phases
            .iter()
            .map(|p| {
                let range = start..start + p.items.len();
                start = range.end;
                (p.code.as_str(), range, p.min_valid)
            })
            .collect()
    }

    /// One answer as a compact slot: the scale value (0..=100), or [`SLOT_UNANSWERED`],
    /// [`SLOT_DONT_KNOW`], [`SLOT_NOT_APPLICABLE`]; the same classification as
    /// [`ScoringRules::score`].
    pub fn encode(&self, item: &str, answer: AnswerValue<'_>) -> i8 {
        match answer {
            AnswerValue::Value(v) if self.is_valid(item, v) && (0.0..=100.0).contains(&v) => {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "a valid scale value, checked to be within 0..=100"
                )]
                let slot = v as i8;
                slot
            }
            AnswerValue::Code(c) if self.not_applicable.contains(c) => SLOT_NOT_APPLICABLE,
            AnswerValue::Code(c) if self.dont_know.contains(c) => SLOT_DONT_KNOW,
            _ => SLOT_UNANSWERED,
        }
    }

    /// Slots per response: one per scored item, then one per evidence question.
    pub fn slot_width(&self) -> usize {
        self.positions.len() + self.evidence.len()
    }

    /// Per phase (survey order), the slot of its evidence question, if it has one.
    pub fn evidence_slots(&self) -> Vec<Option<usize>> {
        (0..self.phases.len())
            .map(|p| {
                self.evidence
                    .iter()
                    .position(|e| e.phase == p)
                    .map(|k| self.positions.len() + k)
            })
            .collect()
    }

    /// Whether `role` is asked phase `p`'s evidence question.
    pub fn asks_evidence(&self, p: usize, role: &str) -> bool {
        self.evidence
            .iter()
            .any(|e| e.phase == p && e.roles.iter().any(|r| r == role))
    }

    /// The lowest phase score that is a high rating, when the survey asks for evidence.
    pub fn high_from(&self) -> Option<f64> {
        self.high_from
    }

    /// Below this share of backed high ratings, a group rating a phase high is flagged.
    pub fn min_backed_share(&self) -> f64 {
        self.min_backed_share
    }

    /// An evidence answer as a slot: [`SLOT_OCCASION`] for a kind of occasion,
    /// [`SLOT_NO_OCCASION`] for the "none" option, otherwise [`SLOT_UNANSWERED`].
    fn encode_evidence(rule: &EvidenceRule, answer: AnswerValue<'_>) -> i8 {
        match answer {
            AnswerValue::Choice(c) if rule.kinds.contains(c) => SLOT_OCCASION,
            AnswerValue::Choice(c) if c == rule.none => SLOT_NO_OCCASION,
            _ => SLOT_UNANSWERED,
        }
    }

    /// A whole response as stored slots (`responses.answer_slots`): one byte per scored
    /// item in [`ScoringRules::item_codes`] order, each an [`ScoringRules::encode`] slot,
    /// then one per evidence question ([`ScoringRules::evidence_slots`]); items without
    /// an answer, [`SLOT_UNANSWERED`]. Answers to other items are ignored.
    pub fn encode_response<'a>(
        &self,
        answers: impl IntoIterator<Item = (&'a str, AnswerValue<'a>)>,
    ) -> Vec<u8> {
        let mut slots = vec![SLOT_UNANSWERED.to_ne_bytes()[0]; self.slot_width()];
        for (item, answer) in answers {
            if let Some((i, slot)) = self.slot_of(item, answer) {
                slots[i] = slot.to_ne_bytes()[0];
            }
        }
        slots
    }

    /// Where one answer goes in a response's slots, and its slot value: a scored item's
    /// [`ScoringRules::encode`], an evidence question's occasion or none; `None` for an
    /// item that has no slot.
    pub fn slot_of(&self, item: &str, answer: AnswerValue<'_>) -> Option<(usize, i8)> {
        if let Some(&i) = self.positions.get(item) {
            return Some((i, self.encode(item, answer)));
        }
        let k = self.evidence.iter().position(|e| e.item == item)?;
        Some((
            self.positions.len() + k,
            Self::encode_evidence(&self.evidence[k], answer),
        ))
    }

    /// Stored slots back as [`ScoringRules::encode`] values; `None` when `bytes` does not
    /// have [`ScoringRules::slot_width`] bytes (not written for this instrument).
    pub fn decode_response<'b>(&self, bytes: &'b [u8]) -> Option<impl Iterator<Item = i8> + 'b> {
        (bytes.len() == self.slot_width()).then(|| bytes.iter().map(|b| i8::from_ne_bytes([*b])))
    }

    /// A phase score from its items' slots: the mean of the valid ones, when there are
    /// at least `min_valid` of them.
    pub fn phase_score(slots: &[i8], min_valid: u32) -> Option<f64> {
        let (mut n, mut sum) = (0u32, 0i32);
        for s in slots.iter().filter(|s| **s >= 0) {
            n += 1;
            sum += i32::from(*s);
        }
        (n > 0 && n >= min_valid).then(|| f64::from(sum) / f64::from(n))
    }

    /// The index from complete phase scores.
    pub fn index(&self, phase_scores: &[Option<f64>]) -> Option<f64> {
        let mut sum = 0.0;
        for s in phase_scores {
            sum += (*s)?;
        }
        #[expect(clippy::cast_precision_loss, reason = "a handful of phases")]
        let n = phase_scores.len() as f64;
        (!phase_scores.is_empty()).then(|| sum / n * self.multiplier)
    }

    /// Scores one respondent. Answers to unknown items are ignored.
    pub fn score<'a>(
        &self,
        answers: impl IntoIterator<Item = (&'a str, AnswerValue<'a>)>,
    ) -> RespondentScore {
        let answers: HashMap<&str, AnswerValue<'_>> = answers.into_iter().collect();
        let phases: Vec<PhaseResult> = self
            .phases
            .iter()
            .map(|rule| {
                let mut result = PhaseResult {
                    phase: rule.code.clone(),
                    score: None,
                    level: None,
                    valid: 0,
                    dont_know: 0,
                    not_applicable: 0,
                    unanswered: 0,
                };
                let mut sum = 0.0;
                for item in &rule.items {
                    match answers.get(item.as_str()) {
                        Some(AnswerValue::Value(v)) if self.is_valid(item, *v) => {
                            result.valid += 1;
                            sum += v;
                        }
                        Some(AnswerValue::Code(c)) if self.not_applicable.contains(*c) => {
                            result.not_applicable += 1;
                        }
                        Some(AnswerValue::Code(c)) if self.dont_know.contains(*c) => {
                            result.dont_know += 1;
                        }
                        _ => result.unanswered += 1,
                    }
                }
                if result.valid > 0 && result.valid >= rule.min_valid {
                    let score = sum / f64::from(result.valid);
                    result.score = Some(score);
                    result.level = self.level(score);
                }
                result
            })
            .collect();
        let scores: Option<Vec<f64>> = phases.iter().map(|p| p.score).collect();
        #[expect(clippy::cast_precision_loss, reason = "a handful of phases")]
        let index = scores
            .filter(|s| !s.is_empty())
            .map(|s| s.iter().sum::<f64>() / s.len() as f64 * self.multiplier);
        let weakest_level = phases
            .iter()
            .map(|p| p.level)
            .collect::<Option<Vec<u32>>>()
            .and_then(|l| l.into_iter().min());
        RespondentScore {
            phases,
            index,
            weakest_level,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::instrument::BUILT_IN;

    fn rules() -> ScoringRules {
        let inst = crate::core::instrument::parse("built-in", BUILT_IN[0].1)
            .expect("shipped instrument is valid");
        ScoringRules::new(&inst.definition)
    }

    /// Answers for one phase: `phase` letter, then one entry per item 1-5.
    fn phase<'a>(
        letter: &str,
        answers: [Option<AnswerValue<'a>>; 5],
    ) -> Vec<(String, AnswerValue<'a>)> {
        answers
            .into_iter()
            .enumerate()
            .filter_map(|(i, a)| a.map(|a| (format!("{letter}{}", i + 1), a)))
            .collect()
    }

    #[expect(
        clippy::unnecessary_wraps,
        reason = "reads like the other answer constants"
    )]
    const fn v(x: f64) -> Option<AnswerValue<'static>> {
        Some(AnswerValue::Value(x))
    }
    const DK: Option<AnswerValue<'static>> = Some(AnswerValue::Code("DK"));
    const NA: Option<AnswerValue<'static>> = Some(AnswerValue::Code("NA"));

    fn score(answers: &[(String, AnswerValue<'static>)]) -> RespondentScore {
        rules().score(answers.iter().map(|(k, a)| (k.as_str(), *a)))
    }

    #[test]
    fn all_dont_know_gives_no_score() {
        let s = score(&phase("A", [DK, DK, DK, DK, DK]));
        let a = &s.phases[0];
        assert_eq!((a.score, a.level, a.valid, a.dont_know), (None, None, 0, 5));
        assert_eq!(s.index, None);
        assert_eq!(s.weakest_level, None);
    }

    #[test]
    fn not_applicable_leaves_the_denominator() {
        // (4 + 2 + 3) / 3, not / 5.
        let s = score(&phase("A", [v(4.0), v(2.0), NA, NA, v(3.0)]));
        let a = &s.phases[0];
        assert_eq!(a.score, Some(3.0));
        assert_eq!(a.level, Some(3));
        assert_eq!((a.valid, a.not_applicable, a.dont_know), (3, 2, 0));
    }

    #[test]
    fn exactly_the_minimum_of_valid_items_scores_and_one_below_does_not() {
        let at = score(&phase("B", [v(1.0), v(2.0), v(3.0), DK, NA]));
        assert_eq!(at.phases[1].score, Some(2.0));
        assert_eq!(at.phases[1].level, Some(2));
        let below = score(&phase("B", [v(1.0), v(2.0), DK, DK, NA]));
        assert_eq!(below.phases[1].score, None);
        assert_eq!(below.phases[1].valid, 2);
    }

    #[test]
    fn band_edges_belong_to_the_upper_band() {
        let r = rules();
        for (score, level) in [
            (0.0, 0),
            (0.499, 0),
            (0.5, 1),
            (1.499, 1),
            (1.5, 2),
            (2.5, 3),
            (3.499, 3),
            (3.5, 4),
            (4.0, 4),
        ] {
            assert_eq!(r.level(score), Some(level), "score {score}");
        }
        assert_eq!(r.level(4.01), None);
        assert_eq!(r.level(-0.1), None);
    }

    #[test]
    fn index_and_weakest_link_over_four_phases() {
        let mut answers = phase("A", [v(1.0), v(1.0), v(1.0), v(1.0), v(1.0)]);
        answers.extend(phase("B", [v(2.0), v(2.0), v(2.0), v(2.0), v(2.0)]));
        answers.extend(phase("C", [v(3.0), v(4.0), v(2.0), NA, None]));
        answers.extend(phase("D", [v(2.0), v(2.0), v(2.0), DK, DK]));
        let s = score(&answers);
        let scores: Vec<Option<f64>> = s.phases.iter().map(|p| p.score).collect();
        assert_eq!(scores, vec![Some(1.0), Some(2.0), Some(3.0), Some(2.0)]);
        assert_eq!(s.phases[2].unanswered, 1);
        assert_eq!(s.index, Some(50.0), "(1 + 2 + 3 + 2) / 4 × 25");
        assert_eq!(s.weakest_level, Some(1));
    }

    #[test]
    fn a_missing_phase_leaves_index_and_weakest_link_empty() {
        let mut answers = phase("A", [v(4.0), v(4.0), v(4.0), v(4.0), v(4.0)]);
        answers.extend(phase("B", [v(4.0), v(4.0), v(4.0), v(4.0), v(4.0)]));
        answers.extend(phase("C", [v(4.0), v(4.0), v(4.0), v(4.0), v(4.0)]));
        let s = score(&answers);
        assert_eq!(s.phases[3].score, None);
        assert_eq!((s.index, s.weakest_level), (None, None));
    }

    #[test]
    fn values_off_the_scale_are_not_valid() {
        let s = score(&phase(
            "A",
            [
                v(5.0),
                v(2.5),
                v(-1.0),
                v(2.0),
                Some(AnswerValue::Code("XX")),
            ],
        ));
        assert_eq!(s.phases[0].valid, 1);
        assert_eq!(s.phases[0].unanswered, 4);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        fn answer() -> impl Strategy<Value = Option<AnswerValue<'static>>> {
            prop_oneof![
                (0i32..=4).prop_map(|x| Some(AnswerValue::Value(f64::from(x)))),
                Just(DK),
                Just(NA),
                Just(None),
            ]
        }

        fn all_answers() -> impl Strategy<Value = Vec<Option<AnswerValue<'static>>>> {
            proptest::collection::vec(answer(), 20)
        }

        fn to_pairs(
            values: &[Option<AnswerValue<'static>>],
        ) -> Vec<(String, AnswerValue<'static>)> {
            values
                .iter()
                .enumerate()
                .filter_map(|(i, a)| {
                    a.map(|a| (format!("{}{}", ["A", "B", "C", "D"][i / 5], i % 5 + 1), a))
                })
                .collect()
        }

        proptest! {
            #[test]
            fn scores_stay_on_the_scale(values in all_answers()) {
                let s = score(&to_pairs(&values));
                for p in &s.phases {
                    if let Some(x) = p.score {
                        prop_assert!((0.0..=4.0).contains(&x));
                        prop_assert!(p.valid >= 3);
                    }
                    prop_assert_eq!(p.valid + p.dont_know + p.not_applicable + p.unanswered, 5);
                }
                if let Some(i) = s.index {
                    prop_assert!((0.0..=100.0).contains(&i));
                }
            }

            #[test]
            fn levels_are_monotone_in_the_score(a in 0.0f64..=4.0, b in 0.0f64..=4.0) {
                let r = rules();
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                prop_assert!(r.level(lo) <= r.level(hi));
                prop_assert!(r.level(lo).is_some() && r.level(hi).is_some());
            }

            #[test]
            fn permuting_answers_within_a_phase_changes_nothing(
                values in all_answers(),
                seed in any::<u64>(),
            ) {
                use rand::seq::SliceRandom as _;
                use rand::SeedableRng as _;
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                let mut shuffled = values.clone();
                for phase in shuffled.chunks_mut(5) {
                    phase.shuffle(&mut rng);
                }
                prop_assert_eq!(score(&to_pairs(&values)), score(&to_pairs(&shuffled)));
            }
        }
    }
}
