-- On which figures do the sources disagree (values more than 0.5 % apart for the same region, indicator and year)?
SELECT region, indicator_name_zh AS indicator, year, n_sources, min_value, max_value,
       value AS latest_value, title AS latest_source
FROM v_indicator_best
WHERE sources_disagree
ORDER BY n_sources DESC, region, indicator, year;
