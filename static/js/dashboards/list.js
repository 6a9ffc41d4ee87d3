// The dashboards list: every dashboard the user may see; admins create one (empty, or from an
// export's JSON) and open it. Anyone may pick one as their home: where they land after signing in.
import { api, toast } from "../api.js";

const list = document.getElementById("dash-list");

function homeButton(d, isHome) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-small";
  button.textContent = isHome ? "Use the Overview as home" : "Make this my home";
  button.addEventListener("click", async () => {
    try {
      await api.put("/admin/api/dashboards/home", { dashboard_id: isHome ? null : d.id });
      toast(isHome ? "You will land on the Overview after signing in" : `You will land on “${d.title}” after signing in`, "success");
      load();
    } catch (err) { /* toast shown */ }
  });
  return button;
}

function row(d, home) {
  const li = document.createElement("li");
  li.className = "dash-row";
  const link = document.createElement("a");
  link.href = `/admin/dashboards/${d.id}`;
  link.textContent = d.title;
  const meta = document.createElement("span");
  meta.className = "muted";
  const who = { private: "private", roles: `shared with ${d.shared_roles.join(", ")}`, public: "public link" }[d.visibility];
  meta.textContent = ` · ${who}${d.is_default ? " · default layout" : ""} · version ${d.version}`;
  li.append(link, meta);
  if (d.id === home) {
    const badge = document.createElement("span");
    badge.className = "pill dash-home";
    badge.textContent = "your home";
    li.append(" ", badge);
  }
  li.append(" ", homeButton(d, d.id === home));
  li.dataset.dashboard = String(d.id);
  return li;
}

async function load() {
  const body = await api.get("/admin/api/dashboards");
  list.replaceChildren(...body.dashboards.map((d) => row(d, body.home)));
  if (!body.dashboards.length) list.textContent = "No dashboard is shared with you yet.";
}

const form = document.getElementById("dash-create");
if (form) {
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const title = form.elements.title.value.trim();
    const json = form.elements.import.value.trim();
    try {
      const body = json
        ? await api.post("/admin/api/dashboards/import", { ...JSON.parse(json), ...(title ? { title } : {}) })
        : await api.post("/admin/api/dashboards", { title, widgets: [] });
      window.location.href = `/admin/dashboards/${body.dashboard.id}`;
    } catch (err) {
      if (err instanceof SyntaxError) toast(`The export is not JSON: ${err.message}`, "error");
    }
  });
}

load();
