"""The messages a client can read, in English and Dutch (issue 12, item 4).

Why: citizens, facilitators and organisers of a Dutch summit read the API's errors; integrators
read English. Code writes every message in English, as today; this catalogue holds each message
template once with its translations, and `problem()` (services/core/problem.py) applies it when
it renders a problem, by the request's Accept-Language (RFC 9110 §12.5.4). So call sites do not
change, and a message missing here is found by a test (tests/unit/test_messages.py), not by a
citizen.

A row is one template per language, in the order of `LANGUAGES`; `{name}` marks a part filled
in at run time (a summit id, a party), which the translation takes over as it is. French is one
more language in `LANGUAGES` and one more column in every row. Pure data and string work, no I/O.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

LANGUAGES = ("en", "nl")
DEFAULT = "en"

_ROWS: tuple[tuple[str, ...], ...] = (
    # --- titles (HTTP reason phrases, RFC 9110 §15) ---
    ("Bad Request", "Ongeldig verzoek"),
    ("Unauthorized", "Niet aangemeld"),
    ("Forbidden", "Niet toegestaan"),
    ("Not Found", "Niet gevonden"),
    ("Method Not Allowed", "Methode niet toegestaan"),
    ("Not Acceptable", "Niet aanvaardbaar"),
    ("Request Timeout", "Verzoek duurde te lang"),
    ("Conflict", "Conflict"),
    ("Gone", "Verdwenen"),
    ("Length Required", "Lengte vereist"),
    ("Precondition Failed", "Voorwaarde niet vervuld"),
    ("Request Entity Too Large", "Inhoud te groot"),
    ("Request URI Too Large", "Adres te lang"),
    ("Unsupported Media Type", "Niet-ondersteund mediatype"),
    ("Expectation Failed", "Verwachting niet vervuld"),
    ("Unprocessable Entity", "Onverwerkbare inhoud"),
    ("Unprocessable Content", "Onverwerkbare inhoud"),
    ("Too Many Requests", "Te veel verzoeken"),
    ("Request Header Fields Too Large", "Kopvelden te groot"),
    ("Internal Server Error", "Interne fout"),
    ("Not Implemented", "Niet geïmplementeerd"),
    ("Bad Gateway", "Ongeldig antwoord van een dienst"),
    ("Service Unavailable", "Dienst niet beschikbaar"),
    ("Gateway Timeout", "Dienst antwoordde niet op tijd"),
    ("Log Store Damaged", "Logopslag beschadigd"),
    # --- what own_detail says when an error brings no message (services/core/problem.py) ---
    ("the summit id {summit} is not a UUID, so there is no such summit",
     "het top-id {summit} is geen UUID, dus deze top bestaat niet"),
    ("no such resource: {path}", "deze bron bestaat niet: {path}"),
    ("{method} is not allowed on {path}", "{method} is niet toegestaan op {path}"),
    ("the body is larger than this route's limit of {limit} bytes",
     "de inhoud is groter dan de limiet van deze route, {limit} bytes"),
    ("the body is larger than this route accepts", "de inhoud is groter dan deze route aanvaardt"),
    ("the body must be JSON, sent with Content-Type: application/json",
     "de inhoud moet JSON zijn, verstuurd met Content-Type: application/json"),
    ("some fields are invalid; `errors` names each one",
     "sommige velden zijn ongeldig; `errors` noemt ze elk"),
    ("the request is malformed", "het verzoek is misvormd"),
    ("the error has been logged", "de fout is vastgelegd"),
    ("a dependency is briefly unavailable; retry", "een onderdeel is even niet beschikbaar; probeer het opnieuw"),
    ("a dependency of the gateway is briefly unavailable; retry",
     "een onderdeel van de gateway is even niet beschikbaar; probeer het opnieuw"),
    ("no such problem type: {uri}", "dit probleemtype bestaat niet: {uri}"),
    # --- request bodies (services/core/jsonbody.py) and marshmallow's standard field messages ---
    ("this request needs a JSON body, sent with Content-Type: application/json",
     "dit verzoek heeft een JSON-inhoud nodig, verstuurd met Content-Type: application/json"),
    ("not valid JSON: {reason}", "geen geldige JSON: {reason}"),
    ("the body is not UTF-8", "de inhoud is geen UTF-8"),
    ("{name} is not JSON", "{name} is geen JSON"),
    ("JSON nested more than {depth} deep", "JSON dieper genest dan {depth} niveaus"),
    ("duplicate key {key} in a JSON object", "dubbele sleutel {key} in een JSON-object"),
    ("an integer has more than {digits} digits", "een geheel getal heeft meer dan {digits} cijfers"),
    ("Invalid JSON body.", "Ongeldige JSON-inhoud."),
    ("Missing data for required field.", "Verplicht veld ontbreekt."),
    ("Field may not be null.", "Veld mag niet leeg (null) zijn."),
    ("Invalid value.", "Ongeldige waarde."),
    ("Unknown field.", "Onbekend veld."),
    ("Invalid input type.", "Ongeldig invoertype."),
    ("Not a valid string.", "Geen geldige tekst."),
    ("Not a valid utf-8 string.", "Geen geldige UTF-8-tekst."),
    ("Not a valid integer.", "Geen geldig geheel getal."),
    ("Not a valid number.", "Geen geldig getal."),
    ("Not a valid boolean.", "Geen geldige booleaanse waarde."),
    ("Not a valid UUID.", "Geen geldige UUID."),
    ("Not a valid datetime.", "Geen geldig tijdstip."),
    ("Not a valid date.", "Geen geldige datum."),
    ("Not a valid list.", "Geen geldige lijst."),
    ("Not a valid tuple.", "Geen geldig tupel."),
    ("Not a valid mapping type.", "Geen geldig object."),
    ("Not a valid email address.", "Geen geldig e-mailadres."),
    ("Not a valid URL.", "Geen geldige URL."),
    ("Number too large.", "Getal te groot."),
    ("Special numeric values (nan or infinity) are not permitted.",
     "Speciale getalwaarden (nan of oneindig) zijn niet toegestaan."),
    ("String does not match expected pattern.", "Tekst heeft niet de verwachte vorm."),
    ("Shorter than minimum length {min}.", "Korter dan de minimale lengte {min}."),
    ("Longer than maximum length {max}.", "Langer dan de maximale lengte {max}."),
    ("Length must be between {min} and {max}.", "Lengte moet tussen {min} en {max} liggen."),
    ("Length must be {equal}.", "Lengte moet {equal} zijn."),
    ("Must be greater than or equal to {min}.", "Moet groter dan of gelijk aan {min} zijn."),
    ("Must be less than or equal to {max}.", "Moet kleiner dan of gelijk aan {max} zijn."),
    ("Must be greater than or equal to {min} and less than or equal to {max}.",
     "Moet groter dan of gelijk aan {min} en kleiner dan of gelijk aan {max} zijn."),
    ("Must be greater than {min}.", "Moet groter dan {min} zijn."),
    ("Must be less than {max}.", "Moet kleiner dan {max} zijn."),
    ("Must be one of: {choices}.", "Moet een van deze zijn: {choices}."),
    ("Must be equal to {other}.", "Moet gelijk zijn aan {other}."),
    ("One or more of the choices you made was not in: {choices}.",
     "Een of meer van uw keuzes kwamen niet voor in: {choices}."),
    ("Invalid type.", "Ongeldig type."),
    ("Invalid input.", "Ongeldige invoer."),
    ("Not a valid aware datetime.", "Geen geldig tijdstip met tijdzone."),
    ("Not a valid naive datetime.", "Geen geldig tijdstip zonder tijdzone."),
    ("\"{input}\" cannot be formatted as a datetime.", "\"{input}\" kan niet als tijdstip worden geschreven."),
    ("\"{input}\" cannot be formatted as a date.", "\"{input}\" kan niet als datum worden geschreven."),
    # --- the schemas' own field messages (request schemas and the payload catalogue they share) ---
    ("must be a lowercase hyphenated UUID", "moet een UUID zijn, in kleine letters met streepjes"),
    ("must be a date written YYYY-MM-DD", "moet een datum zijn, geschreven als JJJJ-MM-DD"),
    ("must not contain the character U+{code} (control characters and unpaired surrogates cannot be stored)",
     "mag het teken U+{code} niet bevatten (stuurtekens en losse surrogaten kunnen niet worden opgeslagen)"),
    ("a summit's date lies from {earliest} to {latest}", "de datum van een top ligt tussen {earliest} en {latest}"),
    ('exactly {{"features": {{name: [value, ...]}}}}', 'precies {{"features": {{naam: [waarde, ...]}}}}'),
    ('the register vocabulary is exactly {{"features": {{name: [value, ...]}}}}',
     'de registervocabulaire is precies {{"features": {{naam: [waarde, ...]}}}}'),
    ("{what} must be sorted in code-point order without repeats",
     "{what} moet op codepuntvolgorde gesorteerd zijn, zonder herhalingen"),
    ('a row has exactly "pseudonym", "household" and "features"',
     'een rij heeft precies "pseudonym", "household" en "features"'),
    ("{key} must be 1-64 characters of A-Z a-z 0-9 . _ : -", "{key} moet 1-64 tekens uit A-Z a-z 0-9 . _ : - hebben"),
    ("features must be an object of at most 16 members", "features moet een object van hoogstens 16 leden zijn"),
    ("feature {name} must be a-z 0-9 _ with a value of 1-64 printable characters",
     "kenmerk {name} moet uit a-z 0-9 _ bestaan, met een waarde van 1-64 afdrukbare tekens"),
    ('a committed row has exactly "pseudonym" and "commitments"',
     'een vastgelegde rij heeft precies "pseudonym" en "commitments"'),
    ("pseudonym must be 1-64 characters of A-Z a-z 0-9 . _ : -",
     "pseudonym moet 1-64 tekens uit A-Z a-z 0-9 . _ : - hebben"),
    ('commitments has exactly "household" and "features"', 'commitments heeft precies "household" en "features"'),
    ("the commitment of {name} must be 64 lowercase hex digits",
     "de commitment van {name} moet uit 64 kleine hexadecimale cijfers bestaan"),
    ("feature names the revealed feature exactly when field is feature",
     "feature noemt het onthulde kenmerk precies wanneer field feature is"),
    ("parties must be distinct", "parties moeten verschillend zijn"),
    ("invitees must be n distinct pseudonyms", "invitees moeten n verschillende pseudoniemen zijn"),
    ("weights must be panel_count integers summing to total_weight",
     "weights moeten panel_count gehele getallen zijn die samen total_weight zijn"),
    ("quotas of {feature}: min above max", "quota van {feature}: min boven max"),
    ("{feature}={value}: min {low} > max {high}", "{feature}={value}: min {low} > max {high}"),
    ("end must not be before start", "end mag niet voor start liggen"),
    ("index must be less than tree_size", "index moet kleiner zijn dan tree_size"),
    ("first must not exceed second", "first mag niet groter zijn dan second"),
    ("participant ids must be distinct", "de deelnemer-id's moeten verschillend zijn"),
    # --- tokens and the gateway's vouch (services/core/tokens.py, vouch.py, auth.py) ---
    ("not a g1000 token", "geen g1000-token"),
    ("a token has two parts after its prefix", "een token heeft twee delen na het voorvoegsel"),
    ("the token's {part} is not base64url", "het {part} van het token is geen base64url"),
    ("the token's {part} is not canonical base64url", "het {part} van het token is geen canonieke base64url"),
    ("the token's claims are not JSON", "de claims van het token zijn geen JSON"),
    ("the token's claims are not canonical JSON", "de claims van het token zijn geen canonieke JSON"),
    ("the token's claims are not version-1 claims", "de claims van het token zijn geen versie-1-claims"),
    ("the token's signature is not 64 bytes", "de handtekening van het token is geen 64 bytes"),
    ("the token's signature does not verify", "de handtekening van het token klopt niet"),
    ("the token has expired", "het token is verlopen"),
    ("the token is not valid yet", "het token is nog niet geldig"),
    ("the token has been revoked", "het token is ingetrokken"),
    ("the token key is not installed yet", "de tokensleutel is nog niet geïnstalleerd"),
    ("unknown role {role}", "onbekende rol {role}"),
    ("{moment} is out of range", "{moment} valt buiten het bereik"),
    ("the request did not come through the gateway (no vouch)",
     "het verzoek kwam niet via de gateway (geen vouch)"),
    ("the gateway's vouch is malformed", "de vouch van de gateway is misvormd"),
    ("the gateway's vouch does not verify", "de vouch van de gateway klopt niet"),
    ("the gateway's vouch is not fresh", "de vouch van de gateway is niet vers"),
    ("the gateway's vouch is for another request", "de vouch van de gateway hoort bij een ander verzoek"),
    ("the gateway's vouch is for another token", "de vouch van de gateway hoort bij een ander token"),
    ("this token does not act on this summit", "dit token handelt niet voor deze top"),
    ("this endpoint is for operators of the platform", "dit adres is voor beheerders van het platform"),
    ("a {role} token may not do this (needs {allowed})", "een {role}-token mag dit niet (nodig: {allowed})"),
    # --- the gateway (gateway/) ---
    ("a vote is cast, and its receipt fetched, without a token: send no Authorization header",
     "een stem wordt uitgebracht, en het ontvangstbewijs opgehaald, zonder token: stuur geen"
     " Authorization-header mee"),
    ("more than {limit} requests per {window} s; retry in {reset} s",
     "meer dan {limit} verzoeken per {window} s; probeer het over {reset} s opnieuw"),
    ("the metrics listener answers /metrics, /healthz and /readyz only",
     "de metriekpoort beantwoordt alleen /metrics, /healthz en /readyz"),
    ("the service is not reachable", "de dienst is niet bereikbaar"),
    ("the service did not answer in time", "de dienst antwoordde niet op tijd"),
    ("no OpenAPI document from: {missing}", "geen OpenAPI-document van: {missing}"),
    ("the services' OpenAPI documents conflict: {reason}", "de OpenAPI-documenten van de diensten botsen: {reason}"),
    ("component {section}/{name} differs between {one} and {other}",
     "onderdeel {section}/{name} verschilt tussen {one} en {other}"),
    ("path {template} is documented by two services", "pad {template} wordt door twee diensten beschreven"),
    ("{header} must be 1 to {limit} characters long", "{header} moet 1 tot {limit} tekens lang zijn"),
    ("{header} must be printable ASCII", "{header} moet uit afdrukbare ASCII-tekens bestaan"),
    ("a request with this {header} is still being processed",
     "een verzoek met deze {header} wordt nog verwerkt"),
    ("this {header} was used for a different request; use a new key",
     "deze {header} is gebruikt voor een ander verzoek; gebruik een nieuwe sleutel"),
    ("this is not a check-in code", "dit is geen aanmeldcode"),
    ("no such check-in code (or it has expired)", "deze aanmeldcode bestaat niet (of is verlopen)"),
    ("this check-in code has already been used; ask a facilitator for a new one",
     "deze aanmeldcode is al gebruikt; vraag een begeleider om een nieuwe"),
    ("this check-in code's participant is not seated at the summit (any more)",
     "de deelnemer van deze aanmeldcode heeft (niet langer) een zetel in de top"),
    ("the issuing token is revoked or unknown", "het uitgevende token is ingetrokken of onbekend"),
    ("this token is revoked or unknown", "dit token is ingetrokken of onbekend"),
    ("no token {token}", "geen token {token}"),
    ("this {role} token's refresh chain ended (at most {seconds} s after its first token); get a new token",
     "de verversketen van dit {role}-token is beëindigd (hoogstens {seconds} s na het eerste token); "
     "vraag een nieuw token"),
    ("{count} participant(s) already have a live check-in code: {participants}",
     "{count} deelnemer(s) hebben al een geldige aanmeldcode: {participants}"),
    ("{count} of these pseudonyms are not seated at this summit",
     "{count} van deze pseudoniemen hebben geen zetel in deze top"),
    ("you may revoke your own token; organisers those of their municipality; facilitators the participant "
     "tokens of their summit",
     "u mag uw eigen token intrekken; organisatoren die van hun gemeente; begeleiders de deelnemerstokens "
     "van hun top"),
    ("an organiser of {tenant} may not create a summit for {municipality}",
     "een organisator van {tenant} mag geen top aanmaken voor {municipality}"),
    # --- the ledger (services/ledger/) ---
    ("no log {log}", "geen log {log}"),
    ("log {log} has no checkpoint yet", "log {log} heeft nog geen checkpoint"),
    ("tree_size {size} is larger than the log", "tree_size {size} is groter dan de log"),
    ("second {size} is larger than the log", "second {size} is groter dan de log"),
    ("summit id {summit} is not a UUID", "top-id {summit} is geen UUID"),
    ("no summit {summit}", "geen top {summit}"),
    # --- the agenda (services/agenda; docs/agenda.md) ---
    ("no topic {topic} in summit {summit}", "geen onderwerp {topic} in top {summit}"),
    ("nominations for summit {summit} are closed", "de nominaties voor top {summit} zijn gesloten"),
    ("nominations for summit {summit} are already open", "de nominaties voor top {summit} zijn al open"),
    ("nominations for summit {summit} are already closed", "de nominaties voor top {summit} zijn al gesloten"),
    ("topic {topic} was nominated with its words in the log (v1); they cannot be withheld",
     "onderwerp {topic} is genomineerd met de tekst in het logboek (v1); die kan niet worden achtergehouden"),
    ("topic {topic} has no {field}", "onderwerp {topic} heeft geen {field}"),
    ("the {field} of topic {topic} is already withheld", "de {field} van onderwerp {topic} is al achtergehouden"),
    ("the title must not be blank", "de titel mag niet leeg zijn"),
    # g1000_proofs.agenda's provenance rules, raised as they are by services/agenda/domain.py
    ("no topic {topic}", "geen onderwerp {topic}"),
    ("topic {topic} is already {state}", "onderwerp {topic} is al {state}"),
    ("topic {topic} cannot be merged into itself", "onderwerp {topic} kan niet met zichzelf worden samengevoegd"),
    ("a topic's texts include its title", "de teksten van een onderwerp bevatten de titel"),
    ("a topic's texts share one language", "de teksten van een onderwerp hebben één taal"),
    ("genesis event {type} refused: {reason}", "oprichtingsgebeurtenis {type} geweigerd: {reason}"),
    ("invalid republish request", "ongeldig verzoek om opnieuw te publiceren"),
    ("the log store is damaged: {what} of log {summit} is missing",
     "de logopslag is beschadigd: {what} van log {summit} ontbreekt"),
    ("{reason}; the operator must restore it from a backup (auditors' copies and checkpoints show what it held)",
     "{reason}; de beheerder moet haar uit een back-up herstellen (de kopieën en checkpoints van "
     "auditors tonen wat erin stond)"),
    ("not ready: {failing}", "niet gereed: {failing}"),
    ("{service}: the database is not reachable", "{service}: de database is niet bereikbaar"),
    ("{service}: the broker is not reachable and {count} events wait in the outbox: the log is behind",
     "{service}: de broker is niet bereikbaar en {count} gebeurtenissen wachten in de outbox: de log loopt achter"),
    # --- the ballot (services/ballot/; the g1000_proofs rules whose refusals it answers) ---
    ("no ballot {ballot} in summit {summit}", "geen stemming {ballot} in top {summit}"),
    ("no cast with this nullifier in this ballot", "geen stem met deze nullifier in deze stemming"),
    ("nobody has checked in yet, so the roll would be empty",
     "nog niemand heeft zich aangemeld, dus de kiezerslijst zou leeg zijn"),
    ("option ids must be distinct", "optie-id's moeten verschillend zijn"),
    ("share {x} has been handed in already", "deel {x} is al ingeleverd"),
    ("shares are taken only after the ballot has closed",
     "sleuteldelen worden pas aangenomen nadat de stemming is gesloten"),
    ("the ballot is {state}, it can be opened only once", "de stemming is {state}; ze kan maar één keer worden geopend"),
    ("the ballot is {state}, not open", "de stemming is {state}, niet open"),
    ("the ballot opens at {at}", "de stemming opent om {at}"),
    ("the ballot's window ended at {at}", "de stemtijd van deze stemming eindigde om {at}"),
    ("the key has been revealed already", "de sleutel is al onthuld"),
    ("the sealed vote does not have the size of a sealed, padded choice",
     "de verzegelde stem heeft niet de grootte van een verzegelde, opgevulde keuze"),
    ("the sealing needs k <= n and n distinct share hashes",
     "de verzegeling vereist k <= n en n verschillende hashes van sleuteldelen"),
    ("the shares do not rebuild the ballot's sealing key: {reason}",
     "de sleuteldelen vormen niet de verzegelsleutel van de stemming: {reason}"),
    ("this credential has been used to vote already (its nullifier is taken)",
     "met dit stembewijs is al gestemd (de nullifier is gebruikt)"),
    ("this share belongs to a split with another threshold",
     "dit sleuteldeel hoort bij een verdeling met een andere drempel"),
    ("this share is not one of the ballot's shares (its sha256 is not in share_hashes)",
     "dit sleuteldeel is niet een van de delen van de stemming (de sha256 staat niet in share_hashes)"),
    ("you are not on this ballot's roll (checked in before it opened)",
     "u staat niet op de kiezerslijst van deze stemming (aangemeld voordat ze openging)"),
    ("you have obtained your credential for this ballot already", "u hebt uw stembewijs voor deze stemming al ontvangen"),
    ("the ballot's credential key has been erased", "de sleutel voor stembewijzen van deze stemming is gewist"),
    ("{what} is not standard base64", "{what} is geen standaard-base64"),
    ("the credential's signature does not verify under the ballot's key",
     "de handtekening van het stembewijs klopt niet met de sleutel van de stemming"),
    ("a credential has a {token}-byte token and a {prefix}-byte prefix",
     "een stembewijs heeft een token van {token} bytes en een prefix van {prefix} bytes"),
    ("a share reads {prefix}:<k>:<index>:<hex>", "een sleuteldeel luidt {prefix}:<k>:<index>:<hex>"),
    ("a share's threshold, index or value is out of range", "drempel, index of waarde van een sleuteldeel valt buiten het bereik"),
    ("a language appears twice", "een taal komt twee keer voor"),
    ("at least one language is needed", "er is minstens één taal nodig"),
    ("a language is one of {languages}", "een taal is een van {languages}"),
    ("the method's kind must be one of {kinds}", "de soort (kind) van de methode moet een van {kinds} zijn"),
    ("{kind} takes no {names}", "{kind} kent geen {names}"),
    ("{kind} needs {names}", "{kind} vereist {names}"),
    # --- the ballot's payloads (services/core/event_catalog.py) ---
    ("closes_at must come after opens_at", "closes_at moet na opens_at komen"),
    ("k must not exceed n", "k mag niet groter zijn dan n"),
    ("must be base64 of {low} to {high} bytes", "moet base64 van {low} tot {high} bytes zijn"),
    ("must be standard base64 with padding", "moet standaard-base64 met opvulling zijn"),
    ("must be true or false", "moet true of false zijn"),
    ("share_hashes must be n distinct hashes", "share_hashes moet n verschillende hashes bevatten"),
    ("the method is an object with its kind", "de methode is een object met haar soort (kind)"),
    ("the result is the object g1000_proofs.tally.tally returns",
     "de uitslag is het object dat g1000_proofs.tally.tally teruggeeft"),
    # --- the agenda's common ground (services/agenda/common_ground.py) ---
    ("parameters out of range: {params}", "parameters buiten het bereik: {params}"),
    ("the matrix is {shape}, its labels say {labels}", "de matrix is {shape}, de labels zeggen {labels}"),
    ("a participant or statement is named twice", "een deelnemer of stelling wordt twee keer genoemd"),
    ("a vote is not +1 (agree), -1 (disagree) or 0 (pass)",
     "een stem is niet +1 (eens), -1 (oneens) of 0 (overslaan)"),
    ("vote {vote} is not +1 (agree), -1 (disagree) or 0 (pass)",
     "stem {vote} is niet +1 (eens), -1 (oneens) of 0 (overslaan)"),
    # --- the agenda's table assignment (services/agenda/assignment.py) ---
    ("{count} participants but only {seats} seats at the tables",
     "{count} deelnemers maar slechts {seats} plaatsen aan de tafels"),
    ("an assignment needs at least one participant and one table",
     "een tafelindeling vraagt ten minste één deelnemer en één tafel"),
    ("a participant or a table occurs more than once", "een deelnemer of een tafel komt meer dan eens voor"),
    ("every table's capacity is a whole number of seats, 0 or more",
     "de capaciteit van elke tafel is een geheel aantal plaatsen, 0 of meer"),
    ("preferences for {who}, who is not a participant", "voorkeuren voor {who}, die geen deelnemer is"),
    ("the preferences of {who} are not up to {count} distinct tables of the round",
     "de voorkeuren van {who} zijn niet ten hoogste {count} verschillende tafels van de ronde"),
    ("the bounds of {group} are not 0 <= min <= max and 0 <= min_percent <= max_percent <= 100",
     "de grenzen van {group} zijn niet 0 <= min <= max en 0 <= min_percent <= max_percent <= 100"),
    ("the weights are whole numbers, 0 or more", "de gewichten zijn gehele getallen, 0 of meer"),
    ("the time limit is a positive number of seconds", "de tijdslimiet is een positief aantal seconden"),
    ("the time limit of {limit} s passed before an assignment was found",
     "de tijdslimiet van {limit} s verstreek voordat er een tafelindeling was gevonden"),
    ("no assignment keeps the bound {bound}={value} on {group} at every table (the closest misses by {short} "
     "seats in all)",
     "geen tafelindeling houdt de grens {bound}={value} voor {group} aan elke tafel (de dichtstbijzijnde mist "
     "in totaal {short} plaatsen)"),
    # --- the lottery (services/lottery/) ---
    ("the register extract is empty", "het registeruittreksel is leeg"),
    ("the extract is too large", "het uittreksel is te groot"),
    ("the register extract has {count} error(s){more}; nothing was stored",
     "het registeruittreksel heeft {count} fout(en){more}; er is niets opgeslagen"),
    ("the features cannot be accepted: only the charter's features and values",
     "de kenmerken kunnen niet worden aanvaard: alleen de kenmerken en waarden van het handvest"),
    ("the charter of summit {summit} declares no register vocabulary (it predates charter v2), so no register "
     "or pool member can be accepted for it",
     "het handvest van top {summit} legt geen registervocabulaire vast (het is ouder dan handvest v2), dus er "
     "kan geen register of poollid voor worden aanvaard"),
    ("summit {summit} already has a register; it cannot be replaced",
     "top {summit} heeft al een register; het kan niet worden vervangen"),
    ("summit {summit} has no register yet{waiting}", "top {summit} heeft nog geen register{waiting}"),
    ("the register of summit {summit} is being committed (job {job})",
     "het register van top {summit} wordt vastgelegd (taak {job})"),
    ("the register has no feature {feature} to stratify by",
     "het register heeft geen kenmerk {feature} om naar te stratificeren"),
    ("import the register before drawing invitations", "importeer het register voordat u uitnodigingen trekt"),
    ("summit {summit} already has its invitation draw", "top {summit} heeft zijn uitnodigingstrekking al"),
    ("summit {summit} has no invitation draw yet", "top {summit} heeft nog geen uitnodigingstrekking"),
    ("{count} invitees do not fit in one event; draw fewer",
     "{count} genodigden passen niet in één gebeurtenis; trek er minder"),
    ("no invitation with this code", "geen uitnodiging met deze code"),
    ("this invitation code has been used", "deze uitnodigingscode is al gebruikt"),
    ("an invitation code is 12 characters, e.g. 7K3M-Q9TX-2HCA",
     "een uitnodigingscode heeft 12 tekens, bijvoorbeeld 7K3M-Q9TX-2HCA"),
    ("the respondents pool is filled by invitees themselves, with their code",
     "de pool van respondenten wordt door de genodigden zelf gevuld, met hun code"),
    ("the panel has been drawn; registration is closed", "het panel is getrokken; aanmelden is gesloten"),
    ("a pool name is 1-40 characters of a-z 0-9 _ starting with a letter",
     "een poolnaam heeft 1-40 tekens uit a-z 0-9 _ en begint met een letter"),
    ("no pool {pool}: pool names are a-z 0-9 _", "geen pool {pool}: poolnamen bestaan uit a-z 0-9 _"),
    ("already in pool {pool}: {members}", "al in pool {pool}: {members}"),
    ("a pseudonym occurs twice in the request", "een pseudoniem komt twee keer voor in het verzoek"),
    ("a nominee cannot be accepted", "een voorgedragen persoon kan niet worden aanvaard"),
    ("the pool has no members", "de pool heeft geen leden"),
    ("the quotas do not fit the pool", "de quota passen niet bij de pool"),
    ("no distribution {distribution} of pool {pool}", "geen verdeling {distribution} van pool {pool}"),
    ("no job {job} in summit {summit}", "geen taak {job} in top {summit}"),
    ("the panel of pool {pool} has been drawn", "het panel van pool {pool} is getrokken"),
    ("the panel of pool {pool} has been drawn; replace drop-outs instead",
     "het panel van pool {pool} is getrokken; vervang in plaats daarvan uitvallers"),
    ("the panel of pool {pool} has not been drawn", "het panel van pool {pool} is niet getrokken"),
    ("the panel of pool {pool} was drawn from distribution {distribution}",
     "het panel van pool {pool} is getrokken uit verdeling {distribution}"),
    ("the panel must be drawn from distribution {distribution}, the pool's last one committed before the "
     "round's first contribution",
     "het panel moet worden getrokken uit verdeling {distribution}, de laatste van de pool die vóór de "
     "eerste bijdrage van de ronde is vastgelegd"),
    ("{pseudonym} is not on the current panel", "{pseudonym} zit niet in het huidige panel"),
    ("no reserve keeps every quota and the household rule without {pseudonym}; send accept_vacancy to "
     "record the drop-out with an empty seat",
     "geen reserve houdt zich zonder {pseudonym} aan elk quotum en de huishoudregel; stuur accept_vacancy "
     "om de uitvaller met een lege zetel vast te leggen"),
    ("purpose must be one of {purposes}", "purpose moet een van deze zijn: {purposes}"),
    ("parties must be 1-{max} distinct names", "parties moet 1-{max} verschillende namen bevatten"),
    ("party names are 1-40 characters of a-z 0-9 _ - starting with a letter (organisations or roles, never "
     "a person's name): {bad}",
     "partijnamen hebben 1-40 tekens uit a-z 0-9 _ - en beginnen met een letter (organisaties of rollen, "
     "nooit de naam van een persoon): {bad}"),
    ("a party name is 1-40 characters of a-z 0-9 _ - starting with a letter",
     "een partijnaam heeft 1-40 tekens uit a-z 0-9 _ - en begint met een letter"),
    ("{party} is already a party of this round; each contribution needs its own party name",
     "{party} is al een partij van deze ronde; elke bijdrage heeft een eigen partijnaam nodig"),
    ("{party} is not a party of this round ({parties})", "{party} is geen partij van deze ronde ({parties})"),
    ("the commit deadline {deadline} is not in the future", "de commit-deadline {deadline} ligt niet in de toekomst"),
    ("the reveal deadline must come after the commit deadline",
     "de onthul-deadline moet na de commit-deadline komen"),
    ("the reveal deadline is more than {days} days away", "de onthul-deadline ligt meer dan {days} dagen weg"),
    ("a commitment is 64 lowercase hex characters (SHA-256)",
     "een commitment bestaat uit 64 kleine hexadecimale tekens (SHA-256)"),
    ("a time needs its UTC offset", "een tijdstip heeft zijn UTC-verschil nodig"),
    ("a public contribution is dice or beacon", "een openbare bijdrage is dice of beacon"),
    ("a beacon value names its source; dice have none", "een beacon-waarde noemt haar bron; dice hebben er geen"),
    ("a beacon value cannot contain {separator} between spaces",
     "een beacon-waarde mag geen {separator} tussen spaties bevatten"),
    ("dice and beacon values must come before the first reveal",
     "dice- en beacon-waarden moeten vóór de eerste onthulling komen"),
    ("no round {round} in summit {summit}", "geen ronde {round} in top {summit}"),
    ("round {round} is finalised", "ronde {round} is afgesloten"),
    ("round {round} is not finalised yet", "ronde {round} is nog niet afgesloten"),
    ("round {round} is for the {purpose} draw, not the {other} draw",
     "ronde {round} is voor de {purpose}-trekking, niet voor de {other}-trekking"),
    ("round {round} declares no draw parameters (a v1 round): open a new invitation round that declares n "
     "and stratify_by",
     "ronde {round} legt geen trekkingsparameters vast (een v1-ronde): open een nieuwe uitnodigingsronde die "
     "n en stratify_by vastlegt"),
    ("party {party} has already committed", "partij {party} heeft al een commitment gedaan"),
    ("party {party} has already revealed", "partij {party} heeft al onthuld"),
    ("party {party} has no commitment in this round", "partij {party} heeft geen commitment in deze ronde"),
    ("the value does not match the commitment of {party}: {reason}",
     "de waarde komt niet overeen met de commitment van {party}: {reason}"),
    ("the commit phase runs until {deadline}", "de commit-fase loopt tot {deadline}"),
    ("too early: the commit phase runs until {deadline}", "te vroeg: de commit-fase loopt tot {deadline}"),
    ("too late: the commit phase ended at {deadline}", "te laat: de commit-fase eindigde om {deadline}"),
    ("too late: the commit phase of round {round} ended at {deadline}",
     "te laat: de commit-fase van ronde {round} eindigde om {deadline}"),
    ("too late: the reveal phase ended at {deadline}", "te laat: de onthulfase eindigde om {deadline}"),
    ("waiting for reveals of {parties} until {deadline}", "wacht tot {deadline} op onthullingen van {parties}"),
    ("the round has no revealed or public contribution: it cannot be finalised",
     "de ronde heeft geen onthulde of openbare bijdrage: ze kan niet worden afgesloten"),
    ("the {subject} must be drawn with round {round}, the first round of this purpose after it (no choosing "
     "among seeds)",
     "de {subject} moet worden getrokken met ronde {round}, de eerste ronde voor dit doel daarna (geen keuze "
     "uit seeds)"),
    ("the {subject} was committed after the first contribution of round {round}: its seed could have been "
     "known; use a later round",
     "de {subject} is vastgelegd na de eerste bijdrage van ronde {round}: de seed kon bekend zijn; gebruik "
     "een latere ronde"),
    ("{problem} (round {round}); nothing was drawn", "{problem} (ronde {round}); er is niets getrokken"),
    # --- the items of a refusal's `errors` (register extract lines, quotas, the charter's vocabulary) ---
    ("file too large", "bestand te groot"),
    ("column {name} occurs twice (also column {other})", "kolom {name} komt twee keer voor (ook kolom {other})"),
    ("column {name} is not a feature the summit's charter declares: the extract holds only pseudonym, "
     "household and {declared}",
     "kolom {name} is geen kenmerk dat het handvest van de top vastlegt: het uittreksel bevat alleen "
     "pseudonym, household en {declared}"),
    ("the header has no {column} column (the charter declares it)",
     "de kopregel heeft geen kolom {column} (het handvest legt die vast)"),
    ("the header has no {column} column", "de kopregel heeft geen kolom {column}"),
    ("the file is empty: a header line is required", "het bestand is leeg: een kopregel is vereist"),
    ("not valid CSV: {reason}", "geen geldige CSV: {reason}"),
    ("the extract has no rows", "het uittreksel heeft geen rijen"),
    ("more than {max} rows", "meer dan {max} rijen"),
    ("the line has {cells} cells, the header {width}", "de regel heeft {cells} cellen, de kopregel {width}"),
    ("pseudonym {pseudonym} already on line {line}", "pseudoniem {pseudonym} staat al op regel {line}"),
    ("{what} must be an opaque id: exactly 32 lowercase hex characters (128 random bits, e.g. from "
     "`g1000 register prepare`), never a name, address or register number",
     "{what} moet een ondoorzichtige id zijn: precies 32 kleine hexadecimale tekens (128 willekeurige bits, "
     "bijvoorbeeld van `g1000 register prepare`), nooit een naam, adres of registernummer"),
    ("a value is 1-{max} characters without control characters", "een waarde heeft 1-{max} tekens zonder stuurtekens"),
    ("a value has no leading or trailing white space", "een waarde heeft geen witruimte vooraan of achteraan"),
    ("features must be an object of feature names to values",
     "features moet een object van kenmerknamen naar waarden zijn"),
    ("{name} is not a feature the charter declares (declared: {declared})",
     "{name} is geen kenmerk dat het handvest vastlegt (vastgelegd: {declared})"),
    ("{name}: not one of the charter's values ({values})", "{name}: geen van de waarden van het handvest ({values})"),
    ("{name}: missing (the charter declares it)", "{name}: ontbreekt (het handvest legt het vast)"),
    ("panel_size {size} must be between 1 and the pool size {pool}",
     "panel_size {size} moet tussen 1 en de poolgrootte {pool} liggen"),
    ("at least one quota feature is needed", "er is minstens één quotumkenmerk nodig"),
    ("at most {max} quota features", "hoogstens {max} quotumkenmerken"),
    ("{feature}: 1-{max} values", "{feature}: 1-{max} waarden"),
    ("{feature}={value}: needs 0 <= min <= max, got [{low}, {high}]",
     "{feature}={value}: vereist 0 <= min <= max, gekregen [{low}, {high}]"),
    ("{feature}: no member of the pool has this feature", "{feature}: geen lid van de pool heeft dit kenmerk"),
    ("{feature}: {count} members have no value (e.g. {example})",
     "{feature}: {count} leden hebben geen waarde (bijvoorbeeld {example})"),
    ("{feature}: values {values} of pool members have no quota (such members could never be selected)",
     "{feature}: waarden {values} van poolleden hebben geen quotum (zulke leden zouden nooit gekozen kunnen "
     "worden)"),
)

_FIELD = string.Formatter()


def _compile(template: str) -> tuple[re.Pattern, list[str]]:
    pattern, names = [], []
    for literal, field, _spec, _conv in _FIELD.parse(template):
        pattern.append(re.escape(literal))
        if field is not None:
            names.append(field)
            pattern.append(f"(?P<_{len(names) - 1}>.+?)")
    return re.compile("".join(pattern), re.DOTALL), names


def literal_text(template: str) -> str:
    """The template with every placeholder written `{}`: how the tests compare templates."""
    return "".join(literal + ("{}" if field is not None else "")
                   for literal, field, _s, _c in _FIELD.parse(template))


CATALOGUE: dict[str, dict[str, str]] = {row[0]: dict(zip(LANGUAGES, row)) for row in _ROWS}
_EXACT = {en: row for en, row in CATALOGUE.items() if "{" not in en}
# templates with placeholders, the most literal text first, so that the most specific one wins
_PATTERNS = sorted(((en, *_compile(en)) for en in CATALOGUE if "{" in en),
                   key=lambda item: -len(literal_text(item[0]).replace("{}", "")))


def translate(message: str, language: str) -> str:
    """`message` (English, as the code wrote it) in `language`; unchanged when not in the catalogue."""
    if language == DEFAULT or not isinstance(message, str):
        return message
    row = _EXACT.get(message)
    if row is not None:
        return row.get(language, message)
    for en, pattern, names in _PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            values = {name: found.group(f"_{i}") for i, name in enumerate(names)}
            return CATALOGUE[en][language].format_map(values)
    return message


def translate_errors(errors, language: str):
    """Field messages (marshmallow's `{field: [message, ...]}`, nested; a list of `{message: ...}`)
    translated; keys, and values that are data (a line number, a column name) stay as they are."""
    if language == DEFAULT:
        return errors
    if isinstance(errors, dict):
        return {key: (translate(value, language) if key == "message" and isinstance(value, str)
                      else translate_errors(value, language)) for key, value in errors.items()}
    if isinstance(errors, list):
        return [translate(item, language) if isinstance(item, str) else translate_errors(item, language)
                for item in errors]
    return errors


_RANGE = re.compile(r"\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*")


def negotiate(header: str | None, languages: Iterable[str] = LANGUAGES) -> str:
    """The catalogue language the Accept-Language field (RFC 9110 §12.5.4) prefers by q-value:
    each language's weight is that of its most specific range (`nl-BE` counts for `nl`, `*` for
    any); the default wins ties, so a request that does not prefer another language gets English."""
    weights: dict[str, float] = {}
    wildcard = 0.0
    for part in (header or "").split(",")[:32]:
        match = _RANGE.fullmatch(part)
        if not match:
            continue
        tag, q = match.group(1).lower(), match.group(2)
        try:
            weight = min(max(float(q), 0.0), 1.0) if q is not None else 1.0
        except ValueError:
            continue
        if tag == "*":
            wildcard = max(wildcard, weight)
        else:
            primary = tag.split("-", 1)[0]
            weights[primary] = max(weights.get(primary, 0.0), weight)
    best, best_weight = DEFAULT, weights.get(DEFAULT, wildcard)
    for language in languages:
        weight = weights.get(language, wildcard)
        if weight > best_weight:
            best, best_weight = language, weight
    return best
