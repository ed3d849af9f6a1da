-- fupin warehouse schema (DuckDB). Idempotent: safe to run on every load.
-- Dimensions describe what a fact is about; facts hold the numbers with their
-- provenance; run tables record what every ETL run did, including what it refused.

CREATE TABLE IF NOT EXISTS etl_runs (
    run_id            VARCHAR PRIMARY KEY,
    flow_run_id       VARCHAR,
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    status            VARCHAR NOT NULL,
    sources           VARCHAR[],
    pages_in          INTEGER,
    pages_unchanged   INTEGER,
    documents_loaded  INTEGER,
    pages_rejected    INTEGER,
    facts_candidate   INTEGER,
    facts_loaded      INTEGER,
    facts_quarantined INTEGER,
    seconds           DOUBLE,
    urls_discovered   INTEGER,
    urls_new          INTEGER,
    urls_due          INTEGER,
    urls_waiting      INTEGER,
    urls_robots_skipped INTEGER,
    urls_offsite      INTEGER,
    listing_pages     INTEGER
);
COMMENT ON TABLE etl_runs IS 'ETL 运行记录 / one row per ETL run with its counts (pages_in = pages_unchanged + documents_loaded + pages_rejected; facts_candidate = facts_loaded + facts_quarantined)';
COMMENT ON COLUMN etl_runs.run_id IS '运行编号 / fupin run id';
COMMENT ON COLUMN etl_runs.flow_run_id IS 'Prefect 流程运行编号 / Prefect flow run id';
COMMENT ON COLUMN etl_runs.started_at IS '开始时间 / when the run started';
COMMENT ON COLUMN etl_runs.finished_at IS '结束时间 / when the load committed';
COMMENT ON COLUMN etl_runs.status IS '状态 / completed: a run that fails rolls back its load and leaves no row here (its state is in Prefect)';
COMMENT ON COLUMN etl_runs.sources IS '数据源参数 / the SOURCE arguments of the run';
COMMENT ON COLUMN etl_runs.pages_in IS '输入页面数 / pages discovered';
COMMENT ON COLUMN etl_runs.pages_unchanged IS '未变化页面数 / pages whose content was already loaded';
COMMENT ON COLUMN etl_runs.documents_loaded IS '入库文档数 / documents loaded or replaced';
COMMENT ON COLUMN etl_runs.pages_rejected IS '拒收页面数 / pages rejected with a reason';
COMMENT ON COLUMN etl_runs.facts_candidate IS '候选事实数 / facts the extractor proposed';
COMMENT ON COLUMN etl_runs.facts_loaded IS '入库事实数 / facts that passed validation';
COMMENT ON COLUMN etl_runs.facts_quarantined IS '隔离事实数 / facts that failed validation';
COMMENT ON COLUMN etl_runs.seconds IS '耗时(秒) / wall-clock seconds';
COMMENT ON COLUMN etl_runs.urls_discovered IS '发现网址数 / distinct article URLs the sitemap, feed and site sources named on their hosts (counted apart from pages: only urls_new + urls_due are fetched, as pages_in)';
COMMENT ON COLUMN etl_runs.urls_new IS '新网址数 / discovered article URLs never fetched before, fetched by this run';
COMMENT ON COLUMN etl_runs.urls_due IS '到期网址数 / known article URLs whose re-check was due or whose sitemap lastmod moved, fetched with a conditional GET';
COMMENT ON COLUMN etl_runs.urls_waiting IS '等待网址数 / discovered article URLs left for a later run (not due, or over a cap)';
COMMENT ON COLUMN etl_runs.urls_robots_skipped IS 'robots 跳过数 / URLs robots.txt disallows: recorded in the frontier, never fetched';
COMMENT ON COLUMN etl_runs.urls_offsite IS '站外网址数 / links to hosts the source does not name: recorded, never fetched';
COMMENT ON COLUMN etl_runs.listing_pages IS '列表页数 / listing pages, sitemaps and feeds read to find the articles (not pages_in)';

CREATE TABLE IF NOT EXISTS warehouse_meta (
    key    VARCHAR PRIMARY KEY,
    value  VARCHAR
);
COMMENT ON TABLE warehouse_meta IS '仓库元数据 / bookkeeping, such as the hash of the reference data last loaded';
COMMENT ON COLUMN warehouse_meta.key IS '键 / name of the setting';
COMMENT ON COLUMN warehouse_meta.value IS '值 / its value';

CREATE TABLE IF NOT EXISTS raw_pages (
    sha256        VARCHAR PRIMARY KEY,
    location      VARCHAR NOT NULL,
    url           VARCHAR,
    fetched_at    TIMESTAMPTZ NOT NULL,
    http_status   INTEGER,
    content_type  VARCHAR,
    encoding      VARCHAR,
    etag          VARCHAR,
    last_modified VARCHAR,
    size_bytes    INTEGER NOT NULL,
    content       BLOB NOT NULL
);
COMMENT ON TABLE raw_pages IS '原始页面 / raw layer: every pulled page once, addressed by the sha256 of its bytes (for copies, the row of the smallest doc_key)';
COMMENT ON COLUMN raw_pages.sha256 IS '内容哈希 / sha256 of the bytes';
COMMENT ON COLUMN raw_pages.location IS '位置 / file path or URL as given';
COMMENT ON COLUMN raw_pages.url IS '最终网址 / final URL after redirects (HTTP only)';
COMMENT ON COLUMN raw_pages.fetched_at IS '抓取时间 / when the bytes were pulled';
COMMENT ON COLUMN raw_pages.http_status IS 'HTTP 状态码 / HTTP status';
COMMENT ON COLUMN raw_pages.content_type IS '内容类型 / Content-Type header';
COMMENT ON COLUMN raw_pages.encoding IS '字符编码 / encoding used to decode the page';
COMMENT ON COLUMN raw_pages.etag IS 'ETag 校验值 / ETag header, sent back as If-None-Match';
COMMENT ON COLUMN raw_pages.last_modified IS '最后修改时间 / Last-Modified header, sent back as If-Modified-Since';
COMMENT ON COLUMN raw_pages.size_bytes IS '字节数 / size of the bytes';
COMMENT ON COLUMN raw_pages.content IS '原始字节 / the bytes as pulled';

CREATE TABLE IF NOT EXISTS dim_source (
    source_site  VARCHAR PRIMARY KEY,
    domain       VARCHAR
);
COMMENT ON TABLE dim_source IS '来源维度 / news site or paper a document came from';
COMMENT ON COLUMN dim_source.source_site IS '来源名称 / site or paper name (来源)';
COMMENT ON COLUMN dim_source.domain IS '域名 / web domain, when the page came over HTTP';

CREATE TABLE IF NOT EXISTS dim_document (
    doc_key         VARCHAR PRIMARY KEY,
    location        VARCHAR NOT NULL,
    url             VARCHAR,
    title           VARCHAR,
    published_date  DATE,
    published_at    TIMESTAMP,
    published_from  VARCHAR,
    source_site     VARCHAR,
    author          VARCHAR,
    content_sha256  VARCHAR NOT NULL,
    encoding        VARCHAR,
    body            VARCHAR NOT NULL,
    body_chars      INTEGER NOT NULL,
    duplicate_of    VARCHAR,
    flags           MAP(VARCHAR, INTEGER),
    minhash         BLOB,
    run_id          VARCHAR NOT NULL,
    withdrawn_run_id VARCHAR,
    withdrawn_reason VARCHAR
);
COMMENT ON TABLE dim_document IS '文档维度 / one cleaned page: metadata, clean body and quality flags';
COMMENT ON COLUMN dim_document.doc_key IS '文档键 / canonical URL, or a file''s folder name and path in it (tasks/acquire/sources.py)';
COMMENT ON COLUMN dim_document.location IS '位置 / file path or URL the page was pulled from';
COMMENT ON COLUMN dim_document.url IS '网址 / final URL (HTTP sources)';
COMMENT ON COLUMN dim_document.title IS '标题 / title without the site suffix';
COMMENT ON COLUMN dim_document.published_date IS '发布日期 / publication date';
COMMENT ON COLUMN dim_document.published_at IS '发布时间 / publication date and time, when given';
COMMENT ON COLUMN dim_document.published_from IS '日期出处 / where the publication date was read: text, meta (HTML meta tag) or url';
COMMENT ON COLUMN dim_document.source_site IS '来源 / site or paper (来源)';
COMMENT ON COLUMN dim_document.author IS '作者 / author or reporter';
COMMENT ON COLUMN dim_document.content_sha256 IS '内容哈希 / sha256 of the raw bytes (joins raw_pages)';
COMMENT ON COLUMN dim_document.encoding IS '字符编码 / encoding used';
COMMENT ON COLUMN dim_document.body IS '正文 / clean body; fact offsets index this text';
COMMENT ON COLUMN dim_document.body_chars IS '正文字数 / characters in the body';
COMMENT ON COLUMN dim_document.duplicate_of IS '重复来源 / doc_key of the original this page copies';
COMMENT ON COLUMN dim_document.flags IS '质量标记 / cleaning counters (masked characters, repairs, repeated paragraphs, mojibake_repaired, lost_chars)';
COMMENT ON COLUMN dim_document.minhash IS '正文指纹 / MinHash signature of the body (near-duplicate detection)';
COMMENT ON COLUMN dim_document.run_id IS '运行编号 / run that loaded this version';
COMMENT ON COLUMN dim_document.withdrawn_run_id IS '撤回运行 / run that rejected a newer version of the page; its facts are no longer current (NULL: current)';
COMMENT ON COLUMN dim_document.withdrawn_reason IS '撤回原因 / stage and reason of that rejection (see rejected_pages)';

CREATE TABLE IF NOT EXISTS dim_indicator (
    code       VARCHAR PRIMARY KEY,
    name_zh    VARCHAR NOT NULL,
    name_en    VARCHAR NOT NULL,
    unit       VARCHAR NOT NULL,
    measure    VARCHAR NOT NULL,
    min_value  DOUBLE,
    max_value  DOUBLE
);
COMMENT ON TABLE dim_indicator IS '指标维度 / indicator taxonomy, loaded from schemas/indicators.yaml';
COMMENT ON COLUMN dim_indicator.code IS '指标代码 / indicator code';
COMMENT ON COLUMN dim_indicator.name_zh IS '中文名称 / Chinese name';
COMMENT ON COLUMN dim_indicator.name_en IS '英文名称 / English name';
COMMENT ON COLUMN dim_indicator.unit IS '单位 / normalised unit of the values';
COMMENT ON COLUMN dim_indicator.measure IS '度量类型 / stock, flow, rate or level';
COMMENT ON COLUMN dim_indicator.min_value IS '下限 / smallest plausible value';
COMMENT ON COLUMN dim_indicator.max_value IS '上限 / largest plausible value';

CREATE TABLE IF NOT EXISTS dim_region (
    code         VARCHAR PRIMARY KEY,
    name         VARCHAR NOT NULL,
    level        VARCHAR NOT NULL,
    parent_code  VARCHAR,
    province     VARCHAR,
    prefecture   VARCHAR
);
COMMENT ON TABLE dim_region IS '行政区划维度 / administrative divisions with parent links: the country, provinces, prefectures and counties from schemas/regions.csv, townships from schemas/townships.csv, and villages as facts name them';
COMMENT ON COLUMN dim_region.code IS '行政区划代码 / 12-digit administrative code (全国 100000000000); a village: its parent''s code, ''/'', its name';
COMMENT ON COLUMN dim_region.name IS '名称 / official name';
COMMENT ON COLUMN dim_region.level IS '级别 / national, province, prefecture, county, township or village';
COMMENT ON COLUMN dim_region.parent_code IS '上级代码 / code of the parent division';
COMMENT ON COLUMN dim_region.province IS '省级名称 / province the division belongs to';
COMMENT ON COLUMN dim_region.prefecture IS '地级名称 / prefecture the division belongs to';

CREATE TABLE IF NOT EXISTS dim_date (
    date_key  DATE PRIMARY KEY,
    year      INTEGER NOT NULL,
    quarter   INTEGER NOT NULL,
    month     INTEGER NOT NULL,
    day       INTEGER NOT NULL
);
COMMENT ON TABLE dim_date IS '日期维度 / calendar days 1949-2040';
COMMENT ON COLUMN dim_date.date_key IS '日期 / the day';
COMMENT ON COLUMN dim_date.year IS '年 / year';
COMMENT ON COLUMN dim_date.quarter IS '季度 / quarter';
COMMENT ON COLUMN dim_date.month IS '月 / month';
COMMENT ON COLUMN dim_date.day IS '日 / day of month';

CREATE TABLE IF NOT EXISTS fact_indicator (
    fact_id       VARCHAR PRIMARY KEY,
    doc_key       VARCHAR NOT NULL,
    ordinal       INTEGER NOT NULL,
    indicator     VARCHAR NOT NULL,
    region_code   VARCHAR,
    region        VARCHAR,
    province      VARCHAR,
    year          INTEGER,
    period_start  INTEGER,
    as_of         DATE,
    time_kind     VARCHAR,
    year_source   VARCHAR,
    value         DOUBLE NOT NULL,
    unit          VARCHAR NOT NULL,
    qualifier     VARCHAR NOT NULL,
    evidence      VARCHAR NOT NULL,
    sentence      VARCHAR NOT NULL,
    char_start    INTEGER NOT NULL,
    char_end      INTEGER NOT NULL,
    rule          VARCHAR NOT NULL,
    confidence    DOUBLE NOT NULL,
    subset_of     VARCHAR,
    run_id        VARCHAR NOT NULL
);
COMMENT ON TABLE fact_indicator IS '指标事实 / one validated number with its provenance';
COMMENT ON COLUMN fact_indicator.fact_id IS '事实编号 / doc_key, position and content hash';
COMMENT ON COLUMN fact_indicator.doc_key IS '文档键 / document the number was read from';
COMMENT ON COLUMN fact_indicator.ordinal IS '序号 / position of the fact in its document';
COMMENT ON COLUMN fact_indicator.indicator IS '指标代码 / indicator code (dim_indicator)';
COMMENT ON COLUMN fact_indicator.region_code IS '行政区划代码 / region code (dim_region)';
COMMENT ON COLUMN fact_indicator.region IS '地区 / region name';
COMMENT ON COLUMN fact_indicator.province IS '省份 / province name';
COMMENT ON COLUMN fact_indicator.year IS '年份 / year the value refers to';
COMMENT ON COLUMN fact_indicator.period_start IS '起始年份 / first year of a cumulative period';
COMMENT ON COLUMN fact_indicator.as_of IS '截至日期 / as-of date (截至…)';
COMMENT ON COLUMN fact_indicator.time_kind IS '时间类型 / point, cumulative or period';
COMMENT ON COLUMN fact_indicator.year_source IS '年份来源 / where the year came from: explicit (stated), relative (今年/去年 from the publication date), period (a cumulative or multi-year span), publication (no time phrase: as of publication, or of the year an address gives without a day), estimated (今年/去年 or a running total on an undated page, from the latest year the page reports as past), none';
COMMENT ON COLUMN fact_indicator.value IS '数值 / value normalised to the unit';
COMMENT ON COLUMN fact_indicator.unit IS '单位 / unit';
COMMENT ON COLUMN fact_indicator.qualifier IS '限定 / exact, approx, at_least or at_most';
COMMENT ON COLUMN fact_indicator.evidence IS '证据 / the shortest text holding the number and its cue';
COMMENT ON COLUMN fact_indicator.sentence IS '句子 / the sentence holding the evidence';
COMMENT ON COLUMN fact_indicator.char_start IS '起始偏移 / start offset of the evidence in dim_document.body';
COMMENT ON COLUMN fact_indicator.char_end IS '结束偏移 / end offset (exclusive) of the evidence';
COMMENT ON COLUMN fact_indicator.rule IS '规则 / extraction rule that produced the fact';
COMMENT ON COLUMN fact_indicator.confidence IS '置信度 / confidence in [0, 1]';
COMMENT ON COLUMN fact_indicator.subset_of IS '所属事实 / fact_id this one is a part of (其中…)';
COMMENT ON COLUMN fact_indicator.run_id IS '运行编号 / run that loaded the fact';

CREATE TABLE IF NOT EXISTS fact_keyword (
    doc_key  VARCHAR NOT NULL,
    rank     INTEGER NOT NULL,
    keyword  VARCHAR NOT NULL,
    weight   DOUBLE NOT NULL,
    run_id   VARCHAR NOT NULL,
    PRIMARY KEY (doc_key, rank)
);
COMMENT ON TABLE fact_keyword IS '关键词 / top TF-IDF keywords of each document';
COMMENT ON COLUMN fact_keyword.doc_key IS '文档键 / document';
COMMENT ON COLUMN fact_keyword.rank IS '排名 / 1 = strongest';
COMMENT ON COLUMN fact_keyword.keyword IS '关键词 / keyword';
COMMENT ON COLUMN fact_keyword.weight IS '权重 / TF-IDF weight';
COMMENT ON COLUMN fact_keyword.run_id IS '运行编号 / run that computed it';

CREATE TABLE IF NOT EXISTS frontier (
    url          VARCHAR PRIMARY KEY,
    location     VARCHAR NOT NULL,
    host         VARCHAR,
    source       VARCHAR,
    found_in     VARCHAR,
    kind         VARCHAR NOT NULL,
    first_seen   TIMESTAMPTZ NOT NULL,
    last_seen    TIMESTAMPTZ NOT NULL,
    lastmod      TIMESTAMPTZ,
    next_check   TIMESTAMPTZ,
    last_fetched TIMESTAMPTZ,
    last_status  VARCHAR,
    etag         VARCHAR,
    last_modified VARCHAR,
    run_id       VARCHAR
);
COMMENT ON TABLE frontier IS '抓取前沿 / every URL the sitemap, feed and site sources named: where it was found, what it is, how its last fetch went and when it is worth checking again';
COMMENT ON COLUMN frontier.url IS '规范网址 / canonical URL (tracking and session parameters, fragment and index page dropped); an article''s doc_key';
COMMENT ON COLUMN frontier.location IS '请求网址 / the URL requested';
COMMENT ON COLUMN frontier.host IS '主机 / host';
COMMENT ON COLUMN frontier.source IS '数据源 / name of the sources-file entry that found it last';
COMMENT ON COLUMN frontier.found_in IS '发现于 / the sitemap, feed or listing page that named it';
COMMENT ON COLUMN frontier.kind IS '类型 / article, listing, sitemap, feed, robots (a host''s robots.txt), robots_blocked, offsite or attachment (a file that is no web page, never fetched)';
COMMENT ON COLUMN frontier.first_seen IS '首次发现 / when a run first named it';
COMMENT ON COLUMN frontier.last_seen IS '最近发现 / when a run last named it';
COMMENT ON COLUMN frontier.lastmod IS '站点地图修改时间 / lastmod of the sitemap (or updated time of the feed) when it last named it';
COMMENT ON COLUMN frontier.next_check IS '下次检查 / when an article is next worth a conditional GET (listings, sitemaps and feeds: every run)';
COMMENT ON COLUMN frontier.last_fetched IS '最近抓取 / when a run last fetched it';
COMMENT ON COLUMN frontier.last_status IS '最近状态 / HTTP status of the last fetch (with a note: a capped Crawl-delay, a sitemap listing no pages, pagination not followed), not_modified (304 or the same bytes), the stage/reason it was rejected with, or why it was not fetched (disallowed, robots_unavailable, offsite_redirect, invalid_sitemap, not_a_feed, malformed_feed, not_read)';
COMMENT ON COLUMN frontier.etag IS 'ETag / validator of the last version fetched';
COMMENT ON COLUMN frontier.last_modified IS 'Last-Modified / validator of the last version fetched';
COMMENT ON COLUMN frontier.run_id IS '运行编号 / run that last named it';

CREATE TABLE IF NOT EXISTS rejected_pages (
    run_id    VARCHAR NOT NULL,
    location  VARCHAR NOT NULL,
    url       VARCHAR,
    doc_key   VARCHAR,
    stage     VARCHAR NOT NULL,
    reason    VARCHAR NOT NULL,
    detail    VARCHAR,
    recorded_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE rejected_pages IS '拒收页面 / pages that did not become documents, with the stage and reason';
COMMENT ON COLUMN rejected_pages.run_id IS '运行编号 / run';
COMMENT ON COLUMN rejected_pages.location IS '位置 / file path, URL or SOURCE argument';
COMMENT ON COLUMN rejected_pages.url IS '网址 / URL (HTTP sources)';
COMMENT ON COLUMN rejected_pages.doc_key IS '文档键 / key the document would have had';
COMMENT ON COLUMN rejected_pages.stage IS '阶段 / discover, fetch, clean or validate';
COMMENT ON COLUMN rejected_pages.reason IS '原因 / short reason code';
COMMENT ON COLUMN rejected_pages.detail IS '详情 / human-readable detail';
COMMENT ON COLUMN rejected_pages.recorded_at IS '时间 / when it was recorded';

CREATE TABLE IF NOT EXISTS quarantined_facts (
    run_id        VARCHAR NOT NULL,
    fact_id       VARCHAR NOT NULL,
    doc_key       VARCHAR NOT NULL,
    indicator     VARCHAR,
    value         DOUBLE,
    unit          VARCHAR,
    qualifier     VARCHAR,
    region        VARCHAR,
    region_code   VARCHAR,
    year          INTEGER,
    expectation   VARCHAR NOT NULL,
    expectations  VARCHAR[] NOT NULL,
    observed      VARCHAR,
    evidence      VARCHAR,
    sentence      VARCHAR,
    char_start    INTEGER,
    char_end      INTEGER,
    recorded_at   TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE quarantined_facts IS '隔离事实 / candidate facts that failed validation, with the failing expectation';
COMMENT ON COLUMN quarantined_facts.run_id IS '运行编号 / run';
COMMENT ON COLUMN quarantined_facts.fact_id IS '事实编号 / id the fact would have had';
COMMENT ON COLUMN quarantined_facts.doc_key IS '文档键 / document';
COMMENT ON COLUMN quarantined_facts.indicator IS '指标代码 / indicator';
COMMENT ON COLUMN quarantined_facts.value IS '数值 / value';
COMMENT ON COLUMN quarantined_facts.unit IS '单位 / unit';
COMMENT ON COLUMN quarantined_facts.qualifier IS '限定 / qualifier';
COMMENT ON COLUMN quarantined_facts.region IS '地区 / region name as read';
COMMENT ON COLUMN quarantined_facts.region_code IS '行政区划代码 / region code, if resolved';
COMMENT ON COLUMN quarantined_facts.year IS '年份 / year';
COMMENT ON COLUMN quarantined_facts.expectation IS '未通过的期望 / name of the first failing expectation';
COMMENT ON COLUMN quarantined_facts.expectations IS '全部未通过的期望 / every failing expectation';
COMMENT ON COLUMN quarantined_facts.observed IS '观测值 / the values the expectations saw';
COMMENT ON COLUMN quarantined_facts.evidence IS '证据 / evidence text';
COMMENT ON COLUMN quarantined_facts.sentence IS '句子 / sentence';
COMMENT ON COLUMN quarantined_facts.char_start IS '起始偏移 / start offset in the body';
COMMENT ON COLUMN quarantined_facts.char_end IS '结束偏移 / end offset in the body';
COMMENT ON COLUMN quarantined_facts.recorded_at IS '时间 / when it was quarantined';

CREATE TABLE IF NOT EXISTS extraction_skips (
    doc_key     VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    text        VARCHAR NOT NULL,
    char_start  INTEGER NOT NULL,
    char_end    INTEGER NOT NULL,
    run_id      VARCHAR NOT NULL
);
COMMENT ON TABLE extraction_skips IS '未抽取片段 / spans the extractor saw and deliberately left out (e.g. scrubbed numbers)';
COMMENT ON COLUMN extraction_skips.doc_key IS '文档键 / document';
COMMENT ON COLUMN extraction_skips.reason IS '原因 / why no fact was made';
COMMENT ON COLUMN extraction_skips.text IS '文本 / the span';
COMMENT ON COLUMN extraction_skips.char_start IS '起始偏移 / start offset in the body';
COMMENT ON COLUMN extraction_skips.char_end IS '结束偏移 / end offset in the body';
COMMENT ON COLUMN extraction_skips.run_id IS '运行编号 / run';

CREATE TABLE IF NOT EXISTS dq_results (
    run_id            VARCHAR NOT NULL,
    suite             VARCHAR NOT NULL,
    expectation       VARCHAR NOT NULL,
    success           BOOLEAN NOT NULL,
    element_count     INTEGER,
    unexpected_count  INTEGER,
    recorded_at       TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE dq_results IS '数据质量结果 / one row per expectation per run';
COMMENT ON COLUMN dq_results.run_id IS '运行编号 / run';
COMMENT ON COLUMN dq_results.suite IS '期望套件 / expectation suite (documents or facts)';
COMMENT ON COLUMN dq_results.expectation IS '期望名称 / expectation name';
COMMENT ON COLUMN dq_results.success IS '是否通过 / whether every row passed';
COMMENT ON COLUMN dq_results.element_count IS '检查行数 / rows checked';
COMMENT ON COLUMN dq_results.unexpected_count IS '未通过行数 / rows that failed';
COMMENT ON COLUMN dq_results.recorded_at IS '时间 / when it ran';

CREATE OR REPLACE VIEW v_facts AS
SELECT
    f.fact_id,
    f.doc_key,
    d.url,
    d.location,
    d.title,
    d.published_date,
    d.source_site,
    f.indicator,
    i.name_zh AS indicator_name_zh,
    f.region,
    f.region_code,
    r.level AS region_level,
    f.province,
    f.year,
    f.period_start,
    f.as_of,
    f.time_kind,
    f.year_source,
    f.value,
    f.unit,
    f.qualifier,
    f.evidence,
    f.sentence,
    f.char_start,
    f.char_end,
    f.rule,
    f.confidence,
    f.subset_of,
    d.duplicate_of,
    f.run_id
FROM fact_indicator f
JOIN dim_document d USING (doc_key)
LEFT JOIN dim_indicator i ON i.code = f.indicator
LEFT JOIN dim_region r ON r.code = f.region_code
WHERE d.withdrawn_run_id IS NULL;
COMMENT ON VIEW v_facts IS '事实视图 / one row per current fact with its document and indicator names and its region''s level (withdrawn documents left out)';

CREATE OR REPLACE VIEW v_withdrawn_documents AS
SELECT d.doc_key, d.location, d.title, d.run_id AS loaded_run_id,
       d.withdrawn_run_id, d.withdrawn_reason, r.detail, r.recorded_at,
       (SELECT count(*) FROM fact_indicator f WHERE f.doc_key = d.doc_key) AS facts_withdrawn
FROM dim_document d
LEFT JOIN rejected_pages r
       ON r.doc_key = d.doc_key AND r.run_id = d.withdrawn_run_id
      AND r.stage || ': ' || r.reason = d.withdrawn_reason
WHERE d.withdrawn_run_id IS NOT NULL;
COMMENT ON VIEW v_withdrawn_documents IS '撤回文档 / documents whose page changed into a version that was rejected: the rejection, and the facts no longer current';

CREATE OR REPLACE VIEW quarantined_documents AS
SELECT run_id, doc_key, location, reason AS expectation, detail AS observed, recorded_at
FROM rejected_pages
WHERE stage = 'validate';
COMMENT ON VIEW quarantined_documents IS '隔离文档 / pages whose document failed the documents suite';

-- One value per region, indicator and year across sources. Copies of a syndicated
-- story (duplicate_of) and parts of another figure (subset_of) are left out. Each
-- document first speaks once (its exact, most confident, earliest statement);
-- across documents the most recent one wins. Sources disagree when two documents
-- give values more than 0.5 % apart.
CREATE OR REPLACE VIEW v_indicator_best AS
WITH f AS (
    SELECT *, CASE WHEN qualifier = 'exact' THEN 0 ELSE 1 END AS exactness
    FROM v_facts
    WHERE duplicate_of IS NULL AND subset_of IS NULL
      AND year IS NOT NULL AND region_code IS NOT NULL
),
per_doc AS (
    SELECT *, count(*) OVER w AS statements_in_doc
    FROM f
    WINDOW w AS (PARTITION BY region_code, indicator, year, doc_key)
    QUALIFY row_number() OVER (
        PARTITION BY region_code, indicator, year, doc_key
        ORDER BY exactness, confidence DESC, char_start
    ) = 1
),
spread AS (
    SELECT region_code, indicator, year,
           count(*) AS n_sources,
           sum(statements_in_doc) AS n_statements,
           min(value) AS min_value,
           max(value) AS max_value
    FROM per_doc
    GROUP BY ALL
)
SELECT d.region_code, d.region, d.province, d.indicator, d.indicator_name_zh, d.year,
       d.value, d.unit, d.qualifier, d.doc_key, d.title, d.published_date, d.evidence,
       s.n_sources, s.n_statements,
       (s.n_sources > 1 AND s.max_value > s.min_value * 1.005) AS sources_disagree,
       s.min_value, s.max_value
FROM per_doc d JOIN spread s USING (region_code, indicator, year)
QUALIFY row_number() OVER (
    PARTITION BY d.region_code, d.indicator, d.year
    ORDER BY d.published_date DESC NULLS LAST, d.exactness, d.confidence DESC, d.fact_id
) = 1;
COMMENT ON VIEW v_indicator_best IS '最佳指标值 / one value per region, indicator and year across sources: how many documents state it, and whether they disagree';

CREATE OR REPLACE VIEW v_region_summary AS
SELECT f.region_code, f.region, r.level, f.province,
       count(DISTINCT f.doc_key) AS documents,
       count(*) AS facts,
       count(DISTINCT f.indicator) AS indicators,
       min(f.year) AS first_year,
       max(f.year) AS last_year
FROM v_facts f LEFT JOIN dim_region r ON r.code = f.region_code
WHERE f.duplicate_of IS NULL
GROUP BY ALL;
COMMENT ON VIEW v_region_summary IS '地区概览 / per region: documents, facts, indicators and years covered';

CREATE OR REPLACE VIEW v_source_coverage AS
SELECT coalesce(d.source_site, '(unknown)') AS source_site,
       count(DISTINCT d.doc_key) AS documents,
       count(f.fact_id) AS facts,
       count(DISTINCT f.indicator) AS indicators,
       count(DISTINCT f.region_code) AS regions,
       min(d.published_date) AS first_published,
       max(d.published_date) AS last_published,
       (SELECT count(*) FROM quarantined_facts q
        WHERE q.doc_key IN (SELECT doc_key FROM dim_document d2
                            WHERE d2.source_site IS NOT DISTINCT FROM d.source_site))
           AS facts_quarantined
FROM dim_document d LEFT JOIN fact_indicator f USING (doc_key)
WHERE d.withdrawn_run_id IS NULL
GROUP BY d.source_site;
COMMENT ON VIEW v_source_coverage IS '来源覆盖 / per source site: documents, facts, indicators, regions, dates and quarantined facts';
