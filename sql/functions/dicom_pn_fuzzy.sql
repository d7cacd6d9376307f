-- Every word of the query is the start of some word of the name.
CREATE OR REPLACE FUNCTION dicom_pn_fuzzy(name_norm text, query_norm text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT name_norm IS NOT NULL AND query_norm IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM unnest(string_to_array(query_norm, ' ')) AS q(w)
         WHERE NOT EXISTS (SELECT 1 FROM unnest(string_to_array(name_norm, ' ')) AS n(x)
                            WHERE left(x, length(w)) = w))
$$;
