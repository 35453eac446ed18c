"""The Belgian demo company: be-keukens."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from types import MappingProxyType

from ledgerbridge.demo.model import (
    BE_REF,
    FIN,
    NEW,
    RENO,
    SHOP,
    A,
    Category,
    Country,
    D,
    F,
    Kind,
    L,
    Special,
    Supplier,
    business,
    export,
    items,
    line,
    people,
    settings,
    supplier_party,
)
from ledgerbridge.domain.parties import BookingCodes, Company

CABINETS = "1 2 3 4 5 6"
METRES = "2.4 3 3.6 4.2 4.8"
HOURS = "4 6 7.5 8 12 16 24"
ONE = "1"


# Belgium


BE_ITEMS = items(
    (
        ("Keukenkast onderbouw 60 cm", "240", "420", F, CABINETS),
        ("Keukenkast bovenkast 80 cm", "180", "320", F, CABINETS),
        ("Hoge kast voor inbouwtoestellen 60 cm", "520", "890", F, "1 2"),
        ("Ladekast onderbouw 90 cm met 3 laden", "460", "780", F, "1 2 3"),
        ("Composiet werkblad 20 mm, per lopende meter", "180", "340", F, METRES),
        ("Granieten werkblad 30 mm, per lopende meter", "390", "620", F, METRES),
        ("Spoelbak inox anderhalve bak", "190", "420", F, ONE),
        ("Keukenmengkraan met uittrekbare handdouche", "145", "390", F, ONE),
        ("Dampkap wandmodel 90 cm", "480", "1150", F, ONE),
        ("Badmeubel 100 cm met dubbele wastafel", "890", "1890", F, ONE),
        ("Inloopdouche 120 x 90 cm met glaswand", "740", "1650", F, ONE),
        ("Hangtoilet met soft-close zitting en inbouwreservoir", "420", "780", F, ONE),
        ("Thermostatische douchekraan met regendouche", "290", "690", F, ONE),
        ("Ligbad acryl 170 x 75 cm", "390", "980", F, ONE),
        ("Handdoekradiator 1200 mm", "210", "480", F, "1 2"),
        ("Spiegelkast 80 cm met LED-verlichting", "240", "560", F, ONE),
        ("Inbouwoven multifunctie 71 l", "549", "1290", A, ONE),
        ("Inductiekookplaat 80 cm met 4 zones", "649", "1490", A, ONE),
        ("Vaatwasser volledig integreerbaar 60 cm", "599", "1190", A, ONE),
        ("Inbouwkoelkast 178 cm", "799", "1590", A, ONE),
        ("Combi-microgolfoven inbouw 45 cm", "599", "1150", A, ONE),
        ("Plaatsing en montage", "58.50", "58.50", L, HOURS),
        ("Sanitaire aansluitingen", "62", "62", L, "2 3 4 6"),
        ("Afbraak en afvoer bestaande keuken", "350", "750", L, ONE),
        ("Elektrische aansluiting toestellen", "95", "240", L, ONE),
        ("Tegelwerk wanden badkamer, per m²", "45", "75", FIN, "6.5 8 12.25 14"),
        ("Bepleistering en schilderwerk na plaatsing", "280", "640", FIN, ONE),
        ("Levering en transport", "45", "125", D, ONE),
    )
)

BE_COMPANY = Company(
    ref=BE_REF,
    name="Keukens & Baden Vermeulen BV",
    country="BE",
    vat_number="BE0579483443",
    time_zone="Europe/Brussels",
)

BE_SETTINGS = settings(
    sales=export(
        "70",
        "700000",
        {
            "BE-21": "V21",
            # BE-12 left unmapped on purpose: its invoice cannot be exported.
            "BE-06": "V06",
            "BE-06-RENOVATION": "V06",
            "BE-00-INTRA-EU": "VIB",
            "BE-00-EXPORT": "VEX",
            "BE-REVERSE-CHARGE": "VMC",
        },
        daily=True,
    ),
    purchases=export(
        "60",
        "604000",
        {
            "BE-21": "A21",
            "BE-12": "A12",
            "BE-06": "A06",
            "BE-06-RENOVATION": "A06",
            "BE-00-INTRA-EU": "AIB",
            "BE-00-EXPORT": "A00",
            "BE-REVERSE-CHARGE": "AMC",
        },
        daily=False,
    ),
)


def be(street: str, postal_code: str, city: str) -> tuple[str, str, str, str]:
    return (street, postal_code, city, "BE")


BE_PEOPLE = people(
    "BE",
    (
        # name, street, postal code, city, kind, cost centre
        ("Jan Peeters", "Kerkstraat 12", "9000", "Gent", RENO, "GENT"),
        ("Els Janssens", "Molenstraat 45", "2800", "Mechelen", RENO, None),
        ("Pieter De Smet", "Stationsstraat 8", "8500", "Kortrijk", NEW, "BRUGGE"),
        ("An Maes", "Dorpsstraat 23", "3000", "Leuven", RENO, None),
        ("Koen Willems", "Nieuwstraat 5", "2000", "Antwerpen", SHOP, None),
        ("Sofie Claes", "Lindelaan 17", "3500", "Hasselt", RENO, None),
        ("Tom Goossens", "Schoolstraat 31", "9300", "Aalst", NEW, "GENT"),
        ("Lies Wouters", "Beukenlaan 9", "2300", "Turnhout", SHOP, None),
        ("Bart Vermeulen", "Veldstraat 64", "8000", "Brugge", RENO, "BRUGGE"),
        ("Katrien De Backer", "Kapelstraat 2", "9100", "Sint-Niklaas", RENO, None),
        ("Wim Mertens", "Hoogstraat 77", "2500", "Lier", SHOP, None),
        ("Hanne Jacobs", "Bosstraat 14", "3200", "Aarschot", RENO, None),
        ("Dirk Van den Broeck", "Grote Markt 3", "9200", "Dendermonde", RENO, None),
        ("Ine Lambrechts", "Processiestraat 19", "9400", "Ninove", NEW, None),
    ),
)

BE_CUSTOMERS = (
    *BE_PEOPLE,
    business(
        "c-1015",
        "Bouwbedrijf Van Damme NV",
        "BE0926237261",
        be("Industrieweg 21", "9030", "Mariakerke"),
        Kind.BUSINESS_WORKS,
        weight=4,
        codes=BookingCodes(
            "1015", gl_account="705000", vat_scenario="BE-REVERSE-CHARGE"
        ),
    ),
    business(
        "c-1016",
        "Renovatiebedrijf Lemmens BV",
        "BE0669571105",
        be("Ambachtsstraat 4", "3920", "Lommel"),
        Kind.BUSINESS_WORKS,
        weight=3,
        codes=BookingCodes("1016", vat_scenario="BE-REVERSE-CHARGE"),
    ),
    business(
        "c-1017",
        "Hotel De Zeeparel BV",
        "BE0918788750",
        be("Zeedijk 110", "8400", "Oostende"),
        Kind.BUSINESS_GOODS,
        weight=2,
        codes=BookingCodes("1017", cost_centre="BRUGGE"),
    ),
    business(
        "c-1018",
        "Keukenstudio Oosterhout B.V.",
        "NL022169593B01",
        ("Markt 12", "4901 EP", "Oosterhout", "NL"),
        Kind.INTRA_EU,
        weight=2,
        codes=BookingCodes("1018", gl_account="700100", vat_scenario="BE-00-INTRA-EU"),
    ),
    business(
        "c-1019",
        "Harrington Interiors Ltd",
        "GB226478448",
        ("14 Mill Lane", "CT1 2AB", "Canterbury", "GB"),
        Kind.EXPORT,
        weight=1,
        codes=BookingCodes("1019", gl_account="700200", vat_scenario="BE-00-EXPORT"),
        currency="GBP",
    ),
    business(
        "c-1020",
        "Woonmaatschappij Kempenland",
        "BE0975284025",
        be("Warandestraat 40", "2300", "Turnhout"),
        Kind.BUSINESS_GOODS,
        weight=0,
        codes=BookingCodes("1020"),
    ),
)

BE_SPECIALS = (
    Special(
        "c-1020",
        days_ago=23,
        description="Keukens voor sociale huurwoningen Warandepark, fase 1",
        lines=(
            line("Keukenblok sociale huurwoning, geplaatst", "8", "2150.00", "BE-12"),
            line("Plaatsing en montage", "64", "58.50", "BE-12", "705000"),
        ),
    ),
    Special(
        "c-1012",
        days_ago=51,
        description="Hulpmiddelen badkamer voor persoon met een beperking",
        lines=(
            line("Douchezitje opklapbaar met armsteunen", "1", "389.00", "BE-06"),
            line("Steunbeugel toilet 60 cm", "2", "74.95", "BE-06"),
            line("Levering en transport", "1", "45.00", "BE-21"),
        ),
    ),
)


def be_supplier(
    ref: str,
    name: str,
    vat_number: str,
    where: tuple[str, str, str, str],
    codes: BookingCodes,
    scenario: str,
    weight: int,
    prefix: str,
    rows: Iterable[tuple[str, str, str, Category, str]],
) -> Supplier:
    party = supplier_party(ref, name, vat_number, where, codes)
    belgian = where[3] == "BE" and scenario == "BE-21"
    return Supplier(party, scenario, weight, prefix, items(rows), belgian)


BE_SUPPLIERS = (
    be_supplier(
        "s-2001",
        "Sanitair Groothandel Desmet NV",
        "BE0855333231",
        be("Brugsesteenweg 210", "8520", "Kuurne"),
        BookingCodes("2001"),
        scenario="BE-21",
        weight=8,
        prefix="VF26-",
        rows=(
            ("Wastafelmeubel 100 cm wit hoogglans", "420", "890", F, "1 2 4"),
            ("Inbouwreservoir met bedieningsplaat", "180", "290", F, "2 4 6"),
            ("Douchegoot 80 cm inox", "95", "180", F, "2 4"),
            ("Thermostatische mengkraan", "140", "320", F, "2 3 6"),
        ),
    ),
    be_supplier(
        "s-2002",
        "Werkbladen Vandamme BV",
        "BE0590615578",
        be("Zandvoordestraat 3", "8400", "Oostende"),
        BookingCodes("2002", gl_account="600000"),
        scenario="BE-21",
        weight=6,
        prefix="WV26-",
        rows=(
            ("Composiet plaat 20 mm, 3050 x 1400 mm", "640", "980", F, "1 2 3"),
            ("Uitsparing onderbouwspoelbak", "65", "95", L, "1 2 4"),
            ("Granieten plaat 30 mm op maat", "980", "1850", F, "1 2"),
        ),
    ),
    be_supplier(
        "s-2003",
        "Elektro Groothandel Peeters NV",
        "BE0579024474",
        be("Antwerpsesteenweg 505", "2630", "Aartselaar"),
        BookingCodes("2003"),
        scenario="BE-21",
        weight=8,
        prefix="EGP",
        rows=(
            ("Inbouwoven multifunctie 71 l", "380", "890", A, "1 2 3"),
            ("Inductiekookplaat 80 cm", "450", "980", A, "1 2 3"),
            ("Vaatwasser volledig integreerbaar", "390", "790", A, "1 2"),
            ("Inbouwkoelkast 178 cm", "520", "1090", A, "1 2"),
        ),
    ),
    be_supplier(
        "s-2004",
        "Keukenmeubelfabriek Verhulst NV",
        "BE0626008108",
        be("Nijverheidslaan 18", "8540", "Deerlijk"),
        BookingCodes("2004"),
        scenario="BE-21",
        weight=8,
        prefix="KV",
        rows=(
            ("Onderkast 60 cm, ongemonteerd", "110", "190", F, "4 6 8 12 20"),
            ("Bovenkast 80 cm, ongemonteerd", "85", "150", F, "4 6 8 10"),
            ("Frontpaneel mat lak op maat", "45", "95", F, "6 12 18 24"),
            ("Plinten en afwerkprofielen", "35", "70", F, "1 2 3"),
        ),
    ),
    be_supplier(
        "s-2005",
        "Küchentechnik Rhein GmbH",
        "DE215356424",
        ("Rheinallee 88", "40549", "Düsseldorf", "DE"),
        BookingCodes("2005", vat_scenario="BE-00-INTRA-EU"),
        scenario="BE-00-INTRA-EU",
        weight=5,
        prefix="RE-",
        rows=(
            ("Einbauspüle Edelstahl 1,5 Becken", "110", "240", F, "2 4 6"),
            ("Küchenarmatur mit Brause", "75", "190", F, "2 4 6"),
            ("Wandhaube 90 cm", "290", "640", F, "1 2 3"),
        ),
    ),
    be_supplier(
        "s-2006",
        "Montagebedrijf De Clercq BV",
        "BE0917264266",
        be("Bergstraat 9", "9700", "Oudenaarde"),
        BookingCodes(
            "2006",
            gl_account="604000",
            vat_scenario="BE-REVERSE-CHARGE",
            cost_centre="GENT",
        ),
        scenario="BE-REVERSE-CHARGE",
        weight=6,
        prefix="MDC",
        rows=(
            ("Plaatsing keuken in onderaanneming", "42", "48", L, "16 24 32"),
            ("Plaatsing badkamer in onderaanneming", "44", "50", L, "16 24 40"),
        ),
    ),
    be_supplier(
        "s-2007",
        "Transport Claes BV",
        "BE0692734111",
        be("Havenlaan 60", "9000", "Gent"),
        BookingCodes("2007", "613000"),
        scenario="BE-21",
        weight=5,
        prefix="TC",
        rows=(("Transport en levering keukens", "180", "620", D, ONE),),
    ),
    be_supplier(
        "s-2008",
        "Tegelcentrum Maes BV",
        "BE0359301361",
        be("Steenweg op Gent 144", "9300", "Aalst"),
        BookingCodes("2008"),
        scenario="BE-21",
        weight=5,
        prefix="TM",
        rows=(
            ("Wandtegels 30 x 60 cm, per m²", "18", "42", F, "10 24 36 60"),
            ("Tegellijm en voegmiddel", "45", "120", F, "1 2"),
        ),
    ),
    be_supplier(
        "s-2009",
        "Boekhoudkantoor Wouters & Partners",
        "BE0354904390",
        be("Leopoldlaan 7", "9000", "Gent"),
        BookingCodes("2009", gl_account="613000", cost_centre="ADMIN"),
        scenario="BE-21",
        weight=3,
        prefix="BW",
        rows=(("Boekhouding en btw-aangifte, maand", "420", "650", L, ONE),),
    ),
    # Missing booking code on purpose.
    be_supplier(
        "s-2010",
        "Drukkerij Van Acker BV",
        "BE0874360473",
        be("Drukkerijstraat 2", "9800", "Deinze"),
        BookingCodes(gl_account="613000"),
        scenario="BE-21",
        weight=4,
        prefix="DVA",
        rows=(
            ("Folders voorjaarsactie, 5000 exemplaren", "390", "720", D, ONE),
            ("Showroombanner 200 x 80 cm", "85", "160", D, "1 2"),
        ),
    ),
)

BELGIUM = Country(
    company=BE_COMPANY,
    settings=BE_SETTINGS,
    customers=BE_CUSTOMERS,
    suppliers=BE_SUPPLIERS,
    items=BE_ITEMS,
    specials=BE_SPECIALS,
    standard="BE-21",
    reduced="BE-06-RENOVATION",
    reduced_categories=(F, L, FIN, D),
    by_kind=MappingProxyType(
        {
            Kind.BUSINESS_WORKS: "BE-REVERSE-CHARGE",
            Kind.INTRA_EU: "BE-00-INTRA-EU",
            Kind.EXPORT: "BE-00-EXPORT",
        }
    ),
    descriptions=MappingProxyType(
        {
            Kind.PRIVATE_RENOVATION: "Renovatie, woning ouder dan 10 jaar",
            Kind.PRIVATE_NEW_BUILD: "Nieuwbouwwoning: levering en plaatsing",
            Kind.PRIVATE_SHOP: "Aankoop in de toonzaal",
            Kind.BUSINESS_WORKS: "Werken in onroerende staat",
            Kind.BUSINESS_GOODS: "Levering",
            Kind.INTRA_EU: "Levering naar Nederland",
            Kind.EXPORT: "Delivery to the United Kingdom",
        }
    ),
    service_gl="705000",
    reduced_gl=None,
    payment_days=30,
    exchange_rates=MappingProxyType({"GBP": Decimal("1.1650")}),
    credit_reasons=(
        "retour beschadigd artikel",
        "commerciële toegeving",
        "verkeerd geleverd",
        "dubbel gefactureerd",
    ),
    structured=True,
    words=MappingProxyType(
        {
            "invoice": "FACTUUR",
            "credit_note": "CREDITNOTA",
            "date": "Datum",
            "to": "Aan",
            "total": "Totaal",
            "reference": "Mededeling",
            "credit": "Creditnota op factuur",
        }
    ),
)


# The Netherlands
