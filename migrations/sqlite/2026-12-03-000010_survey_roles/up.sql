-- Respondent roles come from the survey file (any number: manager, peer_worker, staff,
-- ...), so the role columns no longer list two codes: they hold any well-formed role
-- code (RespondentRole::parse says the same), and whether the wave's instrument declares
-- it is checked where a role enters.
--
-- SQLite cannot alter a CHECK constraint, and rebuilding `responses` the usual way would
-- be unsafe here: `answers` references it ON DELETE CASCADE, and this runs inside the
-- migration's transaction, where foreign keys cannot be turned off, so dropping the old
-- table would delete every answer. Instead this follows SQLite's documented procedure
-- for constraint changes that leave the stored rows as they are
-- (https://sqlite.org/lang_altertable.html, "otheralter"): the table definitions are
-- edited in sqlite_schema, which every existing row satisfies (both old codes are well
-- formed). Creating and dropping a table then moves the schema cookie on, so every other
-- connection reloads the schema, and RESET reloads it on this one.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CHECK (role IN (''manager'', ''peer_worker''))',
    'CHECK (length(role) BETWEEN 1 AND 24 AND role GLOB ''[a-z]*'' AND role NOT GLOB ''*[^a-z0-9_]*'')'
)
WHERE type = 'table' AND name IN ('invitations', 'responses');
PRAGMA writable_schema = RESET;
CREATE TABLE survey_roles_schema_cookie (x INTEGER);
DROP TABLE survey_roles_schema_cookie;
-- Refused (NOT NULL constraint failed: survey_roles_up.both_role_checks_replaced), and
-- rolled back with the rest, when either table's definition was not the one this edits:
-- the migration never passes while an old CHECK stays in place.
CREATE TEMP TABLE survey_roles_up (both_role_checks_replaced TEXT NOT NULL);
INSERT INTO survey_roles_up
SELECT CASE WHEN (SELECT COUNT(*) FROM sqlite_schema
                  WHERE type = 'table' AND name IN ('invitations', 'responses')
                    AND sql LIKE '%role NOT GLOB%' AND sql NOT LIKE '%''peer_worker''%') = 2
            THEN 'yes' ELSE NULL END;
DROP TABLE survey_roles_up;
