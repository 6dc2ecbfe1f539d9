// The export job page: asks the job's status (data-status-url) every two seconds and moves the
// bar, the counts and the time left; shows the download or the reason it failed when it ends.
// Without JavaScript the page refreshes itself instead (<noscript> meta refresh).
// In a function of its own: every page's classic scripts share one global scope, and two
// top-level names alike (status, panel) would stop the second script from running.
(() => {
const section = document.querySelector("[data-export-job]");
if (section && section.dataset.finished !== "true") {
  const bar = section.querySelector("[data-export-bar]");
  const show = (selector, on) => {
    const element = section.querySelector(selector);
    if (element) element.hidden = !on;
  };
  const update = (job) => {
    bar.value = job.percent;
    bar.textContent = `${job.percent}%`;
    section.querySelector("[data-export-percent]").textContent = `· ${job.percent}%`;
    section.querySelector("[data-export-label]").textContent = job.label;
    // The words come translated from the server, in the page's language.
    section.querySelector("[data-export-count]").textContent = job.count ? `· ${job.count}` : "";
    section.querySelector("[data-export-time-left]").textContent = job.time_left
      ? `· ${job.time_left}`
      : "";
    show("[data-export-waiting]", job.status === "queued");
    if (!job.finished) return false;
    if (job.status === "failed") {
      section.querySelector("[data-export-error]").textContent = job.error;
    }
    show("[data-export-download]", job.status === "done");
    show("[data-export-failed]", job.status === "failed");
    show("[data-export-retry]", job.status === "failed" || job.status === "expired");
    return true;
  };
  const poll = async () => {
    try {
      const response = await fetch(section.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok && update(await response.json())) return;
    } catch {
      // A dropped connection: try again at the next tick.
    }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 1000);
}
})();
