DROP INDEX organisations_registration;
DROP TABLE verification_log;
DROP TABLE licence_sites;
