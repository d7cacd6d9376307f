-- NULL when value suits vr, else why not (the minimum rules of the service).
CREATE OR REPLACE FUNCTION dicom_eqt_check(vr text, v text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN vr = 'DA' AND v !~ '^\d{8}$' THEN 'Value does not match the pattern YYYYMMDD.'
        WHEN vr = 'DT' AND v !~ '^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$'
            THEN 'Value does not match the pattern YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]].'
        WHEN vr = 'TM' AND v !~ '^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$' THEN 'Value does not match the pattern HH[MM[SS[.F{1-6}]]].'
        WHEN vr IN ('AE', 'CS', 'SH') AND length(v) > 16 THEN 'Value length is not expected.'
        WHEN vr = 'LO' AND length(v) > 64 THEN 'Value length is not expected.'
        WHEN vr = 'AS' AND v !~ '^\d{3}[DWMY]$' THEN 'Value does not match the pattern nnnD, nnnW, nnnM or nnnY.'
        WHEN vr = 'UI' AND (length(v) > 64 OR v !~ '^[0-9.]*[0-9]$') THEN 'DICOM Identifier is invalid.'
        -- numbers are kept as double precision: what does not fit is refused
        -- here, not left to fail the cast (and every later reindex)
        WHEN vr IN ('IS', 'SL', 'SS', 'UL', 'US') AND v !~ '^[+-]?\d{1,18}$' THEN 'Value is not a valid integer.'
        WHEN vr IN ('FL', 'FD') AND (length(v) > 400 OR v !~ '^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$')
            THEN 'Value is not a valid number.'
        WHEN vr IN ('FL', 'FD') AND (abs(v::numeric) > 1.7976931348623157e308
                                     OR (v::numeric <> 0 AND abs(v::numeric) < 2.2250738585072014e-308))
            THEN 'Value is not a valid number.'
        ELSE NULL END
$$;
