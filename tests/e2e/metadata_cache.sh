#!/usr/bin/env bash
# Metadata answers are kept ([retrieve] metadata_cache, on by default) once
# the instances they list have settled: kept with the newest instance's
# object, named by the set's version, and sent from the kept file
# (X-Sendfile behind lighttpd). A store or delete makes a new version, so
# the answer is never stale; a study being uploaded keeps nothing.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
U=$EMULATOR_URL/v2
st=2.25.$$$RANDOM
for k in 1 2 3; do
	"$MKDCM" -o "$tmp/$k.dcm" --study "$st" --series "$st.1" --sop "$st.1.$k" --rows 8 --cols 8
done
stow() {
	curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$1" "$U/studies"
}
get() { # URL [HEADER] -> status; body in $tmp/got, headers in $tmp/head
	curl -s -D "$tmp/head" -o "$tmp/got" -w '%{http_code}' -H 'Accept: application/dicom+json' ${2:+-H "$2"} "$1"
}
header() { grep -i "^$1:" "$tmp/head" | cut -d' ' -f2- | tr -d '\r'; }
count() { jget 'len(d)' < "$tmp/got"; }
dir_of() { # WATERMARK: where its object's kept files are
	echo "$EMULATOR_STORE_DIR/cache/$(printf '%02x' $(($1 & 255)))/$1"
}
kept() { ls "$(dir_of "$1")" 2>/dev/null | grep -c '^metadata-'; }
settle() { q "UPDATE instance SET created_at = created_at - interval '1 minute' WHERE study_uid = '$st'" >/dev/null; }
meta=$U/studies/$st/metadata

check "$(stow "$tmp/1.dcm")$(stow "$tmp/2.dcm")" 200200 "two instances stored"
wm2=$(q "SELECT watermark FROM instance WHERE sop_uid = '$st.1.2'")
check "$(get "$meta")" 200 "the study's metadata"
check "$(count)" 2 "  two instances"
cp "$tmp/got" "$tmp/two.json"
etag=$(header ETag)
check "$(kept "$wm2")" 0 "  nothing kept while the study is new"

settle
check "$(get "$meta")" 200 "again, once the study settled"
cmp -s "$tmp/got" "$tmp/two.json" && ok "  the same answer" || not_ok "the answer changed"
check "$(kept "$wm2")" 1 "  kept with the newest instance"
check "$(get "$meta")" 200 "and again"
cmp -s "$tmp/got" "$tmp/two.json" && ok "  the same bytes, from the kept file" || not_ok "the kept answer differs"
check "$(header ETag)" "$etag" "  the same ETag"
check "$(header Content-Type)" "application/dicom+json" "  as application/dicom+json"
check "$(get "$meta" "If-None-Match: $etag")" 304 "If-None-Match with its ETag: 304"
check "$(get "$U/studies/$st/series/$st.1/metadata")" 200 "the series' metadata"
check "$(get "$U/studies/$st/series/$st.1/instances/$st.1.1/metadata")" 200 "an instance's metadata"
check "$(count)" 1 "  one instance"
wm1=$(q "SELECT watermark FROM instance WHERE sop_uid = '$st.1.1'")
check "$(kept "$wm2")/$(kept "$wm1")" 2/1 "  kept too, each with its newest instance"

check "$(stow "$tmp/3.dcm")" 200 "a third instance stored"
check "$(get "$meta")" 200 "the study's metadata"
check "$(count)" 3 "  lists three instances, not the kept two"
[ "$(header ETag)" != "$etag" ] && ok "  under a new ETag" || not_ok "the ETag did not change"
wm3=$(q "SELECT watermark FROM instance WHERE sop_uid = '$st.1.3'")
check "$(kept "$wm3")" 0 "  nothing kept: the study changed a moment ago"
settle
get "$meta" >/dev/null
check "$(kept "$wm3")" 1 "  kept once settled"
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$U/studies/$st/series/$st.1/instances/$st.1.3")" 204 \
	"the third instance deleted"
[ -e "$(dir_of "$wm3")" ] && not_ok "its kept answers outlive it" || ok "  its kept answers are gone"
check "$(get "$meta")" 200 "the study's metadata"
cmp -s "$tmp/got" "$tmp/two.json" && ok "  the two instances' answer again" || not_ok "not the two instances' answer"
check "$(header ETag)" "$etag" "  with their ETag"

# the kept file is what goes out: change it and the answer changes
f=$(ls "$(dir_of "$wm2")"/metadata-s*)
printf 'kept' >> "$f"
sleep 2 # lighttpd keeps a file's stat for a second
get "$meta" >/dev/null
check "$(tail -c 4 "$tmp/got")" kept "  the answer is the kept file"

check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$U/studies/$st")" 204 "the study deleted"
[ -e "$(dir_of "$wm2")" ] || [ -e "$(dir_of "$wm1")" ] && not_ok "kept answers outlive the study" ||
	ok "  its kept answers are gone"
check "$(get "$meta")" 404 "  and its metadata is not found"

# Two sets with the same newest instance and count, so the same ETag: a
# store that commits after a later one (its watermark is lower) and a
# delete. {1, 3}, then 1 deleted and a late 2 in: {2, 3}. The kept answer
# of {1, 3} must not be taken for {2, 3}. (The late commit is written as a
# row: which of two concurrent stores commits first cannot be steered.)
st=2.25.$$$RANDOM
meta=$U/studies/$st/metadata
for k in 1 2 3; do
	"$MKDCM" -o "$tmp/$k.dcm" --study "$st" --series "$st.1" --sop "$st.1.$k" --rows 8 --cols 8
	stow "$tmp/$k.dcm" >/dev/null
done
w2=$(q "SELECT watermark FROM instance WHERE sop_uid = '$st.1.2'")
w3=$(q "SELECT watermark FROM instance WHERE sop_uid = '$st.1.3'")
q "CREATE TABLE late_$$ AS SELECT * FROM instance WHERE watermark = $w2" >/dev/null
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$U/studies/$st/series/$st.1/instances/$st.1.2")" 204 \
	"three instances, the second deleted"
settle
check "$(get "$meta")" 200 "  the metadata of the first and third"
etag=$(header ETag)
check "$(kept "$w3")" 1 "  kept"
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$U/studies/$st/series/$st.1/instances/$st.1.1")" 204 \
	"the first deleted, the second back as a late commit"
q "INSERT INTO instance SELECT * FROM late_$$; DROP TABLE late_$$" >/dev/null
settle
check "$(get "$meta")" 200 "  the metadata"
check "$(header ETag)" "$etag" "  under the same ETag (the service's: newest watermark and count)"
check "$(jget '" ".join(sorted(i["00080018"]["Value"][0] for i in d))' < "$tmp/got")" "$st.1.2 $st.1.3" \
	"  lists the second and third, not the kept answer of the first and third"
check "$(kept "$w3")" 2 "  kept as another answer"
q "DELETE FROM instance WHERE watermark = $w2" >/dev/null # its file went with the delete
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$U/studies/$st")" 204 "the study deleted"
[ -e "$(dir_of "$w3")" ] && not_ok "kept answers outlive the study" || ok "  its kept answers are gone"
finish
