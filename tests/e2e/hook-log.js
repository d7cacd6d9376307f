// Reads hook-receiver.js's log and prints, for the requests to one path,
// one tab-separated line each: aeg-event-type, aeg-delivery-count,
// aeg-subscription-name, aeg-data-version, aeg-metadata-version,
// content-type, authorization, body shape (array1|object|other), event id,
// event type, sequence number, the event's keys in order.
// usage: node hook-log.js LOGFILE PATH
'use strict';
const fs = require('fs');
const [log, path] = [process.argv[2], process.argv[3]];
const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
for (const line of lines) {
  const r = JSON.parse(line);
  if (r.path !== path) continue;
  const h = r.headers;
  let shape = 'other';
  let ev = null;
  try {
    const j = JSON.parse(r.body);
    if (Array.isArray(j) && j.length === 1) { shape = 'array1'; ev = j[0]; }
    else if (j && typeof j === 'object' && !Array.isArray(j)) { shape = 'object'; ev = j; }
  } catch (e) { /* other */ }
  const type = ev ? (ev.eventType || ev.type) : '';
  const seq = ev && ev.data ? ev.data.sequenceNumber : '';
  console.log([h['aeg-event-type'], h['aeg-delivery-count'], h['aeg-subscription-name'], h['aeg-data-version'] || '-',
    h['aeg-metadata-version'] || '-', h['content-type'], h['authorization'] || '-', shape, ev ? ev.id : '',
    type, typeof seq === 'number' ? seq : 'NaN', ev ? Object.keys(ev).join(',') : ''].join('\t'));
}
