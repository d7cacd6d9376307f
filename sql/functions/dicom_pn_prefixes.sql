-- early: the word-prefix indexes (sql/021) are on it, so it is applied
-- before the numbered files as well as after. Changing what it returns
-- needs a numbered file that rebuilds those indexes.
-- Every prefix of every word of a normalized person name (dicom_pn_norm):
-- "doe john" gives {d, do, doe, j, jo, joh, john}. A GIN index on it finds
-- the names a fuzzy query's words all start a word of (array @> the query's
-- words) by looking each query word up once. Its cost is set high: the
-- planner then looks the words up in the index instead of walking the
-- studies newest first and computing every name's prefixes.
CREATE OR REPLACE FUNCTION dicom_pn_prefixes(name_norm text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 10000 AS $$
    SELECT array_agg(left(w, n))
      FROM unnest(string_to_array(name_norm, ' ')) AS x(w), generate_series(1, length(w)) AS n
$$;
