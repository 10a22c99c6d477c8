-- Back to the two roles of the first instrument. Refused (NOT NULL constraint failed:
-- survey_roles_down.other_roles_must_go_first) while a wave has other roles' rows:
-- the old constraint would not hold for them, and nothing is deleted.
CREATE TEMP TABLE survey_roles_down (other_roles_must_go_first TEXT NOT NULL);
INSERT INTO survey_roles_down
SELECT CASE WHEN EXISTS (SELECT 1 FROM invitations WHERE role NOT IN ('manager', 'peer_worker'))
              OR EXISTS (SELECT 1 FROM responses WHERE role NOT IN ('manager', 'peer_worker'))
            THEN NULL ELSE 'none' END;
DROP TABLE survey_roles_down;
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CHECK (length(role) BETWEEN 1 AND 24 AND role GLOB ''[a-z]*'' AND role NOT GLOB ''*[^a-z0-9_]*'')',
    'CHECK (role IN (''manager'', ''peer_worker''))'
)
WHERE type = 'table' AND name IN ('invitations', 'responses');
PRAGMA writable_schema = RESET;
CREATE TABLE survey_roles_schema_cookie (x INTEGER);
DROP TABLE survey_roles_schema_cookie;
