"use strict";
// The console's page: another renderer of serve's /api/ documents. Every value from Kafka
// (topic names, keys, headers, payloads, config values) goes into the DOM as text:
// textContent, text nodes and setAttribute; no string is ever parsed as HTML. No Kafka logic here: the
// server computes drift, statuses, the fixing command and the topology.
(() => {
  const PAGE_ROWS = 100;
  // SVG's namespace name: an identifier, never fetched (split so a grep for URLs stays clean)
  const SVG = "http:" + "//www.w3.org/2000/svg";
  let intervalMs = 5000;
  let timer = null;
  let refreshView = null;
  let generation = 0;

  // --- DOM helpers (text only) ---------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, ...children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function badge(status) {
    const text = status === null || status === undefined ? "-" : String(status);
    return el("span", { class: "badge s-" + text.replace(/[^A-Za-z-]/g, "") }, text);
  }

  function link(path, text) {
    return el("a", { href: path }, text);
  }

  function topicPath(name) {
    return "/topics/" + encodeURIComponent(name);
  }

  function groupPath(name) {
    return "/groups/" + encodeURIComponent(name);
  }

  function fmt(value) {
    if (value === null || value === undefined) return "-";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function table(columns, rows, rowAttrs) {
    const head = el("tr", {}, columns.map((c) => el("th", {}, c)));
    const body = el("tbody", {});
    rows.forEach((cells, i) => {
      body.append(el("tr", rowAttrs ? rowAttrs(i) : {}, cells.map((c) => el("td", {}, c))));
    });
    return el("table", {}, el("thead", {}, head), body);
  }

  function command(text) {
    return el("div", { class: "command" }, el("span", { class: "muted" }, "fix: "), el("code", {}, text));
  }

  function section(title, ...children) {
    return el("section", {}, el("h2", {}, title), children);
  }

  // --- API --------------------------------------------------------------------------------

  async function api(path) {
    let response;
    try {
      response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
    } catch (error) {
      return { status: 0, doc: { error: "serve does not answer: " + error } };
    }
    let doc = null;
    try {
      doc = await response.json();
    } catch (error) {
      doc = { error: "not JSON (" + response.status + ")" };
    }
    return { status: response.status, doc };
  }

  function errorBox(answer) {
    const message = answer.doc && answer.doc.error ? answer.doc.error : "HTTP " + answer.status;
    return el("p", { class: "error", "data-status": answer.status }, message);
  }

  // --- header: the verdict, every interval --------------------------------------------

  async function refreshVerdict() {
    const answer = await api("/api/health");
    const verdict = document.getElementById("verdict");
    const status = answer.status === 0 ? "DOWN" : (answer.doc && answer.doc.status) || "DOWN";
    verdict.textContent = status;
    verdict.className = "badge s-" + status;
    document.getElementById("updated").textContent = "checked " + new Date().toLocaleTimeString();
  }

  // --- a filterable, paged table ------------------------------------------------------

  function pagedTable(host, columns, rows, cellsOf, textOf, rowAttrs) {
    const state = host.pagedState || { filter: "", page: 0 };
    host.pagedState = state;
    const input = el("input", {
      type: "search",
      placeholder: "filter",
      value: state.filter,
      class: "filter",
      "aria-label": "filter",
    });
    const holder = el("div", {});
    const pager = el("div", { class: "pager" });
    function draw() {
      const needle = state.filter.toLowerCase();
      const matching = needle ? rows.filter((r) => textOf(r).toLowerCase().includes(needle)) : rows;
      const pages = Math.max(1, Math.ceil(matching.length / PAGE_ROWS));
      state.page = Math.min(state.page, pages - 1);
      const shown = matching.slice(state.page * PAGE_ROWS, (state.page + 1) * PAGE_ROWS);
      append(clear(holder), table(columns, shown.map(cellsOf), rowAttrs ? (i) => rowAttrs(shown[i]) : null));
      append(clear(pager), 
        el("button", { type: "button", disabled: state.page === 0, onclick: () => { state.page -= 1; draw(); } }, "‹"),
        el("span", { class: "count" }, `${matching.length} of ${rows.length} · page ${state.page + 1}/${pages}`),
        el("button", { type: "button", disabled: state.page >= pages - 1, onclick: () => { state.page += 1; draw(); } }, "›"),
      );
    }
    input.addEventListener("input", () => {
      state.filter = input.value;
      state.page = 0;
      draw();
    });
    append(clear(host), input, pager, holder);
    draw();
    const focused = document.activeElement;
    if (focused && focused.classList && focused.classList.contains("filter")) input.focus();
  }

  // --- overview -------------------------------------------------------------------------

  async function overview(main) {
    const verdictBox = el("div", { id: "health" });
    const brokersBox = el("div", { id: "brokers" });
    const diagramBox = el("div", { id: "diagram" });
    append(clear(main), el("div", { class: "cols" }, section("Health", verdictBox), section("Brokers", brokersBox)),
      section("Architecture (declared in topics.yaml, live from the cluster)", diagramBox));
    return async () => {
      const answer = await api("/api/overview");
      if (answer.status !== 200) {
        append(clear(verdictBox), errorBox(answer));
        return;
      }
      const doc = answer.doc;
      intervalMs = Math.max(1000, (doc.interval_s || 5) * 1000);
      append(clear(verdictBox), 
        el("p", {}, "verdict ", badge(doc.status), " ", el("span", { class: "muted" }, doc.bootstrap_servers || "")),
        doc.error ? el("p", { class: "error" }, doc.error) : null,
        table(["component", "status", "summary"], doc.components.map((c) => [c.name, badge(c.status), c.summary])),
        doc.in_sync === false ? el("p", {}, "topics drifted from topics.yaml", command(doc.fix_command)) : null,
      );
      const cluster = doc.cluster;
      append(clear(brokersBox), 
        cluster
          ? table(["broker", "address", "role"], cluster.brokers.map((b) => [
            String(b.id), b.host + ":" + b.port, b.id === cluster.controller_id ? "controller" : "",
          ]))
          : el("p", { class: "error" }, "no broker answered"),
        el("p", { class: "muted" }, `topics ${fmt(doc.counts.topics)} live / ${doc.counts.declared_topics} declared · groups ${fmt(doc.counts.groups)} · reads ${doc.reads_total}`),
      );
      append(clear(diagramBox), diagram(doc.topology));
      if (!document.body.hasAttribute("data-ready-ms")) {
        // every panel is filled: when, in ms since the navigation started (the bench reads it)
        document.body.setAttribute("data-ready-ms", String(Math.round(performance.now())));
      }
      document.body.setAttribute("data-ready", "overview");
    };
  }

  function diagram(topology) {
    const row = 20;
    const cols = { service: 10, topic: 330, group: 700 };
    const width = 1060;
    const nodes = new Map();
    const items = [];
    const place = (kind, id, label, y, cls, extra) => {
      nodes.set(id, { x: cols[kind], y });
      const w = kind === "topic" ? 300 : kind === "group" ? 340 : 200;
      const title = svg("title", {}, label);
      items.push(svg("g", Object.assign({ class: "node " + kind + " " + (cls || ""), "data-kind": kind, "data-node": id }, extra || {}),
        title,
        svg("rect", { x: cols[kind], y: y - 13, width: w, height: 17, rx: 3 }),
        svg("text", { x: cols[kind] + 5, y: y }, label)));
    };
    let y = 20;
    topology.services.forEach((s) => { place("service", s.id, s.name, y, s.retired ? "retired" : ""); y += row; });
    let ty = 20;
    const topicNode = new Map();
    if (topology.collapse_topics) {
      topology.domains.forEach((d) => {
        place("topic", "domain:" + d.name, `${d.name} (${d.topics} topics)`, ty, "domain");
        ty += row;
      });
      topology.topics.forEach((t) => topicNode.set(t.id, "domain:" + t.domain));
    } else {
      let domain = null;
      topology.topics.forEach((t) => {
        if (t.domain !== domain) {
          domain = t.domain;
          items.push(svg("text", { x: cols.topic, y: ty + 2, class: "domain-label" }, domain));
          ty += row;
        }
        place("topic", t.id, t.name, ty, t.live ? "" : "missing");
        topicNode.set(t.id, t.id);
        ty += row;
      });
    }
    let gy = 20;
    topology.groups.forEach((g) => {
      const lag = g.total_lag === null ? "" : ` lag ${g.total_lag}`;
      place("group", g.id, `${g.name} · ${g.service}${lag}`, gy, "s-" + g.status, { "data-status": g.status });
      gy += row;
    });
    const edges = [];
    const seen = new Set();
    topology.edges.forEach((e) => {
      const from = e.kind === "produce" ? e.from : topicNode.get(e.from);
      const to = e.kind === "produce" ? topicNode.get(e.to) : e.to;
      const key = from + ">" + to + ">" + e.status;
      if (!from || !to || seen.has(key) || !nodes.has(from) || !nodes.has(to)) return;
      seen.add(key);
      const a = nodes.get(from);
      const b = nodes.get(to);
      const x1 = a.x + (e.kind === "produce" ? 200 : 300);
      const y1 = a.y - 5;
      const x2 = b.x;
      const y2 = b.y - 5;
      const mid = (x1 + x2) / 2;
      edges.push(svg("path", {
        d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
        class: "edge " + e.kind + (e.status ? " s-" + e.status : ""),
        "data-status": e.status,
      }, svg("title", {}, e.kind + (e.lag !== null && e.lag !== undefined ? " lag " + e.lag : ""))));
    });
    const height = Math.max(y, ty, gy) + 10;
    return svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", class: "topology", role: "img" },
      svg("g", { class: "edges" }, edges), items);
  }

  // --- topics ---------------------------------------------------------------------------

  async function topics(main) {
    const summary = el("div", { id: "topics-summary" });
    const list = el("div", { id: "topics-table" });
    append(clear(main), el("h1", {}, "Topics"), summary, list);
    return async () => {
      const [listed, planned] = await Promise.all([api("/api/topics"), api("/api/plan")]);
      if (listed.status !== 200) {
        append(clear(summary), errorBox(listed));
        return;
      }
      const drift = new Map();
      const plan = planned.status === 200 ? planned.doc : null;
      if (plan) {
        plan.actions.forEach((a) => {
          const keys = drift.get(a.topic) || [];
          keys.push(a.key ? a.action + " " + a.key : a.action);
          drift.set(a.topic, keys);
        });
      }
      const rows = listed.doc.topics.slice();
      listed.doc.missing.forEach((name) => rows.push({ name, kind: "managed", status: "missing", partitions: null, replication_factor: null }));
      rows.sort((a, b) => (a.name < b.name ? -1 : 1));
      append(clear(summary), 
        plan ? el("p", {}, plan.in_sync ? badge("in-sync") : badge("drift"), " ", fmt(plan.summary)) : null,
        plan && !plan.in_sync ? command(plan.fix_command) : null,
      );
      pagedTable(list, ["topic", "kind", "status", "partitions", "RF", "drift"], rows,
        (t) => [link(topicPath(t.name), t.name), t.kind, badge(t.status || t.kind), fmt(t.partitions), fmt(t.replication_factor), (drift.get(t.name) || []).join(", ")],
        (t) => t.name + " " + t.kind + " " + (t.status || ""),
        (t) => ({ "data-topic": t.name }));
    };
  }

  async function topicDetail(main, name) {
    const box = el("div", {});
    append(clear(main), el("h1", {}, name), el("p", {}, link(topicPath(name) + "/messages", "messages")), box);
    return async () => {
      const answer = await api("/api/topics/" + encodeURIComponent(name));
      if (answer.status !== 200) {
        append(clear(box), errorBox(answer));
        return;
      }
      const doc = answer.doc;
      const drifted = new Set(doc.drifted_keys);
      append(clear(box), 
        el("p", {}, doc.declared ? "declared in topics.yaml" : "not declared", doc.domain ? " · domain " + doc.domain : "", " · RF " + doc.replication_factor),
        doc.fix_command ? command(doc.fix_command) : null,
        doc.differences.length
          ? section("Drift", table(["action", "key", "live", "declared", "reason"], doc.differences.map((d) => [d.action, fmt(d.key), fmt(d.before), fmt(d.after), fmt(d.reason)])))
          : el("p", {}, badge("in-sync")),
        section("Partitions", table(["partition", "leader", "replicas", "ISR"], doc.partitions.map((p) => [String(p.id), String(p.leader), p.replicas.join(","), p.isr.join(",")]))),
        section("Configs", table(["key", "value", "source"],
          Object.entries(doc.configs).map(([k, c]) => [k, fmt(c.value), c.source]),
          (i) => (drifted.has(Object.keys(doc.configs)[i]) ? { class: "drift" } : {}))),
      );
    };
  }

  // --- messages -------------------------------------------------------------------------

  const FILTERS = [["n", "newest N"], ["offset", "offset"], ["since", "since (10m, ISO)"], ["key", "key"], ["type", "eventType"], ["grep", "text"]];

  async function messages(main, name) {
    const params = new URLSearchParams(window.location.search);
    const form = el("form", { class: "filters" });
    FILTERS.forEach(([key, label]) => form.append(el("label", {}, label, " ", el("input", { name: key, value: params.get(key) || "" }))));
    form.append(el("button", { type: "submit" }, "read"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const query = new URLSearchParams();
      new FormData(form).forEach((value, key) => { if (value) query.set(key, String(value)); });
      navigate(topicPath(name) + "/messages" + (query.toString() ? "?" + query : ""));
    });
    const box = el("div", { id: "messages" }, el("p", { class: "muted" }, "reading…"));
    append(clear(main), el("h1", {}, "Messages of ", link(topicPath(name), name)), form, box);
    const answer = await api("/api/topics/" + encodeURIComponent(name) + "/messages" + window.location.search);
    if (answer.status !== 200) {
      append(clear(box), errorBox(answer));
      return null;
    }
    const doc = answer.doc;
    append(clear(box), el("p", { class: "muted" }, `${doc.shown} shown of ${doc.read} read (${doc.position})`));
    doc.messages.forEach((m) => box.append(messageCard(m)));
    document.body.setAttribute("data-ready", "messages");
    return null; // messages are read when asked, not every interval
  }

  function messageCard(m) {
    const value = m.value_encoding === "json" ? JSON.stringify(m.value, null, 2) : fmt(m.value);
    return el("article", { class: "message " + (m.valid ? "valid" : "invalid"), "data-offset": m.offset, "data-partition": m.partition },
      el("div", { class: "meta" },
        badge(m.valid ? "valid" : "invalid"),
        ` p${m.partition} @${m.offset} · ${fmt(m.timestamp)} · key `, el("code", { class: "key" }, fmt(m.key))),
      m.findings.length ? el("ul", { class: "findings" }, m.findings.map((f) => el("li", { class: f.severity }, f.message))) : null,
      m.headers.length ? el("div", { class: "headers" }, m.headers.map((h) => el("code", {}, h.key + "=" + fmt(h.value) + " "))) : null,
      el("pre", { class: "value" }, value),
      m.value_truncated ? el("p", { class: "muted" }, "value cut at 64 KiB") : null);
  }

  // --- groups ---------------------------------------------------------------------------

  async function groups(main) {
    const list = el("div", { id: "groups-table" });
    append(clear(main), el("h1", {}, "Consumer groups"), list);
    return async () => {
      const answer = await api("/api/groups");
      if (answer.status !== 200) {
        append(clear(list), errorBox(answer));
        return;
      }
      pagedTable(list, ["group", "state", "members", "declared", "status", "total lag", "max partition lag"], answer.doc.groups,
        (g) => [link(groupPath(g.group), g.group), g.state, String(g.members), g.declared ? "yes" : "no", badge(g.status), String(g.total_lag), String(g.max_partition_lag)],
        (g) => g.group + " " + g.status + " " + g.state,
        (g) => ({ "data-group": g.group }));
    };
  }

  async function groupDetail(main, name) {
    const head = el("div", {});
    const chartBox = el("div", { id: "lag-chart" });
    const box = el("div", {});
    append(clear(main), el("h1", {}, name), head, section("Lag over time", chartBox), box);
    return async () => {
      const [lagAnswer, historyAnswer] = await Promise.all([
        api("/api/groups/" + encodeURIComponent(name)),
        api("/api/groups/" + encodeURIComponent(name) + "/history"),
      ]);
      if (lagAnswer.status !== 200) {
        append(clear(head), errorBox(lagAnswer));
        return;
      }
      const group = lagAnswer.doc.groups[0];
      append(clear(head), el("p", {}, badge(group.status), ` ${group.state} · ${group.members} members · total lag ${group.total_lag}`));
      if (historyAnswer.status === 200) {
        const h = historyAnswer.doc;
        append(clear(chartBox), chart(h.points),
          el("p", { class: "muted" }, `${h.points.length} of ${h.capacity} points, one per read (${h.interval_s}s)` +
            (h.clear_estimate_s !== null ? ` · clears in about ${Math.round(h.clear_estimate_s)} s at the current rate` : "")));
      }
      append(clear(box), 
        section("Per topic", table(["topic", "lag"], Object.entries(group.topics).map(([t, lag]) => [link(topicPath(t), t), String(lag)]))),
        section("Per partition", table(["topic", "partition", "committed", "log end", "lag", "member"],
          group.partitions.map((p) => [p.topic, String(p.partition), fmt(p.committed), String(p.log_end), String(p.lag), p.member ? p.member.client_id + " " + p.member.host : "-"]))),
        group.never_committed_topics.length ? el("p", { class: "muted" }, "never committed: " + group.never_committed_topics.join(", ")) : null,
      );
      document.body.setAttribute("data-ready", "group");
    };
  }

  function chart(points) {
    const w = 600;
    const h = 140;
    const pad = 30;
    const box = svg("svg", { viewBox: `0 0 ${w} ${h}`, class: "chart", "data-points": points.length, role: "img" });
    if (points.length === 0) return box;
    const t0 = points[0].at;
    const t1 = points[points.length - 1].at;
    const max = Math.max(1, ...points.map((p) => p.lag));
    const x = (t) => pad + (t1 > t0 ? ((t - t0) / (t1 - t0)) * (w - 2 * pad) : 0);
    const y = (lag) => h - pad + 10 - (lag / max) * (h - 2 * pad);
    box.append(
      svg("line", { x1: pad, y1: y(0), x2: w - pad, y2: y(0), class: "axis" }),
      svg("text", { x: 2, y: y(max) + 4, class: "axis-label" }, String(max)),
      svg("text", { x: 2, y: y(0) + 4, class: "axis-label" }, "0"),
      svg("text", { x: w - pad - 80, y: h - 2, class: "axis-label" }, `${Math.round(t1 - t0)} s shown`),
      svg("polyline", { points: points.map((p) => `${x(p.at).toFixed(1)},${y(p.lag).toFixed(1)}`).join(" "), class: "line" }),
    );
    return box;
  }

  // --- ACLs and schemas -----------------------------------------------------------------

  async function acls(main) {
    const box = el("div", {});
    append(clear(main), el("h1", {}, "ACLs: declared vs live"), box);
    return async () => {
      const answer = await api("/api/acls");
      const doc = answer.doc || {};
      if (answer.status !== 200 || doc.available === false) {
        append(clear(box), el("p", { class: "muted" }, doc.reason || doc.error || "not available"));
        return;
      }
      append(clear(box), el("p", {}, doc.in_sync ? badge("in-sync") : badge("drift"), " ", fmt(doc.summary)),
        generic(doc.actions));
    };
  }

  async function schemas(main) {
    const box = el("div", {});
    append(clear(main), el("h1", {}, "Schemas"), box);
    return async () => {
      const answer = await api("/api/schemas");
      const doc = answer.doc || {};
      if (doc.configured === false) {
        append(clear(box), el("p", { class: "muted" }, doc.reason));
        return;
      }
      append(clear(box),
        el("p", {}, "registry ", el("code", {}, fmt(doc.registry)), ` · ${fmt(doc.pending)} pending · ${fmt(doc.incompatible)} incompatible`),
        generic(doc.actions));
    };
  }

  function generic(rows) {
    if (!rows || rows.length === 0) return el("p", { class: "muted" }, "none");
    const columns = Object.keys(rows[0]);
    return table(columns, rows.map((r) => columns.map((c) => fmt(r[c]))));
  }

  // --- routing --------------------------------------------------------------------------

  function route(path) {
    const parts = path.split("/").slice(1).filter((p, i, all) => p !== "" || i < all.length - 1).map(decodeURIComponent);
    const [root, name, sub] = parts;
    if (!root) return ["", (m) => overview(m)];
    if (root === "topics" && name && sub === "messages") return ["topics", (m) => messages(m, name)];
    if (root === "topics" && name) return ["topics", (m) => topicDetail(m, name)];
    if (root === "topics") return ["topics", (m) => topics(m)];
    if (root === "groups" && name) return ["groups", (m) => groupDetail(m, name)];
    if (root === "groups") return ["groups", (m) => groups(m)];
    if (root === "acls") return ["acls", (m) => acls(m)];
    if (root === "schemas") return ["schemas", (m) => schemas(m)];
    return [null, async (m) => { append(clear(m), el("p", { class: "error", "data-status": 404 }, "no such page")); return null; }];
  }

  async function show() {
    const mine = ++generation;
    const [nav, build] = route(window.location.pathname);
    document.body.removeAttribute("data-ready");
    document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.getAttribute("data-nav") === nav));
    const main = document.getElementById("main");
    const refresh = await build(main);
    if (mine !== generation) return;
    refreshView = refresh;
    if (refreshView) await refreshView();
    schedule();
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(async () => {
      await refreshVerdict();
      if (refreshView) await refreshView();
      schedule();
    }, intervalMs);
  }

  function navigate(path) {
    window.history.pushState({}, "", path);
    show();
  }

  document.addEventListener("click", (event) => {
    const a = event.target.closest ? event.target.closest("a") : null;
    if (!a || a.origin !== window.location.origin || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    navigate(a.pathname + a.search);
  });
  window.addEventListener("popstate", show);
  refreshVerdict();
  show();
})();
