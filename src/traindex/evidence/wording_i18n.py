"""The lawyer's page in English, German and Dutch: fixed sentences and method meanings.

Kept apart from ``firstpage`` (which decides what to say) so a translator edits only
this file. Placeholders in braces are filled by ``firstpage``; the method names are the
English words the signed report uses (DESIGN.md's vocabulary).
"""

from __future__ import annotations

__all__ = ["METHODS", "REASONS", "TEXT"]

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Evidence report — summary for lawyers and authorities",
        "intro": "Made on {created} at the request of {requested_by}. This page explains the "
        "report that follows; the tables after it are the evidence.",
        "rows": "rows",
        "compared_h": "What was compared",
        "compared": "Searches ({asked}) were compared with every searchable row of: {releases}.",
        "compared_images": "Searches ({asked}) were run over: {releases}. An image search "
        "compares only rows whose images were fingerprinted; the next section says which.",
        "covered_h": "What was covered and what was not",
        "covered": "{name}: {rows} rows searched from {files} source file(s); {failed} rows "
        "whose download had failed and {rejected} unreadable rows were not searched.",
        "not_in_catalog": "{name}: cited by a search result but not held here; not searched.",
        "image_coverage": "{name} (image search): {summary}.",
        "image_all": "searched all {rows} rows ({signals})",
        "image_part": "searched {n} of {rows} rows ({signals})",
        "image_none": "not searched: none of its {rows} rows has been fingerprinted ({signals})",
        "image_failed": "{n} image(s) could not be fingerprinted: {reasons}",
        "image_shards": "{n} of {total} source file(s) never fingerprinted",
        "negatives": '{n} of {total} search(es) found nothing. "Not found" is said only of '
        "rows that were actually compared.",
        "not_covered": "Rows of other datasets or releases, and images never fingerprinted, "
        "were not compared: absence from this report does not prove absence from them.",
        "methods_h": "How each match was found and what its numbers mean",
        "no_matches": "No row matched.",
        "english_terms": "",
        "method": "{method} ({n} row(s)): {meaning} Example: {measure}; limit {threshold}.",
        "check_h": "How to check this report independently",
        "check_pdf": "Signature: this PDF carries a PAdES signature that any PDF reader shows "
        '(signer "traindex operator {fp}"); a changed byte makes it invalid.',
        "check_json": "The signed JSON file (report.json) is checked with "
        '"traindex report verify report.json --pubkey {key}" or with any Ed25519 library; '
        "the operator's keys are published at /.well-known/traindex-keys.json (key {fp}).",
        "timestamp": "Time: a timestamp authority, {authority}, vouches that the report "
        "existed at {time} (RFC 3161 token in report.json).",
        "clock": "Time: no timestamp authority was used; the time stated is the clock of the "
        "machine that made the report.",
        "downloads": "Downloads: {n} matched row(s) were verified by downloading their image "
        "from the row's URL. {stamped} of these download proofs carry their own RFC 3161 "
        "timestamp over the URL, fetch time, HTTP status and SHA-256 of the bytes (checked by "
        '"traindex report verify"); for the others the fetch time is only the clock of the '
        "machine that downloaded them.",
        "check_rows": "Rows: {n} of {total} matched row(s) name the published dataset file "
        "(name, size, SHA-256), the row's position and its raw URL and caption. Anyone with "
        'that file can confirm them with "traindex report verify report.json --against FILE" '
        "or with the one-line command printed under each row (a DuckDB query for Parquet, "
        "sed or python3 for CSV/TSV files). Rows of image tar shards are cited by file, row "
        "and key.",
    },
    "de": {
        "title": "Beweisbericht — Zusammenfassung für Anwälte und Behörden",
        "intro": "Erstellt am {created} im Auftrag von {requested_by}. Diese Seite erklärt den "
        "folgenden Bericht; die Tabellen danach sind die Beweismittel.",
        "rows": "Zeilen",
        "compared_h": "Was verglichen wurde",
        "compared": "Die Suchen ({asked}) wurden mit jeder durchsuchbaren Zeile verglichen "
        "von: {releases}.",
        "compared_images": "Die Suchen ({asked}) liefen über: {releases}. Eine Bildsuche "
        "vergleicht nur Zeilen, deren Bilder erfasst wurden; welche das sind, sagt der nächste "
        "Abschnitt.",
        "covered_h": "Was erfasst wurde und was nicht",
        "covered": "{name}: {rows} Zeilen aus {files} Quelldatei(en) durchsucht; {failed} "
        "Zeilen mit fehlgeschlagenem Download und {rejected} unlesbare Zeilen wurden nicht "
        "durchsucht.",
        "not_in_catalog": "{name}: von einem Suchergebnis genannt, aber hier nicht vorhanden; "
        "nicht durchsucht.",
        "image_coverage": "{name} (Bildsuche): {summary}.",
        "image_all": "alle {rows} Zeilen durchsucht ({signals})",
        "image_part": "{n} von {rows} Zeilen durchsucht ({signals})",
        "image_none": "nicht durchsucht: keine ihrer {rows} Zeilen hat einen "
        "{signals}-Fingerabdruck",
        "image_failed": "{n} Bild(er) konnten nicht erfasst werden: {reasons}",
        "image_shards": "{n} von {total} Quelldatei(en) nie erfasst",
        "negatives": '{n} von {total} Suche(n) ergaben keinen Treffer. "Nicht gefunden" '
        "wird nur für tatsächlich verglichene Zeilen gesagt.",
        "not_covered": "Zeilen anderer Datensätze oder Versionen und nie erfasste Bilder wurden "
        "nicht verglichen: ihr Fehlen in diesem Bericht beweist nicht ihr Fehlen dort.",
        "methods_h": "Wie jeder Treffer gefunden wurde und was seine Zahlen bedeuten",
        "no_matches": "Keine Zeile stimmte überein.",
        "english_terms": "Die Tabellen nach dieser Seite und die Beispiele hier nennen Methode, "
        "Messwert und Grenze mit den englischen Begriffen des signierten Berichts.",
        "method": "{method} ({n} Zeile(n)): {meaning} Beispiel: {measure}; Grenze {threshold}.",
        "check_h": "Wie sich dieser Bericht unabhängig prüfen lässt",
        "check_pdf": "Signatur: Diese PDF trägt eine PAdES-Signatur, die jeder PDF-Leser "
        'anzeigt (Unterzeichner "traindex operator {fp}"); ein geändertes Byte macht sie '
        "ungültig.",
        "check_json": 'Die signierte JSON-Datei (report.json) wird mit "traindex report verify '
        'report.json --pubkey {key}" oder jeder Ed25519-Bibliothek geprüft; die Schlüssel des '
        "Betreibers sind unter /.well-known/traindex-keys.json veröffentlicht (Schlüssel {fp}).",
        "timestamp": "Zeit: Der Zeitstempeldienst {authority} bestätigt, dass der Bericht am "
        "{time} existierte (RFC-3161-Zeitstempel in report.json).",
        "clock": "Zeit: Es wurde kein Zeitstempeldienst verwendet; die angegebene Zeit ist die "
        "Uhr des Rechners, der den Bericht erstellt hat.",
        "downloads": "Downloads: {n} Treffer wurden durch Herunterladen des Bildes von der URL "
        "der Zeile bestätigt. {stamped} dieser Download-Nachweise tragen einen eigenen "
        "RFC-3161-Zeitstempel über URL, Abrufzeit, HTTP-Status und SHA-256 der Daten (geprüft "
        'mit "traindex report verify"); bei den übrigen ist die Abrufzeit nur die Uhr des '
        "Rechners, der sie heruntergeladen hat.",
        "check_rows": "Zeilen: {n} von {total} Treffer(n) nennen die veröffentlichte "
        "Datensatzdatei (Name, Größe, SHA-256), die Position der Zeile sowie ihre "
        'unveränderte URL und Bildunterschrift. Wer die Datei hat, kann sie mit "traindex '
        'report verify report.json --against DATEI" oder dem einzeiligen Befehl unter jeder '
        "Zeile bestätigen (eine DuckDB-Abfrage für Parquet, sed oder python3 für CSV/TSV-"
        "Dateien). Zeilen aus Bild-Tar-Archiven werden mit Datei, Zeile und Schlüssel "
        "zitiert.",
    },
    "nl": {
        "title": "Bewijsrapport — samenvatting voor advocaten en toezichthouders",
        "intro": "Opgesteld op {created} op verzoek van {requested_by}. Deze pagina licht het "
        "rapport toe; de tabellen daarna zijn het bewijs.",
        "rows": "rijen",
        "compared_h": "Wat is vergeleken",
        "compared": "De zoekopdrachten ({asked}) zijn vergeleken met elke doorzoekbare rij "
        "van: {releases}.",
        "compared_images": "De zoekopdrachten ({asked}) liepen over: {releases}. Zoeken op "
        "beeld vergelijkt alleen rijen waarvan de afbeeldingen zijn verwerkt; welke dat zijn, "
        "staat in het volgende deel.",
        "covered_h": "Wat wel en niet is gedekt",
        "covered": "{name}: {rows} rijen uit {files} bronbestand(en) doorzocht; {failed} "
        "rijen waarvan de download mislukte en {rejected} onleesbare rijen zijn niet "
        "doorzocht.",
        "not_in_catalog": "{name}: genoemd in een zoekresultaat maar hier niet aanwezig; niet "
        "doorzocht.",
        "image_coverage": "{name} (zoeken op beeld): {summary}.",
        "image_all": "alle {rows} rijen doorzocht ({signals})",
        "image_part": "{n} van {rows} rijen doorzocht ({signals})",
        "image_none": "niet doorzocht: geen van de {rows} rijen heeft een {signals}-vingerafdruk",
        "image_failed": "{n} afbeelding(en) konden niet worden verwerkt: {reasons}",
        "image_shards": "{n} van {total} bronbestand(en) nooit verwerkt",
        "negatives": '{n} van {total} zoekopdracht(en) vonden niets. "Niet gevonden" geldt '
        "alleen voor rijen die echt zijn vergeleken.",
        "not_covered": "Rijen van andere datasets of versies en nooit verwerkte afbeeldingen "
        "zijn niet vergeleken: afwezigheid in dit rapport bewijst geen afwezigheid daar.",
        "methods_h": "Hoe elke overeenkomst is gevonden en wat de getallen betekenen",
        "no_matches": "Geen enkele rij kwam overeen.",
        "english_terms": "De tabellen na deze pagina en de voorbeelden hier noemen methode, "
        "meetwaarde en grens met de Engelse termen van het ondertekende rapport.",
        "method": "{method} ({n} rij(en)): {meaning} Voorbeeld: {measure}; grens {threshold}.",
        "check_h": "Hoe dit rapport onafhankelijk te controleren is",
        "check_pdf": "Handtekening: deze pdf draagt een PAdES-handtekening die elke pdf-lezer "
        'toont (ondertekenaar "traindex operator {fp}"); één gewijzigde byte maakt haar '
        "ongeldig.",
        "check_json": "Het ondertekende JSON-bestand (report.json) wordt gecontroleerd met "
        '"traindex report verify report.json --pubkey {key}" of met elke Ed25519-bibliotheek; '
        "de sleutels van de beheerder staan op /.well-known/traindex-keys.json (sleutel {fp}).",
        "timestamp": "Tijd: de tijdstempeldienst {authority} bevestigt dat het rapport bestond "
        "op {time} (RFC 3161-tijdstempel in report.json).",
        "clock": "Tijd: er is geen tijdstempeldienst gebruikt; de vermelde tijd is de klok van "
        "de computer die het rapport maakte.",
        "downloads": "Downloads: {n} gevonden rij(en) zijn bevestigd door de afbeelding via de "
        "URL van de rij te downloaden. {stamped} van deze downloadbewijzen dragen een eigen "
        "RFC 3161-tijdstempel over URL, ophaaltijd, HTTP-status en SHA-256 van de bytes "
        '(gecontroleerd met "traindex report verify"); bij de overige is de ophaaltijd alleen '
        "de klok van de computer die ze downloadde.",
        "check_rows": "Rijen: {n} van {total} gevonden rij(en) noemen het gepubliceerde "
        "datasetbestand (naam, grootte, SHA-256), de positie van de rij en haar ongewijzigde "
        'URL en bijschrift. Wie dat bestand heeft, kan ze bevestigen met "traindex report '
        'verify report.json --against BESTAND" of met de opdracht van één regel onder elke '
        "rij (een DuckDB-query voor Parquet, sed of python3 voor CSV/TSV-bestanden). Rijen "
        "uit tar-archieven met afbeeldingen worden aangeduid met bestand, rij en sleutel.",
    },
}

METHODS: dict[str, dict[str, str]] = {
    "exact URL": {
        "en": "the dataset row points at the same web address (after normalising).",
        "de": "die Datensatzzeile verweist auf dieselbe Webadresse (nach Normalisierung).",
        "nl": "de datasetrij verwijst naar hetzelfde webadres (na normalisatie).",
    },
    "same file": {
        "en": "the SHA-256 of the image bytes is equal: the very same file.",
        "de": "der SHA-256 der Bilddaten ist gleich: exakt dieselbe Datei.",
        "nl": "de SHA-256 van de beeldbytes is gelijk: precies hetzelfde bestand.",
    },
    "same image": {
        "en": "the PDQ perceptual hashes (256 bits) differ in at most the stated number of "
        "bits: a resized, re-encoded or lightly edited copy. Both hashes are printed.",
        "de": "die PDQ-Wahrnehmungshashes (256 Bit) unterscheiden sich in höchstens der "
        "genannten Bitzahl: eine verkleinerte, neu kodierte oder leicht bearbeitete Kopie.",
        "nl": "de PDQ-perceptuele hashes (256 bits) verschillen in hoogstens het genoemde "
        "aantal bits: een verkleinde, opnieuw gecodeerde of licht bewerkte kopie.",
    },
    "same image (keypoints)": {
        "en": "enough distinctive points of both images agree under one scaling and "
        "rotation: the searched image, or a crop of it, is part of the dataset image.",
        "de": "genügend markante Punkte beider Bilder stimmen unter einer Skalierung und "
        "Drehung überein: das gesuchte Bild oder ein Ausschnitt davon ist Teil des "
        "Datensatzbildes.",
        "nl": "genoeg kenmerkende punten van beide afbeeldingen komen overeen onder één "
        "schaling en rotatie: de gezochte afbeelding, of een uitsnede ervan, maakt deel uit "
        "van de datasetafbeelding.",
    },
    "same face": {
        "en": "the face embeddings are closer than the face threshold: probably the same "
        "person; a person must check.",
        "de": "die Gesichtsmerkmale liegen näher beieinander als die Schwelle: wahrscheinlich "
        "dieselbe Person; ein Mensch muss das prüfen.",
        "nl": "de gezichtskenmerken liggen dichter bij elkaar dan de drempel: waarschijnlijk "
        "dezelfde persoon; een mens moet dit nagaan.",
    },
    "similar (not necessarily your image)": {
        "en": "the images are semantically close (CLIP); this is not evidence that the "
        "dataset image is yours.",
        "de": "die Bilder sind inhaltlich ähnlich (CLIP); das beweist nicht, dass das "
        "Datensatzbild Ihres ist.",
        "nl": "de afbeeldingen lijken inhoudelijk op elkaar (CLIP); dat bewijst niet dat de "
        "datasetafbeelding van u is.",
    },
    "URL prefix": {
        "en": "the row's web address starts with the searched address; which images are "
        "yours needs review.",
        "de": "die Webadresse der Zeile beginnt mit der gesuchten Adresse; welche Bilder Ihnen "
        "gehören, ist zu prüfen.",
        "nl": "het webadres van de rij begint met het gezochte adres; welke afbeeldingen van u "
        "zijn, moet worden nagegaan.",
    },
    "Flickr photo": {
        "en": "the row's web address carries the searched Flickr photo id.",
        "de": "die Webadresse der Zeile enthält die gesuchte Flickr-Foto-ID.",
        "nl": "het webadres van de rij bevat het gezochte Flickr-foto-id.",
    },
    "caption text": {
        "en": "the caption contains the searched words (BM25 relevance score); a person must "
        "check whether the image is the searcher's.",
        "de": "die Bildunterschrift enthält die gesuchten Wörter (BM25-Relevanzwert); ein "
        "Mensch muss prüfen, ob das Bild dem Suchenden gehört.",
        "nl": "het bijschrift bevat de gezochte woorden (BM25-relevantiescore); een mens moet "
        "nagaan of de afbeelding van de zoeker is.",
    },
    "Flickr account": {
        "en": "the dataset attributes the row to the searched Flickr account.",
        "de": "der Datensatz ordnet die Zeile dem gesuchten Flickr-Konto zu.",
        "nl": "de dataset schrijft de rij toe aan het gezochte Flickr-account.",
    },
    "domain": {
        "en": "the image is hosted on the searched domain; which images are yours needs review.",
        "de": "das Bild liegt auf der gesuchten Domain; welche Bilder Ihnen gehören, ist zu "
        "prüfen.",
        "nl": "de afbeelding staat op het gezochte domein; welke afbeeldingen van u zijn, moet "
        "worden nagegaan.",
    },
}

# Why images could not be fingerprinted (``download.client`` statuses, ``fingerprint.coverage``);
# "HTTP 404" and unknown reasons are shown as they are.
REASONS: dict[str, dict[str, str]] = {
    "refused by address policy": {
        "de": "von der Adressrichtlinie abgelehnt",
        "nl": "geweigerd door het adresbeleid",
    },
    "timeout": {"de": "Zeitüberschreitung", "nl": "time-out"},
    "network error": {"de": "Netzwerkfehler", "nl": "netwerkfout"},
    "redirect loop or too many redirects": {
        "de": "Weiterleitungsschleife oder zu viele Weiterleitungen",
        "nl": "doorverwijzingslus of te veel doorverwijzingen",
    },
    "reserved: robots.txt": {
        "de": "Nutzungsvorbehalt: robots.txt",
        "nl": "voorbehouden: robots.txt",
    },
    "robots.txt unavailable": {
        "de": "robots.txt nicht erreichbar",
        "nl": "robots.txt niet bereikbaar",
    },
    "reserved: X-Robots-Tag": {
        "de": "Nutzungsvorbehalt: X-Robots-Tag",
        "nl": "voorbehouden: X-Robots-Tag",
    },
    "reserved: TDM reservation": {
        "de": "Nutzungsvorbehalt: TDM-Vorbehalt",
        "nl": "voorbehouden: TDM-voorbehoud",
    },
    "too large": {"de": "zu groß", "nl": "te groot"},
    "not an image": {"de": "kein Bild", "nl": "geen afbeelding"},
    "unreadable image": {"de": "unlesbares Bild", "nl": "onleesbare afbeelding"},
}
