// Sites, their trees and floor plans, read once per page and kept briefly.

import {api, probe} from "./api.js";
import {t} from "./i18n.js";

const trees = new Map();

export async function sites() {
  return api("GET", "/sites");
}

export async function siteTree(siteId) {
  if (!trees.has(siteId)) trees.set(siteId, api("GET", `/sites/${siteId}`).catch((error) => { trees.delete(siteId); throw error; }));
  return trees.get(siteId);
}

export function forgetTrees() { trees.clear(); }

/** [{id, label, zones}] of a site tree, "Building — Floor". */
export function floorsOf(tree) {
  const floors = [];
  for (const building of tree.buildings || []) {
    for (const floor of building.floors || []) {
      floors.push({...floor, building, label: `${building.name} — ${floor.name}`});
    }
  }
  return floors;
}

export async function planInfo(floorId) {
  return probe(`/floors/${floorId}/plan-info`);
}

/** "2 écrans, station d'accueil" from {"screens": 2, "docking_station": true}. */
export function equipmentText(attributes) {
  return Object.entries(attributes || {})
    .filter(([key, value]) => value !== false && value !== null && !["private", "language"].includes(key))
    .map(([key, value]) => equipmentLabel(key, value))
    .join(", ");
}

export function equipmentLabel(key, value) {
  if (value === true) {  // a filter: "has it", whatever the number
    const text = t(`eq_${key}`, {n: ""}, null);
    if (text) { const trimmed = text.trim(); return trimmed.charAt(0).toUpperCase() + trimmed.slice(1); }
    return key.replace(/_/g, " ");
  }
  const known = t(`eq_${key}`, {n: value}, null);
  if (known) return typeof value === "number" && !known.includes(String(value)) ? `${known} (${value})` : known;
  return typeof value === "number" ? `${key}: ${value}` : key.replace(/_/g, " ");
}
