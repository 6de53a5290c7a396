/* KDS screen: live tickets over server-sent events, touch and bump-bar keys. No dependencies.
 *
 * The feed numbers every event per station; the screen keeps the last number it applied and ignores
 * anything at or below it, so a reconnect (which replays from Last-Event-ID / ?after=) never shows a
 * ticket twice. A "snapshot" replaces everything; a "ticket" event replaces one card.
 *
 * Layout: cards flow down the columns of the rail (CSS multi-column), then into the next column;
 * columns that do not fit on the screen are further pages to the right. The screen shows one page
 * at a time, always the one holding the selected ticket, and numbers the cards of that page 1, 2, …
 * (the keys 1–9 pick them).
 *
 * Time: the clock and the timers use the hub's time, never the device's (kitchen tablets' clocks
 * are often wrong): the page and each "caught_up" event carry the hub's clock, and the screen keeps
 * the difference. The clock and pickup times are shown in the location's time zone.
 */
"use strict";
(function () {
  const root = document.getElementById("kds");
  const station = root.dataset.station;
  const expo = root.dataset.expo === "true";
  const yellow = Number(root.dataset.yellow);
  const red = Number(root.dataset.red);
  const zones = JSON.parse(root.dataset.zones || "{}");
  const zone = root.dataset.zone || undefined;
  const rail = document.getElementById("tickets");
  const banner = document.getElementById("banner");
  const actions = document.getElementById("actions");
  const tickets = new Map();
  const GAP = 8;
  const MIN_COLUMN = 190;
  let lastSeq = -1;
  let selectedId = null;
  let selectedIndex = 0;
  let page = 0;
  let pages = 1;
  let pageOf = new Map();
  let columnOf = new Map();
  let screenOrder = [];
  const sizes = new Map();
  let columns = 5;
  let skew = hubTime(root.dataset.serverTime);
  let source = null;
  let lost = false;
  let retryTimer = null;
  let bannerTimer = null;
  let renderQueued = false;

  const base = "/api/v1/kds/" + encodeURIComponent(station);

  // -- time -------------------------------------------------------------------------------------

  function hubTime(iso) {
    const at = Date.parse(iso);
    return Number.isNaN(at) ? 0 : at - Date.now();
  }

  function now() {
    return Date.now() + skew;
  }

  const formats = new Map();

  function clockText(at, timeZone) {
    const key = timeZone || "";
    if (!formats.has(key)) {
      try {
        formats.set(key, new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: timeZone }));
      } catch (e) {
        formats.set(key, new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }));
      }
    }
    return formats.get(key).format(new Date(at));
  }

  // -- data -------------------------------------------------------------------------------------

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
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
    source.addEventListener("caught_up", (e) => {
      const data = JSON.parse(e.data);
      if (data.now) skew = hubTime(data.now);
      setConnection(lost ? "caught_up" : "live");
      lost = false;
      tick();
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

  // -- cards ------------------------------------------------------------------------------------

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

  // The same rule as the printers (expediter.operations.kitchen.routing.removal_name): a POS that
  // names a removal "No cheese" gets "NO cheese" on the screen, never "NO No cheese".
  const REMOVAL_WORDS = /^\s*(?:no|without|hold(?:\s+the)?|minus|remove)\b[\s.:-]*/i;

  function removalName(name) {
    return name.replace(REMOVAL_WORDS, "").trim() || name;
  }

  function modifierText(m) {
    if (m.action === "remove") return "NO " + removalName(m.name);
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
    if (item.seat !== null && item.seat !== undefined) li.append(el("span", "seat", "s" + item.seat));
    const line = el("span", "line");
    line.append(el("span", "qty", qty(item.quantity)), " " + item.name);
    li.append(line);
    if (item.added) li.append(el("span", "tag", "ADD"));
    if (item.voided) li.append(el("span", "tag", "VOID"));
    if (!item.fired) li.append(el("span", "tag", "HOLD " + item.course));
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
    return Math.max(0, (now() - Date.parse(t.fired_at)) / 1000);
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

  function pickupNode(t) {
    const at = Date.parse(t.promised_at);
    const node = el("span", "pickup" + (at < now() ? " late" : ""), "PICKUP " + clockText(at, zones[t.location_id] || zone));
    node.dataset.at = String(at);
    return node;
  }

  function shownItems(t) {
    return t.items.filter((i) => i.fired || expo);
  }

  function card(t, items, part) {
    // ``part`` 0 is the ticket; 1, 2, … continue a ticket too long for one column in the next
    const seconds = age(t);
    const node = el("article", ["ticket", "state-" + t.state, timerClass(seconds)].join(" "));
    node.dataset.id = t.id;
    node.dataset.order = t.order_number;
    if (part) node.classList.add("cont");
    if (t.id === selectedId) node.classList.add("selected");
    const head = el("header");
    const first = el("div", "head");
    first.append(el("span", "pos", ""), el("span", "order", "#" + t.order_number));
    if (part) first.append(el("span", "more", "cont."));
    const second = el("div", "head");
    second.append(el("span", "dining", t.dining_option.replace("_", " ")), el("span", "timer", mmss(seconds)));
    const third = el("div", "head");
    third.append(el("span", "guest", t.guest));
    if (t.promised_at) third.append(pickupNode(t));
    head.append(first, second, third);
    node.append(head, el("div", "ready-flag", "READY"));
    const list = el("ul", "items");
    items.forEach((i) => list.append(itemNode(i)));
    node.append(list);
    node.addEventListener("click", () => select(t.id));
    return node;
  }

  // -- columns and pages ------------------------------------------------------------------------
  //
  // Each ticket is measured once per content and column size (in a hidden column), split between
  // items into several cards when it is longer than a column. The tickets are then placed down
  // the columns from their sizes alone, and only the page on screen is in the document.

  function fitColumns() {
    const width = rail.parentElement.clientWidth;
    columns = Math.max(1, Math.floor((width + GAP) / (MIN_COLUMN + GAP)));
    root.style.setProperty("--column", (width - (columns - 1) * GAP) / columns + "px");
  }

  function split(t, whole, measure, height) {
    // the items of a ticket too long for one column, in groups that each fit one
    const list = whole.querySelector(".items").getBoundingClientRect();
    const room = height - (whole.offsetHeight - list.height);
    const bottoms = [...whole.querySelectorAll(".items > li")].map((li) => li.getBoundingClientRect().bottom - list.top);
    const groups = [[]];
    let from = 0;
    shownItems(t).forEach((item, n) => {
      if (bottoms[n] - from > room && groups[groups.length - 1].length) {
        groups.push([]);
        from = n ? bottoms[n - 1] : 0;
      }
      groups[groups.length - 1].push(item);
    });
    return fitted(t, groups, measure, height);
  }

  function fitted(t, groups, measure, height) {
    // each group's card checked against the column (an item moves on when one does not fit)
    const heights = [];
    for (let n = 0; n < groups.length; n++) {
      let node = card(t, groups[n], n);
      measure.append(node);
      while (node.offsetHeight > height && groups[n].length > 1) {
        if (n + 1 === groups.length) groups.push([]);
        groups[n + 1].unshift(groups[n].pop());
        node.remove();
        node = card(t, groups[n], n);
        measure.append(node);
      }
      heights.push(node.offsetHeight);
    }
    return { groups: groups, heights: heights };
  }

  function measure(list, height) {
    // the size of every ticket not measured yet at this content and column size
    const shape = "|" + rail.parentElement.clientWidth + "x" + height;
    const keys = new Map(list.map((t) => [t.id, JSON.stringify(t) + shape]));
    const todo = list.filter((t) => !sizes.has(t.id) || sizes.get(t.id).key !== keys.get(t.id));
    [...sizes.keys()].filter((id) => !keys.has(id)).forEach((id) => sizes.delete(id));
    if (!todo.length) return;
    const box = el("div", "measure");
    rail.append(box);
    const wholes = todo.map((t) => card(t, shownItems(t), 0));
    box.append(...wholes);
    const heights = wholes.map((node) => node.offsetHeight); // one layout for them all
    todo.forEach((t, n) => {
      const size = heights[n] <= height ? { groups: [shownItems(t)], heights: [heights[n]] } : split(t, wholes[n], box, height);
      size.key = keys.get(t.id);
      sizes.set(t.id, size);
    });
    box.remove();
  }

  function place(list, height) {
    // cards down a column, then the next. A ticket of several cards takes consecutive columns of
    // one page: when the page has not enough left, it waits for the next one, and the tickets
    // after it fill this page. The screen's order (numbers, arrow keys) is where they end up.
    const cols = [];
    const waiting = [];
    let at = -1;
    let used = Infinity;
    pageOf = new Map();
    columnOf = new Map();
    screenOrder = [];
    const parts = (t) => sizes.get(t.id).groups.length;
    const put = (t, n) => {
      while (cols.length <= at) cols.push([]);
      cols[at].push([t, n]);
      used += sizes.get(t.id).heights[n] + GAP;
    };
    const mark = (t) => {
      pageOf.set(t.id, Math.floor(at / columns));
      columnOf.set(t.id, at);
      screenOrder.push(t);
    };
    const long = (t) => {
      mark(t);
      sizes.get(t.id).groups.forEach((_, n) => {
        if (n) {
          at += 1;
          used = 0;
        }
        put(t, n);
      });
    };
    const newPage = () => {
      // the long tickets that waited go first, as many as the page holds
      let first = true;
      while (waiting.length && (first || parts(waiting[0]) <= columns - (at % columns) - 1)) {
        if (!first) {
          at += 1;
          used = 0;
        }
        long(waiting.shift());
        first = false;
      }
    };
    const nextColumn = () => {
      at += 1;
      used = 0;
      if (at % columns === 0) newPage();
    };
    list.forEach((t) => {
      if (parts(t) > 1) {
        const left = columns - ((at + 1) % columns);
        if (waiting.length || (parts(t) > left && left < columns)) {
          waiting.push(t);
          return;
        }
        nextColumn();
        long(t);
        return;
      }
      while (used + sizes.get(t.id).heights[0] > height) nextColumn();
      mark(t);
      put(t, 0);
    });
    while (waiting.length) {
      at = (Math.floor(at / columns) + 1) * columns - 1;
      nextColumn();
    }
    return cols;
  }

  function layOut(list) {
    const height = rail.parentElement.clientHeight;
    measure(list, height);
    const cols = place(list, height);
    pages = Math.max(1, Math.ceil(cols.length / columns));
    if (selectedId !== null && pageOf.has(selectedId)) page = pageOf.get(selectedId);
    page = Math.min(page, pages - 1);
    const numbers = new Map(onPage(page).map((t, n) => [t.id, String(n + 1)]));
    rail.replaceChildren(...cols.slice(page * columns, (page + 1) * columns).map((parts) => {
      const column = el("div", "col");
      parts.forEach(([t, n]) => {
        const node = card(t, sizes.get(t.id).groups[n], n);
        node.querySelector(".pos").textContent = numbers.get(t.id);
        column.append(node);
      });
      return column;
    }));
    showPage();
  }

  function showPage() {
    const label = document.getElementById("pages");
    label.textContent = pages > 1 ? "page " + (page + 1) + " / " + pages : "";
    actions.querySelector(".page-prev").disabled = page === 0;
    actions.querySelector(".page-next").disabled = page >= pages - 1;
  }

  function onPage(p) {
    return screenOrder.filter((t) => pageOf.get(t.id) === p);
  }

  function turnPage(step) {
    const next = Math.min(pages - 1, Math.max(0, page + step));
    const first = onPage(next)[0];
    if (first) select(first.id);
  }

  // -- rendering --------------------------------------------------------------------------------

  function render() {
    renderQueued = false;
    const list = ordered();
    if (!list.some((t) => t.id === selectedId)) {
      selectedId = list.length ? list[Math.min(selectedIndex, list.length - 1)].id : null;
    }
    selectedIndex = Math.max(0, list.findIndex((t) => t.id === selectedId));
    layOut(list);
    document.getElementById("count").textContent = list.length + (list.length === 1 ? " ticket" : " tickets");
    renderAllDay(list);
    renderActions();
  }

  function renderAllDay(list) {
    const counts = new Map();
    list.forEach((t) => t.items.forEach((i) => {
      if (i.fired && !i.voided) counts.set(i.name, (counts.get(i.name) || 0) + Number(i.quantity));
    }));
    const body = document.querySelector("#allday tbody");
    if (!body) return; // expo shows no all-day counts: it cooks nothing
    body.replaceChildren(...[...counts.entries()].sort().map(([name, n]) => {
      const row = el("tr");
      row.append(el("td", "", name), el("td", "n", String(n)));
      return row;
    }));
  }

  function renderActions() {
    const t = tickets.get(selectedId);
    actions.querySelectorAll("[data-action=start], [data-action=bump]").forEach((b) => (b.disabled = !t));
    const start = actions.querySelector("[data-action=start]");
    if (start) start.disabled = !t || t.state !== "new";
    const fire = actions.querySelector("[data-action=fire]");
    if (fire) {
      const held = t ? heldCourses(t) : [];
      fire.hidden = !held.length;
      fire.textContent = held.length ? "Fire " + held[0] : "Fire";
    }
  }

  function tick() {
    document.getElementById("clock").textContent = clockText(now(), zone);
    rail.querySelectorAll(".ticket").forEach((node) => {
      const t = tickets.get(node.dataset.id);
      if (!t) return;
      const seconds = age(t);
      node.querySelector(".timer").textContent = mmss(seconds);
      const colour = timerClass(seconds);
      if (!node.classList.contains(colour)) {
        node.classList.remove("timer-green", "timer-yellow", "timer-red");
        node.classList.add(colour);
      }
      const pickup = node.querySelector(".pickup");
      if (pickup) pickup.classList.toggle("late", Number(pickup.dataset.at) < now());
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
    const list = screenOrder;
    if (!list.length) return;
    const at = list.findIndex((t) => t.id === selectedId);
    const next = Math.min(list.length - 1, Math.max(0, (at < 0 ? 0 : at) + step));
    select(list[next].id);
  }

  function column(id) {
    return columnOf.has(id) ? columnOf.get(id) : 0;
  }

  function moveColumn(step) {
    // the first ticket of the next (or previous) column that has one
    const list = screenOrder;
    if (!list.length) return;
    const from = selectedId === null ? 0 : column(selectedId);
    const candidates = list.map((t) => [column(t.id), t]).filter(([c]) => (step > 0 ? c > from : c < from));
    if (!candidates.length) return;
    const target = step > 0 ? Math.min(...candidates.map(([c]) => c)) : Math.max(...candidates.map(([c]) => c));
    select(candidates.find(([c]) => c === target)[1].id);
  }

  function act(action) {
    const t = tickets.get(selectedId);
    if (action === "prev") turnPage(-1);
    else if (action === "next") turnPage(1);
    else if (action === "recall") post(base + "/recall").catch(() => {});
    else if (!t) return;
    else if (action === "bump") bump(t.id);
    else if (action === "start") post(base + "/tickets/" + encodeURIComponent(t.id) + "/start").catch(() => {});
    else if (action === "fire" && heldCourses(t).length) post("/api/v1/kds/fire", { order_id: t.order_id, course: heldCourses(t)[0] }).catch(() => {});
  }

  actions.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-action]");
    if (button) act(button.dataset.action);
  });

  const KEYS = {
    Enter: () => act("bump"),
    r: () => act("recall"),
    R: () => act("recall"),
    ArrowDown: () => move(1),
    ArrowUp: () => move(-1),
    ArrowRight: () => moveColumn(1),
    ArrowLeft: () => moveColumn(-1),
    PageDown: () => turnPage(1),
    PageUp: () => turnPage(-1),
  };

  document.addEventListener("keydown", (e) => {
    if (e.target.closest && e.target.closest("input, select, textarea")) return;
    // Browser shortcuts (Ctrl+R reloads) are not bump-bar keys, and a held key must not bump
    // ticket after ticket.
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    if (/^[1-9]$/.test(e.key)) {
      const t = onPage(page)[Number(e.key) - 1];
      if (t) select(t.id);
    } else if (KEYS[e.key]) {
      KEYS[e.key]();
    } else {
      return;
    }
    e.preventDefault();
  });

  window.addEventListener("resize", () => {
    fitColumns();
    schedule();
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
          const back = el("button", "back", "back");
          back.type = "button";
          back.addEventListener("click", () => setAvailable(u.key, true));
          li.append(back);
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
    form.elements.key.blur(); // the bump-bar keys work again at once
  });

  fitColumns();
  renderActions();
  tick();
  connect();
  refreshUnavailable();
  setInterval(tick, 1000);
  setInterval(refreshUnavailable, 30000);
})();
