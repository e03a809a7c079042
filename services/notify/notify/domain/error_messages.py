"""The notify service's error messages, in French (default) and English.

(What notifications say is in ``messages``.) Errors carry a key and named
parameters (``msg``) and are worded in the caller's language: nameko's
``language`` context data, sent by the gateway from ``Accept-Language``,
which the service's ``CallerLanguage`` dependency makes current for the
worker (``speaking``). Without one, French.
"""

from __future__ import annotations

from escale_common.wording import (  # noqa: F401 - this service's names for them
    DEFAULT_LANGUAGE, LANGUAGES, Catalogue, Message, msg, pick, placeholders,
)

# Parameters whose value is one of the service's own words (a delivery
# status), translated with the sentence around them.
TRANSLATED_PARAMS = frozenset({"status"})

WORDS: dict[str, dict[str, str]] = {
    "pending": {"fr": "en attente", "en": "pending"},
    "sent": {"fr": "envoyé", "en": "sent"},
    "skipped": {"fr": "non envoyé", "en": "skipped"},
    "dead": {"fr": "en échec définitif", "en": "dead"},
}

MESSAGES: dict[str, dict[str, str]] = {
    "no_such_message": {
        "fr": "Message inconnu.",
        "en": "No such message.",
    },
    "name_must_be_a_time_hh": {
        "fr": "{name} doit être une heure HH:MM.",
        "en": "{name} must be a time HH:MM.",
    },
    "timezone_not_iana_example": {
        "fr": "timezone doit être un fuseau horaire IANA, par exemple Europe/Paris.",
        "en": "timezone must be an IANA time zone, e.g. Europe/Paris.",
    },
    "preferences_must_be_an_object": {
        "fr": "Les préférences doivent être un objet.",
        "en": "Preferences must be an object.",
    },
    "unknown_field_name": {
        "fr": "Champ inconnu : {name!r}.",
        "en": "Unknown field {name!r}.",
    },
    "channels_must_be_an_object": {
        "fr": "channels doit être un objet.",
        "en": "channels must be an object.",
    },
    "reminder_must_be_day_before_morning": {
        "fr": "reminder doit valoir day_before (la veille), morning_of (le matin même) ou none (aucun).",
        "en": "reminder must be day_before, morning_of or none.",
    },
    "timezone_not_iana": {
        "fr": "timezone doit être un fuseau horaire IANA.",
        "en": "timezone must be an IANA time zone.",
    },
    "unknown_kind_of_message_kind_use": {
        "fr": "Type de message inconnu {kind!r} ; utilisez l'un de : {kinds}.",
        "en": "Unknown kind of message {kind!r}; use one of {kinds}.",
    },
    "a_kind_s_channels_are_a": {
        "fr": "Les canaux d'un type de message sont une liste de email et chat (vide : aucun).",
        "en": "A kind's channels are a list of email and chat (empty: none).",
    },
    "quiet_hours_is_start_hh_mm": {
        "fr": "quiet_hours vaut {{\"start\": \"HH:MM\", \"end\": \"HH:MM\"}} ou null.",
        "en": "quiet_hours is {{\"start\": \"HH:MM\", \"end\": \"HH:MM\"}} or null.",
    },
    "quiet_hours_must_not_start_and": {
        "fr": "Les heures calmes ne doivent pas commencer et finir à la même heure.",
        "en": "Quiet hours must not start and end at the same time.",
    },
    "you_may_only_export_or_erase": {
        "fr": "Vous ne pouvez exporter ou effacer que vos propres données.",
        "en": "You may only export or erase your own data.",
    },
    "unknown_caller": {
        "fr": "Appelant inconnu.",
        "en": "Unknown caller.",
    },
    "person_id_must_be_an_id": {
        "fr": "person_id doit être un identifiant.",
        "en": "person_id must be an id.",
    },
    "only_an_administrator_may_run_the": {
        "fr": "Seul un administrateur peut lancer la purge de conservation.",
        "en": "Only an administrator may run the retention job.",
    },
    "you_may_only_see_or_change": {
        "fr": "Vous ne pouvez voir ou modifier que vos propres préférences.",
        "en": "You may only see or change your own preferences.",
    },
    "only_an_administrator_may_do_this": {
        "fr": "Seul un administrateur peut faire cela.",
        "en": "Only an administrator may do this.",
    },
    "limit_must_be_from_1_to": {
        "fr": "limit doit être compris entre 1 et 500.",
        "en": "limit must be from 1 to 500.",
    },
    "this_message_is_status_not_dead": {
        "fr": "Ce message est dans l'état : {status}, il n'est pas en échec définitif.",
        "en": "This message is {status}, not dead-lettered.",
    },
    "platform_must_be_one_of_values": {
        "fr": "platform doit valoir l'une de ces valeurs : {values}.",
        "en": "platform must be one of {values}.",
    },
    "external_id_is_1_to_255": {
        "fr": "external_id compte de 1 à 255 caractères.",
        "en": "external_id is 1 to 255 characters.",
    },
    "handle_is_1_to_255_characters": {
        "fr": "handle compte de 1 à 255 caractères.",
        "en": "handle is 1 to 255 characters.",
    },
    "person_id_is_required": {
        "fr": "person_id est obligatoire.",
        "en": "person_id is required.",
    },
    "no_such_chat_identity": {
        "fr": "Identité de messagerie inconnue.",
        "en": "No such chat identity.",
    },
    "this_account_is_not_linked_to": {
        "fr": "Ce compte n'est lié à aucune personne.",
        "en": "This account is not linked to a person.",
    },
    "ids_is_a_list_of_1": {
        "fr": "ids est une liste de 1 à 500 identifiants de message.",
        "en": "ids is a list of 1 to 500 message ids.",
    },
    "field_must_be_a_message_id": {
        "fr": "{field} doit être un identifiant de message.",
        "en": "{field} must be a message id.",
    },
}


CATALOGUE = Catalogue("notify", MESSAGES, WORDS, TRANSLATED_PARAMS)
current_language = CATALOGUE.current_language
speaking = CATALOGUE.speaking
reset = CATALOGUE.reset
render = CATALOGUE.render
text = CATALOGUE.text
