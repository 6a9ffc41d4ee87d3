// The dashboards list: every dashboard the user may see; admins create one (empty, or from an
// export's JSON) and open it.
import { api, toast } from "../api.js";

const list = document.getElementById("dash-list");

function row(d) {
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
  return li;
}

async function load() {
  const body = await api.get("/admin/api/dashboards");
  list.replaceChildren(...body.dashboards.map(row));
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
