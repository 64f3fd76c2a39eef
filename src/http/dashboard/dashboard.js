// The creni-node dashboard: reads the node's JSON API every few seconds and draws it. Self-contained (no library,
// nothing from another origin). Write actions are shown only once an operator token has been entered; the token
// stays in this page's memory.
"use strict";

const REFRESH_MS = 5000;
const STATES = ["received", "processing", "written", "forwarding", "done", "rejected", "forward_failed", "forward_unknown"];
let token = "";

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name === "class") node.className = value; else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.json();
}

function replaceRows(table, rows) {
  const body = table.querySelector("tbody");
  body.replaceChildren(...rows);
}

function drawCounts(status) {
  const gateways = [...new Set(status.counts.map((c) => c.gateway))].sort();
  const table = document.getElementById("gateway-counts");
  table.querySelector("thead").replaceChildren(
    element("tr", {}, element("th", {}, "gateway"), ...STATES.map((s) => element("th", { class: "number" }, s))));
  replaceRows(table, gateways.map((gateway) => element("tr", {},
    element("th", {}, gateway),
    ...STATES.map((state) => {
      const found = status.counts.find((c) => c.gateway === gateway && c.state === state);
      const count = found ? found.count : 0;
      const tone = count > 0 && (state === "rejected" || state.startsWith("forward_")) ? " bad" : "";
      return element("td", { class: "number" + tone, "data-gateway": gateway, "data-state": state }, count);
    }))));
}

function drawNode(status) {
  const node = status.node;
  const line = document.getElementById("node-line");
  if (!node) {
    line.textContent = "node: not running";
    return;
  }
  const up = Math.round((node.updated_ms - node.started_ms) / 1000);
  line.textContent = `pid ${node.pid}, up ${up} s, ${node.workers} worker(s), SCP port ${node.scp_port}: ` +
    `${node.active_associations} association(s), ${node.images_received} received, ${node.files_taken} file(s) taken, ` +
    `${node.images_written} written since start`;
}

function drawPerMinute(activity) {
  const holder = document.getElementById("per-minute");
  const gateways = [...new Set(activity.per_minute.map((m) => m.gateway))].sort();
  if (gateways.length === 0) {
    holder.replaceChildren(element("p", { class: "muted" }, "no arrivals in the last hour"));
    return;
  }
  const first = Math.floor(activity.since_ms / 60000) * 60000;
  const charts = gateways.map((gateway) => {
    const counts = new Array(61).fill(0);
    for (const m of activity.per_minute.filter((p) => p.gateway === gateway)) {
      const slot = Math.round((m.minute_ms - first) / 60000);
      if (slot >= 0 && slot < counts.length) counts[slot] += m.count;
    }
    const peak = Math.max(1, ...counts);
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", `0 0 ${counts.length * 10} 100`);
    svg.setAttribute("preserveAspectRatio", "none");
    counts.forEach((count, i) => {
      const bar = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      const height = (count / peak) * 100;
      bar.setAttribute("x", i * 10 + 1);
      bar.setAttribute("y", 100 - height);
      bar.setAttribute("width", 8);
      bar.setAttribute("height", height);
      const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = `${count} image(s)`;
      bar.append(title);
      svg.append(bar);
    });
    const total = counts.reduce((a, b) => a + b, 0);
    return element("div", { class: "chart", "data-gateway": gateway },
      element("div", {}, `gateway ${gateway}: ${total} in the hour, peak ${peak}/min`), svg);
  });
  holder.replaceChildren(...charts);
}

function seconds(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function drawLatency(activity) {
  replaceRows(document.getElementById("latency"), activity.latency.map((l) => element("tr", {},
    element("td", {}, l.gateway), element("td", { class: "number" }, l.jobs),
    element("td", { class: "number" }, seconds(l.p50_ms)), element("td", { class: "number" }, seconds(l.p95_ms)))));
}

function drawDestinations(status, activity) {
  replaceRows(document.getElementById("destinations"), status.destinations.map((d) => {
    const last = activity.last_forwards.find((f) => f.destination === d.name);
    const outcome = last ? `${last.state} ${last.updated}` + (last.state === "done" ? "" : `: ${last.phase} ${last.detail}`) : "none yet";
    const tone = !last ? "muted" : last.state === "done" ? "good" : "bad";
    return element("tr", { "data-destination": d.name },
      element("td", {}, d.name), element("td", { class: "number" }, d.sent), element("td", { class: "number" }, d.failed),
      element("td", { class: "number" }, d.unknown), element("td", { class: "number" }, d.waiting),
      element("td", { class: tone }, outcome));
  }));
}

function drawErrors(status) {
  const list = document.getElementById("last-errors");
  if (status.last_errors.length === 0) {
    list.replaceChildren(element("li", { class: "muted" }, "none"));
    return;
  }
  list.replaceChildren(...status.last_errors.map((job) => element("li", {},
    element("strong", {}, `job ${job.id}`), ` gateway ${job.gateway}, ${job.updated}: `,
    element("span", { class: "bad" }, job.reason), job.detail ? ` (${job.detail})` : "")));
}

function actionsFor(job) {
  if (job.state === "rejected") return ["reprocess", "discard"];
  return ["reprocess", "resend"];  // forward_unknown, forward_failed
}

function drawActionable(jobs) {
  replaceRows(document.getElementById("actionable"), jobs.map((job) => element("tr", { "data-job": job.id },
    element("td", {}, job.id), element("td", {}, job.gateway), element("td", { class: "state bad" }, job.state),
    element("td", {}, job.reason || job.detail || ""),
    element("td", { class: "actions" }, ...actionsFor(job).map((action) =>
      element("button", { type: "button", "data-action": action, "data-job": job.id }, action))),
    element("td", { class: "wide" }, job.updated))));
}

async function act(action, id) {
  const result = document.getElementById("action-result");
  try {
    const response = await fetch(`/api/jobs/${id}/${action}`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    const body = await response.json();
    result.textContent = response.ok ? `${action} job ${id}: ${body.changed} changed` : `${action} job ${id}: ${body.error}`;
    result.className = response.ok ? "good" : "bad";
  } catch (error) {
    result.textContent = `${action} job ${id}: ${error.message}`;
    result.className = "bad";
  }
  refresh();
}

async function refresh() {
  try {
    const [status, activity, rejected, unknown, failed] = await Promise.all([
      getJson("/api/status"), getJson("/api/activity"), getJson("/api/jobs?state=rejected&limit=50"),
      getJson("/api/jobs?state=forward_unknown&limit=50"), getJson("/api/jobs?state=forward_failed&limit=50")]);
    drawNode(status);
    drawCounts(status);
    drawPerMinute(activity);
    drawLatency(activity);
    drawDestinations(status, activity);
    drawErrors(status);
    drawActionable([...rejected.jobs, ...unknown.jobs, ...failed.jobs].sort((a, b) => b.id - a.id));
    document.getElementById("refreshed").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = "true";
  } catch (error) {
    document.getElementById("refreshed").textContent = `cannot refresh: ${error.message}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    token = document.getElementById("token").value.trim();
    document.body.classList.toggle("can-act", token.length > 0);
  });
  document.getElementById("actionable").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) act(button.dataset.action, button.dataset.job);
  });
  refresh();
  setInterval(refresh, REFRESH_MS);
});
