// Started from <head>, before the page's modules load: the dashboard and its widgets' data are
// asked for at once (one batched request for every widget), so the answers are on their way
// while the browser is still fetching Chart.js, gridstack and the page's modules. view.js takes
// these promises; a failed one (null) is asked again through api.js, which reports why.
(function prefetch() {
  const me = document.currentScript;
  const id = Number(me && me.dataset.id);
  if (!id) return;
  const meta = document.querySelector('meta[name="csrf-token"]');
  const json = (response) => (response.ok ? response.json() : null);
  const headers = { Accept: "application/json" };
  window.__dashboardPrefetch = {
    id,
    model: fetch(`/admin/api/dashboards/${id}`, { headers, credentials: "same-origin" }).then(json).catch(() => null),
    data: fetch("/admin/api/widgets/query", {
      method: "POST", credentials: "same-origin",
      headers: { ...headers, "Content-Type": "application/json", "X-CSRFToken": meta ? meta.content : "" },
      body: JSON.stringify({ dashboard: id }),
    }).then(json).catch(() => null),
  };
}());
