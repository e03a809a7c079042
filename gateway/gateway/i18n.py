"""The gateway's own user-facing messages, in French (default) and English.

Messages made by the booking service (domain errors) pass through as given;
every message the gateway makes itself comes from this catalogue, in the
language the client asked for with ``Accept-Language``.
"""

from __future__ import annotations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

MESSAGES: dict[str, dict[str, str]] = {
    # authentication and authorisation
    "auth_missing": {
        "fr": "Authentification requise : connectez-vous, ou envoyez l'en-tête « Authorization: Bearer <jeton> ».",
        "en": "Authentication required: sign in, or send an 'Authorization: Bearer <token>' header.",
    },
    "auth_invalid": {
        "fr": "Jeton inconnu, révoqué ou expiré.",
        "en": "Unknown, revoked or expired token.",
    },
    "session_invalid": {
        "fr": "Session inconnue, fermée ou expirée : reconnectez-vous.",
        "en": "Unknown, closed or expired session: please sign in again.",
    },
    "csrf_invalid": {
        "fr": "Jeton anti-CSRF absent ou invalide : envoyez l'en-tête « X-CSRF-Token » de votre session.",
        "en": "Missing or invalid CSRF token: send your session's 'X-CSRF-Token' header.",
    },
    "rate_limited": {
        "fr": "Trop de requêtes (au plus {limit} en {seconds} s) : réessayez dans {wait} s.",
        "en": "Too many requests (at most {limit} per {seconds} s): try again in {wait} s.",
    },
    "cross_origin_form": {
        "fr": "Formulaire envoyé depuis un autre site : refusé.",
        "en": "Form sent from another site: refused.",
    },
    "forbidden_action": {
        "fr": "Votre rôle ({role}) ne permet pas cette action.",
        "en": "Your role ({role}) does not allow this action.",
    },
    "personal_data_no_person": {
        "fr": "Ce compte n'est lié à aucune personne : il n'a pas de données personnelles à exporter ou effacer.",
        "en": "This account is not linked to a person: it has no personal data to export or erase.",
    },
    "forbidden_site": {
        "fr": "Vous n'administrez pas ce site.",
        "en": "You do not administer this site.",
    },
    "forbidden_other_person": {
        "fr": "Seul un administrateur peut réserver pour une autre personne.",
        "en": "Only an administrator can book for someone else.",
    },
    "no_person": {
        "fr": "Ce jeton n'est lié à aucune personne de l'annuaire.",
        "en": "This token is not linked to any person in the directory.",
    },
    # request shape
    "invalid_json": {
        "fr": "Le corps de la requête doit être un objet JSON valide.",
        "en": "The request body must be a valid JSON object.",
    },
    "too_large": {
        "fr": "Le corps de la requête est trop gros (maximum {limit} octets).",
        "en": "The request body is too large (at most {limit} bytes).",
    },
    "unsupported_media_type": {
        "fr": "Type de contenu non pris en charge : envoyez {expected}.",
        "en": "Unsupported content type: send {expected}.",
    },
    "not_utf8": {
        "fr": "Le fichier doit être encodé en UTF-8.",
        "en": "The file must be encoded in UTF-8.",
    },
    "route_not_found": {
        "fr": "Cette adresse n'existe pas.",
        "en": "There is nothing at this address.",
    },
    "method_not_allowed": {
        "fr": "Méthode {method} non autorisée ici (autorisées : {allowed}).",
        "en": "Method {method} is not allowed here (allowed: {allowed}).",
    },
    "bad_request": {
        "fr": "Requête invalide.",
        "en": "Bad request.",
    },
    "pairing_not_found": {
        "fr": "Code d'appairage inconnu ou expiré.",
        "en": "Unknown or expired pairing code.",
    },
    "pairing_unavailable": {
        "fr": "Trop d'appairages en cours ; réessayez dans quelques minutes.",
        "en": "Too many pairings in progress; try again in a few minutes.",
    },
    "not_a_room": {
        "fr": "Une tablette ne s'associe qu'à une salle.",
        "en": "A display can only be paired with a room.",
    },
    "device_without_room": {
        "fr": "Ce jeton d'appareil n'est lié à aucune salle.",
        "en": "This device token is not bound to any room.",
    },
    "entity_not_found": {
        "fr": "Aucun élément avec cet identifiant.",
        "en": "Nothing with this id.",
    },
    # validation (one per kind of problem; the field is named beside the message)
    "invalid_field": {
        "fr": "Valeur invalide pour « {field} ».",
        "en": "Invalid value for '{field}'.",
    },
    "missing": {
        "fr": "Le champ « {field} » est obligatoire.",
        "en": "The field '{field}' is required.",
    },
    "unknown_field": {
        "fr": "Champ inconnu : « {field} ».",
        "en": "Unknown field: '{field}'.",
    },
    "not_uuid": {
        "fr": "« {field} » doit être un identifiant (UUID).",
        "en": "'{field}' must be an id (UUID).",
    },
    "not_datetime": {
        "fr": ("« {field} » doit être une date et heure ISO 8601 avec fuseau, "
               "par ex. 2026-03-10T09:00:00+01:00."),
        "en": ("'{field}' must be an ISO 8601 date and time with an offset, "
               "e.g. 2026-03-10T09:00:00+01:00."),
    },
    "naive_datetime": {
        "fr": "« {field} » doit préciser son fuseau horaire (par ex. +01:00 ou Z).",
        "en": "'{field}' must include its time zone offset (e.g. +01:00 or Z).",
    },
    "not_date": {
        "fr": "« {field} » doit être une date AAAA-MM-JJ.",
        "en": "'{field}' must be a date YYYY-MM-DD.",
    },
    "year_out_of_range": {
        "fr": "« {field} » doit être comprise entre l'an 2000 et l'an 2100.",
        "en": "'{field}' must be between the years 2000 and 2100.",
    },
    "not_string": {
        "fr": "« {field} » doit être une chaîne de caractères.",
        "en": "'{field}' must be a string.",
    },
    "not_integer": {
        "fr": "« {field} » doit être un nombre entier.",
        "en": "'{field}' must be a whole number.",
    },
    "not_number": {
        "fr": "« {field} » doit être un nombre.",
        "en": "'{field}' must be a number.",
    },
    "not_boolean": {
        "fr": "« {field} » doit être vrai ou faux.",
        "en": "'{field}' must be true or false.",
    },
    "not_object": {
        "fr": "« {field} » doit être un objet JSON.",
        "en": "'{field}' must be a JSON object.",
    },
    "not_list": {
        "fr": "« {field} » doit être une liste.",
        "en": "'{field}' must be a list.",
    },
    "too_short": {
        "fr": "« {field} » est trop court (au moins {min} caractère(s)).",
        "en": "'{field}' is too short (at least {min} character(s)).",
    },
    "too_long": {
        "fr": "« {field} » est trop long (au plus {max} caractères).",
        "en": "'{field}' is too long (at most {max} characters).",
    },
    "too_small": {
        "fr": "« {field} » doit valoir au moins {min}.",
        "en": "'{field}' must be at least {min}.",
    },
    "too_big": {
        "fr": "« {field} » doit valoir au plus {max}.",
        "en": "'{field}' must be at most {max}.",
    },
    "not_one_of": {
        "fr": "« {field} » doit valoir l'un de : {expected}.",
        "en": "'{field}' must be one of: {expected}.",
    },
    "too_many": {
        "fr": "« {field} » compte trop d'éléments (au plus {max}).",
        "en": "'{field}' has too many items (at most {max}).",
    },
    "nothing_to_change": {
        "fr": "Rien à modifier : donnez au moins un champ.",
        "en": "Nothing to change: give at least one field.",
    },
    "mine_or_person": {
        "fr": "Utilisez soit « mine=1 », soit « person_id », pas les deux.",
        "en": "Use either 'mine=1' or 'person_id', not both.",
    },
    "hours_order": {
        "fr": "Les horaires doivent être dans l'ordre : ouverture < mi-journée < fermeture.",
        "en": "Times must be in order: opening < midday < closing.",
    },
    "timezone": {
        "fr": "« {field} » doit être un fuseau horaire IANA, par ex. Europe/Paris.",
        "en": "'{field}' must be an IANA time zone, e.g. Europe/Paris.",
    },
    "not_time": {
        "fr": "« {field} » doit être une heure HH:MM.",
        "en": "'{field}' must be a time HH:MM.",
    },
    "end_before_start": {
        "fr": "La fin doit être après le début.",
        "en": "The end must be after the start.",
    },
    "booking_when": {
        "fr": "Indiquez soit « start » et « end », soit « date » et « period ».",
        "en": "Give either 'start' and 'end', or 'date' and 'period'.",
    },
    "availability_when": {
        "fr": "Indiquez soit « start » et « end », soit « date » (et « period »).",
        "en": "Give either 'start' and 'end', or 'date' (and 'period').",
    },
    "one_place": {
        "fr": "Indiquez exactement un lieu parmi « site_id », « floor_id » et « zone_id ».",
        "en": "Give exactly one place among 'site_id', 'floor_id' and 'zone_id'.",
    },
    "bad_idempotency_key": {
        "fr": "L'en-tête Idempotency-Key doit compter de 1 à 200 caractères imprimables.",
        "en": "The Idempotency-Key header must be 1 to 200 printable characters.",
    },
    "bad_attribute": {
        "fr": ("« attributes » est une liste d'attributs séparés par des virgules "
               "(lettres, chiffres, _ et -)."),
        "en": "'attributes' is a comma-separated list of attributes (letters, digits, _ and -).",
    },
    "csv_empty": {
        "fr": "Le fichier CSV est vide.",
        "en": "The CSV file is empty.",
    },
    # chat bots' webhooks
    "bad_signature": {
        "fr": "Signature ou jeton de la requête invalide.",
        "en": "Invalid request signature or token.",
    },
    "stale_request": {
        "fr": "Requête trop ancienne (ou horloge décalée) : refusée.",
        "en": "Request too old (or clock skew): refused.",
    },
    "replayed_request": {
        "fr": "Requête déjà reçue : refusée.",
        "en": "Request already received: refused.",
    },
    "bot_not_configured": {
        "fr": "Ce robot de messagerie n'est pas configuré.",
        "en": "This chat bot is not configured.",
    },
    "bad_bot_request": {
        "fr": "Requête de messagerie illisible.",
        "en": "Unreadable chat request.",
    },
    # live updates (WebSocket)
    "live_origin": {
        "fr": "Origine de la page non autorisée pour les mises à jour en direct.",
        "en": "This page's origin is not allowed to receive live updates.",
    },
    # dependencies
    "service_unavailable": {
        "fr": "Le service « {service} » est indisponible ; réessayez dans un instant.",
        "en": "The '{service}' service is unavailable; try again in a moment.",
    },
    "service_timeout": {
        "fr": "Le service « {service} » n'a pas répondu à temps ({timeout} s) ; réessayez.",
        "en": "The '{service}' service did not answer in time ({timeout} s); try again.",
    },
    "internal_error": {
        "fr": "Erreur interne. L'incident est enregistré ; réessayez plus tard.",
        "en": "Internal error. It has been logged; try again later.",
    },
    # iCalendar feeds (routes/feeds.py, ical_feed.py)
    "feed_not_found": {
        "fr": "Flux de calendrier inconnu ou révoqué.",
        "en": "Unknown or revoked calendar feed.",
    },
    "feed_limit": {
        "fr": "Trop d'abonnements actifs ({limit} au plus) : révoquez-en un d'abord.",
        "en": "Too many live subscriptions (at most {limit}): revoke one first.",
    },
    "feed_no_person": {
        "fr": "Ce compte n'est lié à aucune personne : il n'a pas d'agenda de réservations.",
        "en": "This account is not linked to a person: it has no bookings calendar.",
    },
    "feed_too_often": {
        "fr": "Ce flux est interrogé trop souvent : réessayez dans une minute.",
        "en": "This feed is fetched too often: try again in a minute.",
    },
    "feed_name_person": {
        "fr": "Escale — réservations de {name}",
        "en": "Escale — {name}'s bookings",
    },
    "feed_name_room": {
        "fr": "Escale — {name}",
        "en": "Escale — {name}",
    },
    "feed_summary": {
        "fr": "Réservation : {resource}",
        "en": "Booking: {resource}",
    },
    "feed_summary_titled": {
        "fr": "{title} ({resource})",
        "en": "{title} ({resource})",
    },
    "feed_booked": {
        "fr": "Réservé",
        "en": "Booked",
    },
    "feed_summary_by": {
        "fr": "{summary} — par {organiser}",
        "en": "{summary} — by {organiser}",
    },
    "feed_cancelled": {
        "fr": "Annulé : {summary}",
        "en": "Cancelled: {summary}",
    },
    # floor plans (routes/plans.py)
    "floor_not_found": {"fr": "Étage inconnu.", "en": "Unknown floor."},
    "plan_not_found": {"fr": "Cet étage n'a pas de plan.", "en": "This floor has no plan."},
    "plan_empty": {"fr": "Le fichier du plan est vide.", "en": "The plan file is empty."},
    "plan_too_large": {"fr": "Le plan dépasse 5 Mo.", "en": "The plan is larger than 5 MB."},
    "plan_type": {"fr": "Un plan est une image SVG ou PNG.", "en": "A plan is an SVG or PNG image."},
    "plan_unreadable": {"fr": "Cette image SVG ou PNG est illisible.",
                        "en": "This SVG or PNG image cannot be read."},
    "plan_unsafe": {"fr": "Ce SVG contient des scripts, des événements ou des liens externes : "
                          "enregistrez un dessin simple.",
                    "en": "This SVG holds scripts, event handlers or external links: save a plain "
                          "drawing."},
    "plan_no_size": {"fr": "Ce SVG n'indique pas sa taille (viewBox ou width/height).",
                     "en": "This SVG does not give its size (viewBox or width/height)."},
    # occupancy report (routes/reports.py)
    "report_period": {"fr": "La période va de 1 à 366 jours, « to » après « from ».",
                      "en": "The period is 1 to 366 days long, 'to' after 'from'."},
    # Domain error codes of the booking, presence and notify services (their
    # own message says more and passes through; ``error_message`` gives these
    # when a service sends none). Every code a service raises has one here,
    # in both languages, and a status in errors.STATUS
    # (tests/test_unit_error_catalogue.py).
    "error.not_found": {"fr": "Élément introuvable.", "en": "Not found."},
    "error.forbidden": {"fr": "Vous n'avez pas le droit de faire cela.",
                        "en": "You are not allowed to do this."},
    "error.invalid": {"fr": "Requête invalide : vérifiez le champ indiqué.",
                      "en": "Invalid request: check the field named."},
    "error.import_rejected": {"fr": "Le fichier contient des erreurs : rien n'a été importé.",
                              "en": "The file has errors: nothing was imported."},
    "error.idempotency_key_reused": {
        "fr": "Cette clé d'idempotence a déjà servi pour une autre requête.",
        "en": "This idempotency key was already used for another request."},
    "error.rule_violation": {"fr": "Cette réservation enfreint une règle du site.",
                             "en": "This booking breaks one of the site's rules."},
    "error.too_far_ahead": {"fr": "Trop loin à l'avance : le site ne prend pas encore de "
                                  "réservation pour cette date.",
                            "en": "Too far ahead: the site does not take bookings for this date "
                                  "yet."},
    "error.in_the_past": {"fr": "Ce créneau est déjà passé.", "en": "This time is already over."},
    "error.too_long": {"fr": "Réservation plus longue que les règles du site ne le permettent.",
                       "en": "This booking is longer than the site's rules allow."},
    "error.outside_opening_hours": {"fr": "En dehors des heures d'ouverture du site.",
                                    "en": "Outside the site's opening hours."},
    "error.site_closed": {"fr": "Le site est fermé ce jour-là.", "en": "The site is closed that day."},
    "error.public_holiday": {"fr": "Ce jour est férié : le site est fermé.",
                             "en": "That day is a public holiday: the site is closed."},
    "error.recurrence_too_long": {"fr": "Cette série de réservations est trop longue.",
                                  "en": "This booking series is too long."},
    "error.restricted_resource": {"fr": "Cette ressource est réservée à certaines équipes.",
                                  "en": "This resource is kept for some teams."},
    "error.check_in_not_open": {"fr": "L'enregistrement n'est pas encore ouvert pour cette "
                                      "réservation.",
                                "en": "Check-in is not open yet for this booking."},
    "error.conflict": {"fr": "Conflit avec l'état actuel : rechargez et réessayez.",
                       "en": "This conflicts with the current state: reload and try again."},
    "error.resource_already_booked": {"fr": "Cette ressource est déjà réservée sur ce créneau.",
                                      "en": "This resource is already booked for this time."},
    "error.person_already_has_desk": {"fr": "Cette personne a déjà un bureau sur ce créneau.",
                                      "en": "This person already has a desk for this time."},
    "error.invalid_state": {"fr": "Impossible dans l'état actuel (déjà en cours, déjà terminé ou "
                                  "pas encore configuré).",
                            "en": "Not possible in the current state (already under way, already "
                                  "over, or not set up yet)."},
    "error.not_empty": {"fr": "Cet élément en contient encore d'autres : videz-le d'abord.",
                        "en": "This still holds other items: empty it first."},
}


def pick_language(accept_language: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header (fr by default)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in accept_language.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if q <= 0:
            continue  # q=0 means "not acceptable"
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


def error_message(code: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The catalogue's sentence for a domain error ``code`` (a generic one if unknown)."""
    key = f"error.{code}"
    return message(key if key in MESSAGES else "bad_request", language)


def message(key: str, language: str = DEFAULT_LANGUAGE, **params) -> str:
    """The message ``key`` in ``language``, with ``params`` filled in."""
    entry = MESSAGES[key]
    text = entry.get(language) or entry[DEFAULT_LANGUAGE]
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text
