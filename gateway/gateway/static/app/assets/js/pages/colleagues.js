// Colleagues: "where is X" (status now, where, how to reach them) and who of
// my teams is on site each day of this week.

import {api} from "../api.js";
import {h, clear, newId} from "../dom.js";
import {t, labelled} from "../i18n.js";
import {isoDate, today, addDays, mondayOf, shortDay, timeLabel} from "../dates.js";

function placeText(place) {
  if (!place) return "";
  const parts = [place.site_name, place.resource_name].filter(Boolean);
  return parts.join(" · ");
}

export function presenceCard(person, presence) {
  const status = (presence && presence.status) || "unknown";
  const until = presence && presence.until ? ` ${t("until", {time: timeLabel(presence.until)})}` : "";
  const reach = (presence && presence.reach) || [];
  return h("li", {class: "person", "data-person": person.id},
    h("h3", {}, person.display_name),
    h("p", {class: "hint"}, [person.job_title, person.department].filter(Boolean).join(", ")),
    h("p", {class: `presence presence--${status}`}, h("span", {class: "plan-icon", "aria-hidden": "true"}),
      t(`presence_${status}`), presence && presence.label ? ` (${presence.label})` : "", until,
      presence && presence.place ? ` — ${placeText(presence.place)}` : ""),
    reach.length ? h("ul", {class: "reach", "aria-label": t("how_to_reach", {name: person.display_name})},
      reach.map((channel) => h("li", {}, h("a", {href: channel.href || "#"}, labelled(t(`channel_${channel.channel}`), channel.value))))) : "");
}

export default {
  path: "colleagues",
  nav: "nav_colleagues",
  title: "colleagues_title",
  async render(root, ctx) {
    const input = h("input", {type: "search", id: newId("q"), name: "q", autocomplete: "off", minlength: 1, maxlength: 100});
    const form = h("form", {role: "search", class: "search"},
      h("label", {for: input.id}, t("where_is_label")), input,
      h("button", {type: "submit", class: "button"}, t("search")));
    const results = h("div", {class: "search-results", "aria-live": "polite"});
    const teamsBox = h("section", {"aria-labelledby": "teams-title"});
    root.append(h("h1", {}, t("colleagues_title")), form, results, teamsBox);

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const q = input.value.trim();
      clear(results);
      if (!q) return;
      try {
        const answer = await api("GET", "/presence/search", {query: {q, limit: 10}});
        results.append(h("h2", {}, t("results_for", {q})),
          answer.matches.length ? h("ul", {class: "people"}, answer.matches.map((m) => presenceCard(m.person, m.presence)))
            : h("p", {}, t("nobody_found")));
      } catch (error) {
        results.append(h("p", {role: "alert"}, error.message));
      }
    });

    const teams = (ctx.me.person && ctx.me.person.teams) || [];
    teamsBox.append(h("h2", {id: "teams-title"}, t("my_teams_week")));
    if (!teams.length) { teamsBox.append(h("p", {}, t("no_teams"))); root.dataset.loaded = "1"; return null; }
    const monday = mondayOf(today());
    const days = [0, 1, 2, 3, 4].map((i) => addDays(monday, i));
    for (const team of teams) {
      const rosters = await Promise.all(days.map((day) => api("GET", "/presence", {query: {date: isoDate(day), team: team.id}}).catch(() => null)));
      teamsBox.append(h("table", {class: "roster"},
        h("caption", {}, t("team_on_site", {team: team.name})),
        h("thead", {}, h("tr", {}, h("th", {scope: "col"}, t("col_day")), h("th", {scope: "col"}, t("col_on_site")))),
        h("tbody", {}, days.map((day, i) => {
          const people = ((rosters[i] && rosters[i].people) || []);
          return h("tr", {}, h("th", {scope: "row"}, shortDay(day)),
            h("td", {}, people.length ? people.map((entry) => {
              const desk = (entry.desks || [])[0];
              return `${entry.person.display_name}${desk ? ` (${desk.resource_name})` : ""}`;
            }).join(", ") : (rosters[i] ? t("nobody_on_site") : t("unavailable"))));
        }))));
    }
    root.dataset.loaded = "1";
    return null;
  },
};
