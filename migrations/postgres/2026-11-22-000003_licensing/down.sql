DELETE FROM registry_locks WHERE name IN ('licence_serial', 'events');
DROP TABLE licence_events;
DROP TABLE licences;
DROP TABLE applications;
