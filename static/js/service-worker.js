// The offline diary's service worker (served at /sw.js by painlog.views.service_worker).
//
// It keeps two things, for when the phone has no signal:
// - the patient's own home and logging form, as last opened, in a cache named after the
//   patient's key ("tmr-pages-<key>"): only pages the server marks with X-Offline-Diary, and
//   only for the key the server gave. A page for another key replaces the whole cache, so one
//   device never holds two patients' pages; logout clears it (the logout button and the login
//   page, in offline-diary.js);
// - the app's static files (styles, scripts, icons: nothing of a patient), "tmr-static".
//
// Entries logged offline are not kept here but by the page (offline-diary.js, IndexedDB), which
// sends them on opening, on the `online` event and on "Send now": Safari has no Background
// Sync, and nothing here relies on it.

const PAGES_PREFIX = "tmr-pages-";
const STATIC_CACHE = "tmr-static";
const OFFLINE_PAGES = ["/painlog/", "/painlog/new/"];
const KEY_HEADER = "X-Offline-Diary";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

async function pageCaches() {
  return (await caches.keys()).filter((name) => name.startsWith(PAGES_PREFIX));
}

async function dropPages(exceptName) {
  for (const name of await pageCaches()) {
    if (name !== exceptName) await caches.delete(name);
  }
}

async function keepPage(request, response) {
  const key = response.headers.get(KEY_HEADER);
  if (!key || !/^[0-9a-f]{32}$/.test(key)) {
    // Any other answer (the login page after a session ended, another person's role): the
    // pages kept so far must not outlive the session they were shown in.
    if (response.redirected || response.type === "opaqueredirect") await dropPages(null);
    return;
  }
  const name = PAGES_PREFIX + key;
  await dropPages(name);
  const headers = new Headers({
    "Content-Type": response.headers.get("Content-Type") || "text/html; charset=utf-8",
    "X-Kept-At": new Date().toISOString(),
  });
  const body = await response.text();
  const cache = await caches.open(name);
  await cache.put(new URL(request.url).pathname, new Response(body, { headers }));
}

async function keptPage(request) {
  const names = await pageCaches();
  if (names.length !== 1) return null;
  const cache = await caches.open(names[0]);
  const kept = await cache.match(new URL(request.url).pathname);
  if (!kept) return null;
  // Marks the copy for the page script, which says it is not live and hides its old messages.
  const keptAt = kept.headers.get("X-Kept-At") || "";
  const body = (await kept.text()).replace(
    /<html lang="([^"]*)"/,
    (tag) => `${tag} data-offline-copy="${keptAt.replace(/[^0-9TZ:.-]/g, "")}"`,
  );
  return new Response(body, { headers: { "Content-Type": kept.headers.get("Content-Type") } });
}

// In English unless a kept page gives the words in the patient's language (notKept).
const NOT_KEPT_TEXT = {
  lang: "en",
  notKeptTitle: "No connection",
  notKept: "This page was not kept on this phone. Open your pain log once with a connection, " +
    "and it will open without one next time.",
};

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

async function notKept() {
  // The kept home page carries the offline diary's words as JSON (templates/painlog/
  // _offline_queue.html), escaped by json_script so that no tag can end it early.
  const text = { ...NOT_KEPT_TEXT };
  const names = await pageCaches();
  if (names.length === 1) {
    const home = await (await caches.open(names[0])).match(OFFLINE_PAGES[0]);
    const body = home ? await home.text() : "";
    const words = body.match(/<script id="offline-diary-text" type="application\/json">([^<]*)<\/script>/);
    const lang = body.match(/<html lang="([\w-]+)"/);
    try {
      if (words) Object.assign(text, JSON.parse(words[1]));
      if (lang) text.lang = lang[1];
    } catch (error) {
      // A damaged copy: the English words stay.
    }
  }
  const title = escapeHtml(text.notKeptTitle);
  return `<!doctype html><html lang="${escapeHtml(text.lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · TMR Clinic</title></head>
<body><main><h1>${title}</h1><p>${escapeHtml(text.notKept)}</p></main></body></html>`;
}

async function openPage(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const kept = await keptPage(request);
    if (kept) return kept;
    return new Response(await notKept(), {
      status: 503,
      headers: { "Content-Type": "text/html; charset=utf-8" },
    });
  }
  // Kept before the page is shown: a copy half written when the signal goes is no copy.
  await keepPage(request, response.clone()).catch(() => {});
  return response;
}

async function openStatic(request) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const copy = response.clone();
      caches.open(STATIC_CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  } catch (error) {
    const kept = await caches.match(request, { cacheName: STATIC_CACHE });
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && OFFLINE_PAGES.includes(url.pathname)) {
    event.respondWith(openPage(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(openStatic(request));
  }
});
