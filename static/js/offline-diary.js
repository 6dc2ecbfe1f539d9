// The offline diary, page side (every page loads it; base.html's <meta name="offline-diary">
// says whose pages these are). Without JavaScript none of this runs and the forms post as usual.
//
// For a patient: registers the service worker (static/js/service-worker.js), keeps the page's
// styles and scripts for offline use, and keeps the pain entries logged without a connection
// in IndexedDB, each with its submission id and the time Save was tapped, until the server has
// them: sent when a page opens, on the `online` event and on "Send now" (no Background Sync,
// which Safari lacks). The server stores a submission id once, so sending again is safe.
//
// Nothing of one patient is shown to another: entries and pages are kept under the patient's
// key, and another key, a staff login or a logout clears them.

// In a function of its own: every page's classic scripts share one global scope, and two
// top-level names alike (status, panel) would stop the second script from running.
(() => {
const DB_NAME = "tmr-offline-diary";
const QUEUE = "queue";
const PAGES_PREFIX = "tmr-pages-";
const STATIC_CACHE = "tmr-static";
const LOGGED_OUT = "tmr-offline-diary-logged-out";
const RETRY_SECONDS = 10;
// The longest a logout waits for the phone to forget the diary (a slow phone finishes it on the
// login page).
const LOGOUT_WAIT_MS = 3000;

const meta = document.querySelector('meta[name="offline-diary"]');
const patientKey = meta ? meta.content : "";
const signedIn = meta ? meta.dataset.signedIn === "yes" : false;
const offlineCopy = document.documentElement.dataset.offlineCopy;

function openQueue() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(QUEUE, { keyPath: "submission_id" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withQueue(mode, work) {
  const db = await openQueue();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(QUEUE, mode);
      const result = work(transaction.objectStore(QUEUE));
      transaction.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      transaction.onerror = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

const allQueued = () => withQueue("readonly", (store) => store.getAll());
const putQueued = (entry) => withQueue("readwrite", (store) => store.put(entry));
const removeQueued = (id) => withQueue("readwrite", (store) => store.delete(id));

async function forgetOthers(key) {
  // Another person's entries and pages go as soon as someone else's page opens.
  for (const entry of await allQueued()) {
    if (entry.owner !== key) await removeQueued(entry.submission_id);
  }
  for (const name of await caches.keys()) {
    if (name.startsWith(PAGES_PREFIX) && name !== PAGES_PREFIX + key) await caches.delete(name);
  }
}

async function forgetEverything() {
  for (const name of await caches.keys()) await caches.delete(name);
  await new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(DB_NAME);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
  if (navigator.serviceWorker) {
    for (const registration of await navigator.serviceWorker.getRegistrations()) {
      await registration.unregister();
    }
  }
}

async function forgetPages() {
  for (const name of await caches.keys()) {
    if (name.startsWith(PAGES_PREFIX)) await caches.delete(name);
  }
}

// ---- The queue on the page ----

const panel = document.querySelector("[data-offline-queue]");
const list = panel && panel.querySelector("[data-offline-list]");
const status = panel && panel.querySelector("[data-offline-status]");
const waiting = panel && panel.querySelector("[data-offline-waiting]");
const sendButton = panel && panel.querySelector("[data-offline-send]");
const banner = document.querySelector("[data-offline-banner]");
// The words come with the page, in the patient's language (templates/painlog/_offline_queue.html).
const textElement = document.getElementById("offline-diary-text");
const text = textElement ? JSON.parse(textElement.textContent) : {};

function fill(template, values) {
  return (template || "").replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));
}

function say(text) {
  if (!status) return;
  status.textContent = text;
  status.hidden = !text;
}

function tapTime(entry) {
  return new Date(entry.tapped_at).toLocaleString(document.documentElement.lang || undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
}

async function showQueue() {
  if (!panel) return;
  const entries = (await allQueued())
    .filter((entry) => entry.owner === patientKey)
    .sort((a, b) => a.tapped_at.localeCompare(b.tapped_at));
  list.replaceChildren();
  for (const entry of entries) {
    const item = document.createElement("li");
    item.className = "list-group-item py-3";
    const what = document.createElement("div");
    what.textContent = fill(text.entry, {
      when: tapTime(entry),
      phantom: entry.fields.phantom_pain,
      residual: entry.fields.residual_pain,
    });
    const state = document.createElement("div");
    item.append(what, state);
    if (entry.refused) {
      state.className = "text-danger fw-semibold";
      state.textContent = fill(text.notSaved, { reason: entry.refused });
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-outline-secondary mt-2";
      remove.textContent = text.remove;
      remove.addEventListener("click", async () => {
        await removeQueued(entry.submission_id);
        showQueue();
      });
      item.append(remove);
    } else {
      state.className = "fw-semibold";
      state.textContent = text.waiting;
    }
    list.append(item);
  }
  waiting.hidden = entries.length === 0;
  if (sendButton) sendButton.hidden = !entries.some((entry) => !entry.refused);
}

function csrfToken() {
  // The cookie is always the current one; a kept page's form may hold a token of an older login.
  const cookie = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : "";
}

let sending = false;

async function sendQueued() {
  if (!panel || sending || !patientKey) return;
  sending = true;
  let sent = 0;
  try {
    for (const entry of await allQueued()) {
      if (entry.owner !== patientKey || entry.refused) continue;
      const body = new URLSearchParams();
      for (const [name, value] of Object.entries(entry.fields)) {
        for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
      }
      body.set("submission_id", entry.submission_id);
      body.set("recorded_at", entry.recorded_at || entry.tapped_at);
      let response;
      try {
        response = await fetch(panel.dataset.sendUrl, {
          method: "POST",
          body,
          credentials: "same-origin",
          redirect: "manual",
          headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        });
      } catch (error) {
        say(text.noConnection);
        return;
      }
      if (response.type === "opaqueredirect" || response.status === 403) {
        say(text.logInAgain);
        return;
      }
      const answer = await response.json().catch(() => ({}));
      if (response.ok && answer.saved) {
        await removeQueued(entry.submission_id);
        sent += 1;
      } else if (response.status === 400) {
        entry.refused = answer.message || text.refused;
        await putQueued(entry);
      } else {
        say(text.noAnswer);
        return;
      }
    }
    if (sent) {
      // The connection is back: the kept copy's notice would now say the opposite.
      if (banner) banner.hidden = true;
      say(fill(sent === 1 ? text.sentOne : text.sentMany, { count: sent }));
      const reload = panel.querySelector("[data-offline-reload]");
      if (reload) reload.hidden = false;
    }
  } finally {
    sending = false;
    await showQueue();
  }
}

// ---- Logging without a connection ----

function newSubmissionId(form) {
  const field = form.querySelector('input[name="submission_id"]');
  if (field && crypto.randomUUID) field.value = crypto.randomUUID();
}

function keepOffline(form) {
  form.addEventListener("submit", async (event) => {
    // Online, the form posts as it does without JavaScript. A kept copy always goes through the
    // queue: its form's token may be older than the login.
    if (navigator.onLine && !offlineCopy) return;
    const data = new FormData(form);
    event.preventDefault();
    if (!data.get("phantom_pain") || !data.get("residual_pain")) {
      say(text.chooseBoth);
      if (panel) panel.focus();
      return;
    }
    const fields = {};
    for (const [name, value] of data.entries()) {
      if (name === "csrfmiddlewaretoken" || name === "submission_id") continue;
      fields[name] = fields[name] === undefined ? value : fields[name];
    }
    const sensations = data.getAll("sensations");
    const tappedAt = new Date().toISOString();
    const timeField = form.querySelector('input[name="recorded_at"]');
    const entry = {
      submission_id: data.get("submission_id") || crypto.randomUUID(),
      owner: patientKey,
      tapped_at: tappedAt,
      // A time the patient chose stays theirs; otherwise the entry is of the moment of the tap.
      recorded_at: timeField && timeField.value !== timeField.defaultValue ? timeField.value : tappedAt,
      fields,
    };
    if (sensations.length) entry.fields.sensations = sensations;
    await putQueued(entry);
    form.reset();
    newSubmissionId(form);
    say(text.savedHere);
    await showQueue();
    if (navigator.onLine) sendQueued();
    if (panel) panel.focus();
  });
}

// ---- Install ----

function offerInstall() {
  const hint = document.querySelector("[data-install-hint]");
  if (!hint) return;
  let offer = null;
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    offer = event;
    hint.hidden = false;
  });
  window.addEventListener("appinstalled", () => {
    hint.hidden = true;
  });
  hint.querySelector("button").addEventListener("click", async () => {
    if (!offer) return;
    offer.prompt();
    await offer.userChoice;
    offer = null;
    hint.hidden = true;
  });
}

async function keepThisPagesFiles() {
  const urls = [...document.querySelectorAll('link[rel="stylesheet"], script[src], link[rel="icon"]')]
    .map((element) => element.href || element.src)
    .filter((url) => new URL(url).origin === location.origin);
  const cache = await caches.open(STATIC_CACHE);
  await cache.addAll(urls);
}

async function start() {
  if (!("indexedDB" in window) || !("caches" in window)) return;
  // The logout button's form: the queue, the kept pages and the service worker go before the
  // logout is sent (at most a few seconds: logging out never waits on them for long), and the
  // login page finishes whatever was left. Not a Clear-Site-Data header: Chromium can hold the
  // next page for many seconds while it acts on one.
  document.querySelectorAll('form[action$="/logout/"]').forEach((form) => {
    form.addEventListener("submit", (event) => {
      sessionStorage.setItem(LOGGED_OUT, "yes");
      if (form.dataset.cleared) return;
      event.preventDefault();
      form.dataset.cleared = "yes";
      const enough = new Promise((resolve) => setTimeout(resolve, LOGOUT_WAIT_MS));
      Promise.race([forgetEverything().catch(() => {}), enough]).then(() => form.submit());
    });
  });
  if (!patientKey) {
    if (signedIn || sessionStorage.getItem(LOGGED_OUT)) {
      sessionStorage.removeItem(LOGGED_OUT);
      await forgetEverything();
    } else {
      // Signed out (a session that ended): no page of the last patient stays readable. Their
      // unsent entries stay, unreadable here, until they log in again.
      await forgetPages();
    }
    return;
  }
  await forgetOthers(patientKey);
  document.querySelectorAll("form[data-offline-form]").forEach((form) => {
    if (offlineCopy) newSubmissionId(form);
    keepOffline(form);
  });
  if (offlineCopy) {
    document.querySelectorAll(".messages").forEach((messages) => (messages.hidden = true));
    if (banner) banner.hidden = false;
  }
  if (sendButton) sendButton.addEventListener("click", sendQueued);
  const reload = panel && panel.querySelector("[data-offline-reload]");
  if (reload) reload.addEventListener("click", () => location.reload());
  window.addEventListener("online", sendQueued);
  // `online` is not enough: a phone with one bar says it is online and is not, and says nothing
  // when the bar becomes a signal. While entries wait, the page tries again now and then.
  setInterval(() => {
    if (!waiting || !waiting.hidden) sendQueued();
  }, RETRY_SECONDS * 1000);
  offerInstall();
  await showQueue();
  if ("serviceWorker" in navigator && meta.dataset.worker) {
    navigator.serviceWorker.register(meta.dataset.worker, { scope: "/" }).catch(() => {});
  }
  if (!offlineCopy) keepThisPagesFiles().catch(() => {});
  if (navigator.onLine) sendQueued();
}

start();
})();
