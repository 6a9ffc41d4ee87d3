// What a page does once its session has ended (a logout in another tab, an expired session, a
// password change): it says so once, with a link back in, and shows no stale figures meanwhile.
//
// api.js calls endSession() on any 401; live.js on the socket's `error` "unauthorized" or a
// refused reconnect. After that every API call fails at once without asking the server, so
// timers and refreshes cannot pile up error toasts.
const CHECK_URL = "/admin/api/alerts/count";
let ended = false;

/** True once the page knows its session has ended. */
export function sessionEnded() {
  return ended;
}

function loginLink() {
  const here = `${window.location.pathname}${window.location.search}`;
  return `/admin/login?next=${encodeURIComponent(here)}`;
}

/** Switch the page to its "session ended" state (idempotent): one message, no stale data. */
export function endSession() {
  if (ended) return;
  ended = true;
  document.body.dataset.session = "ended";
  // Errors raised by the calls that found out are beside the point now.
  for (const item of document.querySelectorAll("#toasts .toast")) item.remove();
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  const box = document.createElement("section");
  box.id = "session-ended";
  box.className = "card session-ended";
  box.setAttribute("role", "alert");
  const title = document.createElement("h1");
  title.textContent = "Your session has ended";
  const text = document.createElement("p");
  text.textContent = "You were logged out (perhaps in another tab), so this page stopped showing data. ";
  const link = document.createElement("a");
  link.href = loginLink();
  link.className = "btn btn-primary";
  link.textContent = "Log in again";
  box.append(title, text, link);
  const main = document.getElementById("main") || document.body;
  main.prepend(box);
  document.dispatchEvent(new CustomEvent("live:session-ended"));
}

/**
 * Ask the server whether this session still works (after a refused POST, or ⟳ on an ended
 * page). Ends the page's session when it does not; true while it works.
 */
export async function checkSession() {
  try {
    const response = await fetch(CHECK_URL, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      endSession();
      return false;
    }
    return true;
  } catch (err) {
    return !ended; // the server cannot be reached: that says nothing about the session
  }
}
