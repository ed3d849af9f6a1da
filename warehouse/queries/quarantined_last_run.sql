-- Which candidate facts did the last run quarantine, and which expectation did each fail?
SELECT doc_key, indicator, value, unit, expectation, evidence
FROM quarantined_facts
WHERE run_id = (SELECT run_id FROM etl_runs ORDER BY started_at DESC LIMIT 1)
ORDER BY doc_key, char_start;
