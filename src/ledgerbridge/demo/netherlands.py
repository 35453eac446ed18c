"""The Dutch demo company: nl-badkamers."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from types import MappingProxyType

from ledgerbridge.demo.belgium import (
    CABINETS,
    HOURS,
    METRES,
    ONE,
)
from ledgerbridge.demo.model import (
    FIN,
    NEW,
    NL_REF,
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

NL_ITEMS = items(
    (
        ("Onderkast 60 cm", "230", "410", F, CABINETS),
        ("Bovenkast 80 cm", "170", "310", F, CABINETS),
        ("Hoge kast voor inbouwapparatuur 60 cm", "510", "870", F, "1 2"),
        ("Ladekast 90 cm met 3 lades", "450", "760", F, "1 2 3"),
        ("Composiet werkblad 20 mm, per strekkende meter", "175", "330", F, METRES),
        ("Keramisch werkblad 12 mm, per strekkende meter", "420", "690", F, METRES),
        ("RVS spoelbak anderhalve bak", "180", "410", F, ONE),
        ("Keukenkraan met uittrekbare handdouche", "139", "379", F, ONE),
        ("Wandafzuigkap 90 cm", "469", "1099", F, ONE),
        ("Badmeubel 100 cm met dubbele wastafel", "879", "1849", F, ONE),
        ("Inloopdouche 120 x 90 cm met glazen wand", "729", "1599", F, ONE),
        ("Hangtoilet met softclose-zitting en inbouwreservoir", "409", "769", F, ONE),
        ("Thermostatische douchekraan met regendouche", "279", "679", F, ONE),
        ("Ligbad acryl 170 x 75 cm", "379", "969", F, ONE),
        ("Designradiator 1200 mm", "199", "469", F, "1 2"),
        ("Spiegelkast 80 cm met ledverlichting", "229", "549", F, ONE),
        ("Inbouwoven multifunctie 71 l", "529", "1249", A, ONE),
        ("Inductiekookplaat 80 cm", "629", "1449", A, ONE),
        ("Vaatwasser volledig integreerbaar 60 cm", "579", "1149", A, ONE),
        ("Inbouwkoelkast 178 cm", "779", "1549", A, ONE),
        ("Combimagnetron inbouw 45 cm", "579", "1099", A, ONE),
        ("Plaatsing en montage", "62.50", "62.50", L, HOURS),
        ("Loodgieterswerk aansluitingen", "64", "64", L, "2 3 4 6"),
        ("Sloop en afvoer oude keuken", "340", "720", L, ONE),
        ("Elektra aansluiten apparatuur", "90", "230", L, ONE),
        ("Stucwerk badkamerwanden, arbeidsloon", "38", "52", FIN, "6.5 8 12.25 14"),
        ("Schilderwerk plafond, arbeidsloon", "260", "590", FIN, ONE),
        ("Bezorging en transport", "49", "129", D, ONE),
    )
)

NL_COMPANY = Company(
    ref=NL_REF,
    name="Van der Linden Badkamers B.V.",
    country="NL",
    vat_number="NL090479377B01",
    time_zone="Europe/Amsterdam",
)

NL_SETTINGS = settings(
    sales=export(
        "70",
        "8000",
        {
            "NL-21": "2",
            "NL-09": "1",
            # NL-00 left unmapped on purpose: its invoice cannot be exported.
            "NL-REVERSE-CHARGE": "5",
            "NL-INTRA-EU": "6",
            "NL-EXPORT": "7",
        },
        daily=True,
    ),
    purchases=export(
        "60",
        "7000",
        {
            "NL-21": "2",
            "NL-09": "1",
            "NL-00": "0",
            "NL-REVERSE-CHARGE": "12",
            "NL-INTRA-EU": "10",
            "NL-EXPORT": "11",
        },
        daily=False,
    ),
)


def nl(street: str, postal_code: str, city: str) -> tuple[str, str, str, str]:
    return (street, postal_code, city, "NL")


NL_PEOPLE = people(
    "NL",
    (
        # name, street, postal code, city, kind, cost centre
        ("Sanne de Vries", "Oudegracht 112", "3511 AZ", "Utrecht", RENO, "UTRECHT"),
        ("Daan Jansen", "Laan van Meerdervoort 250", "2563 AK", "Den Haag", RENO, None),
        ("Emma Bakker", "Kerkstraat 21", "3811 CV", "Amersfoort", NEW, "AMERSF"),
        ("Lucas Visser", "Wilhelminastraat 7", "3841 AB", "Harderwijk", RENO, None),
        ("Julia Smit", "Torenlaan 44", "3742 CT", "Baarn", SHOP, None),
        ("Thomas Meijer", "Zuidwal 18", "5211 JK", "'s-Hertogenbosch", RENO, None),
        ("Lotte de Boer", "Nieuwe Gracht 3", "2011 NB", "Haarlem", NEW, None),
        ("Bram Mulder", "Dorpsstraat 56", "3732 HJ", "De Bilt", SHOP, "UTRECHT"),
        ("Fleur de Groot", "Stationsweg 9", "6711 PM", "Ede", RENO, None),
        ("Sem Bos", "Hoofdstraat 140", "3971 KL", "Driebergen", RENO, None),
        ("Anouk Vos", "Parklaan 27", "3722 BC", "Bilthoven", SHOP, None),
        ("Ruben Peters", "Molenweg 5", "3911 PG", "Rhenen", RENO, "AMERSF"),
        ("Noor Hendriks", "Beatrixlaan 66", "3761 CV", "Soest", RENO, None),
        ("Jesse van Leeuwen", "Vondellaan 12", "3521 GD", "Utrecht", NEW, None),
    ),
)

NL_CUSTOMERS = (
    *NL_PEOPLE,
    business(
        "c-1015",
        "Bouwbedrijf Hendriks B.V.",
        "NL089317233B01",
        nl("Industrieweg 14", "3433 NL", "Nieuwegein"),
        Kind.BUSINESS_WORKS,
        weight=4,
        codes=BookingCodes("1015", vat_scenario="NL-REVERSE-CHARGE"),
    ),
    business(
        "c-1016",
        "Aannemersbedrijf Van der Heijden B.V.",
        "NL098912471B01",
        nl("Ambachtsweg 3", "3953 BZ", "Maarsbergen"),
        Kind.BUSINESS_WORKS,
        weight=3,
        codes=BookingCodes(
            "1016", vat_scenario="NL-REVERSE-CHARGE", cost_centre="AMERSF"
        ),
    ),
    business(
        "c-1017",
        "Hotel Het Wapen van Zeist B.V.",
        "NL097885988B01",
        nl("Slotlaan 201", "3701 GD", "Zeist"),
        Kind.BUSINESS_GOODS,
        weight=2,
        codes=BookingCodes("1017"),
    ),
    business(
        "c-1018",
        "Badkamerhuis Antwerpen BV",
        "BE0629420033",
        ("Turnhoutsebaan 310", "2140", "Borgerhout", "BE"),
        Kind.INTRA_EU,
        weight=2,
        codes=BookingCodes("1018", gl_account="8100", vat_scenario="NL-INTRA-EU"),
    ),
    business(
        "c-1019",
        "Kralendijk Beach Resort N.V.",
        None,
        ("Kaya Grandi 24", "", "Kralendijk", "BQ"),
        Kind.EXPORT,
        weight=1,
        codes=BookingCodes("1019", gl_account="8110", vat_scenario="NL-EXPORT"),
        currency="USD",
    ),
    business(
        "c-1020",
        "Rederij Noordster B.V.",
        "NL085583674B01",
        nl("Havenkade 11", "1781 AB", "Den Helder"),
        Kind.BUSINESS_GOODS,
        weight=0,
        codes=BookingCodes("1020"),
    ),
)

NL_SPECIALS = (
    Special(
        "c-1020",
        days_ago=19,
        description="Sanitair voor zeeschip MS Noordster (nultarief)",
        lines=(
            line("Scheepsdouche compleet met thermostaatkraan", "6", "845.00", "NL-00"),
            line("Vacuümtoilet scheepsuitvoering", "6", "1290.00", "NL-00"),
        ),
    ),
)


def nl_supplier(
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
    return Supplier(party, scenario, weight, prefix, items(rows))


NL_SUPPLIERS = (
    nl_supplier(
        "s-2001",
        "Sanitairgroothandel Van Wijk B.V.",
        "NL024469087B01",
        nl("Kanaalweg 40", "3526 KM", "Utrecht"),
        BookingCodes("2001"),
        scenario="NL-21",
        weight=8,
        prefix="VW",
        rows=(
            ("Wastafelmeubel 100 cm wit hoogglans", "410", "870", F, "1 2 4"),
            ("Inbouwreservoir met bedieningsplaat", "175", "285", F, "2 4 6"),
            ("Douchegoot 80 cm RVS", "90", "175", F, "2 4"),
            ("Thermostatische mengkraan", "135", "310", F, "2 3 6"),
        ),
    ),
    nl_supplier(
        "s-2002",
        "Natuursteen & Werkbladen Brouwer B.V.",
        "NL010073140B01",
        nl("Steenhouwerij 5", "4004 JH", "Tiel"),
        BookingCodes("2002", gl_account="7010"),
        scenario="NL-21",
        weight=6,
        prefix="NWB",
        rows=(
            ("Composiet plaat 20 mm, 3050 x 1400 mm", "620", "960", F, "1 2 3"),
            ("Uitsparing onderbouwspoelbak", "60", "90", L, "1 2 4"),
            ("Keramische plaat 12 mm op maat", "940", "1790", F, "1 2"),
        ),
    ),
    nl_supplier(
        "s-2003",
        "Witgoed Groothandel Dekker B.V.",
        "NL028065232B01",
        nl("Distributieweg 22", "2645 EG", "Delfgauw"),
        BookingCodes("2003"),
        scenario="NL-21",
        weight=8,
        prefix="WGD",
        rows=(
            ("Inbouwoven multifunctie 71 l", "370", "870", A, "1 2 3"),
            ("Inductiekookplaat 80 cm", "440", "960", A, "1 2 3"),
            ("Vaatwasser volledig integreerbaar", "380", "770", A, "1 2"),
            ("Inbouwkoelkast 178 cm", "510", "1070", A, "1 2"),
        ),
    ),
    nl_supplier(
        "s-2004",
        "Keukenfabriek Twente B.V.",
        "NL043069630B01",
        nl("Euregioweg 300", "7532 SN", "Enschede"),
        BookingCodes("2004"),
        scenario="NL-21",
        weight=8,
        prefix="KFT",
        rows=(
            ("Onderkast 60 cm, ongemonteerd", "105", "185", F, "4 6 8 12 20"),
            ("Bovenkast 80 cm, ongemonteerd", "80", "145", F, "4 6 8 10"),
            ("Front mat lak op maat", "42", "92", F, "6 12 18 24"),
            ("Plinten en afwerklijsten", "32", "68", F, "1 2 3"),
        ),
    ),
    nl_supplier(
        "s-2005",
        "Badtechnik Westfalen GmbH",
        "DE682029388",
        ("Hafenstraße 12", "48155", "Münster", "DE"),
        BookingCodes("2005", vat_scenario="NL-INTRA-EU"),
        scenario="NL-INTRA-EU",
        weight=5,
        prefix="BW-",
        rows=(
            ("Duschrinne Edelstahl 80 cm", "80", "160", F, "2 4 6"),
            ("Unterputz-Thermostat", "120", "260", F, "2 4"),
            ("Badewanne Acryl 170 x 75 cm", "240", "560", F, "1 2"),
        ),
    ),
    nl_supplier(
        "s-2006",
        "Installatiebedrijf Koster",
        "NL078298763B01",
        nl("Gildeweg 8", "3771 NB", "Barneveld"),
        BookingCodes(
            "2006",
            gl_account="7000",
            vat_scenario="NL-REVERSE-CHARGE",
            cost_centre="UTRECHT",
        ),
        scenario="NL-REVERSE-CHARGE",
        weight=6,
        prefix="IK",
        rows=(
            ("Montage keuken in onderaanneming", "44", "50", L, "16 24 32"),
            ("Montage badkamer in onderaanneming", "46", "52", L, "16 24 40"),
        ),
    ),
    nl_supplier(
        "s-2007",
        "Transportbedrijf Van Dam B.V.",
        "NL091917530B01",
        nl("Transportweg 15", "3401 MA", "IJsselstein"),
        BookingCodes("2007", "4600"),
        scenario="NL-21",
        weight=5,
        prefix="TVD",
        rows=(("Transport en bezorging keukens", "170", "590", D, ONE),),
    ),
    nl_supplier(
        "s-2008",
        "Tegelgroothandel Post B.V.",
        "NL095441315B01",
        nl("Keramiekweg 2", "3812 BE", "Amersfoort"),
        BookingCodes("2008"),
        scenario="NL-21",
        weight=5,
        prefix="TGP",
        rows=(
            ("Wandtegels 30 x 60 cm, per m²", "17", "40", F, "10 24 36 60"),
            ("Tegellijm en voegmiddel", "42", "115", F, "1 2"),
        ),
    ),
    nl_supplier(
        "s-2009",
        "Administratiekantoor Prins",
        "NL034538720B01",
        nl("Stadhuisplein 4", "3811 LM", "Amersfoort"),
        BookingCodes("2009", gl_account="4600", cost_centre="ADMIN"),
        scenario="NL-21",
        weight=3,
        prefix="AP",
        rows=(("Administratie en btw-aangifte, maand", "395", "620", L, ONE),),
    ),
    # Missing booking code on purpose.
    nl_supplier(
        "s-2010",
        "Reclamebureau Blauw B.V.",
        "NL040653096B01",
        nl("Vaartweg 31", "1211 JD", "Hilversum"),
        BookingCodes(gl_account="4600"),
        scenario="NL-21",
        weight=4,
        prefix="RB",
        rows=(
            ("Folders voorjaarsactie, 5000 stuks", "370", "690", D, ONE),
            ("Banner showroom 200 x 80 cm", "80", "150", D, "1 2"),
        ),
    ),
)

NETHERLANDS = Country(
    company=NL_COMPANY,
    settings=NL_SETTINGS,
    customers=NL_CUSTOMERS,
    suppliers=NL_SUPPLIERS,
    items=NL_ITEMS,
    specials=NL_SPECIALS,
    standard="NL-21",
    reduced="NL-09",
    reduced_categories=(FIN,),
    by_kind=MappingProxyType(
        {
            Kind.BUSINESS_WORKS: "NL-REVERSE-CHARGE",
            Kind.INTRA_EU: "NL-INTRA-EU",
            Kind.EXPORT: "NL-EXPORT",
        }
    ),
    descriptions=MappingProxyType(
        {
            Kind.PRIVATE_RENOVATION: "Renovatie, woning ouder dan 2 jaar",
            Kind.PRIVATE_NEW_BUILD: "Nieuwbouwwoning: levering en montage",
            Kind.PRIVATE_SHOP: "Aankoop in de showroom",
            Kind.BUSINESS_WORKS: "Onderaanneming bouw",
            Kind.BUSINESS_GOODS: "Levering",
            Kind.INTRA_EU: "Levering naar België",
            Kind.EXPORT: "Delivery to Bonaire",
        }
    ),
    service_gl=None,
    reduced_gl="8010",
    payment_days=14,
    exchange_rates=MappingProxyType({"USD": Decimal("0.9210")}),
    credit_reasons=(
        "retour beschadigd artikel",
        "coulance",
        "verkeerd geleverd",
        "dubbel gefactureerd",
    ),
    structured=False,
    words=MappingProxyType(
        {
            "invoice": "FACTUUR",
            "credit_note": "CREDITNOTA",
            "date": "Datum",
            "to": "Aan",
            "total": "Totaal",
            "reference": "Betalingskenmerk",
            "credit": "Creditnota bij factuur",
        }
    ),
)
