DROP TABLE registry_locks;
DROP TABLE ip_ranges;
DROP TABLE phone_ranges;
DROP TABLE sites;
DROP TABLE people;
DROP TABLE organisations;
