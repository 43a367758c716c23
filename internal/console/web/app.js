// The web view reads three JSON endpoints of the daemon and changes nothing.
"use strict";

function text(id, value) { document.getElementById(id).textContent = value; }

function cell(tr, value) {
  const td = document.createElement("td");
  td.textContent = value;
  tr.appendChild(td);
}

function fmt(n, digits) {
  return n < 0 ? "?" : n.toLocaleString("en", { maximumFractionDigits: digits || 0 });
}

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  const body = await r.json();
  if (!r.ok) { throw new Error(body.error || r.statusText); }
  return body;
}

async function refreshFigures() {
  try {
    const f = await getJSON("api/figures");
    text("fig-rate", fmt(f.messages_per_second, 1));
    text("fig-online", fmt(f.online_resources));
    text("fig-groups", fmt(f.groups));
    text("fig-lag", fmt(f.projection_lag));
    text("fig-messages", fmt(f.messages));
    text("fig-errors", fmt(f.errors));
    const link = document.getElementById("link");
    link.textContent = f.link_connected ? "link: up" : "link: down";
    link.className = "badge " + (f.link_connected ? "up" : "down");
    text("updated", "updated " + new Date(f.time).toLocaleTimeString());
    document.body.dataset.figures = "loaded";
  } catch (e) {
    text("updated", "figures unavailable: " + e.message);
  }
}

async function refreshGroups() {
  try {
    const groups = await getJSON("api/groups");
    const body = document.querySelector("#groups tbody");
    body.replaceChildren();
    for (const g of groups) {
      const tr = document.createElement("tr");
      tr.className = "pick";
      tr.dataset.group = g.id;
      cell(tr, g.id);
      cell(tr, g.name);
      cell(tr, g.type);
      cell(tr, g.members);
      cell(tr, new Date(g.updated_at).toLocaleString());
      tr.addEventListener("click", () => showAudit(g.id));
      body.appendChild(tr);
    }
    document.body.dataset.groups = "loaded";
  } catch (e) {
    text("audit-status", "groups unavailable: " + e.message);
  }
}

let auditGroup = new URLSearchParams(location.search).get("group") || "";

async function showAudit(group) {
  auditGroup = group;
  document.getElementById("audit-input").value = group;
  history.replaceState(null, "", "?group=" + encodeURIComponent(group));
  text("audit-group", group);
  const body = document.querySelector("#audit tbody");
  try {
    const entries = await getJSON("api/audit?group=" + encodeURIComponent(group));
    body.replaceChildren();
    for (const e of entries) {
      const tr = document.createElement("tr");
      tr.dataset.action = e.action;
      cell(tr, new Date(e.time).toLocaleString());
      cell(tr, e.actor + (e.resource ? "/" + e.resource : ""));
      cell(tr, e.action);
      const details = [];
      if (e.name) { details.push('name "' + e.name + '"'); }
      if (e.owner) { details.push("new owner " + e.owner); }
      for (const m of e.members || []) { details.push(m.jid + " (" + m.role + ")"); }
      cell(tr, details.join("; "));
      body.appendChild(tr);
    }
    text("audit-status", entries.length + " changes");
    document.body.dataset.audit = group;
  } catch (e) {
    body.replaceChildren();
    text("audit-status", e.message);
  }
}

document.getElementById("audit-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const g = document.getElementById("audit-input").value.trim();
  if (g) { showAudit(g); }
});

refreshFigures();
refreshGroups();
if (auditGroup) { showAudit(auditGroup); }
setInterval(refreshFigures, 2000);
setInterval(refreshGroups, 5000);
setInterval(() => { if (auditGroup) { showAudit(auditGroup); } }, 5000);
