DROP TABLE invitation_tokens;
