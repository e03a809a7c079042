"""User-facing messages of the booking service, in French (default) and English.

Domain errors carry a message key and named parameters (``msg``); they are
rendered in the caller's language: nameko's ``language`` context data, sent
by the gateway from ``Accept-Language``, which the service's ``CallerLanguage``
dependency makes current for the worker (``speaking``). Without one, French.
CSV import line errors are texts rendered the same way (``text``), since
they travel inside the error's details.
"""

from __future__ import annotations

from escale_common.wording import (  # noqa: F401 - this service's names for them
    DEFAULT_LANGUAGE, LANGUAGES, Catalogue, Message, msg, pick, placeholders,
)

# Parameters whose value is one of the service's own words (a kind of place,
# a booking status...), translated with the sentence around them.
TRANSLATED_PARAMS = frozenset({"entity", "child", "status", "kind", "what"})

WORDS: dict[str, dict[str, str]] = {
    "site": {"fr": "site", "en": "site"},
    "building": {"fr": "bâtiment", "en": "building"},
    "floor": {"fr": "étage", "en": "floor"},
    "zone": {"fr": "zone", "en": "zone"},
    "resource": {"fr": "ressource", "en": "resource"},
    "team": {"fr": "équipe", "en": "team"},
    "person": {"fr": "personne", "en": "person"},
    "desk": {"fr": "poste", "en": "desk"},
    "room": {"fr": "salle", "en": "room"},
    "equipment": {"fr": "équipement", "en": "equipment"},
    "confirmed": {"fr": "confirmée", "en": "confirmed"},
    "checked_in": {"fr": "occupée (enregistrée)", "en": "checked in"},
    "ended": {"fr": "terminée", "en": "ended"},
    "cancelled": {"fr": "annulée", "en": "cancelled"},
    "released": {"fr": "libérée", "en": "released"},
}

MESSAGES: dict[str, dict[str, str]] = {
    "email_belongs_to_another_organisation": {
        "fr": "{email} appartient à une autre organisation.",
        "en": "{email} belongs to another organisation.",
    },
    "no_team_has_the_code_code": {
        "fr": "Aucune équipe n'a le code {code!r} ; importez d'abord les personnes et leurs équipes.",
        "en": "No team has the code {code!r}; import the people and their teams first.",
    },
    "no_team_has_the_code_s": {
        "fr": "Aucune équipe n'a le ou les codes {codes} ; importez d'abord les personnes et leurs équipes.",
        "en": "No team has the code(s) {codes}; import the people and their teams first.",
    },
    "code_already_exists_as_a_kind": {
        "fr": "{code!r} existe déjà comme {kind} ; une ressource ne change pas de type (donnez un autre code à la nouvelle).",
        "en": "{code!r} already exists as a {kind}; a resource cannot change kind (give the new one another code).",
    },
    "the_database_refused_this_line_reason": {
        "fr": "La base de données a refusé cette ligne ({reason}) ; recommencez l'import.",
        "en": "The database refused this line ({reason}); try the import again.",
    },
    "no_such_entity": {
        "fr": "Élément inconnu : {entity}.",
        "en": "No such {entity}.",
    },
    "no_such_zone": {
        "fr": "Zone inconnue.",
        "en": "No such zone.",
    },
    "this_entity_still_holds_child_s": {
        "fr": "Cet élément ({entity}) contient encore des éléments de type {child} ; retirez-les d'abord.",
        "en": "This {entity} still holds {child}s; remove them first.",
    },
    "a_entity_with_this_code_already": {
        "fr": "Un élément ({entity}) avec ce code existe déjà ici.",
        "en": "A {entity} with this code already exists here.",
    },
    "the_parent_or_team_does_not": {
        "fr": "Le parent ou l'équipe n'existe pas.",
        "en": "The parent or team does not exist.",
    },
    "opening_midday_and_closing_times_must": {
        "fr": "Les heures d'ouverture, de mi-journée et de fermeture doivent être dans cet ordre.",
        "en": "Opening, midday and closing times must be in that order.",
    },
    "no_such_resource": {
        "fr": "Ressource inconnue.",
        "en": "No such resource.",
    },
    "this_entity_is_still_referenced_past": {
        "fr": "Cet élément ({entity}) est encore référencé (réservations passées ou règles).",
        "en": "This {entity} is still referenced (past bookings or rules).",
    },
    "resource_is_already_booked_at_that": {
        "fr": "Quelqu'un a déjà réservé {resource} sur ce créneau.",
        "en": "{resource} is already booked at that time.",
    },
    "no_such_site": {
        "fr": "Site inconnu.",
        "en": "No such site.",
    },
    "no_such_team": {
        "fr": "Équipe inconnue.",
        "en": "No such team.",
    },
    "no_such_person": {
        "fr": "Personne inconnue.",
        "en": "No such person.",
    },
    "this_idempotency_key_was_already_used": {
        "fr": "Cette Idempotency-Key a déjà servi pour une autre requête.",
        "en": "This Idempotency-Key was already used for a different request.",
    },
    "this_person_already_has_a_desk": {
        "fr": "Cette personne a déjà un poste sur ce créneau.",
        "en": "This person already has a desk at that time.",
    },
    "no_such_booking": {
        "fr": "Réservation inconnue.",
        "en": "No such booking.",
    },
    "a_sync_of_this_site_is": {
        "fr": "Une synchronisation de ce site est déjà en cours, ou sa synchronisation est désactivée.",
        "en": "A sync of this site is already under way, or its sync is turned off.",
    },
    "limit_1_to_200": {
        "fr": "limit doit être compris entre 1 et 200.",
        "en": "limit must be from 1 to 200.",
    },
    "the_connection_must_be_an_object": {
        "fr": "La connexion doit être un objet.",
        "en": "The connection must be an object.",
    },
    "backend_must_be_one_of_values": {
        "fr": "backend doit valoir l'une de ces valeurs : {values}.",
        "en": "backend must be one of {values}.",
    },
    "credentials_ref_is_1_to_64": {
        "fr": "credentials_ref compte de 1 à 64 lettres, chiffres, - ou _.",
        "en": "credentials_ref is 1 to 64 letters, digits, - or _.",
    },
    "options_must_be_an_object": {
        "fr": "options doit être un objet.",
        "en": "options must be an object.",
    },
    "interval_seconds_must_be_from_5": {
        "fr": "interval_seconds doit être compris entre 5 et 86400.",
        "en": "interval_seconds must be from 5 to 86400.",
    },
    "calendar_ref_is_a_non_empty": {
        "fr": "calendar_ref est un texte non vide de 1000 caractères au plus.",
        "en": "calendar_ref is a non-empty text of at most 1000 characters.",
    },
    "this_site_has_no_calendar_connection": {
        "fr": "Ce site n'a pas de connexion à un agenda.",
        "en": "This site has no calendar connection.",
    },
    "only_a_room_is_mirrored_in": {
        "fr": "Seule une salle est reflétée dans un agenda.",
        "en": "Only a room is mirrored in a calendar.",
    },
    "connect_the_site_to_a_calendar": {
        "fr": "Connectez d'abord le site à un serveur d'agenda.",
        "en": "Connect the site to a calendar server first.",
    },
    "unknown_field_name": {
        "fr": "Champ inconnu : {name!r}.",
        "en": "Unknown field {name!r}.",
    },
    "url_must_be_an_http_s": {
        "fr": "url doit être une adresse http(s).",
        "en": "url must be an http(s) address.",
    },
    "put_no_credentials_in_the_url": {
        "fr": "Ne mettez pas d'identifiants dans l'url : utilisez credentials_ref.",
        "en": "Put no credentials in the url: use credentials_ref.",
    },
    "credentials_are_never_stored_use_credentials": {
        "fr": "Les identifiants ne sont jamais enregistrés : utilisez credentials_ref.",
        "en": "Credentials are never stored: use credentials_ref.",
    },
    "name_must_be_true_or_false": {
        "fr": "{name} doit valoir true ou false.",
        "en": "{name} must be true or false.",
    },
    "field_name_must_be_an_id": {
        "fr": "{field_name} doit être un identifiant.",
        "en": "{field_name} must be an id.",
    },
    "this_room_has_no_calendar": {
        "fr": "Cette salle n'a pas d'agenda.",
        "en": "This room has no calendar.",
    },
    "this_person_s_calendar_is_not": {
        "fr": "L'agenda de cette personne n'est pas lu.",
        "en": "This person's calendar is not read.",
    },
    "credentials_are_never_stored_give_credentials": {
        "fr": "Les identifiants ne sont jamais enregistrés : donnez credentials_ref et définissez ESCALE_CALENDAR_<REF>_* dans l'environnement du service de réservation.",
        "en": "Credentials are never stored: give credentials_ref and set ESCALE_CALENDAR_<REF>_* in the booking service's environment.",
    },
    "kind_must_be_desk_room_or": {
        "fr": "kind doit valoir desk (poste), room (salle) ou equipment (équipement).",
        "en": "kind must be desk, room or equipment.",
    },
    "unknown_kind_of_place_entity": {
        "fr": "Type de lieu inconnu : {entity!r}.",
        "en": "Unknown kind of place {entity!r}.",
    },
    "resource_kind_must_be_desk_room": {
        "fr": "resource_kind doit valoir desk (poste), room (salle) ou equipment (équipement).",
        "en": "resource_kind must be desk, room or equipment.",
    },
    "rules_must_be_an_object": {
        "fr": "rules doit être un objet.",
        "en": "rules must be an object.",
    },
    "q_must_be_a_text_of": {
        "fr": "q doit être un texte de 1 à 100 caractères.",
        "en": "q must be a text of 1 to 100 characters.",
    },
    "limit_1_to_50": {
        "fr": "limit doit être compris entre 1 et 50.",
        "en": "limit must be from 1 to 50.",
    },
    "email_is_not_an_email_address": {
        "fr": "email n'est pas une adresse e-mail.",
        "en": "email is not an email address.",
    },
    "the_file_must_be_text": {
        "fr": "Le fichier doit être du texte.",
        "en": "The file must be text.",
    },
    "only_an_administrator_may_change_a": {
        "fr": "Seul un administrateur peut changer le code d'un site.",
        "en": "Only an administrator may change a site's code.",
    },
    "field_must_be_an_id": {
        "fr": "{field} doit être un identifiant.",
        "en": "{field} must be an id.",
    },
    "limit_1_to_5000": {
        "fr": "limit doit être compris entre 1 et 5000.",
        "en": "limit must be from 1 to 5000.",
    },
    "this_kind_of_account_cannot_change": {
        "fr": "Ce type de compte ne peut pas modifier de coordonnées.",
        "en": "This kind of account cannot change contacts.",
    },
    "this_account_is_not_linked_to": {
        "fr": "Ce compte n'est lié à aucune personne ; donnez person_id.",
        "en": "This account is not linked to a person; give person_id.",
    },
    "contact_must_be_an_object": {
        "fr": "contact doit être un objet.",
        "en": "contact must be an object.",
    },
    "person_ids_must_be_a_list": {
        "fr": "person_ids doit être une liste de {max_ids} identifiants au plus.",
        "en": "person_ids must be a list of at most {max_ids} ids.",
    },
    "only_own_contact": {
        "fr": "Vous ne pouvez modifier que vos propres coordonnées.",
        "en": "You may only change your own contact details.",
    },
    "name_must_be_a_string": {
        "fr": "{name} doit être un texte.",
        "en": "{name} must be a string.",
    },
    "name_is_200_characters_at_most": {
        "fr": "{name} compte 200 caractères au plus.",
        "en": "{name} is 200 characters at most.",
    },
    "video_url_must_be_an_https": {
        "fr": "video_url doit être une adresse https://.",
        "en": "video_url must be an https:// address.",
    },
    "softphone_must_be_a_sip_or": {
        "fr": "softphone doit être une adresse sip: ou tel:, ou un numéro.",
        "en": "softphone must be a sip: or tel: address or a number.",
    },
    "you_do_not_administer_this_site": {
        "fr": "Vous n'administrez pas ce site.",
        "en": "You do not administer this site.",
    },
    "this_kind_of_account_cannot_book": {
        "fr": "Ce type de compte ne peut pas réserver.",
        "en": "This kind of account cannot book.",
    },
    "only_the_tablet_at_a_room": {
        "fr": "Seule la tablette à la porte d'une salle peut la réserver maintenant.",
        "en": "Only the tablet at a room's door can book it now.",
    },
    "only_own_bookings": {
        "fr": "Vous ne pouvez modifier que vos propres réservations.",
        "en": "You may only change your own bookings.",
    },
    "unknown_caller": {
        "fr": "Appelant inconnu.",
        "en": "Unknown caller.",
    },
    "only_an_administrator_may_do_this": {
        "fr": "Seul un administrateur peut faire cela.",
        "en": "Only an administrator may do this.",
    },
    "you_may_only_book_for_yourself": {
        "fr": "Vous ne pouvez réserver que pour vous-même.",
        "en": "You may only book for yourself.",
    },
    "the_file_is_empty_the_first": {
        "fr": "Le fichier est vide : la première ligne doit nommer les colonnes.",
        "en": "The file is empty: the first line must name the columns.",
    },
    "the_file_has_a_header_but": {
        "fr": "Le fichier a un en-tête mais aucune ligne de données.",
        "en": "The file has a header but no data rows.",
    },
    "column_is_longer_than_limit_characters": {
        "fr": "{column} dépasse {limit} caractères.",
        "en": "{column} is longer than {limit} characters.",
    },
    "column_contains_control_characters_or_line": {
        "fr": "{column} contient des caractères de contrôle ou des retours à la ligne.",
        "en": "{column} contains control characters or line breaks.",
    },
    "value_is_not_a_valid_code": {
        "fr": "{value!r} n'est pas un code valide : utilisez des lettres, des chiffres, '.', '_' et '-' ({max_code} caractères au plus).",
        "en": "{value!r} is not a valid code: use letters, digits, '.', '_' and '-' ({max_code} characters at most).",
    },
    "column_must_be_at_least_minimum": {
        "fr": "{column} doit valoir au moins {minimum}, et non {number}.",
        "en": "{column} must be at least {minimum}, not {number}.",
    },
    "column_must_be_at_most_maximum": {
        "fr": "{column} doit valoir au plus {maximum}, et non {number}.",
        "en": "{column} must be at most {maximum}, not {number}.",
    },
    "column_must_be_a_finite_number": {
        "fr": "{column} doit être un nombre fini inférieur à un million.",
        "en": "{column} must be a finite number below one million.",
    },
    "unreadable_csv_exc": {
        "fr": "CSV illisible : {exc}.",
        "en": "Unreadable CSV: {exc}.",
    },
    "column_name_appears_twice": {
        "fr": "La colonne {name!r} figure deux fois.",
        "en": "Column {name!r} appears twice.",
    },
    "required_column_name_is_missing": {
        "fr": "La colonne obligatoire {name!r} manque.",
        "en": "Required column {name!r} is missing.",
    },
    "the_line_has_cells_cells_but": {
        "fr": "La ligne a {cells} cellules mais l'en-tête nomme {columns} colonnes.",
        "en": "The line has {cells} cells but the header names {columns}.",
    },
    "column_is_required": {
        "fr": "{column} est obligatoire.",
        "en": "{column} is required.",
    },
    "column_has_an_empty_item_separate": {
        "fr": "{column} contient un élément vide ; séparez les codes par '|'.",
        "en": "{column} has an empty item; separate codes with '|'.",
    },
    "team_code_is_listed_twice": {
        "fr": "L'équipe {code!r} figure deux fois.",
        "en": "Team {code!r} is listed twice.",
    },
    "column_must_be_a_whole_number": {
        "fr": "{column} doit être un nombre entier, et non {value!r}.",
        "en": "{column} must be a whole number, not {value!r}.",
    },
    "column_must_be_a_number_not": {
        "fr": "{column} doit être un nombre, et non {value!r}.",
        "en": "{column} must be a number, not {value!r}.",
    },
    "name_is_not_an_attribute_name": {
        "fr": "{name!r} n'est pas un nom d'attribut : utilisez des minuscules, des chiffres et '_'.",
        "en": "{name!r} is not an attribute name: use lower-case letters, digits and '_'.",
    },
    "attribute_name_appears_twice": {
        "fr": "L'attribut {name!r} figure deux fois.",
        "en": "Attribute {name!r} appears twice.",
    },
    "value_is_not_an_iana_time": {
        "fr": "{value!r} n'est pas un fuseau horaire IANA comme Europe/Paris.",
        "en": "{value!r} is not an IANA time zone such as Europe/Paris.",
    },
    "kind_is_required_desk_room_or": {
        "fr": "kind est obligatoire : desk (poste), room (salle) ou equipment (équipement).",
        "en": "kind is required: desk, room or equipment.",
    },
    "give_both_x_and_y_or": {
        "fr": "Donnez x et y, ou aucun des deux.",
        "en": "Give both x and y, or neither.",
    },
    "code_code_is_already_used_in": {
        "fr": "Le code {code!r} est déjà utilisé dans le site {site_code!r} à la ligne {first_line}.",
        "en": "Code {code!r} is already used in site {site_code!r} on line {first_line}.",
    },
    "the_what_code_has_column_first": {
        "fr": "Élément {what} {code!r} : {column} vaut {first_value!r} à la ligne {first_line} mais {value!r} ici.",
        "en": "The {what} {code!r} has {column} {first_value!r} on line {first_line} but {value!r} here.",
    },
    "phone_is_not_a_phone_number": {
        "fr": "{phone!r} n'est pas un numéro de téléphone : utilisez des chiffres, des espaces et + . - ( ).",
        "en": "{phone!r} is not a phone number: use digits, spaces and + . - ( ).",
    },
    "unknown_language_language_use_fr_or": {
        "fr": "Langue inconnue {language!r} : utilisez fr ou en.",
        "en": "Unknown language {language!r}: use fr or en.",
    },
    "email_is_already_on_line_first": {
        "fr": "{email} figure déjà à la ligne {first_line}.",
        "en": "{email} is already on line {first_line}.",
    },
    "the_file_is_not_text": {
        "fr": "Le fichier n'est pas du texte.",
        "en": "The file is not text.",
    },
    "column_number_has_values_but_no": {
        "fr": "La colonne {number} a des valeurs mais pas de nom.",
        "en": "Column {number} has values but no name.",
    },
    "attribute_name_cannot_be_negative": {
        "fr": "L'attribut {name!r} ne peut pas être négatif.",
        "en": "Attribute {name!r} cannot be negative.",
    },
    "unknown_kind_kind_use_desk_room": {
        "fr": "Type inconnu {kind!r} : utilisez desk (poste), room (salle) ou equipment (équipement).",
        "en": "Unknown kind {kind!r}: use desk, room or equipment.",
    },
    "email_is_not_an_e_mail": {
        "fr": "{email!r} n'est pas une adresse e-mail.",
        "en": "{email!r} is not an e-mail address.",
    },
    "the_file_is_not_utf_8": {
        "fr": "Le fichier n'est pas du texte UTF-8 : enregistrez-le en CSV UTF-8.",
        "en": "The file is not UTF-8 text: save it as CSV UTF-8.",
    },
    "attribute_name_must_be_a_whole": {
        "fr": "L'attribut {name!r} doit être un nombre entier, et non {value!r}.",
        "en": "Attribute {name!r} must be a whole number, not {value!r}.",
    },
    "names_team_name_s_for_codes": {
        "fr": "{names} nom(s) d'équipe pour {codes} code(s) d'équipe ; donnez un nom par code, dans le même ordre.",
        "en": "{names} team name(s) for {codes} team code(s); give one name per code, in the same order.",
    },
    "a_team_name_is_empty_or": {
        "fr": "Un nom d'équipe est vide ou trop long.",
        "en": "A team name is empty or too long.",
    },
    "team_code_is_named_first_name": {
        "fr": "L'équipe {code!r} s'appelle {first_name!r} à la ligne {first_line} mais {team_name!r} ici.",
        "en": "Team {code!r} is named {first_name!r} on line {first_line} but {team_name!r} here.",
    },
    "unknown_period_period_use_day_morning": {
        "fr": "Période inconnue {period!r} : utilisez day (journée), morning (matin) ou afternoon (après-midi).",
        "en": "Unknown period {period!r}: use day, morning or afternoon.",
    },
    "field_name_must_carry_a_utc": {
        "fr": "{field_name} doit porter un décalage UTC.",
        "en": "{field_name} must carry a UTC offset.",
    },
    "times_must_carry_a_utc_offset": {
        "fr": "Les heures doivent porter un décalage UTC.",
        "en": "Times must carry a UTC offset.",
    },
    "the_end_must_be_after_the": {
        "fr": "La fin doit être après le début.",
        "en": "The end must be after the start.",
    },
    "field_name_is_not_an_iso": {
        "fr": "{field_name} n'est pas une date et heure ISO 8601.",
        "en": "{field_name} is not an ISO 8601 date-time.",
    },
    "field_name_is_not_a_yyyy": {
        "fr": "{field_name} n'est pas une date AAAA-MM-JJ.",
        "en": "{field_name} is not a YYYY-MM-DD date.",
    },
    "name_must_be_a_text_of": {
        "fr": "{name} doit être un texte de 1 à {max_len} caractères.",
        "en": "{name} must be a text of 1 to {max_len} characters.",
    },
    "name_must_be_a_whole_number": {
        "fr": "{name} doit être un nombre entier de {low} à {high}.",
        "en": "{name} must be a whole number from {low} to {high}.",
    },
    "name_must_be_a_number": {
        "fr": "{name} doit être un nombre.",
        "en": "{name} must be a number.",
    },
    "name_must_list_iso_weekdays_from": {
        "fr": "{name} doit lister des jours ISO de 1 (lundi) à 7.",
        "en": "{name} must list ISO weekdays from 1 (Monday) to 7.",
    },
    "name_must_list_dates": {
        "fr": "{name} doit lister des dates.",
        "en": "{name} must list dates.",
    },
    "name_must_be_an_object_of": {
        "fr": "{name} doit être un objet de 30 entrées au plus.",
        "en": "{name} must be an object of at most 30 entries.",
    },
    "name_must_list_ids": {
        "fr": "{name} doit lister des identifiants.",
        "en": "{name} must list ids.",
    },
    "name_must_be_desk_room_or": {
        "fr": "{name} doit valoir desk (poste), room (salle) ou equipment (équipement).",
        "en": "{name} must be desk, room or equipment.",
    },
    "the_body_must_be_an_object": {
        "fr": "Le corps de la requête doit être un objet.",
        "en": "The body must be an object.",
    },
    "name_must_be_an_id": {
        "fr": "{name} doit être un identifiant.",
        "en": "{name} must be an id.",
    },
    "name_must_be_a_time_such": {
        "fr": "{name} doit être une heure comme 07:30.",
        "en": "{name} must be a time such as 07:30.",
    },
    "name_must_be_an_iana_time": {
        "fr": "{name} doit être un fuseau horaire IANA comme Europe/Paris.",
        "en": "{name} must be an IANA time zone such as Europe/Paris.",
    },
    "name_must_list_dates_as_yyyy": {
        "fr": "{name} doit lister des dates AAAA-MM-JJ.",
        "en": "{name} must list dates as YYYY-MM-DD.",
    },
    "name_keys_are_short_names": {
        "fr": "Les clés de {name} sont des noms courts.",
        "en": "{name} keys are short names.",
    },
    "name_key_must_be_true_false": {
        "fr": "{name}.{key} doit être true/false, un nombre ou un texte court.",
        "en": "{name}.{key} must be true/false, a number or a short text.",
    },
    "nothing_to_change": {
        "fr": "Rien à modifier.",
        "en": "Nothing to change.",
    },
    "name_is_required": {
        "fr": "{name} est obligatoire.",
        "en": "{name} is required.",
    },
    "rrule_must_be_a_non_empty": {
        "fr": "rrule doit être une RRULE non vide de 200 caractères au plus.",
        "en": "rrule must be a non-empty RRULE of at most 200 characters.",
    },
    "rrule_must_not_carry_dtstart_the": {
        "fr": "rrule ne doit pas porter DTSTART : la première date le donne.",
        "en": "rrule must not carry DTSTART: the first date gives it.",
    },
    "rrule_freq_must_be_daily_weekly": {
        "fr": "FREQ de rrule doit valoir DAILY, WEEKLY ou MONTHLY.",
        "en": "rrule FREQ must be DAILY, WEEKLY or MONTHLY.",
    },
    "rrule_part_chunk_is_not_name": {
        "fr": "La partie {chunk!r} de rrule n'est pas de la forme NOM=VALEUR.",
        "en": "rrule part {chunk!r} is not NAME=VALUE.",
    },
    "rrule_is_not_valid_exc": {
        "fr": "rrule n'est pas valide : {exc}.",
        "en": "rrule is not valid: {exc}.",
    },
    "a_series_has_max_occurrences_occurrences": {
        "fr": "Une série compte {max_occurrences} occurrences au plus ; ajoutez UNTIL ou COUNT.",
        "en": "A series has {max_occurrences} occurrences at most; add UNTIL or COUNT.",
    },
    "rrule_until_is_not_a_date": {
        "fr": "UNTIL de rrule n'est pas une date.",
        "en": "rrule UNTIL is not a date.",
    },
    "retention_must_be_an_object": {
        "fr": "retention doit être un objet.",
        "en": "retention must be an object.",
    },
    "site_is_closed_on_day": {
        "fr": "{site} est fermé le {day}.",
        "en": "{site} is closed on {day}.",
    },
    "day_is_a_public_holiday_name": {
        "fr": "Le {day} est un jour férié ({name}).",
        "en": "{day} is a public holiday ({name}).",
    },
    "this_time_is_already_over": {
        "fr": "Ce créneau est déjà passé.",
        "en": "This time is already over.",
    },
    "bookings_open_horizon_days_ahead_at": {
        "fr": "Les réservations ouvrent {horizon} jours à l'avance au plus.",
        "en": "Bookings open {horizon} days ahead at most.",
    },
    "a_booking_lasts_minutes_minutes_at": {
        "fr": "Une réservation dure {minutes} minutes au plus.",
        "en": "A booking lasts {minutes} minutes at most.",
    },
    "site_is_open_from_opening_to": {
        "fr": "{site} est ouvert de {opening:%H:%M} à {closing:%H:%M}.",
        "en": "{site} is open from {opening:%H:%M} to {closing:%H:%M}.",
    },
    "resource_is_reserved_for_some_teams": {
        "fr": "Seules certaines équipes peuvent réserver {resource}.",
        "en": "{resource} is reserved for some teams.",
    },
    "check_in_is_open_from_minutes": {
        "fr": "L'enregistrement est ouvert de {minutes} minutes avant le début jusqu'à la fin.",
        "en": "Check-in is open from {minutes} minutes before the start until the end.",
    },
    "unknown_rule_name": {
        "fr": "Règle inconnue : {name!r}.",
        "en": "Unknown rule {name!r}.",
    },
    "checkin_deadline_is_a_local_time": {
        "fr": "checkin_deadline est une heure locale HH:MM, ou null.",
        "en": "checkin_deadline is a local time HH:MM, or null.",
    },
    "you_may_only_export_or_erase": {
        "fr": "Vous ne pouvez exporter ou effacer que vos propres données.",
        "en": "You may only export or erase your own data.",
    },
    "only_an_administrator_may_set_retention": {
        "fr": "Seul un administrateur peut fixer les durées de conservation.",
        "en": "Only an administrator may set retention periods.",
    },
    "person_id_must_be_an_id": {
        "fr": "person_id doit être un identifiant.",
        "en": "person_id must be an id.",
    },
    "no_such_organisation": {
        "fr": "Organisation inconnue.",
        "en": "No such organisation.",
    },
    "only_an_administrator_may_run_the": {
        "fr": "Seul un administrateur peut lancer la purge de conservation.",
        "en": "Only an administrator may run the retention job.",
    },
    "give_start_and_end_or_date": {
        "fr": "Donnez start et end, ou date et period.",
        "en": "Give start and end, or date and period.",
    },
    "the_request_must_be_an_object": {
        "fr": "La requête doit être un objet.",
        "en": "The request must be an object.",
    },
    "resource_id_is_required": {
        "fr": "resource_id est obligatoire.",
        "en": "resource_id is required.",
    },
    "title_is_max_title_characters_at": {
        "fr": "title compte {max_title} caractères au plus.",
        "en": "title is {max_title} characters at most.",
    },
    "idempotency_key_is_1_to_200": {
        "fr": "Idempotency-Key compte de 1 à 200 caractères.",
        "en": "Idempotency-Key is 1 to 200 characters.",
    },
    "status_must_be_one_of_values": {
        "fr": "status doit valoir l'une de ces valeurs : {values}.",
        "en": "status must be one of {values}.",
    },
    "scope_must_be_this_or_following": {
        "fr": "scope doit valoir this ou following.",
        "en": "scope must be this or following.",
    },
    "minutes_must_be_15_30_or": {
        "fr": "minutes doit valoir 15, 30 ou 60.",
        "en": "minutes must be 15, 30 or 60.",
    },
    "period_at_most_62_days": {
        "fr": "Demandez une période de 62 jours au plus, la fin après le début.",
        "en": "Ask for a period of at most 62 days, end after start.",
    },
    "give_person_id_or_resource_id": {
        "fr": "Donnez person_id ou resource_id (l'un des deux).",
        "en": "Give person_id or resource_id (one of them).",
    },
    "feed_period_at_most": {
        "fr": "Demandez une période de {feed_max_days} jours au plus, la fin après le début.",
        "en": "Ask for a period of at most {feed_max_days} days, end after start.",
    },
    "limit_1_to_feed_max": {
        "fr": "limit doit être compris entre 1 et {feed_max_items}.",
        "en": "limit must be from 1 to {feed_max_items}.",
    },
    "ask_for_1_to_max_days": {
        "fr": "Demandez de 1 à {max_days} jours, la fin le jour du début ou après.",
        "en": "Ask for 1 to {max_days} days, end on or after start.",
    },
    "give_exactly_one_of_site_id": {
        "fr": "Donnez exactement un de site_id, floor_id ou zone_id.",
        "en": "Give exactly one of site_id, floor_id or zone_id.",
    },
    "min_capacity_must_be_a_positive": {
        "fr": "min_capacity doit être un nombre entier positif.",
        "en": "min_capacity must be a positive whole number.",
    },
    "attributes_must_be_a_list_of": {
        "fr": "attributes doit être une liste de noms.",
        "en": "attributes must be a list of names.",
    },
    "give_either_date_and_period_or": {
        "fr": "Donnez soit date et period, soit start et end.",
        "en": "Give either date and period, or start and end.",
    },
    "period_must_be_day_morning_or": {
        "fr": "period doit valoir day (journée), morning (matin) ou afternoon (après-midi).",
        "en": "period must be day, morning or afternoon.",
    },
    "bookings_open_days_days_ahead_at": {
        "fr": "Les réservations ouvrent {days} jours à l'avance au plus.",
        "en": "Bookings open {days} days ahead at most.",
    },
    "no_occurrence_of_this_series_could": {
        "fr": "Aucune occurrence de cette série n'a pu être réservée.",
        "en": "No occurrence of this series could be booked.",
    },
    "this_booking_is_status": {
        "fr": "Cette réservation est dans l'état : {status}.",
        "en": "This booking is {status}.",
    },
    "only_current_booking_ends": {
        "fr": "Seule une réservation en cours peut être terminée ; annulez une réservation à venir.",
        "en": "Only a booking under way can be ended; cancel a future one.",
    },
    "only_current_booking_extends": {
        "fr": "Seule une réservation en cours peut être prolongée.",
        "en": "Only a booking under way can be extended.",
    },
    "only_a_room_can_be_booked": {
        "fr": "Seule une salle peut être réservée depuis sa porte.",
        "en": "Only a room can be booked from its door.",
    },
    "start_and_end_are_dates_yyyy": {
        "fr": "start et end sont des dates AAAA-MM-JJ.",
        "en": "start and end are dates, YYYY-MM-DD.",
    },
    "ask_for_at_most_7_days": {
        "fr": "Demandez 7 jours au plus à la fois.",
        "en": "Ask for at most 7 days at once.",
    },
    "attribute_name_must_be_true_or": {
        "fr": "L'attribut {name!r} doit valoir true ou un nombre.",
        "en": "attribute {name!r} must be true or a number.",
    },
    "after_must_be_a_booking_id": {
        "fr": "after doit être un identifiant de réservation.",
        "en": "after must be a booking id.",
    },
    "this_booking_is_already_status": {
        "fr": "Cette réservation est déjà dans l'état : {status}.",
        "en": "This booking is already {status}.",
    },
    "this_booking_is_already_over": {
        "fr": "Cette réservation est déjà terminée.",
        "en": "This booking is already over.",
    },
    "preferred_channel_must_be_one_of": {
        "fr": "preferred_channel doit valoir l'une de ces valeurs : {values}.",
        "en": "preferred_channel must be one of {values}.",
    },
    "unknown_column_name": {
        "fr": "Colonne inconnue : {name!r}.",
        "en": "Unknown column {name!r}.",
    },
    "unknown_column_name_listed": {
        "fr": "Colonne inconnue : {name!r}. Les colonnes sont : {columns}.",
        "en": "Unknown column {name!r}. The columns are: {columns}.",
    },
    "import_rejected": {
        "fr": "{count} erreur(s) dans le fichier ; rien n'a été importé. Première : ligne {line}, colonne {column} : {message}",
        "en": "{count} error(s) in the file; nothing was imported. First: line {line}, column {column}: {message}",
    },
}


CATALOGUE = Catalogue("booking", MESSAGES, WORDS, TRANSLATED_PARAMS)
current_language = CATALOGUE.current_language
speaking = CATALOGUE.speaking
reset = CATALOGUE.reset
render = CATALOGUE.render
text = CATALOGUE.text
