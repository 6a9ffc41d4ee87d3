// Wide tables scroll sideways inside their card (.table-scroll, and the .chart-table of every
// "Show as table"). When a table is wider than its card, a line under it says so, a fade marks
// the side with more columns, and the first (key) column stays in place (tables.css), so a
// phone never shows two columns with no sign that the rest exists.
const BOXES = ".table-scroll, .chart-table";
const wired = new WeakSet();

/** Mark `box` with what is hidden to its left and right, and show or hide its hint line. */
function update(box) {
  const hidden = box.scrollWidth - box.clientWidth;
  const more = hidden > 1 && box.clientWidth > 0;
  box.classList.toggle("scrolls", more);
  box.classList.toggle("more-left", more && box.scrollLeft > 1);
  box.classList.toggle("more-right", more && box.scrollLeft < hidden - 1);
  const hint = box.nextElementSibling;
  if (hint && hint.classList.contains("scroll-hint")) hint.hidden = !more;
}

function wire(box) {
  if (wired.has(box)) return;
  wired.add(box);
  const hint = document.createElement("p");
  hint.className = "scroll-hint muted";
  hint.hidden = true;
  hint.textContent = "Scroll sideways for more columns ⇆";
  box.after(hint);
  box.addEventListener("scroll", () => update(box), { passive: true });
  // Rows arrive later (and "Show as table" replaces the whole table): check again when they do.
  new MutationObserver(() => update(box)).observe(box, { childList: true, subtree: true });
  update(box);
}

function wireAll() {
  for (const box of document.querySelectorAll(BOXES)) wire(box);
}

wireAll();
// Widths measured before the last stylesheet or font arrived are measured again.
window.addEventListener("load", () => document.querySelectorAll(BOXES).forEach(update));
// A box that changes width (a turned phone) or is shown later ("Show as table", a dialog) is
// measured again then.
if (typeof ResizeObserver === "function") {
  const resized = new ResizeObserver((entries) => {
    for (const entry of entries) update(entry.target);
  });
  for (const box of document.querySelectorAll(BOXES)) resized.observe(box);
}
