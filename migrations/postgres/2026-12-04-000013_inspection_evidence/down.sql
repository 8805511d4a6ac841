DROP INDEX inspection_evidence_inspection;
DROP TABLE inspection_evidence;
