-- Every raw figure of the metrics JSON (before suppression) in one hand-written DuckDB query.
-- Parameters: $as_of, $start, $end (DATE). Marketing purposes: email_marketing, sms_marketing.
WITH
cust AS (
    SELECT customer_id, coalesce(segment, 'unknown') AS segment, country, state, jurisdiction
    FROM customers WHERE CAST(created_at AS DATE) <= $as_of
),
latest AS (
    SELECT e.customer_id, e.purpose, e.decision
    FROM consent_events e SEMI JOIN cust USING (customer_id)
    WHERE CAST(e.occurred_at AS DATE) <= $as_of
    QUALIFY row_number() OVER (
        PARTITION BY e.customer_id, e.purpose
        ORDER BY e.occurred_at DESC,
                 CASE e.decision WHEN 'withdrawn' THEN 0 WHEN 'denied' THEN 1 ELSE 2 END
    ) = 1
),
consent AS (
    SELECT purpose, decision, count(*) AS n FROM latest GROUP BY ALL
),
segments AS (
    SELECT l.purpose, c.segment, count(*) AS n
    FROM latest l JOIN cust c USING (customer_id)
    WHERE l.decision = 'granted' GROUP BY ALL
),
votes AS (
    SELECT customer_id,
           bool_or(decision = 'granted') AS granted,
           bool_or(decision IN ('denied', 'withdrawn')) AS refused
    FROM latest WHERE purpose IN ('email_marketing', 'sms_marketing') GROUP BY ALL
),
erasers AS (
    SELECT DISTINCT customer_id FROM privacy_requests
    WHERE type = 'erasure' AND status <> 'rejected' AND CAST(received_at AS DATE) <= $as_of
),
classes AS (
    SELECT c.customer_id,
           CASE WHEN x.customer_id IS NOT NULL OR (NOT coalesce(v.granted, false)
                                                   AND coalesce(v.refused, false)) THEN 'no'
                WHEN v.granted THEN 'yes' ELSE 'maybe' END AS cls
    FROM cust c LEFT JOIN votes v USING (customer_id) LEFT JOIN erasers x USING (customer_id)
),
activity AS (
    SELECT customer_id, bool_or(intent) AS intent, bool_or(ordered) AS ordered,
           sum(revenue) AS revenue
    FROM (
        SELECT customer_id, type = 'cart_add' AS intent, false AS ordered,
               CAST(0 AS DECIMAL(18, 4)) AS revenue
        FROM touchpoints WHERE CAST(occurred_at AS DATE) BETWEEN $start AND $end
        UNION ALL
        SELECT customer_id, true, true, revenue
        FROM orders
        WHERE CAST(ordered_at AS DATE) BETWEEN $start AND $end AND customer_id IS NOT NULL
    ) GROUP BY ALL
),
outcomes AS (
    SELECT cls, count(*) AS customers, count(a.customer_id) AS engaged,
           count(*) FILTER (a.intent) AS intent, count(*) FILTER (a.ordered) AS converted,
           coalesce(sum(a.revenue), 0) AS revenue
    FROM classes LEFT JOIN activity a USING (customer_id) GROUP BY ALL
),
requests AS (
    SELECT r.type, r.status, CAST(r.received_at AS DATE) AS received,
           CAST(r.completed_at AS DATE) AS completed_on, coalesce(r.extended, false) AS extended,
           coalesce(r.jurisdiction, p.jurisdiction,
               CASE WHEN p.country IN ('AT','BE','BG','HR','CY','CZ','DK','EE','FI','FR','DE',
                                       'GR','HU','IE','IT','LV','LT','LU','MT','NL','PL','PT',
                                       'RO','SK','SI','ES','SE','IS','LI','NO') THEN 'GDPR'
                    WHEN p.country = 'GB' THEN 'UK_GDPR'
                    WHEN p.country = 'US' AND p.state = 'CA' THEN 'CCPA'
                    WHEN p.country = 'US' THEN 'US_STATE'
                    WHEN p.country = 'BR' THEN 'LGPD'
                    WHEN p.country = 'CA' THEN 'PIPEDA' END,
               'OTHER') AS jurisdiction
    FROM privacy_requests r LEFT JOIN customers p USING (customer_id)
),
erasure AS (
    SELECT *,
           received BETWEEN $start AND $end AS in_period,
           status = 'completed' AND completed_on BETWEEN $start AND $end AS done,
           received <= $as_of AND status <> 'rejected'
               AND (completed_on IS NULL OR completed_on > $as_of) AS is_open,
           CASE WHEN jurisdiction IN ('GDPR', 'UK_GDPR')
                    THEN received + to_months(CASE WHEN extended THEN 3 ELSE 1 END)
                WHEN jurisdiction IN ('CCPA', 'US_STATE')
                    THEN received + to_days(CASE WHEN extended THEN 90 ELSE 45 END)
                WHEN jurisdiction = 'LGPD' THEN received + to_days(15)
                ELSE received + to_days(CASE WHEN extended THEN 60 ELSE 30 END) END AS due
    FROM requests WHERE type = 'erasure'
),
erasure_flags AS (
    SELECT *, is_open AND $as_of > due AS overdue FROM erasure
)
SELECT
    (SELECT count(*) FROM cust) AS customers,
    (SELECT list((purpose, decision, n)) FROM consent) AS consent,
    (SELECT list((purpose, segment, n)) FROM segments) AS segments,
    (SELECT list((cls, customers, engaged, intent, converted, revenue)) FROM outcomes) AS outcomes,
    (SELECT (count(*) FILTER (in_period), count(*) FILTER (done), count(*) FILTER (is_open),
             count(*) FILTER (overdue), count(*) FILTER (done AND completed_on <= due),
             median(completed_on - received) FILTER (done))
     FROM erasure_flags) AS erasure,
    (SELECT list((jurisdiction, r, c, o)) FROM (
        SELECT jurisdiction, count(*) FILTER (in_period) AS r, count(*) FILTER (done) AS c,
               count(*) FILTER (overdue) AS o
        FROM erasure_flags GROUP BY ALL HAVING count(*) FILTER (in_period) > 0)) AS jurisdictions,
    (SELECT list((m, r, c)) FROM (
        SELECT m, sum(r) AS r, sum(c) AS c FROM (
            SELECT strftime(received, '%Y-%m') AS m, 1 AS r, 0 AS c FROM erasure_flags
            WHERE in_period
            UNION ALL
            SELECT strftime(completed_on, '%Y-%m'), 0, 1 FROM erasure_flags WHERE done
        ) GROUP BY ALL)) AS monthly,
    (SELECT list((type, n)) FROM (
        SELECT type, count(*) AS n FROM requests
        WHERE received BETWEEN $start AND $end GROUP BY ALL)) AS requests_by_type
