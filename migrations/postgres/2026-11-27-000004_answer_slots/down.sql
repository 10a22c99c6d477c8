ALTER TABLE responses DROP COLUMN answer_slots;
