// The console of azure-dicom-emulator: plain JavaScript over the
// emulator's public API (QIDO, thumbnails, change feed, extended query
// tags, operations, health) and its debug view of events.
'use strict';

const $ = (id) => document.getElementById(id);
let partition = null; // the partition shown, when partitions are on

function api() {
  return partition ? `/v2/partitions/${encodeURIComponent(partition)}` : '/v2';
}

function text(v) { return v === undefined || v === null ? '' : String(v); }

// The first value of a DICOM JSON attribute; a person name's Alphabetic form.
function first(ds, tag) {
  const e = ds[tag];
  const v = e && e.Value && e.Value[0];
  if (v && typeof v === 'object') return v.Alphabetic || '';
  return text(v);
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    if (c instanceof Node) td.appendChild(c);
    else if (c && c.uid) { td.className = 'uid'; td.textContent = c.uid; }
    else td.textContent = text(c);
    tr.appendChild(td);
  }
  return tr;
}

async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json, application/dicom+json' } });
  if (r.status === 204) return [];
  if (!r.ok) throw Object.assign(new Error(`${url}: HTTP ${r.status}`), { status: r.status });
  return r.json();
}

async function health() {
  const el = $('health');
  try {
    const h = await getJson('/health/check');
    el.textContent = `health: ${h.overallStatus}`;
    el.className = `badge ${h.overallStatus === 'Healthy' ? 'ok' : 'bad'}`;
  } catch (e) {
    el.textContent = 'health: unreachable';
    el.className = 'badge bad';
  }
}

// With data partitions on, the console is opened as /console/?partition=NAME
// (every DICOM route then wants one); it lists the others to switch to.
async function partitions() {
  partition = new URLSearchParams(window.location.search).get('partition');
  if (!partition) return;
  try {
    const list = await getJson('/v2/partitions');
    const sel = $('partition');
    for (const p of list) {
      const o = document.createElement('option');
      o.value = o.textContent = p.partitionName;
      o.selected = p.partitionName === partition;
      sel.appendChild(o);
    }
    $('partition-box').hidden = false;
    sel.addEventListener('change', () => { window.location.search = `?partition=${encodeURIComponent(sel.value)}`; });
  } catch (e) { /* the partition named is used as it is */ }
}

// Modalities whose instances carry no pixels: a study of only these has no
// thumbnail to ask for (the service would answer 404).
const NO_PIXELS = new Set(['SR', 'KO', 'PR', 'DOC', 'RTPLAN', 'RTSTRUCT', 'RTRECORD', 'REG', 'FID', 'PLAN']);

// A thumbnail through fetch: the service renders only for Accept image/jpeg
// (an <img> asks for several types at once).
async function thumbnail(img, study, modalities) {
  if (modalities.length && modalities.every((m) => NO_PIXELS.has(m))) return;
  try {
    const r = await fetch(`${api()}/studies/${study}/thumbnail?viewport=64,64`, { headers: { Accept: 'image/jpeg' } });
    if (r.ok) img.src = URL.createObjectURL(await r.blob());
  } catch (e) { /* the row stays without its picture */ }
}

async function studies() {
  const body = $('studies').tBodies[0];
  let list = [];
  try {
    list = await getJson(`${api()}/studies?limit=50&includefield=ModalitiesInStudy`);
  } catch (e) {
    list = [];
  }
  body.replaceChildren();
  $('studies-empty').hidden = list.length > 0;
  for (const s of list) {
    const uid = first(s, '0020000D');
    const img = document.createElement('img');
    img.className = 'thumb';
    img.alt = `thumbnail of ${uid}`;
    const modalities = (s['00080061'] || {}).Value || [];
    thumbnail(img, uid, modalities);
    const a = document.createElement('a');
    a.href = `/viewer?StudyInstanceUIDs=${encodeURIComponent(uid)}`;
    a.textContent = uid;
    const tr = row([img, first(s, '00100010'), first(s, '00100020'), first(s, '00080020'),
      modalities.join(', '), first(s, '00081030'), a]);
    tr.dataset.study = uid;
    body.appendChild(tr);
  }
}

// The change feed, live: the latest entries, then every new one.
let feedOffset = null;
async function feed() {
  const body = $('feed').tBodies[0];
  try {
    if (feedOffset === null) {
      const latest = await fetch('/v1/changefeed/latest?includeMetadata=false');
      const l = latest.status === 200 ? await latest.json() : null;
      feedOffset = l ? Math.max(0, l.sequence - 20) : 0;
    }
    const entries = await getJson(`/v1/changefeed?offset=${feedOffset}&limit=100&includeMetadata=false`);
    for (const e of entries) {
      const tr = row([e.sequence, e.action, e.state, e.timestamp, e.partitionName, { uid: e.sopInstanceUid }]);
      tr.dataset.sop = e.sopInstanceUid;
      body.insertBefore(tr, body.firstChild);
      feedOffset = Math.max(feedOffset, e.sequence);
    }
    while (body.rows.length > 200) body.deleteRow(body.rows.length - 1);
  } catch (e) { /* tried again at the next tick */ }
}

async function replay(subscription, sequence, button) {
  button.disabled = true;
  const r = await fetch('/debug/events/replay', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ subscription, fromSequence: sequence, toSequence: sequence }),
  });
  button.textContent = r.ok ? 'replayed' : `replay failed (${r.status})`;
}

async function events() {
  const body = $('events').tBodies[0];
  let page;
  try {
    page = await getJson('/debug/events?limit=50');
  } catch (e) {
    $('events-off').hidden = e.status !== 404;
    return;
  }
  $('events-off').hidden = true;
  try {
    const st = await getJson('/debug/events/stats');
    const by = Object.entries(st.byStatus || {}).map(([k, v]) => `${k}: ${v}`).join(', ');
    $('events-stats').textContent = `${st.total} events; deliveries ${by}`;
  } catch (e) { /* the table still shows */ }
  body.replaceChildren();
  for (const ev of page.events) {
    const sop = ev.event && ev.event.data ? ev.event.data.imageSopInstanceUid : '';
    for (const d of ev.deliveries || []) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = 'replay';
      b.className = 'replay';
      b.addEventListener('click', () => replay(d.subscription, ev.sequence, b));
      const tr = row([ev.sequence, ev.eventType.replace('Microsoft.HealthcareApis.', ''), { uid: sop }, d.subscription,
        d.status, d.attempts, d.deadLetterReason || d.lastOutcome, d.nextAttemptAt, b]);
      tr.cells[4].className = `state-${d.status}`;
      tr.dataset.sequence = ev.sequence;
      tr.dataset.subscription = d.subscription;
      body.appendChild(tr);
    }
  }
}

async function eqt() {
  const body = $('eqt').tBodies[0];
  let tags = [];
  try { tags = await getJson('/v2/extendedquerytags?limit=200'); } catch (e) { tags = []; }
  body.replaceChildren();
  $('eqt-empty').hidden = tags.length > 0;
  for (const t of tags) {
    let op = '';
    if (t.operation) {
      try {
        const o = await getJson(t.operation.href);
        op = `${o.status} ${o.percentComplete}%`;
      } catch (e) { op = t.operation.id; }
    }
    body.appendChild(row([t.path, t.vr, t.level, t.status, t.queryStatus, t.errors ? t.errors.count : 0, op]));
  }
}

async function start() {
  await partitions();
  await Promise.all([health(), studies(), feed(), events(), eqt()]);
  $('studies-refresh').addEventListener('click', studies);
  $('events-refresh').addEventListener('click', events);
  setInterval(feed, 2000);
  setInterval(health, 10000);
  setInterval(events, 5000);
  document.body.dataset.ready = 'true';
}

start();
