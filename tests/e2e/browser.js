// The pages in a real browser: Debian's chromium driven by puppeteer-core
// (nothing downloads a browser). Opens OHIF's study list and the viewer on
// a study, then the console; prints one JSON object of what it saw, and
// writes screenshots into OUT_DIR.
// usage: node browser.js BASE_URL STUDY_UID SOP_UID PATIENT_TEXT OUT_DIR
const fs = require('fs');
const zlib = require('zlib');
const puppeteer = require('puppeteer-core');

const [base, study, sop, patient, out] = process.argv.slice(2);
const seen = { consoleErrors: [], failedRequests: [], badResponses: [] };

// Grey levels in the middle of a PNG screenshot (RGB or RGBA, 8 bits).
function greyLevels(png) {
  let pos = 8, w = 0, h = 0, ctype = 0;
  const idat = [];
  while (pos < png.length) {
    const n = png.readUInt32BE(pos), kind = png.toString('ascii', pos + 4, pos + 8);
    const body = png.subarray(pos + 8, pos + 8 + n);
    if (kind === 'IHDR') { w = body.readUInt32BE(0); h = body.readUInt32BE(4); ctype = body[9]; }
    if (kind === 'IDAT') idat.push(body);
    pos += 12 + n;
  }
  const bpp = ctype === 6 ? 4 : 3, stride = w * bpp, raw = zlib.inflateSync(Buffer.concat(idat));
  const rows = [];
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      if (f === 1) line[i] = (line[i] + a) & 255;
      else if (f === 2) line[i] = (line[i] + b) & 255;
      else if (f === 3) line[i] = (line[i] + ((a + b) >> 1)) & 255;
      else if (f === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        line[i] = (line[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      }
    }
    rows.push(line);
    prev = line;
  }
  const grey = new Set();
  for (let y = Math.floor(h / 3); y < (2 * h) / 3; y += 2) {
    for (let x = Math.floor(w / 3); x < (2 * w) / 3; x += 2) {
      const r = rows[y][x * bpp], g = rows[y][x * bpp + 1], b = rows[y][x * bpp + 2];
      if (r === g && g === b) grey.add(r);
    }
  }
  return grey.size;
}

function watch(page, label) {
  page.on('console', (m) => { if (m.type() === 'error') seen.consoleErrors.push(`${label}: ${m.text()}`); });
  page.on('requestfailed', (r) => {
    // requests a page cancels itself (aborted prefetches) are not failures
    if (r.failure() && r.failure().errorText !== 'net::ERR_ABORTED') seen.failedRequests.push(`${label}: ${r.url()}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) seen.badResponses.push(`${label}: ${r.status()} ${r.url()}`); });
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--enable-unsafe-swiftshader', '--hide-scrollbars'],
    defaultViewport: { width: 1280, height: 900 },
  });
  try {
    const page = await browser.newPage();
    watch(page, 'ohif');
    await page.goto(`${base}/`, { waitUntil: 'networkidle2', timeout: 60000 });
    await page.waitForFunction((t) => document.body.innerText.includes(t), { timeout: 60000 }, patient);
    seen.studyListShowsStudy = true;
    await page.screenshot({ path: `${out}/ohif-study-list.png` });

    await page.goto(`${base}/viewer?StudyInstanceUIDs=${study}`, { waitUntil: 'networkidle2', timeout: 60000 });
    seen.viewerGreyLevels = 0;
    for (let i = 0; i < 60 && seen.viewerGreyLevels < 20; i++) {
      const canvas = await page.$('canvas');
      if (canvas) seen.viewerGreyLevels = greyLevels(await canvas.screenshot({ type: 'png' }));
      if (seen.viewerGreyLevels < 20) await new Promise((r) => setTimeout(r, 1000));
    }
    await page.screenshot({ path: `${out}/ohif-viewer.png` });

    const con = await browser.newPage();
    watch(con, 'console');
    await con.goto(`${base}/console/`, { waitUntil: 'networkidle2', timeout: 60000 });
    await con.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
    await con.waitForFunction((s) => {
      const img = document.querySelector(`tr[data-study="${s}"] img`);
      return img && img.complete && img.naturalWidth > 0;
    }, { timeout: 30000 }, study);
    seen.consoleThumbnail = true;
    await con.waitForSelector(`#feed tr[data-sop="${sop}"]`, { timeout: 30000 });
    seen.consoleFeed = await con.$$eval(`#feed tr[data-sop="${sop}"]`, (rows) => rows.map((r) => r.cells[1].textContent));
    // the event deliveries of the study's instance, one a subscription
    await con.waitForFunction((s) => [...document.querySelectorAll('#events tr')].some((r) => r.textContent.includes(s)),
      { timeout: 30000 }, sop);
    seen.consoleDeliveries = await con.$$eval('#events tr', (rows, s) => rows
      .filter((r) => r.textContent.includes(s))
      .map((r) => `${r.dataset.subscription}:${r.cells[4].textContent}`), sop);
    await con.evaluate(() => window.scrollTo(0, 0));
    await con.screenshot({ path: `${out}/console.png`, fullPage: false });
    const target = await con.evaluateHandle((s) => [...document.querySelectorAll('#events tr[data-subscription="local-file"]')]
      .find((r) => r.textContent.includes(s)), sop);
    const button = await target.$('button.replay');
    await button.click();
    await con.waitForFunction((b) => b.textContent !== 'replay', { timeout: 10000 }, button);
    seen.replay = await con.evaluate((b) => b.textContent, button);
    seen.replaySequence = await con.evaluate((r) => r.dataset.sequence, target);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(seen));
}

main().catch((e) => { console.log(JSON.stringify({ ...seen, error: e.message })); process.exit(1); });
