-- early: generated columns (sql/002) use it, so it is applied before the
-- numbered files as well as after. Changing what it returns needs a
-- numbered file that rebuilds those columns and their indexes.
-- Person names compare without case and accents; fuzzy matching works on
-- the words of the name (PS3.18 and the service's rules).
CREATE OR REPLACE FUNCTION dicom_pn_norm(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT NULLIF(btrim(regexp_replace(lower(translate(t, 'àáâãäåāăąçćčďèéêëēėęěìíîïīįñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżžÀÁÂÃÄÅĀĂĄÇĆČĎÈÉÊËĒĖĘĚÌÍÎÏĪĮÑŃŇÒÓÔÕÖØŌŐŔŘŚŠŞŤÙÚÛÜŪŮŰŲÝŸŹŻŽ^=',
        'aaaaaaaaacccdeeeeeeeeiiiiiinnnoooooooorrssstuuuuuuuuyyzzzaaaaaaaaacccdeeeeeeeeiiiiiinnnoooooooorrssstuuuuuuuuyyzzz  ')), '\s+', ' ', 'g')), '')
$$;
