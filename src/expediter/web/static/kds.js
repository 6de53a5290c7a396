/* KDS screen: live tickets over server-sent events, touch and bump-bar keys. No dependencies.
 *
 * The feed numbers every event per station; the screen keeps the last number it applied and ignores
 * anything at or below it, so a reconnect (which replays from Last-Event-ID / ?after=) never shows a
 * ticket twice. A "snapshot" replaces everything; a "ticket" event replaces one card.
 */
"use strict";
(function () {
  const root = document.getElementById("kds");
  const station = root.dataset.station;
  const expo = root.dataset.expo === "true";
  const yellow = Number(root.dataset.yellow);
  const red = Number(root.dataset.red);
  const grid = document.getElementById("tickets");
  const banner = document.getElementById("banner");
  const tickets = new Map();
  let lastSeq = -1;
  let selectedId = null;
  let selectedIndex = 0;
  let source = null;
  let lost = false;
  let retryTimer = null;
  let bannerTimer = null;
  let renderQueued = false;

  const base = "/api/v1/kds/" + encodeURIComponent(station);

  // The paired device's CSRF token: every change the screen asks for carries it.
  const token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => r.json().then((data) => (r.ok ? data : Promise.reject(data))));
  }

  function visible(t) {
    return t.state !== "bumped" && t.items.some((i) => i.fired);
  }

  function ordered() {
    // oldest first; ties keep arrival order (Map order, and sort is stable)
    return [...tickets.values()].filter(visible).sort((a, b) => Date.parse(a.fired_at) - Date.parse(b.fired_at));
  }

  // -- connection -------------------------------------------------------------------------------

  function setConnection(state) {
    root.dataset.connection = state;
    clearTimeout(bannerTimer);
    if (state === "lost") {
      banner.className = "banner lost";
      banner.textContent = "CONNECTION LOST — reconnecting… (tickets are kept on the hub)";
      banner.hidden = false;
    } else if (state === "caught_up") {
      banner.className = "banner caught-up";
      banner.textContent = "Reconnected — caught up";
      banner.hidden = false;
      bannerTimer = setTimeout(() => setConnection("live"), 5000);
    } else {
      banner.hidden = true;
    }
  }

  function apply(ticket) {
    if (ticket.state === "bumped") tickets.delete(ticket.id);
    else tickets.set(ticket.id, ticket);
  }

  function connect() {
    const after = lastSeq >= 0 ? "?after=" + lastSeq : "";
    source = new EventSource("/kds/" + encodeURIComponent(station) + "/events" + after);
    source.addEventListener("snapshot", (e) => {
      const data = JSON.parse(e.data);
      tickets.clear();
      data.tickets.forEach(apply);
      lastSeq = data.seq;
      schedule();
    });
    source.addEventListener("ticket", (e) => {
      const data = JSON.parse(e.data);
      if (data.seq <= lastSeq) return; // already applied: a replay after reconnect
      lastSeq = data.seq;
      apply(data.ticket);
      schedule();
    });
    source.addEventListener("caught_up", () => {
      setConnection(lost ? "caught_up" : "live");
      lost = false;
    });
    source.onerror = () => {
      lost = true;
      setConnection("lost");
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        clearTimeout(retryTimer);
        retryTimer = setTimeout(connect, 1000);
      }
    };
  }

  // -- rendering --------------------------------------------------------------------------------

  function schedule() {
    if (!renderQueued) {
      renderQueued = true;
      requestAnimationFrame(render);
    }
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function qty(q) {
    return String(Number(q));
  }

  function modifierText(m) {
    if (m.action === "remove") return "NO " + m.name;
    const count = Number(m.quantity) !== 1 ? qty(m.quantity) + " " : "";
    const where = m.station ? " → " + m.station.toUpperCase() : "";
    return (m.action === "note" ? "* " : "+ ") + count + m.name + where;
  }

  function itemNode(item) {
    const classes = ["item"];
    if (item.added) classes.push("added");
    if (item.voided) classes.push("voided");
    if (!item.fired) classes.push("held");
    const li = el("li", classes.join(" "));
    const line = el("span", "line");
    line.append(el("span", "qty", qty(item.quantity)), " " + item.name);
    li.append(line);
    if (item.added) li.append(el("span", "tag", "ADD"));
    if (item.voided) li.append(el("span", "tag", "VOID"));
    if (!item.fired) li.append(el("span", "tag", "HOLD · course " + item.course));
    if (item.seat !== null && item.seat !== undefined) li.append(el("span", "course", " seat " + item.seat));
    if (item.component_of) li.append(el("span", "component", "for " + item.component_of));
    if (item.modifiers.length || item.notes) {
      const mods = el("ul", "mods");
      item.modifiers.forEach((m) => mods.append(el("li", "mod depth-" + Math.min(m.depth, 3) + " " + m.action, modifierText(m))));
      if (item.notes) mods.append(el("li", "mod depth-1 note", "* " + item.notes));
      li.append(mods);
    }
    return li;
  }

  function age(t) {
    return Math.max(0, (Date.now() - Date.parse(t.fired_at)) / 1000);
  }

  function timerClass(seconds) {
    return seconds >= red ? "timer-red" : seconds >= yellow ? "timer-yellow" : "timer-green";
  }

  function mmss(seconds) {
    const s = Math.floor(seconds);
    return String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
  }

  function heldCourses(t) {
    return [...new Set(t.items.filter((i) => !i.fired && !i.voided).map((i) => i.course))].sort((a, b) => a - b);
  }

  function card(t, index) {
    const seconds = age(t);
    const node = el("article", ["ticket", "state-" + t.state, timerClass(seconds)].join(" "));
    node.dataset.id = t.id;
    node.dataset.order = t.order_number;
    if (t.id === selectedId) node.classList.add("selected");
    const head = el("header");
    head.append(
      el("span", "pos", String(index + 1)),
      el("span", "order", "#" + t.order_number),
      el("span", "timer", mmss(seconds)),
      el("span", "dining", t.dining_option.replace("_", " ")),
      el("span", "guest", t.guest)
    );
    node.append(head, el("div", "ready-flag", "READY"));
    const items = el("ul", "items");
    t.items.filter((i) => i.fired || expo).forEach((i) => items.append(itemNode(i)));
    const foot = el("footer");
    if (t.state === "new" && !expo) foot.append(button("start", "Start", () => post(base + "/tickets/" + t.id + "/start")));
    if (expo) heldCourses(t).forEach((c) => foot.append(button("start", "Fire " + c, () => post("/api/v1/kds/fire", { order_id: t.order_id, course: c }))));
    foot.append(button("bump", "Bump", () => bump(t.id)));
    node.append(items, foot);
    node.addEventListener("click", () => select(t.id));
    return node;
  }

  function button(className, label, action) {
    const b = el("button", className, label);
    b.type = "button";
    b.addEventListener("click", (e) => {
      e.stopPropagation();
      action();
    });
    return b;
  }

  function render() {
    renderQueued = false;
    const list = ordered();
    if (!list.some((t) => t.id === selectedId)) {
      selectedId = list.length ? list[Math.min(selectedIndex, list.length - 1)].id : null;
    }
    selectedIndex = Math.max(0, list.findIndex((t) => t.id === selectedId));
    grid.replaceChildren(...list.map(card));
    document.getElementById("count").textContent = list.length + (list.length === 1 ? " ticket" : " tickets");
    renderAllDay(list);
  }

  function renderAllDay(list) {
    const counts = new Map();
    list.forEach((t) => t.items.forEach((i) => {
      if (i.fired && !i.voided) counts.set(i.name, (counts.get(i.name) || 0) + Number(i.quantity));
    }));
    const body = document.querySelector("#allday tbody");
    body.replaceChildren(...[...counts.entries()].sort().map(([name, n]) => {
      const row = el("tr");
      row.append(el("td", "", name), el("td", "n", String(n)));
      return row;
    }));
  }

  function tick() {
    document.getElementById("clock").textContent = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    grid.querySelectorAll(".ticket").forEach((node) => {
      const t = tickets.get(node.dataset.id);
      if (!t) return;
      const seconds = age(t);
      node.querySelector(".timer").textContent = mmss(seconds);
      node.classList.remove("timer-green", "timer-yellow", "timer-red");
      node.classList.add(timerClass(seconds));
    });
  }

  // -- actions ----------------------------------------------------------------------------------

  function select(id) {
    selectedId = id;
    schedule();
  }

  function bump(id) {
    post(base + "/tickets/" + encodeURIComponent(id) + "/bump").catch(() => {});
  }

  function move(step) {
    const list = ordered();
    if (!list.length) return;
    const at = list.findIndex((t) => t.id === selectedId);
    const next = Math.min(list.length - 1, Math.max(0, (at < 0 ? 0 : at) + step));
    select(list[next].id);
  }

  document.addEventListener("keydown", (e) => {
    if (e.target.closest && e.target.closest("input, select, textarea")) return;
    // Browser shortcuts (Ctrl+R reloads) are not bump-bar keys, and a held key must not bump
    // ticket after ticket.
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    if (/^[1-9]$/.test(e.key)) {
      const t = ordered()[Number(e.key) - 1];
      if (t) select(t.id);
    } else if (e.key === "Enter") {
      if (selectedId) bump(selectedId);
    } else if (e.key === "r" || e.key === "R") {
      post(base + "/recall").catch(() => {});
    } else if (e.key === "ArrowRight" || e.key === "ArrowDown") {
      move(1);
    } else if (e.key === "ArrowLeft" || e.key === "ArrowUp") {
      move(-1);
    } else {
      return;
    }
    e.preventDefault();
  });

  // -- 86 ---------------------------------------------------------------------------------------

  const form = document.getElementById("eightysix");

  function locationId() {
    return form.elements.location.value;
  }

  function refreshUnavailable() {
    fetch("/api/v1/kds/availability?location_id=" + encodeURIComponent(locationId()))
      .then((r) => r.json())
      .then((data) => {
        const list = document.getElementById("unavailable");
        list.replaceChildren(...data.unavailable.map((u) => {
          const li = el("li", "", u.key);
          li.append(button("back", "back", () => setAvailable(u.key, true)));
          return li;
        }));
      })
      .catch(() => {});
  }

  function setAvailable(key, available) {
    post("/api/v1/kds/availability", { location_id: locationId(), key: key, available: available })
      .then(refreshUnavailable)
      .catch(() => {});
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const key = form.elements.key.value.trim();
    if (key) setAvailable(key, false);
    form.elements.key.value = "";
  });

  connect();
  refreshUnavailable();
  setInterval(tick, 1000);
  setInterval(refreshUnavailable, 30000);
})();
