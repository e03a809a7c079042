// Book a desk: a site, a floor, a day or half-day; the floor plan (SVG) and
// a list with the same desks and the same actions; colleagues of my teams
// where they sit (as their privacy allows); live changes from the gateway.

import {api} from "../api.js";
import {h, s, clear, field, select, newId} from "../dom.js";
import {t} from "../i18n.js";
import {isoDate, today, dayLabel, parseDate} from "../dates.js";
import {sites, siteTree, floorsOf, planInfo, equipmentText, equipmentLabel} from "../places.js";
import {subscribe} from "../live.js";

const PREFS = "escale_desk_prefs";
const STATUSES = ["free", "mine", "booked", "restricted", "closed"];
const GLYPH = {free: "✓", mine: "★", booked: "✕", restricted: "!", closed: "–"};

function loadPrefs() {
  try { return JSON.parse(localStorage.getItem(PREFS)) || {}; } catch (error) { return {}; }
}
function savePrefs(prefs) { localStorage.setItem(PREFS, JSON.stringify(prefs)); }

/** The shape of a status, drawn around (0, 0) with radius r. */
export function statusShape(status, r) {
  switch (status) {
    case "free": return s("circle", {r, class: "desk__shape"});
    case "mine": {
      const points = [];
      for (let i = 0; i < 10; i++) {
        const radius = i % 2 ? r * 0.55 : r * 1.15;
        const angle = Math.PI / 5 * i - Math.PI / 2;
        points.push(`${(radius * Math.cos(angle)).toFixed(1)},${(radius * Math.sin(angle)).toFixed(1)}`);
      }
      return s("polygon", {points: points.join(" "), class: "desk__shape"});
    }
    case "restricted": return s("polygon", {points: `0,${-r * 1.1} ${r * 1.1},${r * 0.9} ${-r * 1.1},${r * 0.9}`, class: "desk__shape"});
    case "closed": return s("rect", {x: -r, y: -r, width: 2 * r, height: 2 * r, rx: r * 0.2, class: "desk__shape"});
    default: return s("rect", {x: -r * 0.9, y: -r * 0.9, width: 1.8 * r, height: 1.8 * r, class: "desk__shape"});
  }
}

export function legend() {
  return h("ul", {class: "legend", "aria-label": t("legend")}, STATUSES.map((status) => h("li", {},
    s("svg", {viewBox: "-12 -12 24 24", width: 26, height: 26, "aria-hidden": "true", class: `desk desk--${status}`, focusable: "false"},
      statusShape(status, 8), s("text", {class: "desk__glyph", y: 0}, GLYPH[status])),
    " ", t(`status_${status}`))));
}

/** Where to draw each desk: plan coordinates when a plan exists, else spread out. */
function layout(resources, plan) {
  const placed = resources.filter((r) => r.x !== null && r.x !== undefined && r.y !== null && r.y !== undefined);
  const unplaced = resources.filter((r) => !placed.includes(r));
  if (plan && plan.width && plan.height) {
    const r = Math.max(plan.width, plan.height) / 60;
    const positions = new Map(placed.map((d) => [d.id, [d.x, d.y]]));
    unplaced.forEach((d, i) => positions.set(d.id, [r * 2 + (i % 20) * r * 3, plan.height - r * 3]));
    return {viewBox: [0, 0, plan.width, plan.height], r, positions, scale: 1};
  }
  let min = Infinity;
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const d = Math.hypot(placed[i].x - placed[j].x, placed[i].y - placed[j].y);
      if (d > 0 && d < min) min = d;
    }
  }
  const scale = Number.isFinite(min) ? Math.max(1, 64 / min) : 1;
  const positions = new Map(placed.map((d) => [d.id, [d.x * scale, d.y * scale]]));
  let maxY = 0;
  for (const [, [, y]] of positions) maxY = Math.max(maxY, y);
  unplaced.forEach((d, i) => positions.set(d.id, [40 + (i % 12) * 64, maxY + 80 + Math.floor(i / 12) * 70]));
  const xs = [...positions.values()].map((p) => p[0]);
  const ys = [...positions.values()].map((p) => p[1]);
  const x0 = Math.min(0, ...xs) - 40, y0 = Math.min(0, ...ys) - 40;
  const x1 = Math.max(200, ...xs) + 50, y1 = Math.max(120, ...ys) + 56;
  return {viewBox: [x0, y0, x1 - x0, y1 - y0], r: 18, positions, scale};
}

export default {
  path: "desks",
  nav: "nav_desks",
  title: "desks_title",
  async render(root, ctx) {
    const prefs = {view: "map", period: "day", ...loadPrefs()};
    const state = {sites: [], floors: [], plan: null, desks: [], mates: new Map(), filters: new Set(), day: prefs.day && prefs.day >= isoDate(today()) ? prefs.day : isoDate(today())};
    const siteSelect = h("select", {name: "site"});
    const floorSelect = h("select", {name: "floor"});
    const dayInput = h("input", {type: "date", name: "date", value: state.day, min: isoDate(today())});
    const periodSelect = select([["day", t("period_day")], ["morning", t("period_morning")], ["afternoon", t("period_afternoon")]], prefs.period, {name: "period"});
    const equipmentBox = h("fieldset", {class: "equipment"}, h("legend", {}, t("equipment_filter")));
    const viewName = newId("view");
    const viewBox = h("fieldset", {class: "views"}, h("legend", {}, t("view")),
      ...[["map", t("view_map")], ["list", t("view_list")]].map(([value, label]) => {
        const id = newId("v");
        return h("span", {class: "choice"}, h("input", {type: "radio", name: viewName, id, value, checked: prefs.view === value}), h("label", {for: id}, label));
      }));
    const summary = h("p", {class: "summary", role: "status", "aria-live": "polite"});
    const results = h("div", {class: "desk-results"});
    const details = h("div", {class: "desk-details", "aria-live": "polite"});

    root.append(
      h("h1", {}, t("desks_title")),
      h("form", {class: "filters", onsubmit: (e) => e.preventDefault()},
        field(t("site"), siteSelect).field, field(t("floor"), floorSelect).field,
        field(t("day"), dayInput).field, field(t("period"), periodSelect).field, equipmentBox, viewBox),
      legend(), summary, results, details);

    state.sites = await sites();
    if (!state.sites.length) { summary.textContent = t("no_sites"); return; }
    for (const site of state.sites) siteSelect.append(h("option", {value: site.id}, site.name));
    siteSelect.value = state.sites.some((x) => x.id === prefs.site) ? prefs.site : state.sites[0].id;

    let loading = 0;
    async function loadFloors() {
      const tree = await siteTree(siteSelect.value);
      state.floors = floorsOf(tree);
      clear(floorSelect);
      for (const floor of state.floors) floorSelect.append(h("option", {value: floor.id}, floor.label));
      if (state.floors.some((f) => f.id === prefs.floor)) floorSelect.value = prefs.floor;
    }

    async function loadMates(day) {
      const mates = new Map();
      const teams = (ctx.me.person && ctx.me.person.teams) || [];
      const rosters = await Promise.all(teams.map((team) => api("GET", "/presence", {query: {site: siteSelect.value, date: day, team: team.id}}).catch(() => null)));
      for (const roster of rosters) {
        for (const entry of (roster && roster.people) || []) {
          if (entry.person.id === (ctx.me.actor.person_id)) continue;
          for (const desk of entry.desks || []) {
            const names = mates.get(desk.resource_id) || new Set();
            names.add(entry.person.display_name);
            mates.set(desk.resource_id, names);
          }
        }
      }
      return mates;
    }

    async function load() {
      const run = ++loading;
      const floorId = floorSelect.value;
      if (!floorId) { clear(results); summary.textContent = t("no_floors"); return; }
      const day = dayInput.value || isoDate(today());
      const period = periodSelect.value;
      savePrefs({site: siteSelect.value, floor: floorId, day, period, view: currentView()});
      try {
        const [availability, plan, mates] = await Promise.all([
          api("GET", "/availability", {query: {floor_id: floorId, date: day, period, kind: "desk"}}),
          state.plan && state.plan.floor_id === floorId ? state.plan : planInfo(floorId),
          loadMates(day),
        ]);
        if (run !== loading) return;
        state.plan = plan ? {...plan, floor_id: floorId} : {floor_id: floorId};
        state.desks = availability.resources;
        state.mates = mates;
        state.day = day;
        state.period = period;
        drawEquipment();
        drawResults();
      } catch (error) {
        if (run !== loading) return;
        clear(results);
        summary.textContent = error.message;
      }
    }

    function drawEquipment() {
      const keys = new Set();
      for (const desk of state.desks) for (const [key, value] of Object.entries(desk.attributes || {})) if (value) keys.add(key);
      const wanted = [...keys].sort();
      const existing = [...equipmentBox.querySelectorAll("input")].map((i) => i.value);
      if (existing.join() === wanted.join()) return;
      for (const node of [...equipmentBox.childNodes].slice(1)) node.remove();
      if (!wanted.length) equipmentBox.append(h("span", {class: "hint"}, t("no_equipment")));
      for (const key of wanted) {
        const id = newId("eq");
        const box = h("input", {type: "checkbox", id, value: key, checked: state.filters.has(key)});
        box.addEventListener("change", () => { if (box.checked) state.filters.add(key); else state.filters.delete(key); drawResults(); });
        equipmentBox.append(h("span", {class: "choice"}, box, h("label", {for: id}, equipmentLabel(key, true))));
      }
    }

    function currentView() {
      const checked = viewBox.querySelector("input:checked");
      return checked ? checked.value : "map";
    }

    function shown() {
      return state.desks.filter((desk) => [...state.filters].every((key) => desk.attributes && desk.attributes[key]));
    }

    function deskLabel(desk) {
      const mates = state.mates.get(desk.id);
      let label = `${desk.name}, ${desk.code}, ${t(`status_${desk.status}`)}`;
      if (mates) label += `, ${t("colleague_here", {names: [...mates].join(", ")})}`;
      if (desk.status === "free") label += `, ${t("activate_to_book")}`;
      return label;
    }

    function drawResults() {
      const desks = shown();
      const free = desks.filter((d) => d.status === "free").length;
      summary.textContent = t("desks_summary", {free, total: desks.length, day: dayLabel(parseDate(state.day)), period: t(`period_${state.period}`).toLowerCase()});
      // Keep the keyboard where it was: the same desk's control after a redraw.
      const active = document.activeElement;
      const focused = active && results.contains(active) && active.closest("[data-desk]");
      clear(results);
      results.append(currentView() === "list" ? drawList(desks) : drawMap(desks));
      results.dataset.day = state.day;
      results.dataset.floor = floorSelect.value;
      if (focused) {
        const row = results.querySelector(`[data-desk="${focused.dataset.desk}"]`);
        const target = row && (row.matches("button, g") ? row : row.querySelector("button")) || results.querySelector("button, g[tabindex]");
        if (target) target.focus();
      }
    }

    function drawMap(desks) {
      const floor = state.floors.find((f) => f.id === floorSelect.value);
      const plan = state.plan && state.plan.width ? state.plan : null;
      const geometry = layout(desks, plan);
      // Drawn at most 1.4 times its own size (a small floor is not blown up), never wider than the page.
      const zoom = plan ? Math.min(1, 1100 / geometry.viewBox[2]) : 1.4;
      const svg = s("svg", {class: "floor-map", viewBox: geometry.viewBox.join(" "), role: "group",
        width: Math.round(geometry.viewBox[2] * zoom), height: Math.round(geometry.viewBox[3] * zoom),
        "aria-label": t("map_of", {floor: floor ? floor.label : ""}), preserveAspectRatio: "xMidYMid meet"});
      if (plan) {
        svg.append(s("image", {href: `/api/v1/floors/${floorSelect.value}/plan?v=${encodeURIComponent(plan.updated_at || "")}`, x: 0, y: 0, width: plan.width, height: plan.height, "aria-hidden": "true"}));
      } else {
        svg.append(s("rect", {class: "floor-map__ground", x: geometry.viewBox[0] + 4, y: geometry.viewBox[1] + 4, width: geometry.viewBox[2] - 8, height: geometry.viewBox[3] - 8, rx: 8, "aria-hidden": "true"}));
      }
      const r = geometry.r;
      for (const desk of desks) {
        const [x, y] = geometry.positions.get(desk.id);
        const group = s("g", {class: `desk desk--${desk.status}`, transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})`,
          role: "button", tabindex: 0, "aria-label": deskLabel(desk), "data-desk": desk.code, "data-status": desk.status},
          statusShape(desk.status, r),
          s("text", {class: "desk__code", y: r * 1.9, "font-size": r * 0.75}, desk.code));
        // The sign and the team mates' names are drawn beside the button (its name already says them).
        const marks = s("g", {class: `desk-marks desk--${desk.status}`, transform: group.getAttribute("transform"), "aria-hidden": "true", "data-marks": desk.code},
          s("text", {class: "desk__glyph", "font-size": r * 1.05}, GLYPH[desk.status]));
        const mates = state.mates.get(desk.id);
        if (mates) marks.append(s("text", {class: "desk__mate", y: r * 2.8, "font-size": r * 0.7}, [...mates].map((n) => n.split(" ")[0]).join(", ")));
        const activate = () => act(desk);
        group.addEventListener("click", activate);
        group.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); activate(); } });
        svg.append(group, marks);
      }
      return h("div", {class: "map-frame"}, svg);
    }

    function drawList(desks) {
      const floor = state.floors.find((f) => f.id === floorSelect.value);
      const zones = new Map(((floor && floor.zones) || []).map((z) => [z.id, z.name]));
      return h("table", {class: "desk-table"},
        h("caption", {}, t("list_of", {floor: floor ? floor.label : ""})),
        h("thead", {}, h("tr", {}, ["desk", "zone", "equipment", "state", "colleagues", "action"].map((k) => h("th", {scope: "col"}, t(`col_${k}`))))),
        h("tbody", {}, desks.map((desk) => {
          const mates = state.mates.get(desk.id);
          let action = "";
          if (desk.status === "free") action = h("button", {type: "button", class: "button", "data-desk": desk.code, "aria-label": t("book_desk_named", {name: desk.name})}, t("book"));
          else if (desk.status === "mine") action = h("button", {type: "button", class: "button button--secondary", "data-desk": desk.code, "aria-label": t("cancel_desk_named", {name: desk.name})}, t("cancel_booking"));
          if (action) action.addEventListener("click", () => act(desk, true));
          return h("tr", {"data-desk": desk.code, "data-status": desk.status},
            h("th", {scope: "row"}, `${desk.name} (${desk.code})`),
            h("td", {}, zones.get(desk.zone_id) || ""),
            h("td", {}, equipmentText(desk.attributes)),
            h("td", {}, h("span", {class: `badge badge--${desk.status}`}, h("span", {"aria-hidden": "true"}, GLYPH[desk.status]), " ", t(`status_${desk.status}`))),
            h("td", {}, mates ? [...mates].join(", ") : ""),
            h("td", {}, action));
        })));
    }

    async function cancelMine(desk) {
      try {
        await api("DELETE", `/bookings/${desk.booking_id}`);
        ctx.toast(t("booking_cancelled"));
        clear(details);
      } catch (error) { ctx.toast(error.message, "error"); }
      await load();
    }

    /** A free desk is booked at once; my desk is cancelled from the list's
     * button, or from the map after a second step (its details). */
    async function act(desk, direct = false) {
      clear(details);
      if (desk.status === "mine" && direct) { await cancelMine(desk); return; }
      if (desk.status === "free") {
        try {
          const booking = await api("POST", "/bookings", {body: {resource_id: desk.id, date: state.day, period: state.period}});
          const undo = h("button", {type: "button", class: "link-button"}, t("undo"));
          undo.addEventListener("click", async () => {
            await api("DELETE", `/bookings/${booking.id}`).catch((error) => ctx.toast(error.message, "error"));
            ctx.toast(t("booking_cancelled"));
            load();
          });
          ctx.toast(t("desk_booked", {name: desk.name, day: dayLabel(parseDate(state.day)), period: t(`period_${state.period}`).toLowerCase()}));
          document.getElementById("toast").append(" ", undo);
        } catch (error) {
          ctx.toast(error.message, "error");
        }
        await load();
      } else if (desk.status === "mine") {
        const cancel = h("button", {type: "button", class: "button button--secondary"}, t("cancel_booking"));
        cancel.addEventListener("click", () => cancelMine(desk));
        details.append(h("h2", {}, desk.name), h("p", {}, t("status_mine"), " — ", equipmentText(desk.attributes)), cancel);
        cancel.focus();
      } else {
        const mates = state.mates.get(desk.id);
        details.append(h("h2", {}, desk.name), h("p", {}, t(`status_${desk.status}`), mates ? ` — ${t("colleague_here", {names: [...mates].join(", ")})}` : "", desk.reason ? ` — ${desk.reason}` : ""));
      }
    }

    siteSelect.addEventListener("change", async () => { await loadFloors(); state.plan = null; resubscribe(); load(); });
    floorSelect.addEventListener("change", () => { resubscribe(); load(); });
    dayInput.addEventListener("change", load);
    periodSelect.addEventListener("change", load);
    viewBox.addEventListener("change", () => { savePrefs({...loadPrefs(), view: currentView()}); drawResults(); });

    let unsubscribe = null;
    let pending = null;
    function resubscribe() {
      if (unsubscribe) unsubscribe();
      unsubscribe = null;
      if (!floorSelect.value) return;
      // The floor's bookings, and my teams' plans (a team mate's seat appears once presence knows it).
      const teams = ((ctx.me.person && ctx.me.person.teams) || []).map((team) => `team:${team.id}`);
      unsubscribe = subscribe([`floor:${floorSelect.value}`, ...teams], () => {
        clearTimeout(pending);
        pending = setTimeout(load, 100);
      }, load);
    }

    await loadFloors();
    resubscribe();
    await load();
    root.dataset.loaded = "1";
    return () => { if (unsubscribe) unsubscribe(); clearTimeout(pending); };
  },
};
