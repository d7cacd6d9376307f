// A webhook receiver for the relay tests. It answers by path and records
// every request as one JSON line:
//   /ok*, /ce*   200          /bad*   400           /down*   500
//   /flaky*      500 for the first two deliveries of each event, then 200
//   /slow*       200 after 800 ms
// and answers Event Grid's SubscriptionValidation handshake on any path.
// usage: node hook-receiver.js PORT LOGFILE
'use strict';
const http = require('http');
const fs = require('fs');
const [port, log] = [Number(process.argv[2]), process.argv[3]];
const seen = {};

function eventId(body) {
  try {
    const j = JSON.parse(body);
    return Array.isArray(j) ? j[0].id : j.id;
  } catch (e) {
    return null;
  }
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url.split('?')[0];
    fs.appendFileSync(log, JSON.stringify({ path, method: req.method, headers: req.headers, body, t: Date.now() }) + '\n');
    const send = (code, text) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(text || '');
    };
    if (req.headers['aeg-event-type'] === 'SubscriptionValidation') {
      const ev = JSON.parse(body)[0];
      return send(200, JSON.stringify({ validationResponse: ev.data.validationCode }));
    }
    if (path.startsWith('/ok') || path.startsWith('/ce')) return send(200);
    if (path.startsWith('/bad')) return send(400);
    if (path.startsWith('/down')) return send(500);
    if (path.startsWith('/slow')) return setTimeout(() => send(200), 800);
    if (path.startsWith('/flaky')) {
      const key = path + ' ' + eventId(body);
      seen[key] = (seen[key] || 0) + 1;
      return send(seen[key] <= 2 ? 500 : 200);
    }
    send(404);
  });
}).listen(port, '127.0.0.1', () => fs.writeFileSync(log + '.ready', 'ok'));
