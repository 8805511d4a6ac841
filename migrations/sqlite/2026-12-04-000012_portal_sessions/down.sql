DROP INDEX portal_sessions_user;
DROP TABLE portal_sessions;
