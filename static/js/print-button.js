// Buttons marked data-print print the page. They stay hidden without JavaScript, where the
// page says to use the browser's Print instead.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
