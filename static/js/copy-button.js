// Buttons with data-copy put that text on the clipboard and say so in the [data-copy-status]
// element (a live region). Hidden without JavaScript, where the text can be selected as usual.
// In a function of its own: every page's classic scripts share one global scope, and two
// top-level names alike (status, panel) would stop the second script from running.
(() => {
const status = document.querySelector("[data-copy-status]");
document.querySelectorAll("[data-copy]").forEach((button) => {
  if (!navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      if (status) status.textContent = button.dataset.copied || "Copied";
    } catch {
      // The page gives the words in its language (data-copy-failed); English without them.
      if (status) {
        status.textContent =
          status.dataset.copyFailed || "Copying did not work: select the text and copy it.";
      }
    }
  });
});
})();
