#!/usr/bin/env bash
# End-to-end: export to Azure Blob storage (§9.5) against Azurite's blob
# service, read back with Microsoft's @azure/storage-blob. A study, a series
# and an instance exported from two partitions (a stack with partitions on
# over the suite's database; the suite's relay does the work), each blob
# byte for byte the stored file, a file over 4 MiB in blocks; errors.log for
# identifiers that name nothing; a SAS container URL; a wrong key and a
# missing container fail the operation; bad requests refused; and a relay
# killed (-9) mid-export leaves the rest to another, no blob twice.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD
npm_packages
tmp=$(mktemp -d)
svc_dir "$tmp"   # its relays run as the stack's do (they share the store)
trap 'test_cleanup KILL "$tmp/side"' EXIT
blob() { NODE_PATH="$NPMDIR/node_modules" node "$ABS_TOP_SRCDIR/tests/e2e/blob-tool.js" "$@"; }

azurite_start blob "$tmp/azurite.log" || { finish; exit 1; }
pids+=("$AZURITE_PID")
CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/devstoreaccount1;"
blob create "$CONN" exports && ok "a container made with the SDK" || not_ok "container"

mkdir -p "$tmp/side"
{ cat "$EMULATOR_VAR/conf/dicom.ini"; printf '\n[features]\ndata_partitions = true\n'; } > "$tmp/side/dicom.ini"
# the identity for useManagedIdentity, as the environment gives it (a
# connection string is longer than an ini line may be): the side stack's
# responders and the relays this test starts
export DICOM_EXPORT_IDENTITY=$CONN
side_stack_start "$tmp/side" "$EMULATOR_STORE_DIR" || { not_ok "side stack"; finish; exit 1; }
S=$SIDE_URL/v2
pa="xa-$$" pb="xb-$$" st="2.25.$$$RANDOM"
stow() { # PARTITION FILE
	curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$2" "$S/partitions/$1/studies"
}
"$MKDCM" -o "$tmp/a1.dcm" --study "$st" --series "$st.1" --sop "$st.1.1"
"$MKDCM" -o "$tmp/a2.dcm" --study "$st" --series "$st.2" --sop "$st.2.1" --rows 1500 --cols 1500
"$MKDCM" -o "$tmp/b1.dcm" --study "$st" --series "$st.1" --sop "$st.1.1" --seed 7
"$MKDCM" -o "$tmp/b2.dcm" --study "$st" --series "$st.1" --sop "$st.1.2"
check "$(stow "$pa" "$tmp/a1.dcm")$(stow "$pa" "$tmp/a2.dcm")$(stow "$pb" "$tmp/b1.dcm")$(stow "$pb" "$tmp/b2.dcm")" \
	200200200200 "two instances in each partition (the same UIDs in both, one over 4 MiB)"

export_to() { # PARTITION DESTINATION-SETTINGS-JSON IDENTIFIER... -> status; body in $tmp/out
	local part=$1 dest=$2
	shift 2
	local ids
	ids=$(printf '"%s",' "$@")
	curl -s -D "$tmp/hdr" -o "$tmp/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-d "{\"source\":{\"type\":\"identifiers\",\"settings\":{\"values\":[${ids%,}]}},\"destination\":{\"type\":\"azureblob\",\"settings\":$dest}}" \
		"$S/partitions/$part/export"
}
wait_op() { op_wait "$S" "$1"; }
dest="{\"blobContainerName\":\"exports\",\"connectionString\":\"$CONN\"}"

# ---- bad requests ----------------------------------------------------------
while IFS='|' read -r body text; do
	code=$(curl -s -o "$tmp/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$body" "$S/partitions/$pa/export")
	check "$code" 400 "refused: $body"
	grep -qF -- "$text" "$tmp/out" && ok "  saying: $text" || not_ok "  message: $(cat "$tmp/out")"
done <<CASES
{"source":{"type":"query","settings":{}},"destination":{"type":"azureblob","settings":$dest}}|Unsupported export source 'query'.
{"source":{"type":"identifiers","settings":{"values":["$st"]}},"destination":{"type":"s3","settings":{}}}|Unsupported export destination 's3'.
{"source":{"type":"identifiers","settings":{"values":["$st/x.y"]}},"destination":{"type":"azureblob","settings":$dest}}|The string '$st/x.y' was not recognized as a valid DICOM identifier.
{"source":{"type":"identifiers","settings":{"values":[]}},"destination":{"type":"azureblob","settings":$dest}}|one or more identifiers
{"source":{"type":"identifiers","settings":{"values":["$st"]}},"destination":{"type":"azureblob","settings":{"blobContainerName":"exports"}}}|needs blobContainerUri, or connectionString and blobContainerName
CASES
check "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/plain' -d '{}' "$S/partitions/$pa/export")" 415 \
	"a body that is not application/json: 415"
check "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$S/export")" 400 \
	"with partitions on, export lives under a partition"

# ---- a study from one partition, a series and an instance from the other --
check "$(export_to "$pa" "$dest" "$st")" 202 "export of a study from $pa accepted"
op_a=$(jget 'd["id"]' < "$tmp/out")
check "$(grep -i '^location:' "$tmp/hdr" | tr -d '\r' | cut -d' ' -f2)" "$S/operations/$op_a" "  with the operation's Location"
check "$(export_to "$pb" "$dest" "$st/$st.1/$st.1.1" "$st/$st.1" "$st/$st.9" "$st/$st.1/$st.1.7")" 202 \
	"export of an instance, its series and two missing identifiers from $pb accepted"
op_b=$(jget 'd["id"]' < "$tmp/out")
res=$(wait_op "$op_a")
check "$(echo "$res" | jget 'd["type"], d["status"], d["results"]["exported"], d["results"]["skipped"]')" \
	"('export', 'succeeded', 2, 0)" "$pa: succeeded, 2 exported"
check "$(echo "$res" | jget 'd["results"]["errorHref"]')" \
	"http://127.0.0.1:$AZURITE_PORT/devstoreaccount1/exports/$op_a/errors.log" "  errorHref names the container's errors.log"
res=$(wait_op "$op_b")
check "$(echo "$res" | jget 'd["status"], d["results"]["exported"], d["results"]["skipped"]')" "('succeeded', 2, 2)" \
	"$pb: succeeded, 2 exported (the instance once), 2 skipped"
check "$(blob list "$CONN" exports "$op_a/" | cut -f1 | paste -sd' ')" \
	"$op_a/results/$st/$st.1/$st.1.1.dcm $op_a/results/$st/$st.2/$st.2.1.dcm" "$pa's blobs, named as the service names them"
same=0
blob get "$CONN" exports "$op_a/results/$st/$st.1/$st.1.1.dcm" "$tmp/ga1.dcm" && cmp -s "$tmp/ga1.dcm" "$tmp/a1.dcm" && same=$((same + 1))
blob get "$CONN" exports "$op_a/results/$st/$st.2/$st.2.1.dcm" "$tmp/ga2.dcm" && cmp -s "$tmp/ga2.dcm" "$tmp/a2.dcm" && same=$((same + 1))
blob get "$CONN" exports "$op_b/results/$st/$st.1/$st.1.1.dcm" "$tmp/gb1.dcm" && cmp -s "$tmp/gb1.dcm" "$tmp/b1.dcm" && same=$((same + 1))
blob get "$CONN" exports "$op_b/results/$st/$st.1/$st.1.2.dcm" "$tmp/gb2.dcm" && cmp -s "$tmp/gb2.dcm" "$tmp/b2.dcm" && same=$((same + 1))
check "$same" 4 "every blob is its partition's file byte for byte ($(stat -c %s "$tmp/a2.dcm") bytes the largest)"
blob get "$CONN" exports "$op_b/errors.log" "$tmp/errors.log"
check "$("$PY" -c 'import json,sys; print(sorted(json.loads(l)["Identifier"] for l in open(sys.argv[1])))' "$tmp/errors.log")" \
	"['$st/$st.1/$st.1.7', '$st/$st.9']" "errors.log has a JSON line for each missing identifier"

# ---- a SAS container URL ----------------------------------------------------
sas=$(blob sas "$CONN" exports)
check "$(export_to "$pa" "{\"blobContainerUri\":\"$sas\"}" "$st/$st.1")" 202 "export to a container URL with a SAS token"
op_s=$(jget 'd["id"]' < "$tmp/out")
check "$(wait_op "$op_s" | jget 'd["status"], d["results"]["exported"]')" "('succeeded', 1)" "  succeeded"
check "$(blob list "$CONN" exports "$op_s/" | cut -f1)" "$op_s/results/$st/$st.1/$st.1.1.dcm" "  its blob is there"

# ---- a destination that refuses ---------------------------------------------
badkey="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$(printf 'x%.0s' $(seq 1 86))==;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/devstoreaccount1;"
export_to "$pa" "{\"blobContainerName\":\"exports\",\"connectionString\":\"$badkey\"}" "$st" >/dev/null
res=$(wait_op "$(jget 'd["id"]' < "$tmp/out")")
check "$(echo "$res" | jget 'd["status"], d["results"]["exported"]')" "('failed', 0)" "a wrong key fails the operation"
echo "$res" | jget 'd["results"]["error"]' | grep -q "HTTP 403" && ok "  saying why: $(echo "$res" | jget 'd["results"]["error"]')" ||
	not_ok "  error: $res"
export_to "$pa" "{\"blobContainerName\":\"nosuch\",\"connectionString\":\"$CONN\"}" "$st" >/dev/null
res=$(wait_op "$(jget 'd["id"]' < "$tmp/out")")
check "$(echo "$res" | jget 'd["status"], d["results"]["exported"]')" "('failed', 0)" "a missing container fails it"
echo "$res" | jget 'd["results"]["error"]' | grep -q "ContainerNotFound" && ok "  saying ContainerNotFound" || not_ok "  error: $res"

# ---- a relay killed mid-export ----------------------------------------------
stop_relay
relay_stopped=1
n=6
for i in $(seq 1 $n); do
	"$MKDCM" -o "$tmp/k.dcm" --study "$st.5" --series "$st.5.1" --sop "$st.5.1.$i"
	stow "$pa" "$tmp/k.dcm" >/dev/null
done
check "$(export_to "$pa" "$dest" "$st.5")" 202 "an export of $n instances"
op_k=$(jget 'd["id"]' < "$tmp/out")
slow_relay_config "$tmp/relay.ini" 200
"$EMULATOR_BUILD/outbox-relay" -c "$tmp/relay.ini" $(svc_opt) >"$tmp/relay1.log" 2>&1 &
pids+=($!)
items_wait "$op_k" done 2 >/dev/null
kill -KILL "${pids[-1]}" 2>/dev/null
wait "${pids[-1]}" 2>/dev/null
unset 'pids[-1]'
done_before=$(items_wait "$op_k" done 0)
[ "$done_before" -gt 0 ] && [ "$done_before" -lt "$n" ] && ok "the kill came mid-way: $done_before of $n exported" ||
	not_ok "the kill did not land mid-way ($done_before of $n)"
"$EMULATOR_BUILD/outbox-relay" -c "$tmp/relay.ini" $(svc_opt) >"$tmp/relay2.log" 2>&1 &
pids+=($!)
check "$(wait_op "$op_k" | jget 'd["status"], d["results"]["exported"]')" "('succeeded', $n)" "another relay finished it"
check "$(blob list "$CONN" exports "$op_k/" | wc -l)" "$n" "  $n blobs, none twice"

# ---- useManagedIdentity: the account key of [features] export_identity -------
mi="{\"blobContainerUri\":\"http://127.0.0.1:$AZURITE_PORT/devstoreaccount1/exports\",\"useManagedIdentity\":true}"
src="{\"type\":\"identifiers\",\"settings\":{\"values\":[\"$st\"]}}"
check "$(curl -s -o "$tmp/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-d "{\"source\":$src,\"destination\":{\"type\":\"azureblob\",\"settings\":$mi}}" "$EMULATOR_URL/v2/export")" 400 \
	"useManagedIdentity where no identity is configured: 400"
grep -q "No managed identity is configured here" "$tmp/out" && ok "  saying so" || not_ok "  message: $(cat "$tmp/out")"
check "$(export_to "$pa" "{\"blobContainerName\":\"exports\",\"connectionString\":\"$CONN\",\"useManagedIdentity\":true}" "$st")" 400 \
	"useManagedIdentity with a connection string: 400"
check "$(export_to "$pa" "$mi" "$st/$st.1")" 202 "useManagedIdentity with a container URL (no SAS) accepted"
op_m=$(jget 'd["id"]' < "$tmp/out")
check "$(wait_op "$op_m" | jget 'd["status"], d["results"]["exported"]')" "('succeeded', 1)" \
	"  succeeded, signed with export_identity's account key"
check "$(blob list "$CONN" exports "$op_m/" | cut -f1)" "$op_m/results/$st/$st.1/$st.1.1.dcm" "  its blob is there"

for p in "$pa" "$pb"; do
	curl -s -o /dev/null -X DELETE "$S/partitions/$p/studies/$st"
done
curl -s -o /dev/null -X DELETE "$S/partitions/$pa/studies/$st.5"
finish
