-- Which discovered article URLs are waiting for a later run, and when is each due?
SELECT source, url, last_status, next_check, found_in
FROM frontier
WHERE kind = 'article' AND (last_fetched IS NULL OR next_check > now())
ORDER BY next_check NULLS FIRST, url;
