-- Money put into poverty alleviation, by region and kind of fund (亿元), across all sources.
SELECT region, indicator_name_zh AS fund, count(*) AS statements,
       round(max(value) / 1e8, 2) AS largest_yi_yuan, min(period_start) AS since
FROM v_facts
WHERE unit = 'yuan' AND duplicate_of IS NULL
GROUP BY region, indicator_name_zh
ORDER BY region, largest_yi_yuan DESC;
