// My week: each day's plan (on site / remote / off / on mission), the desk
// or rooms booked, a one-step change per day, and "book my usual desk" for
// the days I am on site.

import {api} from "../api.js";
import {h, clear, select, newId} from "../dom.js";
import {t, labelled} from "../i18n.js";
import {isoDate, today, addDays, mondayOf, dayLabel, timeLabel} from "../dates.js";
import {sites} from "../places.js";
import {subscribe} from "../live.js";

const PLAN_STATUSES = ["on_site", "remote", "off", "mission"];

function slotText(slot) {
  if (!slot || !slot.status || slot.status === "unknown") return t("plan_unknown");
  return t(`plan_${slot.status}`);
}

/** The desk I booked most over the last weeks: {resource_id, resource_name} or null. */
export function usualDesk(bookings) {
  const counts = new Map();
  for (const booking of bookings) {
    if (booking.resource_kind !== "desk" || booking.status === "cancelled") continue;
    const entry = counts.get(booking.resource_id) || {resource_id: booking.resource_id, resource_name: booking.resource_name, n: 0};
    entry.n += 1;
    counts.set(booking.resource_id, entry);
  }
  let best = null;
  for (const entry of counts.values()) if (!best || entry.n > best.n) best = entry;
  return best;
}

export default {
  path: "week",
  nav: "nav_week",
  title: "week_title",
  async render(root, ctx) {
    let monday = mondayOf(today());
    const allSites = await sites();
    const siteSelect = select(allSites.map((site) => [site.id, site.name]), localStorage.getItem("escale_site") || (allSites[0] && allSites[0].id), {id: newId("site")});
    const heading = h("h2", {id: "week-range"});
    const prev = h("button", {type: "button", class: "button button--secondary"}, h("span", {"aria-hidden": "true"}, "← "), t("previous_week"));
    const next = h("button", {type: "button", class: "button button--secondary"}, t("next_week"), h("span", {"aria-hidden": "true"}, " →"));
    const usual = h("button", {type: "button", class: "button"}, t("book_usual_desk"));
    const usualHint = h("p", {class: "hint", id: newId("hint")});
    usual.setAttribute("aria-describedby", usualHint.id);
    const days = h("ol", {class: "week"});
    root.append(h("h1", {}, t("week_title")),
      h("div", {class: "toolbar"}, h("div", {class: "field"}, h("label", {for: siteSelect.id}, t("my_site")), siteSelect)),
      h("div", {class: "toolbar"}, prev, heading, next),
      h("div", {class: "toolbar"}, usual, usualHint),
      days);
    siteSelect.addEventListener("change", () => localStorage.setItem("escale_site", siteSelect.value));

    let data = {plan: null, bookings: [], usual: null};

    async function load() {
      const start = isoDate(monday), end = isoDate(addDays(monday, 6));
      const [plan, bookings, history] = await Promise.all([
        api("GET", "/me/plan", {query: {start, end}}).catch(() => ({days: []})),
        api("GET", "/bookings", {query: {mine: 1, from: monday.toISOString(), to: addDays(monday, 7).toISOString()}}),
        api("GET", "/bookings", {query: {mine: 1, from: addDays(today(), -60).toISOString(), to: new Date().toISOString()}}).catch(() => []),
      ]);
      data = {plan, bookings: bookings.filter((b) => ["confirmed", "checked_in", "ended"].includes(b.status)), usual: usualDesk(history.concat(bookings))};
      draw();
      root.dataset.loaded = "1";
    }

    function draw() {
      heading.textContent = t("week_of", {day: dayLabel(monday)});
      usualHint.textContent = data.usual ? t("usual_desk_is", {name: data.usual.resource_name}) : t("no_usual_desk");
      usual.disabled = !data.usual;
      clear(days);
      const plans = new Map((data.plan.days || []).map((d) => [d.date, d]));
      for (let i = 0; i < 7; i++) {
        const date = addDays(monday, i);
        const key = isoDate(date);
        const plan = plans.get(key) || {};
        const booked = data.bookings.filter((b) => isoDate(new Date(b.start)) === key);
        const past = key < isoDate(today());
        const current = plan.am && plan.am.status === plan.pm?.status ? plan.am.status : "";
        const choice = select([["", t("plan_choose")], ...PLAN_STATUSES.map((status) => [status, t(`plan_${status}`)])],
          PLAN_STATUSES.includes(current) ? current : "", {id: newId("plan"), disabled: past, "data-day": key});
        choice.addEventListener("change", () => setDay(key, choice.value));
        const halves = plan.am && plan.pm && plan.am.status !== plan.pm.status
          ? `${labelled(t("morning"), slotText(plan.am))} · ${labelled(t("afternoon"), slotText(plan.pm))}`
          : slotText(plan.am);
        days.append(h("li", {class: ["day", key === isoDate(today()) && "day--today"], "data-day": key},
          h("h3", {class: "day__name"}, dayLabel(date), key === isoDate(today()) ? h("span", {class: "tag"}, ` (${t("today")})`) : ""),
          h("p", {class: `day__plan plan--${(plan.am && plan.am.status) || "unknown"}`}, h("span", {class: "plan-icon", "aria-hidden": "true"}), halves),
          h("div", {class: "field field--inline"}, h("label", {for: choice.id}, t("change_day")), choice),
          booked.length ? h("ul", {class: "day__bookings"}, booked.map((b) => h("li", {},
            `${b.resource_name} · ${b.period && b.period !== "slot" ? t(`period_${b.period}`) : `${timeLabel(b.start)}–${timeLabel(b.end)}`}`)))
            : h("p", {class: "hint"}, t("nothing_booked"))));
      }
    }

    async function setDay(day, status) {
      try {
        await api("PUT", "/me/plan", {body: {days: [{date: day, period: "day", status: status || null, site_id: status === "on_site" ? siteSelect.value : null}]}});
        ctx.toast(t("plan_saved", {day: dayLabel(new Date(day + "T12:00:00"))}));
      } catch (error) {
        ctx.toast(error.message, "error");
      }
      await load();
    }

    usual.addEventListener("click", async () => {
      if (!data.usual) return;
      const plans = new Map((data.plan.days || []).map((d) => [d.date, d]));
      const targets = [];
      for (let i = 0; i < 7; i++) {
        const key = isoDate(addDays(monday, i));
        const plan = plans.get(key);
        const onSite = plan && [plan.am, plan.pm].some((slot) => slot && slot.status === "on_site");
        const hasDesk = data.bookings.some((b) => b.resource_kind === "desk" && isoDate(new Date(b.start)) === key);
        if (onSite && !hasDesk && key >= isoDate(today())) targets.push(key);
      }
      if (!targets.length) { ctx.toast(t("usual_nothing_to_do")); return; }
      const failures = [];
      for (const day of targets) {
        try {
          await api("POST", "/bookings", {body: {resource_id: data.usual.resource_id, date: day, period: "day"}});
        } catch (error) {
          failures.push(labelled(dayLabel(new Date(day + "T12:00:00")), error.message));
        }
      }
      ctx.toast(failures.length ? t("usual_partly", {n: targets.length - failures.length, errors: failures.join(" ; ")}) : t("usual_done", {n: targets.length}), failures.length ? "error" : "info");
      await load();
    });
    prev.addEventListener("click", () => { monday = addDays(monday, -7); load(); });
    next.addEventListener("click", () => { monday = addDays(monday, 7); load(); });

    await load();
    const person = ctx.me.actor.person_id;
    return person ? subscribe([`person:${person}`], () => load(), load) : null;
  },
};
