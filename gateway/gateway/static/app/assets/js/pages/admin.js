// Administration: the place tree and its resources, floor plans (upload,
// place desks by dragging or with the arrow keys), CSV imports with their
// line-by-line errors, booking rules per site, and the occupancy report.

import {api, ApiFailure} from "../api.js";
import {h, s, clear, field, select, newId} from "../dom.js";
import {t} from "../i18n.js";
import {isoDate, today, addDays, shortDay, numericDay, parseDate} from "../dates.js";
import {sites, siteTree, floorsOf, planInfo, forgetTrees, equipmentText} from "../places.js";

const TABS = ["catalogue", "plan", "import", "rules", "report"];
const RULE_FIELDS = ["max_days_ahead", "max_recurring_days_ahead", "max_duration_minutes", "checkin_opens_minutes_before", "release_after_minutes"];

// --- a small form dialog for creating and editing entities -----------------------------

function formDialog(titleText, fields, values, onSave, saveLabel) {
  const dialog = h("dialog", {class: "dialog", "aria-labelledby": "dialog-title"});
  const inputs = {};
  const error = h("p", {class: "error", role: "alert"});
  const form = h("form", {method: "dialog"}, h("h2", {id: "dialog-title"}, titleText));
  for (const spec of fields) {
    let input;
    if (spec.options) input = select(spec.options, values[spec.name] ?? "", {name: spec.name});
    else input = h("input", {type: spec.type || "text", name: spec.name, value: values[spec.name] ?? "", required: spec.required, step: spec.type === "number" ? "any" : null});
    inputs[spec.name] = input;
    form.append(field(t(spec.label), input, spec.hint ? t(spec.hint) : null).field);
  }
  const save = h("button", {type: "submit", class: "button"}, saveLabel || t("save"));
  const close = h("button", {type: "button", class: "button button--secondary"}, t("close"));
  form.append(error, h("div", {class: "toolbar"}, save, close));
  dialog.append(form);
  close.addEventListener("click", () => { dialog.close(); dialog.remove(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = {};
    for (const spec of fields) {
      const raw = inputs[spec.name].value.trim();
      if (raw === "" && !spec.keepEmpty) continue;
      data[spec.name] = spec.parse ? spec.parse(raw) : (spec.type === "number" ? Number(raw) : raw);
    }
    try {
      await onSave(data);
      dialog.close();
      dialog.remove();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

export function parseAttributes(text) {
  const attributes = {};
  for (const item of text.split(/[;|]/).map((x) => x.trim()).filter(Boolean)) {
    const [name, value] = item.split("=").map((x) => x.trim());
    attributes[name] = value === undefined ? true : (/^\d+$/.test(value) ? Number(value) : value);
  }
  return attributes;
}

function attributesText(attributes) {
  return Object.entries(attributes || {}).map(([k, v]) => (v === true ? k : `${k}=${v}`)).join(";");
}

// --- tabs -----------------------------------------------------------------------------------

async function catalogueTab(box, ctx, siteSelect) {
  const treeBox = h("div", {class: "tree"});
  const resourcesBox = h("div");
  const newSite = h("button", {type: "button", class: "button button--secondary"}, t("new_site"));
  box.append(h("div", {class: "toolbar"}, newSite), treeBox, resourcesBox);
  newSite.addEventListener("click", () => formDialog(t("new_site"), [
    {name: "code", label: "f_code", required: true}, {name: "name", label: "f_name", required: true},
    {name: "address", label: "f_address"}, {name: "timezone", label: "f_timezone", hint: "timezone_hint"},
  ], {}, async (data) => { const site = await api("POST", "/sites", {body: data}); ctx.toast(t("saved")); await ctx.reloadSites(site.id); }));

  const crud = (entity, path) => ({
    edit: (item, fields) => formDialog(t(`edit_${entity}`), fields, item, async (data) => { await api("PATCH", `/${path}/${item.id}`, {body: data}); ctx.toast(t("saved")); forgetTrees(); draw(); }),
    // Deleting asks first (a dialog), and says why when the service refuses (e.g. not empty).
    remove: (item) => formDialog(t("delete_confirm", {name: item.name}), [], {}, async () => {
      await api("DELETE", `/${path}/${item.id}`);
      ctx.toast(t("deleted", {name: item.name}));
      forgetTrees();
      if (entity === "site") await ctx.reloadSites(); else draw();
    }, t("delete")),
    create: (fields, extra) => formDialog(t(`new_${entity}`), fields, {}, async (data) => { await api("POST", `/${path}`, {body: {...extra, ...data}}); ctx.toast(t("saved")); forgetTrees(); draw(); }),
  });
  const named = [{name: "code", label: "f_code", required: true}, {name: "name", label: "f_name", required: true}];

  function buttons(entity, item, fields, addChild) {
    const ops = crud(entity, `${entity}s`);
    const edit = h("button", {type: "button", class: "link-button", "aria-label": t("edit_named", {name: item.name})}, t("edit"));
    const remove = h("button", {type: "button", class: "link-button link-button--danger", "aria-label": t("delete_named", {name: item.name})}, t("delete"));
    edit.addEventListener("click", () => ops.edit(item, fields));
    remove.addEventListener("click", () => ops.remove(item));
    const parts = [edit, remove];
    if (addChild) {
      const add = h("button", {type: "button", class: "link-button", "aria-label": t(`add_${addChild.entity}_to`, {name: item.name})}, t(`new_${addChild.entity}`));
      add.addEventListener("click", () => crud(addChild.entity, `${addChild.entity}s`).create(addChild.fields, {[`${entity}_id`]: item.id}));
      parts.push(add);
    }
    return h("span", {class: "actions"}, parts);
  }

  let drawing = 0;
  async function draw() {
    const run = ++drawing;  // the last of overlapping redraws wins
    const siteId = siteSelect.value;
    if (!siteId) { clear(treeBox); clear(resourcesBox); return; }
    const [tree, resources] = await Promise.all([siteTree(siteId), api("GET", "/resources", {query: {site_id: siteId}})]);
    if (run !== drawing) return;
    clear(treeBox); clear(resourcesBox);
    const site = tree.site;
    const siteFields = [...named, {name: "address", label: "f_address"}, {name: "timezone", label: "f_timezone"}, {name: "opening_time", label: "f_opening"}, {name: "closing_time", label: "f_closing"}];
    const floorFields = [...named, {name: "level", label: "f_level", type: "number"}];
    const zoneFields = named;
    treeBox.append(h("h2", {}, t("places_of", {site: site.name})),
      h("ul", {class: "tree-list"}, h("li", {}, h("strong", {}, `${site.name} (${site.code})`), " ",
        buttons("site", site, siteFields, {entity: "building", fields: named}),
        h("ul", {}, (tree.buildings || []).map((b) => h("li", {}, `${b.name} (${b.code}) `, buttons("building", b, [...named, {name: "address", label: "f_address"}], {entity: "floor", fields: floorFields}),
          h("ul", {}, (b.floors || []).map((f) => h("li", {}, `${f.name} (${f.code}) `, buttons("floor", f, floorFields, {entity: "zone", fields: zoneFields}),
            h("ul", {}, (f.zones || []).map((z) => h("li", {}, `${z.name} (${z.code}) `, buttons("zone", z, zoneFields)))))))))))));
    const floors = floorsOf(tree);
    const zoneOptions = [];
    for (const floor of floors) for (const zone of floor.zones || []) zoneOptions.push([zone.id, `${floor.label} — ${zone.name}`]);
    const zoneName = new Map(zoneOptions);
    const resourceFields = [
      {name: "kind", label: "f_kind", options: [["desk", t("kind_desk")], ["room", t("kind_room")], ["equipment", t("kind_equipment")]]},
      ...named, {name: "zone_id", label: "f_zone", options: zoneOptions},
      {name: "capacity", label: "f_capacity", type: "number"},
      {name: "attributes", label: "f_attributes", hint: "attributes_hint", parse: parseAttributes, keepEmpty: false},
    ];
    const add = h("button", {type: "button", class: "button button--secondary"}, t("new_resource"));
    add.addEventListener("click", () => crud("resource", "resources").create(resourceFields, {}));
    resourcesBox.append(h("h2", {}, t("resources_of", {site: site.name})), add,
      h("div", {class: "table-wrap"}, h("table", {class: "data"}, h("caption", {}, t("resources_of", {site: site.name})),
        h("thead", {}, h("tr", {}, ["f_code", "f_name", "f_kind", "f_zone", "f_capacity", "f_attributes", "col_action"].map((k) => h("th", {scope: "col"}, t(k))))),
        h("tbody", {}, resources.map((r) => h("tr", {}, h("th", {scope: "row"}, r.code), h("td", {}, r.name), h("td", {}, t(`kind_${r.kind}`)),
          h("td", {}, zoneName.get(r.zone_id) || ""), h("td", {}, r.capacity ?? ""), h("td", {}, equipmentText(r.attributes)),
          h("td", {}, buttons("resource", {...r, attributes: attributesText(r.attributes)}, resourceFields))))))));
  }
  siteSelect.addEventListener("change", draw);
  await draw();
}

async function planTab(box, ctx, siteSelect) {
  const floorSelect = h("select", {name: "floor"});
  const file = h("input", {type: "file", name: "plan", accept: "image/svg+xml,image/png,.svg,.png"});
  const upload = h("button", {type: "submit", class: "button"}, t("upload_plan"));
  const form = h("form", {class: "filters"}, field(t("floor"), floorSelect).field, field(t("plan_file"), file, t("plan_file_hint")).field, upload);
  const editor = h("div", {class: "plan-editor"});
  box.append(form, h("p", {class: "hint"}, t("drag_help")), editor);
  let floors = [];

  async function loadFloors() {
    floors = siteSelect.value ? floorsOf(await siteTree(siteSelect.value)) : [];
    clear(floorSelect);
    for (const floor of floors) floorSelect.append(h("option", {value: floor.id}, floor.label));
    await draw();
  }

  let drawing = 0;
  async function draw() {
    const run = ++drawing;  // the last of overlapping redraws wins
    const floorId = floorSelect.value;
    if (!floorId) { clear(editor); return; }
    const [plan, desks] = await Promise.all([planInfo(floorId), api("GET", "/resources", {query: {floor_id: floorId}})]);
    if (run !== drawing) return;
    clear(editor);
    const placed = desks.filter((d) => d.kind !== "equipment");
    const width = plan ? plan.width : Math.max(800, ...placed.map((d) => (d.x || 0) + 60));
    const height = plan ? plan.height : Math.max(500, ...placed.map((d) => (d.y || 0) + 60));
    const r = Math.max(width, height) / 70;
    const svg = s("svg", {class: "floor-map floor-map--edit", viewBox: `0 0 ${width} ${height}`, role: "group", "aria-label": t("plan_editor_label")});
    if (plan) svg.append(s("image", {href: `/api/v1/floors/${floorId}/plan?v=${encodeURIComponent(plan.updated_at || "")}`, x: 0, y: 0, width, height, "aria-hidden": "true"}));
    else svg.append(s("rect", {class: "floor-map__ground", x: 0, y: 0, width, height}));
    const status = h("p", {role: "status", class: "summary"});
    placed.forEach((desk, i) => {
      let x = desk.x ?? (r * 2 + (i % 15) * r * 3), y = desk.y ?? (height - r * 2);
      const group = s("g", {class: `desk desk--${desk.x === null || desk.x === undefined ? "closed" : "free"} desk--drag`, transform: `translate(${x} ${y})`, tabindex: 0, role: "button",
        "aria-label": t("place_desk_label", {name: `${desk.name}, ${desk.code}`}), "data-desk": desk.code},
        s("circle", {r, class: "desk__shape"}), s("text", {class: "desk__code", y: r * 1.9, "font-size": r * 0.8}, desk.code));
      const move = (nx, ny) => { x = Math.max(0, Math.min(width, nx)); y = Math.max(0, Math.min(height, ny)); group.setAttribute("transform", `translate(${x.toFixed(1)} ${y.toFixed(1)})`); };
      const save = async () => {
        try {
          await api("PATCH", `/resources/${desk.id}`, {body: {x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10}});
          status.textContent = t("desk_placed", {name: desk.name, x: Math.round(x), y: Math.round(y)});
          group.setAttribute("class", "desk desk--free desk--drag");
        } catch (error) { status.textContent = error.message; }
      };
      let dragging = false;
      group.addEventListener("pointerdown", (event) => { dragging = true; group.setPointerCapture(event.pointerId); event.preventDefault(); });
      group.addEventListener("pointermove", (event) => {
        if (!dragging) return;
        const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(svg.getScreenCTM().inverse());
        move(point.x, point.y);
      });
      group.addEventListener("pointerup", () => { if (dragging) { dragging = false; save(); } });
      let timer = null;
      group.addEventListener("keydown", (event) => {
        const step = event.shiftKey ? r * 2 : r / 2;
        const delta = {ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step]}[event.key];
        if (!delta) return;
        event.preventDefault();
        move(x + delta[0], y + delta[1]);
        clearTimeout(timer);
        timer = setTimeout(save, 400);
      });
      svg.append(group);
    });
    editor.append(h("div", {class: "map-frame"}, svg), status);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = file.files && file.files[0];
    if (!chosen) { ctx.toast(t("choose_file"), "error"); return; }
    const type = chosen.type || (chosen.name.toLowerCase().endsWith(".svg") ? "image/svg+xml" : "image/png");
    try {
      await api("PUT", `/floors/${floorSelect.value}/plan`, {raw: chosen, contentType: type});
      ctx.toast(t("plan_uploaded"));
      forgetTrees();
    } catch (error) { ctx.toast(error.message, "error"); }
    await draw();
  });
  floorSelect.addEventListener("change", draw);
  siteSelect.addEventListener("change", loadFloors);
  await loadFloors();
}

function importTab(box, ctx) {
  const kind = select([["resources", t("import_resources")], ["people", t("import_people")]], "resources", {name: "kind"});
  const file = h("input", {type: "file", name: "file", accept: ".csv,text/csv"});
  const text = h("textarea", {name: "csv", rows: 6, spellcheck: "false"});
  const result = h("div", {class: "import-result", "aria-live": "polite"});
  const form = h("form", {class: "stack"}, field(t("import_what"), kind).field, field(t("csv_file"), file).field,
    field(t("csv_text"), text, t("csv_text_hint")).field, h("button", {type: "submit", class: "button"}, t("import")), result);
  box.append(h("p", {}, t("import_help")), form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(result);
    const csv = file.files && file.files[0] ? await file.files[0].text() : text.value;
    if (!csv.trim()) { result.append(h("p", {class: "error", role: "alert"}, t("choose_file"))); return; }
    try {
      const answer = await api("POST", `/imports/${kind.value}`, {raw: csv, contentType: "text/csv"});
      result.append(h("p", {class: "success", role: "status"}, h("span", {"aria-hidden": "true"}, "✓ "), t("import_done", {created: answer.created, updated: answer.updated})));
      forgetTrees();
    } catch (error) {
      const errors = (error instanceof ApiFailure && (error.body.errors || (error.body.details && error.body.details.errors))) || [];
      result.append(h("p", {class: "error", role: "alert"}, h("span", {"aria-hidden": "true"}, "⚠ "), error.message));
      if (errors.length) {
        result.append(h("table", {class: "data import-errors"}, h("caption", {}, t("import_errors", {n: errors.length})),
          h("thead", {}, h("tr", {}, ["col_line", "col_column", "col_message"].map((k) => h("th", {scope: "col"}, t(k))))),
          h("tbody", {}, errors.map((e) => h("tr", {}, h("th", {scope: "row"}, String(e.line)), h("td", {}, e.column || ""), h("td", {}, e.message))))));
      }
    }
  });
}

async function rulesTab(box, ctx, siteSelect) {
  const kind = select([["desk", t("kind_desk")], ["room", t("kind_room")], ["equipment", t("kind_equipment")]], "desk", {name: "kind"});
  const inputs = Object.fromEntries(RULE_FIELDS.map((name) => [name, h("input", {type: "number", name, min: 0, inputmode: "numeric", required: true})]));
  const form = h("form", {class: "filters"}, field(t("resource_kind"), kind).field,
    ...RULE_FIELDS.map((name) => field(t(`rule_${name}`), inputs[name]).field), h("button", {type: "submit", class: "button"}, t("save")));
  box.append(form);
  async function load() {
    if (!siteSelect.value) return;
    const rules = await api("GET", `/sites/${siteSelect.value}/rules`);
    const current = rules[kind.value] || {};
    for (const name of RULE_FIELDS) inputs[name].value = current[name] ?? "";
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(RULE_FIELDS.map((name) => [name, Number(inputs[name].value)]));
    try { await api("PUT", `/sites/${siteSelect.value}/rules/${kind.value}`, {body}); ctx.toast(t("saved")); } catch (error) { ctx.toast(error.message, "error"); }
  });
  kind.addEventListener("change", load);
  siteSelect.addEventListener("change", load);
  await load();
}

function barChart(rows, series, caption) {
  // rows: [{label, values: {key: n}}]; series: [{key, label, cls}]
  const highest = Math.max(0, ...rows.flatMap((row) => series.map((x) => row.values[x.key] || 0)));
  const max = Math.max(4, Math.ceil(highest / 4) * 4);  // whole numbers on the axis
  const barW = 14, gap = 10, group = series.length * barW + gap, height = 160, left = 34;
  const width = Math.max(left + rows.length * group + 10, 200);
  const every = Math.ceil(rows.length / 12);  // labels that do not overlap
  const svg = s("svg", {class: "chart", viewBox: `0 0 ${width} ${height + 40}`, width, height: height + 40, role: "img", "aria-label": caption});
  for (let i = 0; i <= 4; i++) {
    const y = height - (height * i) / 4;
    svg.append(s("line", {class: "chart__grid", x1: left, x2: width, y1: y, y2: y}), s("text", {class: "chart__axis", x: left - 4, y: y + 4}, String(Math.round((max * i) / 4))));
  }
  rows.forEach((row, i) => {
    series.forEach((serie, j) => {
      const value = row.values[serie.key] || 0;
      const barH = (value / max) * height;
      svg.append(s("rect", {class: `chart__bar ${serie.cls}`, x: left + i * group + j * barW, y: height - barH, width: barW - 2, height: barH}));
    });
    if (i % every === 0) svg.append(s("text", {class: "chart__label", x: left + i * group + (series.length * barW) / 2, y: height + 14}, row.label));
  });
  return svg;
}

async function reportTab(box, ctx, siteSelect) {
  const from = h("input", {type: "date", name: "from", value: isoDate(addDays(today(), -28))});
  const to = h("input", {type: "date", name: "to", value: isoDate(today())});
  const out = h("div", {class: "report", "aria-live": "polite"});
  const form = h("form", {class: "filters"}, field(t("from"), from).field, field(t("to"), to).field, h("button", {type: "submit", class: "button"}, t("show_report")));
  box.append(form, out);
  const seriesKeys = [{key: "booked", label: t("booked"), cls: "chart__bar--booked"}, {key: "checked_in", label: t("checked_in_n"), cls: "chart__bar--checked"}];
  const chartLegend = () => h("ul", {class: "legend"}, seriesKeys.map((x) => h("li", {}, s("svg", {viewBox: "0 0 14 14", width: 14, height: 14, "aria-hidden": "true"}, s("rect", {class: `chart__bar ${x.cls}`, x: 0, y: 0, width: 14, height: 14})), " ", x.label)));
  async function load() {
    clear(out);
    if (!siteSelect.value) return;
    const query = {site_id: siteSelect.value, from: from.value, to: to.value};
    let report;
    try { report = await api("GET", "/reports/occupancy", {query}); } catch (error) { out.append(h("p", {role: "alert"}, error.message)); return; }
    const pct = (x) => `${Math.round(x * 1000) / 10} %`;
    const csv = h("a", {class: "button button--secondary", href: `/api/v1/reports/occupancy.csv?${new URLSearchParams(query)}`, download: `occupancy-${from.value}-${to.value}.csv`}, t("export_csv"));
    out.append(
      h("dl", {class: "figures"},
        h("div", {}, h("dt", {}, t("total_booked")), h("dd", {}, String(report.totals.booked))),
        h("div", {}, h("dt", {}, t("total_checked_in")), h("dd", {}, String(report.totals.checked_in))),
        h("div", {}, h("dt", {}, t("no_show_rate")), h("dd", {}, pct(report.totals.no_show_rate))),
        h("div", {}, h("dt", {}, t("busiest_days")), h("dd", {}, report.busiest_weekdays.slice(0, 3).map((d) => `${t(`weekday_${d.weekday}`)} (${d.booked})`).join(", ") || "—"))),
      csv,
      h("h2", {}, t("per_day")), chartLegend(),
      h("div", {class: "chart-wrap"}, barChart(report.days.map((d) => ({label: numericDay(parseDate(d.date)), values: d})), seriesKeys, t("per_day_chart"))),
      h("div", {class: "table-wrap"}, h("table", {class: "data"}, h("caption", {}, t("per_day")),
        h("thead", {}, h("tr", {}, ["col_day", "booked", "checked_in_n", "no_shows", "no_show_rate"].map((k) => h("th", {scope: "col"}, t(k))))),
        h("tbody", {}, report.days.map((d) => h("tr", {}, h("th", {scope: "row"}, shortDay(parseDate(d.date))), h("td", {}, String(d.booked)), h("td", {}, String(d.checked_in)), h("td", {}, String(d.no_shows)), h("td", {}, pct(d.no_show_rate))))))),
      h("h2", {}, t("per_zone")), chartLegend(),
      h("div", {class: "chart-wrap"}, barChart(report.zones.map((z) => ({label: z.zone_code || "—", values: z})), seriesKeys, t("per_zone_chart"))),
      h("div", {class: "table-wrap"}, h("table", {class: "data"}, h("caption", {}, t("per_zone")),
        h("thead", {}, h("tr", {}, ["f_zone", "booked", "checked_in_n", "no_shows", "no_show_rate"].map((k) => h("th", {scope: "col"}, t(k))))),
        h("tbody", {}, report.zones.map((z) => h("tr", {}, h("th", {scope: "row"}, z.zone_name || "—"), h("td", {}, String(z.booked)), h("td", {}, String(z.checked_in)), h("td", {}, String(z.no_shows)), h("td", {}, pct(z.no_show_rate))))))));
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  siteSelect.addEventListener("change", load);
  await load();
}

export default {
  path: "admin",
  nav: "nav_admin",
  title: "admin_title",
  adminOnly: true,
  async render(root, ctx) {
    const params = new URLSearchParams(location.search);
    const tab = TABS.includes(params.get("tab")) ? params.get("tab") : "catalogue";
    const siteSelect = h("select", {name: "site"});
    const tabs = h("nav", {class: "tabs", "aria-label": t("admin_sections")}, h("ul", {}, TABS.map((name) => {
      const link = h("a", {href: `/app/admin?tab=${name}`, "aria-current": name === tab ? "page" : null}, t(`tab_${name}`));
      link.addEventListener("click", (event) => { event.preventDefault(); ctx.navigate(`/app/admin?tab=${name}`); });
      return h("li", {}, link);
    })));
    const box = h("section", {"aria-labelledby": "tab-title"});
    root.append(h("h1", {}, t("admin_title")), tabs, h("h2", {id: "tab-title", class: "tab-title"}, t(`tab_${tab}`)));
    if (tab !== "import") root.append(h("div", {class: "toolbar"}, field(t("site"), siteSelect).field));
    root.append(box);
    ctx.reloadSites = async (chosen) => {
      const list = await sites();
      const current = chosen || siteSelect.value || localStorage.getItem("escale_site");
      clear(siteSelect);
      for (const site of list) siteSelect.append(h("option", {value: site.id}, site.name));
      if (list.some((x) => x.id === current)) siteSelect.value = current;
      siteSelect.dispatchEvent(new Event("change"));
    };
    const list = await sites();
    for (const site of list) siteSelect.append(h("option", {value: site.id}, site.name));
    const saved = localStorage.getItem("escale_site");
    if (list.some((x) => x.id === saved)) siteSelect.value = saved;
    siteSelect.addEventListener("change", () => localStorage.setItem("escale_site", siteSelect.value));
    if (tab === "catalogue") await catalogueTab(box, ctx, siteSelect);
    else if (tab === "plan") await planTab(box, ctx, siteSelect);
    else if (tab === "import") importTab(box, ctx);
    else if (tab === "rules") await rulesTab(box, ctx, siteSelect);
    else await reportTab(box, ctx, siteSelect);
    root.dataset.loaded = "1";
    return () => { for (const dialog of document.querySelectorAll("dialog")) dialog.remove(); };
  },
};
