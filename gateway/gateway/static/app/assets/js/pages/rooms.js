// Book a room: by capacity, equipment and time; each room's day on a
// timeline; once, or recurring (every week / every working day).

import {api} from "../api.js";
import {h, s, clear, field, select, newId} from "../dom.js";
import {t, labelled} from "../i18n.js";
import {isoDate, today, localInstant, timeLabel, addDays, parseDate} from "../dates.js";
import {sites, equipmentText, equipmentLabel} from "../places.js";

const DAY_START = 7, DAY_END = 20;

function nextQuarter() {
  const now = new Date();
  const minutes = Math.ceil((now.getHours() * 60 + now.getMinutes() + 1) / 15) * 15;
  const clamped = Math.min(Math.max(minutes, 8 * 60), 18 * 60);
  return `${String(Math.floor(clamped / 60)).padStart(2, "0")}:${String(clamped % 60).padStart(2, "0")}`;
}

function timeline(busy, wanted) {
  const width = 520, height = 34, span = (DAY_END - DAY_START) * 60;
  const x = (date) => Math.max(0, Math.min(width, ((date.getHours() - DAY_START) * 60 + date.getMinutes()) / span * width));
  const svg = s("svg", {class: "timeline", viewBox: `0 0 ${width} ${height + 14}`, "aria-hidden": "true", focusable: "false"},
    s("rect", {class: "timeline__day", x: 0, y: 0, width, height}));
  for (const booking of busy) {
    const x0 = x(new Date(booking.start)), x1 = x(new Date(booking.end));
    svg.append(s("rect", {class: "timeline__busy", x: x0, y: 0, width: Math.max(2, x1 - x0), height}));
  }
  if (wanted) {
    const x0 = x(new Date(wanted[0])), x1 = x(new Date(wanted[1]));
    svg.append(s("rect", {class: "timeline__wanted", x: x0, y: 2, width: Math.max(2, x1 - x0), height: height - 4}));
  }
  for (let hour = DAY_START; hour <= DAY_END; hour += 2) {
    const hx = (hour - DAY_START) * 60 / span * width;
    svg.append(s("line", {class: "timeline__tick", x1: hx, x2: hx, y1: height, y2: height + 4}),
      s("text", {class: "timeline__label", x: Math.min(width - 10, Math.max(10, hx)), y: height + 13}, `${hour}h`));
  }
  return svg;
}

export default {
  path: "rooms",
  nav: "nav_rooms",
  title: "rooms_title",
  async render(root, ctx) {
    const allSites = await sites();
    const siteSelect = select(allSites.map((site) => [site.id, site.name]), localStorage.getItem("escale_site") || (allSites[0] && allSites[0].id), {name: "site"});
    const dayInput = h("input", {type: "date", name: "date", value: isoDate(today()), min: isoDate(today())});
    const timeInput = h("input", {type: "time", name: "start", value: nextQuarter(), step: 900});
    const duration = select([[30, "30 min"], [60, "1 h"], [90, "1 h 30"], [120, "2 h"], [180, "3 h"]], 60, {name: "duration"});
    const capacity = h("input", {type: "number", name: "capacity", min: 1, max: 1000, value: 1, inputmode: "numeric"});
    const title = h("input", {type: "text", name: "title", maxlength: 200});
    const repeat = select([["", t("repeat_none")], ["weekly", t("repeat_weekly")], ["daily", t("repeat_daily")]], "", {name: "repeat"});
    const count = h("input", {type: "number", name: "count", min: 2, max: 52, value: 4, inputmode: "numeric"});
    const equipmentBox = h("fieldset", {class: "equipment"}, h("legend", {}, t("equipment_filter")));
    const list = h("div", {class: "room-results", "aria-live": "polite"});
    const form = h("form", {class: "filters"},
      field(t("site"), siteSelect).field, field(t("day"), dayInput).field, field(t("start_time"), timeInput).field,
      field(t("duration"), duration).field, field(t("min_capacity"), capacity).field, equipmentBox,
      field(t("meeting_title"), title, t("meeting_title_hint")).field,
      field(t("repeat"), repeat).field, field(t("occurrences"), count).field,
      h("button", {type: "submit", class: "button"}, t("search_rooms")));
    root.append(h("h1", {}, t("rooms_title")), form, list);
    const filters = new Set();
    let rooms = [];

    function slot() {
      const start = localInstant(dayInput.value || isoDate(today()), timeInput.value || "09:00");
      const end = new Date(new Date(start).getTime() + Number(duration.value) * 60000).toISOString();
      return [start, end];
    }

    function drawEquipment() {
      const keys = new Set();
      for (const room of rooms) for (const [key, value] of Object.entries(room.attributes || {})) if (value && !["private", "language"].includes(key)) keys.add(key);
      for (const node of [...equipmentBox.childNodes].slice(1)) node.remove();
      for (const key of [...keys].sort()) {
        const id = newId("eq");
        const box = h("input", {type: "checkbox", id, value: key, checked: filters.has(key)});
        box.addEventListener("change", () => { if (box.checked) filters.add(key); else filters.delete(key); draw(); });
        equipmentBox.append(h("span", {class: "choice"}, box, h("label", {for: id}, equipmentLabel(key, true))));
      }
      if (!keys.size) equipmentBox.append(h("span", {class: "hint"}, t("no_equipment")));
    }

    let busyByRoom = new Map();
    async function search() {
      const [start, end] = slot();
      try {
        const answer = await api("GET", "/availability", {query: {site_id: siteSelect.value, kind: "room", start, end, min_capacity: capacity.value || 1}});
        rooms = answer.resources;
        const dayStart = localInstant(dayInput.value, "00:00");
        const dayEnd = new Date(addDays(parseDate(dayInput.value), 1).getTime()).toISOString();
        const busy = await Promise.all(rooms.map((room) => api("GET", "/bookings", {query: {resource_id: room.id, from: dayStart, to: dayEnd}}).catch(() => [])));
        busyByRoom = new Map(rooms.map((room, i) => [room.id, busy[i].filter((b) => ["confirmed", "checked_in"].includes(b.status))]));
        drawEquipment();
        draw();
      } catch (error) {
        clear(list).append(h("p", {role: "alert"}, error.message));
      }
      root.dataset.loaded = "1";
    }

    function draw() {
      const [start, end] = slot();
      const shown = rooms.filter((room) => [...filters].every((key) => room.attributes && room.attributes[key]));
      clear(list).append(h("h2", {}, t("rooms_found", {n: shown.filter((r) => r.status === "free").length, total: shown.length})));
      if (!shown.length) { list.append(h("p", {}, t("no_rooms"))); return; }
      list.append(h("ul", {class: "rooms"}, shown.map((room) => {
        const busy = busyByRoom.get(room.id) || [];
        const busyText = busy.length ? busy.map((b) => `${timeLabel(b.start)}–${timeLabel(b.end)}`).join(", ") : t("free_all_day");
        const actions = [];
        if (room.status === "free") {
          const book = h("button", {type: "button", class: "button", "aria-label": t("book_room_named", {name: room.name})}, t("book"));
          book.addEventListener("click", () => bookRoom(room, start, end));
          actions.push(book);
        }
        return h("li", {class: "room", "data-room": room.code},
          h("h3", {}, room.name, " ", h("span", {class: `badge badge--${room.status}`}, t(`status_${room.status}`))),
          h("p", {}, t("capacity_n", {n: room.capacity}), room.attributes && Object.keys(room.attributes).length ? ` · ${equipmentText(room.attributes)}` : ""),
          timeline(busy, [start, end]),
          h("p", {class: "hint"}, labelled(t("busy_times"), busyText)),
          h("div", {class: "booking__actions"}, actions));
      })));
    }

    async function bookRoom(room, start, end) {
      const body = {resource_id: room.id, start, end};
      if (title.value.trim()) body.title = title.value.trim();
      if (repeat.value) body.rrule = repeat.value === "weekly" ? `FREQ=WEEKLY;COUNT=${count.value}` : `FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=${count.value}`;
      try {
        const answer = await api("POST", "/bookings", {body});
        if (answer.series_id) {
          const skipped = answer.skipped || [];
          ctx.toast(t("series_booked", {n: answer.bookings.length, name: room.name}) + (skipped.length ? ` ${t("series_skipped", {n: skipped.length, reasons: skipped.map((x) => labelled(`${timeLabel(x.start)} ${x.start.slice(0, 10)}`, x.message)).join(" ; ")})}` : ""));
        } else {
          ctx.toast(t("room_booked", {name: room.name, start: timeLabel(start), end: timeLabel(end)}));
        }
      } catch (error) {
        ctx.toast(error.message, "error");
      }
      await search();
    }

    form.addEventListener("submit", (event) => { event.preventDefault(); localStorage.setItem("escale_site", siteSelect.value); search(); });
    await search();
    return null;
  },
};
