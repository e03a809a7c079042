"""Every page of the web app: an admin's CSV import shows its bad line; the
language switch changes every visible string (and is remembered); no
strict-CSP violation; no serious or critical axe-core violation in French or
English; screenshots at desktop (1280) and phone (390) widths under
test-artifacts/screenshots/."""

import pytest
from playwright.sync_api import expect

from .conftest import ADMIN_EMAIL, SCREENSHOTS, sign_in

pytestmark = pytest.mark.e2e

PAGES = ["", "desks", "rooms", "bookings", "colleagues", "admin", "admin?tab=plan", "admin?tab=import",
         "admin?tab=rules", "admin?tab=report"]

VISIBLE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.textContent.trim(), el = node.parentElement;
    if (!text || !el || el.closest('#lang-switch, script, style, title')) continue;
    if (!el.getClientRects().length) continue;
    out.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label]')) out.push(el.getAttribute('aria-label').trim());
  return out;
}"""


def test_an_admin_imports_a_csv_with_one_bad_line_and_sees_it(web_app, web_place, new_context):
    page = sign_in(new_context(), web_app.url, ADMIN_EMAIL, "/app/admin?tab=import")
    expect(page.get_by_role("heading", level=2, name="Import CSV")).to_be_visible()
    header = ("site_code,site_name,building_code,building_name,floor_code,floor_name,floor_level,"
              "zone_code,zone_name,kind,code,name")
    good = f"w{web_place.tag},Site web {web_place.tag},b,Bâtiment A,f1,Étage 1,1,open,Plateau ouvert,desk,D100,Bureau 100"
    bad = f"w{web_place.tag},Site web {web_place.tag},b,Bâtiment A,f1,Étage 1,1,open,Plateau ouvert,chair,D101,Bureau 101"
    page.get_by_label("Ou collez le contenu CSV").fill("\n".join([header, good, bad]))
    page.get_by_role("button", name="Importer").click()
    errors = page.locator("table.import-errors")
    expect(errors).to_be_visible()
    expect(errors.locator("caption")).to_have_text("1 erreur(s) dans le fichier")
    row = errors.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("th")).to_have_text("3")
    expect(row.locator("td").first).to_have_text("kind")
    # The booking service words the line in the app's language (French here).
    expect(row.locator("td").nth(1)).to_have_text(
        "Type inconnu 'chair' : utilisez desk (poste), room (salle) ou equipment (équipement).")
    expect(page.locator(".import-result [role=alert]")).to_be_visible()
    # Signing out ends the session: the app sends the browser back to the sign-in page.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/auth/login**")
    page.goto(f"{web_app.url}/app/admin")
    page.wait_for_url("**/auth/login?next=%2Fapp%2Fadmin")


def test_the_language_switch_changes_every_visible_string_on_every_page(web_app, web_place, new_context):
    context = new_context()
    csp_errors = []
    page = sign_in(context, web_app.url, ADMIN_EMAIL, "/app/")
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    strings = page.evaluate("import('/app/assets/js/i18n.js').then(m => m.STRINGS)")
    french_only = {v for k, v in strings["fr"].items() if "{" not in v and v != strings["en"].get(k)}
    assert set(strings["fr"]) == set(strings["en"])  # every string in both languages
    for path in PAGES:
        page.goto(f"{web_app.url}/app/{path}")
        page.wait_for_selector("main[data-loaded='1']")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        french_title = page.title()
        page.get_by_role("button", name="Switch to English").click()
        page.wait_for_selector("main[data-loaded='1']")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert french_title.removesuffix(" — Escale") in strings["fr"].values()
        assert page.title().removesuffix(" — Escale") not in french_only
        left = [text for text in page.evaluate(VISIBLE_TEXTS) if text in french_only]
        assert not left, f"/app/{path} still shows French: {left}"
        page.reload()  # remembered
        page.wait_for_selector("main[data-loaded='1']")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_role("button", name="Passer en français").click()
        page.wait_for_selector("main[data-loaded='1']")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert not csp_errors, csp_errors


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_serious_accessibility_violation_and_screenshots(web_app, web_place, new_context, axe_source, lang):
    # bypass_csp only so the test can inject axe-core; the CSP itself is checked above.
    context = new_context(lang=lang, bypass_csp=True)
    page = sign_in(context, web_app.url, ADMIN_EMAIL, "/app/")
    page.evaluate(f"localStorage.setItem('escale_lang', '{lang}')")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = {}
    for path in PAGES:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{web_app.url}/app/{path}")
        page.wait_for_selector("main[data-loaded='1']")
        page.add_script_tag(content=axe_source)
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            problems[path or "week"] = bad
        name = (path or "week").replace("?tab=", "-")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{lang}-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(100)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), \
            f"/app/{path} scrolls sideways at 390 px"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{lang}-390.png"), full_page=True)
    assert not problems, problems
