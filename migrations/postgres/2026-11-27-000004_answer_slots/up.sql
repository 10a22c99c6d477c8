-- A submitted response's scored answers in one compact value: one signed byte per scored
-- item, in the order of the wave's (frozen) instrument: the scale value, or -1 unanswered,
-- -2 don't know, -3 not applicable (src/scoring.rs). Written in the statement that
-- submits the response; answers cannot change after that. Analytics reads one row per
-- respondent instead of ~35 answer rows, which is what makes a million-response wave load
-- in well under a second. The answers table stays the record; responses without slots
-- (submitted before this migration) are scored from it.
ALTER TABLE responses ADD COLUMN answer_slots BYTEA;
