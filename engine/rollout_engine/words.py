"""The English the tiny base knows, as a base LLM knows words before it ever sees a tool: common verbs and
nouns, first names, cities, languages, currencies, bands. The tokenizer has a token for each, and the
base corpus builds its made-up tools and values from them, so a base learns to copy a word from its
context as one token — which carries to tools and values it has never seen used (`get_air_quality`,
"Tallinn"), as long as it knows the words.
"""
from __future__ import annotations

VERBS = """get set add find make send book call play start stop check show open close read write take give keep
move turn watch order buy sell pay plan track count clean fix build draw cook bake wash fold pack ship
list sort save load share print scan sign lock mark join leave rent hire test rate vote park charge fill
cancel delete update create search follow mute pause resume skip reset rename copy paste translate
convert measure compare predict schedule remind notify review approve reject invite welcome report
request deliver return borrow lend feed water paint repair clear empty boil grill mix pour slice""".split()

NOUNS = """weather time todo music volume currency news message alarm cart table heating flight contact
lights air quality timer recipe ingredient city day hour minute week month year note list item song album
playlist artist movie show book article story photo video file folder document report invoice receipt
ticket order package parcel delivery address street road route map trip journey hotel room bed house
garage garden kitchen bedroom office hall door window lamp fan heater oven fridge kettle stove car bike
bus train station airport taxi ride parking fuel battery charger phone email text call meeting event
party dinner lunch breakfast coffee tea milk bread eggs apples rice butter cheese lemons sugar salt
flour pasta soup salad pizza cake fruit juice water wine beer bottle glass plate bowl cup spoon knife
dog cat bird fish horse pet plant tree flower seed lawn rain snow wind sun storm cloud score game match
team player coach league goal point price cost budget bill tax taxes rent salary bank card account
balance payment transfer loan stock share market shop store mall gift present box bag shirt shoe coat
hat dress sock jacket watch ring key lock code password user profile friend family mom dad brother
sister child baby doctor dentist nurse teacher student class lesson course exam homework language word
sentence letter number name title topic question answer help luck night morning evening afternoon
temperature degree level mode state channel priority quantity amount size color speed distance weight
height price date reminder task goal habit sleep step workout run walk swim yoga climate space travel
chess cooking elections robots gardening volcanoes football tennis golf history science art passport
plants gift desk chair sofa carpet shelf clock camera screen speaker printer router laptop tablet
backup update version server database query record sample dataset model reward policy""".split()

NAMES = """Anna Ben Chloe David Emma Farid Grace Hugo Ines Jonas Kira Liam Maya Noah Olga Paul Quinn Rosa Sam
Tara Umar Vera Will Xena Yusuf Zoe Adam Bella Carl Dana Eli Fiona George Hana Ivan Julia Karl Lena Marco
Nora Oscar Petra Rami Sara Tom Ursula Victor Wanda Yara Zack Alice Bruno Clara Diego Elena Felix Gina
Hassan Irene Jack Laura Mia Nils Omar Pia Ravi Sofia Theo Uma Alex Nina Miles Simone Davis""".split()

CITIES = """Oslo Rome Paris Berlin Madrid Lisbon Vienna Prague Dublin Athens Warsaw Helsinki Zagreb Tallinn Riga
London Tokyo Seoul Cairo Lagos Nairobi Lima Quito Bogota Denver Boston Chicago Seattle Toronto Montreal
Sydney Perth Auckland Delhi Mumbai Dhaka Hanoi Manila Jakarta Bangkok Dubai Doha Tunis Algiers Rabat
Accra Dakar Porto Seville Milan Naples Munich Hamburg Zurich Geneva Brussels Amsterdam Copenhagen
Stockholm Bergen Vilnius Minsk Kyiv Sofia Bucharest Belgrade Budapest Krakow Lyon Nice Marseille""".split()

LANGUAGES = """French German Spanish Italian Polish Dutch Greek Czech Finnish English Swedish Danish Norwegian
Portuguese Russian Turkish Arabic Hindi Japanese Korean Chinese Thai Hungarian Romanian Latvian""".split()

CURRENCIES = "USD EUR JPY GBP CHF SEK NOK CAD AUD PLN DKK CZK HUF INR KRW BRL MXN ZAR TRY NZD".split()

BANDS = """Bjork Adele Queen Radiohead Beyonce Coldplay Sade Muse Abba Blur Oasis Drake Rihanna Madonna Prince
Eminem Shakira Metallica Nirvana Moby""".split()

# Words for sentences and requests (the glue a base has read everywhere).
COMMON = """hello thank renew electric cars the a an to in on at for with by from of and or no not my your me it is are be please can you
what how when where who which will would could should need want like tell give show let about into
next last new old big small good bad first second today tomorrow now later some any every all more
less very much many few long short high low hot cold warm cool fast slow early late open closed""".split()

ALL = sorted(set(VERBS + NOUNS + NAMES + CITIES + LANGUAGES + CURRENCIES + BANDS + COMMON))
