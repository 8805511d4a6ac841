DROP TRIGGER organisation_names_delete;
DROP TRIGGER organisation_names_update;
DROP TRIGGER organisation_names_insert;
DROP TABLE organisation_names;
