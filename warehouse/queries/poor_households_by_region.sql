-- How many registered poor households did each region have, in which year, and which sources say so?
SELECT region, year, value AS households, qualifier, title AS source_title, evidence
FROM v_facts
WHERE indicator = 'poor_households' AND duplicate_of IS NULL
ORDER BY region, year NULLS LAST, value DESC;
