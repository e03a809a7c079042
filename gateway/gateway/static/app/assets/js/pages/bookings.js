// My bookings: upcoming and past, cancel, check in while the window is open,
// and the calendar feed link once the gateway offers one.

import {api, probe} from "../api.js";
import {h, clear} from "../dom.js";
import {t} from "../i18n.js";
import {dateTimeLabel, timeLabel, addDays, shortDay} from "../dates.js";
import {subscribe} from "../live.js";

const ACTIVE = ["confirmed", "checked_in"];

/** The calendar subscription: my feeds (their secret URL is shown once, at creation). */
async function drawFeeds(box, ctx) {
  const feeds = await probe("/me/feeds");
  if (!Array.isArray(feeds)) return;  // no feeds route on this gateway
  clear(box);
  const create = h("button", {type: "button", class: "button button--secondary"}, t("feed_create"));
  const shown = h("div", {"aria-live": "polite"});
  create.addEventListener("click", async () => {
    try {
      const feed = await api("POST", "/me/feeds", {body: {label: t("feed_label")}});
      clear(shown).append(h("p", {}, t("feed_once")), h("p", {class: "feed-url"}, h("a", {href: feed.webcal_url, class: "feed-link"}, t("feed_link")), " ", h("code", {}, feed.url)));
    } catch (error) { ctx.toast(error.message, "error"); }
  });
  box.append(h("h2", {}, t("feed_title")), h("p", {}, t("feed_help")), create, shown);
  if (feeds.length) box.append(h("p", {class: "hint"}, t("feed_count", {n: feeds.length})));
}

export default {
  path: "bookings",
  nav: "nav_bookings",
  title: "bookings_title",
  async render(root, ctx) {
    const upcoming = h("section", {"aria-labelledby": "upcoming-title"});
    const past = h("section", {"aria-labelledby": "past-title"});
    const feedBox = h("div", {class: "feeds"});
    root.append(h("h1", {}, t("bookings_title")), upcoming, past, feedBox);
    const rules = new Map();

    async function windowOpens(booking) {
      if (!rules.has(booking.site_id)) rules.set(booking.site_id, api("GET", `/sites/${booking.site_id}/rules`).catch(() => null));
      const siteRules = await rules.get(booking.site_id);
      const kindRules = siteRules && siteRules[booking.resource_kind];
      const minutes = kindRules ? kindRules.checkin_opens_minutes_before : 15;
      return new Date(new Date(booking.start).getTime() - minutes * 60000);
    }

    function row(booking, opensAt) {
      const now = new Date();
      const end = new Date(booking.end);
      const actions = [];
      if (booking.status === "confirmed" && opensAt && now >= opensAt && now < end) {
        const checkIn = h("button", {type: "button", class: "button", "aria-label": t("check_in_named", {name: booking.resource_name})}, t("check_in"));
        checkIn.addEventListener("click", async () => {
          try { await api("POST", `/bookings/${booking.id}/check-in`); ctx.toast(t("checked_in_done")); } catch (error) { ctx.toast(error.message, "error"); }
          load();
        });
        actions.push(checkIn);
      }
      if (ACTIVE.includes(booking.status) && end > now) {
        const cancel = h("button", {type: "button", class: "button button--secondary", "aria-label": t("cancel_named", {name: booking.resource_name, when: dateTimeLabel(booking.start)})}, t("cancel_booking"));
        cancel.addEventListener("click", async () => {
          try { await api("DELETE", `/bookings/${booking.id}`); ctx.toast(t("booking_cancelled")); } catch (error) { ctx.toast(error.message, "error"); }
          load();
        });
        actions.push(cancel);
      }
      const when = booking.period && booking.period !== "slot"
        ? `${shortDay(new Date(booking.start))} · ${t(`period_${booking.period}`)}`
        : `${dateTimeLabel(booking.start)} – ${timeLabel(booking.end)}`;
      return h("li", {class: `booking booking--${booking.status}`, "data-booking": booking.id},
        h("div", {class: "booking__what"},
          h("strong", {}, booking.resource_name), " ",
          h("span", {class: "kind"}, t(`kind_${booking.resource_kind}`)),
          booking.title ? h("span", {class: "booking__title"}, ` — ${booking.title}`) : ""),
        h("div", {class: "booking__when"}, when),
        h("div", {class: `badge badge--b-${booking.status}`}, t(`bstatus_${booking.status}`)),
        h("div", {class: "booking__actions"}, actions));
    }

    async function load() {
      let list;
      try {
        list = await api("GET", "/bookings", {query: {mine: 1, from: addDays(new Date(), -30).toISOString()}});
      } catch (error) {
        clear(upcoming).append(h("p", {role: "alert"}, error.message));
        return;
      }
      const now = new Date();
      list.sort((a, b) => a.start.localeCompare(b.start));
      const coming = list.filter((b) => new Date(b.end) > now && ACTIVE.includes(b.status));
      const gone = list.filter((b) => !coming.includes(b)).reverse();
      const opens = await Promise.all(coming.map(windowOpens));
      clear(upcoming).append(h("h2", {id: "upcoming-title"}, t("upcoming")),
        coming.length ? h("ul", {class: "bookings"}, coming.map((b, i) => row(b, opens[i]))) : h("p", {}, t("no_upcoming")));
      clear(past).append(h("h2", {id: "past-title"}, t("past")),
        gone.length ? h("ul", {class: "bookings bookings--past"}, gone.map((b) => row(b, null))) : h("p", {}, t("no_past")));
      root.dataset.loaded = "1";
    }

    await load();
    await drawFeeds(feedBox, ctx);
    const person = ctx.me.actor.person_id;
    const unsubscribe = person ? subscribe([`person:${person}`], () => load(), load) : null;
    const tick = setInterval(load, 60000);  // check-in windows open with the clock
    return () => { if (unsubscribe) unsubscribe(); clearInterval(tick); };
  },
};
