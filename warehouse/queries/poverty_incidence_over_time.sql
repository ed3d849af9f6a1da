-- Poverty incidence (贫困发生率, percent) over time, region by region, with its evidence.
SELECT province, region, year, value AS incidence_pct, evidence, doc_key
FROM v_facts
WHERE indicator = 'poverty_incidence'
ORDER BY province, region, year NULLS LAST;
