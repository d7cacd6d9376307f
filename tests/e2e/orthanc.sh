#!/usr/bin/env bash
# Interoperability with a real DICOMweb client: Orthanc's DICOMweb plugin
# (Debian orthanc + orthanc-dicomweb), started privately on a free port,
# stores a study to the emulator (chunked multipart, a Content-Length per
# part, a 73-character boundary) and retrieves it back over WADO-RS.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
command -v Orthanc >/dev/null || { echo "Orthanc is not installed"; exit 1; }
plugin=/usr/share/orthanc/plugins/libOrthancDicomWeb.so
[ -f "$plugin" ] || { echo "the Orthanc DICOMweb plugin is not installed"; exit 1; }


tmp=$(mktemp -d)
oport=$(free_port)
cat > "$tmp/orthanc.json" <<JSON
{ "Name": "ade-test", "HttpPort": $oport, "DicomServerEnabled": false, "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "StorageDirectory": "$tmp/db", "IndexDirectory": "$tmp/db",
  "Plugins": ["$plugin"],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/",
                "Servers": { "emulator": ["$EMULATOR_URL/v2/"] } } }
JSON
Orthanc "$tmp/orthanc.json" > "$tmp/orthanc.log" 2>&1 &
opid=$!
trap 'kill $opid 2>/dev/null; wait $opid 2>/dev/null; rm -rf "$tmp"' EXIT
O="http://127.0.0.1:$oport"
for _ in $(seq 1 100); do curl -fs "$O/system" >/dev/null 2>&1 && break; sleep 0.1; done

study="2.25.$$$RANDOM$RANDOM"
for i in 1 2 3; do
	"$MKDCM" -o "$tmp/$i.dcm" --study "$study" --series "$study.$((i % 2 + 1))" --sop "$study.9.$i" || exit 1
	curl -fs -X POST --data-binary @"$tmp/$i.dcm" "$O/instances" >/dev/null || { echo "upload to Orthanc failed"; exit 1; }
done
oid=$(curl -fs -X POST -d "{\"Level\":\"Study\",\"Query\":{\"StudyInstanceUID\":\"$study\"}}" "$O/tools/find" | tr -d '[]" \n')

out=$(curl -s -X POST -d "{\"Resources\":[\"$oid\"]}" "$O/dicom-web/servers/emulator/stow")
if echo "$out" | grep -q '"InstancesCount" : "3"'; then ok "Orthanc stored 3 instances to the emulator"; else not_ok "Orthanc STOW: $out"; fi

same=0
for i in 1 2 3; do
	curl -s -H 'Accept: application/dicom; transfer-syntax=*' -o "$tmp/back$i.dcm" \
		"$EMULATOR_URL/v2/studies/$study/series/$study.$((i % 2 + 1))/instances/$study.9.$i"
	cmp -s "$tmp/$i.dcm" "$tmp/back$i.dcm" && same=$((same + 1))
done
[ "$same" = 3 ] && ok "the emulator returns each instance byte for byte" || not_ok "$same of 3 instances came back identical"

curl -s -X DELETE "$O/studies/$oid" >/dev/null
out=$(curl -s -X POST -d "{\"Resources\":[{\"Study\":\"$study\"}]}" "$O/dicom-web/servers/emulator/retrieve")
if echo "$out" | grep -q '"ReceivedInstancesCount" : "3"'; then ok "Orthanc retrieved the study from the emulator"; else not_ok "Orthanc WADO: $out"; fi
same=0
for i in 1 2 3; do
	iid=$(curl -fs -X POST -d "{\"Level\":\"Instance\",\"Query\":{\"SOPInstanceUID\":\"$study.9.$i\"}}" "$O/tools/find" | tr -d '[]" \n')
	curl -s -o "$tmp/orth$i.dcm" "$O/instances/$iid/file"
	cmp -s "$tmp/$i.dcm" "$tmp/orth$i.dcm" && same=$((same + 1))
done
[ "$same" = 3 ] && ok "what Orthanc received is byte for byte what it sent" || not_ok "$same of 3 identical in Orthanc"

curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$study"
finish
