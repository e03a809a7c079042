"""User-facing messages of the presence service, in French (default) and English.

Domain errors carry a message key and parameters; the service entrypoint
renders them in the caller's language (nameko's ``language`` context data,
sent by the gateway from ``Accept-Language``).
"""

from __future__ import annotations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

MESSAGES: dict[str, dict[str, str]] = {
    "unknown_caller": {
        "fr": "Appelant inconnu.",
        "en": "Unknown caller.",
    },
    "no_person": {
        "fr": "Ce compte n'est lié à aucune personne de l'annuaire.",
        "en": "This account is not linked to any person in the directory.",
    },
    "only_yourself": {
        "fr": "Vous ne pouvez agir que pour vous-même.",
        "en": "You may only act for yourself.",
    },
    "person_not_found": {
        "fr": "Personne inconnue.",
        "en": "No such person.",
    },
    "invalid_field": {
        "fr": "Valeur invalide pour « {field} » : {reason}",
        "en": "Invalid value for '{field}': {reason}",
    },
}

# Reasons used in ``invalid_field`` (translated too).
REASONS: dict[str, dict[str, str]] = {
    "not_text": {"fr": "texte attendu.", "en": "text expected."},
    "not_list": {"fr": "liste attendue.", "en": "a list is expected."},
    "not_object": {"fr": "objet attendu.", "en": "an object is expected."},
    "not_id": {"fr": "identifiant attendu.", "en": "an id is expected."},
    "not_date": {"fr": "date AAAA-MM-JJ attendue.", "en": "a YYYY-MM-DD date is expected."},
    "not_time": {"fr": "date et heure ISO 8601 avec fuseau attendues.",
                 "en": "an ISO 8601 time with an offset is expected."},
    "date_range": {"fr": "de aujourd'hui à {days} jours au plus.",
                   "en": "from today to {days} days ahead at most."},
    "period_range": {"fr": "période de {days} jours au plus, fin après début.",
                     "en": "a period of at most {days} days, end after start."},
    "one_of": {"fr": "valeurs possibles : {values}.", "en": "possible values: {values}."},
    "site_required": {"fr": "un site est requis pour « sur site ».",
                      "en": "a site is required with on_site."},
    "site_refused": {"fr": "un site n'est permis qu'avec « sur site ».",
                     "en": "a site is only allowed with on_site."},
    "unknown_site": {"fr": "site inconnu.", "en": "unknown site."},
    "count_range": {"fr": "de {low} à {high} éléments.", "en": "from {low} to {high} items."},
    "duplicate": {"fr": "le même créneau figure deux fois.",
                  "en": "the same slot appears twice."},
    "until_range": {"fr": "après maintenant et dans {hours} heures au plus.",
                    "en": "after now and at most {hours} hours ahead."},
    "too_long": {"fr": "{max} caractères au plus.", "en": "{max} characters at most."},
    "text_length": {"fr": "de 1 à {max} caractères.", "en": "1 to {max} characters."},
    "weekday": {"fr": "jour ISO de 1 (lundi) à 7 (dimanche).",
                "en": "an ISO weekday from 1 (Monday) to 7 (Sunday)."},
    "limit": {"fr": "de 1 à {max}.", "en": "from 1 to {max}."},
    "unknown_field": {"fr": "champ inconnu.", "en": "unknown field."},
}


def pick(language: str | None) -> str:
    if isinstance(language, str):
        lang = language.strip().lower()[:2]
        if lang in LANGUAGES:
            return lang
    return DEFAULT_LANGUAGE


def render(key: str, language: str | None, **params) -> str:
    lang = pick(language)
    if key == "invalid_field" and "reason" in params:
        reason = REASONS.get(params["reason"], {}).get(lang, params["reason"])
        params = {**params, "reason": reason.format(**params)}
    return MESSAGES[key][lang].format(**params)
