#!/usr/bin/env bash
# The fuzzers (scripts/fuzz) for ten seconds each from their seed corpora,
# as part of the suite; scripts/fuzz SECONDS runs them for longer.
exec "$ABS_TOP_SRCDIR/scripts/fuzz" --check
