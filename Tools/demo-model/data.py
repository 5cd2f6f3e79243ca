"""Seeded training and evaluation data for the embedded demo model (Tools/demo-model/train.py).

Every example is an OpenAI-style conversation (messages, tools, enable_thinking) plus the exact text
the model should emit after the prompt that the official chat template renders for it. The text
is what GLM-4.5 itself emits (spec §8.1): optional `<think>…</think>`, then an answer ending in
`<|user|>`, or `<tool_call>` blocks ending in `<|observation|>`.

Held-out evaluation uses tools whose names, descriptions and parameter names never occur in
training, user phrasings from separate template lists, and argument values (cities, tickers,
people, topics, …) from separate pools. `split` is "train" or "heldout" everywhere below.
"""
import json
import random
import re
from pathlib import Path

# --------------------------------------------------------------------------------------------
# Value pools: (train, held-out)
# --------------------------------------------------------------------------------------------

CITIES = ([
    "Paris", "London", "Tokyo", "Berlin", "Madrid", "Rome", "Oslo", "Cairo", "Lima", "Sydney", "Toronto",
    "Chicago", "Boston", "Seattle", "Denver", "Miami", "Dublin", "Vienna", "Prague", "Warsaw", "Lisbon",
    "Athens", "Moscow", "Beijing", "Seoul", "Mumbai", "Delhi", "Bangkok", "Jakarta", "Manila", "Nairobi",
    "Lagos", "Havana", "Bogota", "Santiago", "Montreal", "Vancouver", "Phoenix", "Houston", "Dallas",
    "Austin", "Atlanta", "Portland", "Munich", "Hamburg", "Zurich", "Geneva", "Milan", "Naples", "Venice",
    "Stockholm", "Helsinki", "Copenhagen", "Amsterdam", "Brussels", "Budapest", "Istanbul", "San Francisco",
    "New York", "Los Angeles", "Buenos Aires", "Cape Town", "Hong Kong", "Mexico City", "Boston, MA",
    "Seattle, WA", "Austin, TX", "Chicago, IL", "Denver, CO", "Miami, FL",
], [
    "Reykjavik", "Marseille", "Kyoto", "Osaka", "Krakow", "Seville", "Porto", "Valencia", "Edinburgh",
    "Glasgow", "Bristol", "Tallinn", "Riga", "Vilnius", "Sofia", "Belgrade", "Zagreb", "Tunis", "Casablanca",
    "Accra", "Perth", "Adelaide", "Auckland", "Wellington", "Calgary", "Ottawa", "Salt Lake City",
    "New Orleans", "Nashville, TN", "Orlando, FL",
])
TICKERS = (["AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "IBM", "INTC", "ORCL", "NFLX", "ADBE",
            "CSCO", "PEP", "KO", "DIS", "NKE", "WMT"],
           ["AMD", "QCOM", "SAP", "SONY", "UBER", "SHOP", "PYPL", "SBUX", "BA"])
PEOPLE = (["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar",
           "peggy", "trent", "victor", "wendy", "liam", "emma", "noah", "olivia"],
          ["zoe", "yusuf", "xenia", "walter", "ursula", "tomas", "sofia", "rahul"])
DOMAINS_EMAIL = (["example.com", "mail.com", "work.org"], ["corp.net", "school.edu"])
TOPICS = (["electric cars", "the stock market", "football", "climate change", "space travel", "new phones",
           "the olympics", "healthy food", "video games", "solar power", "jazz music", "ancient Rome",
           "mountain bikes", "coffee prices", "robots", "the moon landing", "tennis", "local elections"],
          ["quantum computers", "deep sea fish", "chess openings", "volcanoes", "electric trains",
           "the housing market", "basketball", "honey bees"])
LANGUAGES = (["French", "Spanish", "German", "Italian", "Japanese", "Portuguese", "Chinese", "Russian"],
             ["Dutch", "Swedish", "Polish", "Korean", "Greek"])
PHRASES = (["good morning", "thank you very much", "where is the train station", "I love this city",
            "how much does it cost", "see you tomorrow", "the weather is nice today", "I am hungry",
            "happy birthday", "where is the library"],
           ["the museum opens at nine", "my cat is sleeping", "please close the door", "I need a taxi"])
CURRENCIES = (["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "CNY"], ["SEK", "NOK", "INR", "BRL", "MXN"])
EVENTS = (["Team sync", "Dentist appointment", "Budget review", "Lunch with Sam", "Yoga class",
           "Project kickoff", "Doctor visit", "Call with mom", "Book club", "Car service"],
          ["Piano lesson", "Quarterly planning", "Haircut", "Movie night", "Parent meeting"])
CUISINES = (["Italian", "Mexican", "Thai", "Indian", "Japanese", "Chinese", "French", "Greek", "vegan"],
            ["Korean", "Turkish", "Ethiopian", "Spanish", "Vietnamese"])
SONGS = (["Yesterday", "Imagine", "Hey Jude", "Bohemian Rhapsody", "Let It Be", "Hotel California",
          "Wonderwall", "Clocks", "Halo", "Thriller"],
         ["Yellow", "Africa", "Vogue", "Roxanne", "Jolene"])
ALARM_LABELS = (["wake up", "gym", "take medicine", "leave for work", "meeting", "call dad"],
                ["water the plants", "feed the cat", "pick up kids"])
CONDITIONS = ["sunny", "cloudy", "rainy", "windy", "foggy", "snowy", "clear", "stormy"]


# Made-up words: training mixes them into tool names, parameter names and argument values so
# that the model learns to copy names and values from the prompt instead of memorising a list.
# Half are built from syllables, half from random letters, so that the pieces the BPE splits them
# into vary as much as those of unseen real words ("Auck|land").
SYLLABLES = ["ka", "lo", "mi", "ra", "to", "ve", "zu", "na", "pe", "qui", "dor", "lan", "mar", "sel", "tor",
             "vin", "bex", "cal", "fen", "gor", "ish", "pla", "rom", "tek", "ul", "an", "ber", "cho", "dra", "el",
             "fi", "gra", "hu", "ja", "kel", "lim", "mo", "nor", "ost", "pu", "ren", "sa", "tri", "ur", "wen",
             "yo", "zi", "bru", "cla", "ny", "ox", "sta", "vo", "ix"]
CONSONANTS, VOWELS = "bcdfghjklmnprstvwxyz", "aeiouy"
MADE_UP_RATE = 0.7       # argument values
FIXED_NAME_RATE = 0.1    # tool names from the list rather than with a made-up word
FIXED_KEY_RATE = 0.2     # parameter names from the list


def made_up(rng, syllables=None):
    n = syllables or rng.randint(2, 3)
    if rng.random() < 0.5:
        return "".join(rng.choice(SYLLABLES) for _ in range(n))
    letters = [rng.choice(CONSONANTS if (i + n) % 2 else VOWELS) if rng.random() < 0.85 else rng.choice(CONSONANTS + VOWELS)
               for i in range(rng.randint(2 * n, 3 * n))]
    return "".join(letters)


def novel(rng, syllables=None):
    """A word the model cannot have memorised for the slot it fills: a made-up one or, as often, a random
    word from GLM-4.5's vocabulary, so that copying real-looking words is practised too."""
    return rng.choice(WORDS) if rng.random() < 0.5 else made_up(rng, syllables)


def pick(rng, pool, split):
    if split == "train" and rng.random() < MADE_UP_RATE:
        if pool is TICKERS:
            return made_up(rng, 2).upper()[:rng.randint(2, 4)]
        if pool is CURRENCIES:
            return "".join(rng.choice(CONSONANTS + VOWELS) for _ in range(3)).upper()
        if pool is DOMAINS_EMAIL:
            return f"{made_up(rng)}.{rng.choice(['com', 'org', 'net', 'io'])}"
        if pool is PEOPLE:
            return novel(rng)
        words = rng.choice([1, 1, 2]) if pool not in (TOPICS, ALARM_LABELS) else rng.choice([1, 2, 3])
        text = " ".join(novel(rng).title() for _ in range(words))
        return text.lower() if pool in (TOPICS, ALARM_LABELS) else text
    return rng.choice(pool[0] if split == "train" else pool[1])


def date(rng):
    return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def clock(rng):
    return f"{rng.randint(6, 21):02d}:{rng.choice(['00', '15', '30', '45'])}"


# --------------------------------------------------------------------------------------------
# Tool domains
# --------------------------------------------------------------------------------------------
# Each domain makes one case: the tool's JSON schema, the user's request, the call's arguments
# (in schema order), a tool result, and the answer that restates it.

class Case:
    def __init__(self, tool, user, args, result, answer, about):
        self.tool, self.user, self.args, self.result, self.answer, self.about = tool, user, args, result, answer, about

    @property
    def name(self):
        return self.tool["function"]["name"]


def schema(name, description, params, required):
    props = {}
    for key, spec in params:
        props[key] = spec
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": props, "required": required}}}


def variant(rng, split, train, held):
    return rng.choice(train if split == "train" else held)


VERBS = ["get", "fetch", "find", "query", "check", "read", "retrieve", "show", "run", "do", "make"]


def tool_name(rng, split, train, held, noun):
    """A training tool is named from the list or, mostly, with made-up or random vocabulary words in its
    name (never a held-out name); held-out tools use the held-out list."""
    if split != "train" or rng.random() < FIXED_NAME_RATE:
        return variant(rng, split, train, held)
    verb, word, other = rng.choice(VERBS), novel(rng), novel(rng)
    return rng.choice([f"{verb}_{noun}_{word}", f"{word}_{noun}", f"{word}_{verb}_{noun}", f"{noun}_{word}",
                       f"{word}", f"{verb}_{word}", f"{word}_{other}", f"{verb}_{word}_{other}",
                       f"{word}_{noun}_{other}"])


def key_names(rng, split, train, held):
    """Parameter names (a tuple, in schema order), from the lists or, in training, often made up."""
    names = variant(rng, split, train, held)
    if split != "train" or rng.random() < FIXED_KEY_RATE:
        return names
    single = isinstance(names, str)
    out = [n if rng.random() < 0.2 else rng.choice([f"{n}_{novel(rng, 1)}", novel(rng), f"{novel(rng, 1)}_{n}",
                                                       f"{novel(rng)}_{novel(rng)}"])
           for n in ([names] if single else names)]
    if len(set(out)) < len(out):
        return names
    return out[0] if single else tuple(out)


MORE_DESCRIPTIONS = {  # more training wordings, so that a tool's domain is read from words, not one sentence
    "weather": ["Get the current weather in a city.", "Return the weather conditions for a location.",
                "Fetch temperature and sky conditions for a place.", "Current weather data for a city."],
    "stock": ["Get the current price of a stock.", "Return a stock quote for a ticker symbol.",
              "Fetch the latest trading price of a stock.", "Stock prices by ticker."],
    "search": ["Run a web search.", "Return web results that match a query.",
               "Search engine results for some words.", "Query the web."],
    "calendar": ["Add a new event to the calendar.", "Schedule a meeting on the calendar.",
                 "Create an appointment with a date and time.", "Calendar: make an event."],
    "calculator": ["Calculate a math expression.", "Return the result of a calculation.",
                   "Evaluate numbers and operators.", "A calculator for expressions."],
    "email": ["Send an email message.", "Email someone with a subject line.", "Write and send an email.",
              "Email sender."],
    "translate": ["Translate text from one language into another.", "Return a translation of some text.",
                  "Translation into a target language.", "Translate words into a language."],
    "local_time": ["Get the local time for a city.", "Return the current time in a location.",
                   "Local time by city.", "What time it is in a place."],
    "currency": ["Convert money between two currencies.", "Currency conversion with exchange rates.",
                 "Convert an amount from one currency into another.", "Exchange rates: convert an amount."],
    "flights": ["Find flights from one city to another.", "Search flight options for a date.",
                "Flights between an origin and a destination.", "Look for a flight on a given date."],
    "restaurant": ["Find a restaurant that serves a cuisine.", "Restaurant search by food and city.",
                   "Recommend restaurants in a city.", "Search for places to dine."],
    "music": ["Play a song by title.", "Play music.", "Music player: play a song.", "Start a song."],
    "news": ["Get news headlines about a topic.", "Return the latest news on a subject.",
             "Headlines and news articles by topic.", "Fetch news about a topic."],
    "alarm": ["Set an alarm with a label.", "Create an alarm for a time.", "Alarm clock: set a time and a label.",
              "Schedule an alarm."],
}


def weather(rng, split):
    name = tool_name(rng, split, ["get_current_weather", "get_weather", "weather_now", "fetch_weather",
                                "current_conditions"], ["lookup_weather", "weather_report"], "weather")
    desc = variant(rng, split, ["Get the current weather in a given location", "Get the current weather for a city.",
                                "Returns temperature and conditions for a place."] + MORE_DESCRIPTIONS["weather"],
                   ["Look up today's weather in a city.", "Report the weather at a location."])
    loc_key = key_names(rng, split, ["location", "city", "place"], ["city_name", "where"])
    loc = pick(rng, CITIES, split)
    unit_key = key_names(rng, split, ["unit", "units"], ["temperature_unit"])
    params = [(loc_key, {"type": "string", "description": "The city and state, e.g. San Francisco, CA"}),
              (unit_key, {"type": "string", "enum": ["celsius", "fahrenheit"]})]
    unit = rng.choice([None, None, "celsius", "fahrenheit"])
    ask = variant(rng, split, [
        "What's the weather like in {l}?", "What is the weather in {l}?", "How is the weather in {l} today?",
        "Tell me the weather in {l}.", "Is it cold in {l} right now?", "weather in {l}?",
        "Can you check the weather for {l}?", "What's the temperature in {l}?"],
        ["I'm heading to {l}, what's the weather there?", "Give me the current conditions in {l}.",
         "Do I need an umbrella in {l}?", "Any idea how warm it is in {l}?"])
    user = ask.format(l=loc)
    args = {loc_key: loc}
    if unit:
        user = user.rstrip("?.") + variant(rng, split, [f" in {unit}?", f", in {unit} please."], [f" (use {unit})"])
        args[unit_key] = unit
    t = rng.randint(-5, 35)
    cond = rng.choice(CONDITIONS)
    tk, ck = rng.choice([("temperature", "condition"), ("temp", "sky"), ("temperature", "conditions")])
    result = {tk: t, ck: cond}
    answer = rng.choice([f"It is {t} degrees and {cond} in {loc}.", f"In {loc} it is {cond} with {t} degrees.",
                         f"The weather in {loc}: {t} degrees, {cond}."])
    return Case(schema(name, desc, params, [loc_key]), user, args, result, answer, f"the weather in {loc}")


def stock(rng, split):
    name = tool_name(rng, split, ["get_stock_price", "stock_quote", "fetch_stock_price"], ["get_share_price"], "stock")
    desc = variant(rng, split, ["Get the latest price of a stock.", "Returns the current stock price for a ticker."]
                   + MORE_DESCRIPTIONS["stock"],
                   ["Look up what a share costs right now."])
    key = key_names(rng, split, ["symbol", "ticker"], ["stock_symbol"])
    sym = pick(rng, TICKERS, split)
    user = variant(rng, split, ["What's the price of {s}?", "How much is {s} stock?", "Get me a quote for {s}.",
                                "What is {s} trading at?", "stock price of {s}"],
                   ["Check {s} shares for me.", "Where is {s} trading today?"]).format(s=sym)
    price = round(rng.uniform(10, 900), 2)
    result = {"symbol": sym, "price": price}
    answer = rng.choice([f"{sym} is trading at {price}.", f"The price of {sym} is {price}."])
    return Case(schema(name, desc, [(key, {"type": "string", "description": "Ticker symbol, e.g. AAPL"})], [key]),
                user, {key: sym}, result, answer, f"the price of {sym}")


def search(rng, split):
    name = tool_name(rng, split, ["web_search", "search", "search_web"], ["internet_search"], "search")
    desc = variant(rng, split, ["Search the web for a query.", "Search the internet and return results."]
                   + MORE_DESCRIPTIONS["search"],
                   ["Find pages on the internet about something."])
    key = key_names(rng, split, ["query", "q"], ["search_terms"])
    topic = pick(rng, TOPICS, split)
    user = variant(rng, split, ["Search the web for {t}.", "Find information about {t}.", "Look up {t} online.",
                                "Can you search for {t}?"],
                   ["I want to read about {t}, please search.", "Google {t} for me."]).format(t=topic)
    result = {"results": [f"A guide to {topic}", f"News about {topic}"]}
    answer = f"I found: A guide to {topic}; News about {topic}."
    return Case(schema(name, desc, [(key, {"type": "string", "description": "The search query"})], [key]),
                user, {key: topic}, result, answer, topic)


def calendar(rng, split):
    name = tool_name(rng, split, ["create_event", "add_calendar_event", "schedule_meeting"], ["book_event"], "event")
    desc = variant(rng, split, ["Create a calendar event.", "Add an event to the user's calendar."]
                   + MORE_DESCRIPTIONS["calendar"],
                   ["Put an entry in the calendar."])
    tk, dk, ck = key_names(rng, split, [("title", "date", "time"), ("name", "day", "start_time")],
                         [("event_title", "event_date", "at")])
    title, d, c = pick(rng, EVENTS, split), date(rng), clock(rng)
    user = variant(rng, split, ["Schedule {e} on {d} at {c}.", "Add {e} to my calendar on {d} at {c}.",
                                "Create an event called {e} for {d} at {c}."],
                   ["Please book {e} at {c} on {d}.", "Put {e} in my calendar, {d}, {c}."]).format(e=title, d=d, c=c)
    params = [(tk, {"type": "string", "description": "Event title"}),
              (dk, {"type": "string", "description": "Date as YYYY-MM-DD"}),
              (ck, {"type": "string", "description": "Time as HH:MM"})]
    result = {"status": "created", "id": rng.randint(100, 999)}
    answer = f"Done: {title} is on your calendar for {d} at {c} (status created, id {result['id']})."
    return Case(schema(name, desc, params, [tk, dk, ck]), user, {tk: title, dk: d, ck: c}, result, answer,
                f"a calendar event {title}")


def calculator(rng, split):
    name = tool_name(rng, split, ["calculate", "calculator", "evaluate_expression"], ["compute"], "math")
    desc = variant(rng, split, ["Evaluate a math expression.", "Calculate the value of an arithmetic expression."]
                   + MORE_DESCRIPTIONS["calculator"],
                   ["Do arithmetic on an expression."])
    key = key_names(rng, split, ["expression", "expr"], ["formula"])
    a, b = rng.randint(2, 999), rng.randint(2, 99)
    op = rng.choice(["+", "-", "*", "/"])
    expr = f"{a} {op} {b}"
    value = {"+": a + b, "-": a - b, "*": a * b, "/": round(a / b, 2)}[op]
    user = variant(rng, split, ["Calculate {x}.", "What is {x}?", "Use the calculator: {x}", "Compute {x} please."],
                   ["How much is {x}?", "Work out {x} for me."]).format(x=expr)
    return Case(schema(name, desc, [(key, {"type": "string", "description": "e.g. 2 + 2"})], [key]),
                user, {key: expr}, {"result": value}, f"{expr} = {value}.", f"the value of {expr}")


def email(rng, split):
    name = tool_name(rng, split, ["send_email", "email_send", "compose_email"], ["mail_message"], "email")
    desc = variant(rng, split, ["Send an email.", "Send an email to a recipient."]
                   + MORE_DESCRIPTIONS["email"], ["Deliver a mail to someone."])
    tk, sk = key_names(rng, split, [("to", "subject"), ("recipient", "subject")], [("address", "topic")])
    who = f"{pick(rng, PEOPLE, split)}@{pick(rng, DOMAINS_EMAIL, split)}"
    subj = pick(rng, EVENTS, split)
    user = variant(rng, split, ["Send an email to {w} with the subject {s}.", "Email {w} about {s}.",
                                "Write to {w}, subject: {s}."],
                   ["Drop {w} a mail titled {s}.", "Mail {w} regarding {s}."]).format(w=who, s=subj)
    params = [(tk, {"type": "string", "description": "Email address"}), (sk, {"type": "string"})]
    return Case(schema(name, desc, params, [tk, sk]), user, {tk: who, sk: subj}, {"status": "sent"},
                f"The email to {who} about {subj} was sent (status sent).", f"an email to {who}")


def translate(rng, split):
    name = tool_name(rng, split, ["translate_text", "translate"], ["translator"], "translate")
    desc = variant(rng, split, ["Translate text into another language."]
                   + MORE_DESCRIPTIONS["translate"], ["Convert a sentence to a language."])
    xk, lk = key_names(rng, split, [("text", "target_language"), ("text", "language")], [("sentence", "to_lang")])
    text, lang = pick(rng, PHRASES, split), pick(rng, LANGUAGES, split)
    user = variant(rng, split, ["Translate \"{x}\" into {l}.", "How do you say \"{x}\" in {l}?",
                                "Translate to {l}: {x}"],
                   ["What is \"{x}\" in {l}?", "Put \"{x}\" into {l} for me."]).format(x=text, l=lang)
    out = f"[{lang} for: {text}]"
    return Case(schema(name, desc, [(xk, {"type": "string"}), (lk, {"type": "string"})], [xk, lk]),
                user, {xk: text, lk: lang}, {"translation": out}, f"In {lang}: {out}", f"a {lang} translation")


def local_time(rng, split):
    name = tool_name(rng, split, ["get_time", "current_time", "get_local_time"], ["what_time"], "time")
    desc = variant(rng, split, ["Get the current local time in a city.", "Returns the time in a place."]
                   + MORE_DESCRIPTIONS["local_time"],
                   ["Tell the clock time somewhere."])
    key = key_names(rng, split, ["city", "location", "timezone"], ["zone"])
    loc = pick(rng, CITIES, split)
    user = variant(rng, split, ["What time is it in {l}?", "Current time in {l}?", "Tell me the time in {l}."],
                   ["Is it late in {l} now?", "What's the clock saying in {l}?"]).format(l=loc)
    c = clock(rng)
    return Case(schema(name, desc, [(key, {"type": "string"})], [key]), user, {key: loc}, {"time": c},
                f"It is {c} in {loc}.", f"the time in {loc}")


def currency(rng, split):
    name = tool_name(rng, split, ["convert_currency", "currency_convert", "exchange_money"], ["fx_convert"], "currency")
    desc = variant(rng, split, ["Convert an amount between currencies."]
                   + MORE_DESCRIPTIONS["currency"], ["Change money from one currency to another."])
    ak, fk, tk = key_names(rng, split, [("amount", "from_currency", "to_currency"), ("amount", "from", "to")],
                         [("value", "source_currency", "target_currency")])
    amount = rng.choice([5, 10, 20, 50, 75, 100, 120, 250, 500, 1000, 1500])
    src = pick(rng, CURRENCIES, split)
    dst = pick(rng, CURRENCIES, split)
    while dst == src:
        dst = pick(rng, CURRENCIES, split)
    user = variant(rng, split, ["Convert {a} {f} to {t}.", "How much is {a} {f} in {t}?", "Change {a} {f} into {t}."],
                   ["What do I get for {a} {f} in {t}?", "Exchange {a} {f} to {t} please."]).format(a=amount, f=src, t=dst)
    params = [(ak, {"type": "number"}), (fk, {"type": "string", "description": "ISO code"}),
              (tk, {"type": "string", "description": "ISO code"})]
    got = round(amount * rng.uniform(0.5, 1.5), 2)
    return Case(schema(name, desc, params, [ak, fk, tk]), user, {ak: amount, fk: src, tk: dst},
                {"converted": got, "currency": dst}, f"{amount} {src} is {got} {dst}.", f"converting {src} to {dst}")


def flights(rng, split):
    name = tool_name(rng, split, ["search_flights", "find_flights"], ["flight_search"], "flights")
    desc = variant(rng, split, ["Search for flights between two cities on a date."]
                   + MORE_DESCRIPTIONS["flights"], ["List flights for a trip."])
    ok, dk, tk = key_names(rng, split, [("origin", "destination", "date"), ("from_city", "to_city", "date")],
                         [("departure_city", "arrival_city", "travel_date")])
    a = pick(rng, CITIES, split)
    b = pick(rng, CITIES, split)
    while b == a:
        b = pick(rng, CITIES, split)
    d = date(rng)
    user = variant(rng, split, ["Find flights from {a} to {b} on {d}.", "I need a flight from {a} to {b} on {d}.",
                                "Search flights {a} to {b}, {d}."],
                   ["Are there planes from {a} to {b} on {d}?", "Book me something from {a} to {b} for {d}."]
                   ).format(a=a, b=b, d=d)
    params = [(ok, {"type": "string"}), (dk, {"type": "string"}), (tk, {"type": "string", "description": "YYYY-MM-DD"})]
    fl = f"GX{rng.randint(100, 999)}"
    price = rng.randint(80, 900)
    return Case(schema(name, desc, params, [ok, dk, tk]), user, {ok: a, dk: b, tk: d},
                {"flight": fl, "price": price}, f"Flight {fl} from {a} to {b} on {d} costs {price}.",
                f"flights from {a} to {b}")


def restaurant(rng, split):
    name = tool_name(rng, split, ["find_restaurant", "search_restaurants"], ["restaurant_finder"], "restaurant")
    desc = variant(rng, split, ["Find restaurants by cuisine in a city."]
                   + MORE_DESCRIPTIONS["restaurant"], ["Suggest a place to eat."])
    ck, lk = key_names(rng, split, [("cuisine", "city"), ("food", "location")], [("kind_of_food", "near")])
    cu, loc = pick(rng, CUISINES, split), pick(rng, CITIES, split)
    user = variant(rng, split, ["Find a {c} restaurant in {l}.", "Where can I eat {c} food in {l}?",
                                "Recommend {c} restaurants in {l}."],
                   ["I'm craving {c} in {l}, any place?", "Good {c} spots in {l}?"]).format(c=cu, l=loc)
    place = rng.choice(["Luna", "The Golden Fork", "Casa Verde", "Blue Door", "Little Garden"])
    rating = round(rng.uniform(3.5, 5.0), 1)
    return Case(schema(name, desc, [(ck, {"type": "string"}), (lk, {"type": "string"})], [ck, lk]), user,
                {ck: cu, lk: loc}, {"name": place, "rating": rating},
                f"Try {place} in {loc}, rated {rating}.", f"{cu} food in {loc}")


def music(rng, split):
    name = tool_name(rng, split, ["play_music", "play_song"], ["start_playback"], "music")
    desc = variant(rng, split, ["Play a song."] + MORE_DESCRIPTIONS["music"], ["Start playing a track."])
    key = key_names(rng, split, ["song", "title"], ["track"])
    song = pick(rng, SONGS, split)
    user = variant(rng, split, ["Play {s}.", "Put on {s} please.", "I want to hear {s}."],
                   ["Could you start {s}?", "Let's listen to {s}."]).format(s=song)
    return Case(schema(name, desc, [(key, {"type": "string"})], [key]), user, {key: song},
                {"status": "playing", "song": song}, f"Now playing {song} (status playing).", f"the song {song}")


def news(rng, split):
    name = tool_name(rng, split, ["get_news", "fetch_headlines"], ["news_lookup"], "news")
    desc = variant(rng, split, ["Get the latest news headlines on a topic."]
                   + MORE_DESCRIPTIONS["news"], ["Find recent news stories."])
    key = key_names(rng, split, ["topic", "category"], ["subject"])
    topic = pick(rng, TOPICS, split)
    user = variant(rng, split, ["What's the latest news on {t}?", "Any news about {t}?", "Show me headlines about {t}."],
                   ["What happened recently with {t}?", "Catch me up on {t} news."]).format(t=topic)
    n = rng.randint(2, 9)
    return Case(schema(name, desc, [(key, {"type": "string"})], [key]), user, {key: topic},
                {"count": n, "top": f"Big week for {topic}"}, f"There are {n} new stories; the top one: Big week for {topic}.",
                f"news on {topic}")


def alarm(rng, split):
    name = tool_name(rng, split, ["set_alarm", "set_reminder"], ["create_alarm"], "alarm")
    desc = variant(rng, split, ["Set an alarm at a time with a label."]
                   + MORE_DESCRIPTIONS["alarm"], ["Ring at a given time."])
    tk, lk = key_names(rng, split, [("time", "label"), ("time", "message")], [("when", "note")])
    c, label = clock(rng), pick(rng, ALARM_LABELS, split)
    user = variant(rng, split, ["Set an alarm for {c} to {x}.", "Remind me at {c} to {x}.", "Wake me at {c}, label {x}."],
                   ["At {c} I need to {x}, set an alarm.", "Alarm at {c}: {x}."]).format(c=c, x=label)
    return Case(schema(name, desc, [(tk, {"type": "string", "description": "HH:MM"}), (lk, {"type": "string"})],
                       [tk, lk]), user, {tk: c, lk: label}, {"status": "set", "time": c},
                f"Your alarm is set for {c} to {label} (status set).", f"an alarm at {c}")


DOMAINS = [weather, stock, search, calendar, calculator, email, translate, local_time, currency, flights,
           restaurant, music, news, alarm]

INVENTED_RATE = 0.25     # training tool calls to an invented tool, and invented tools among the others shown
ACTIONS = ["get", "find", "check", "book", "order", "track", "list", "cancel", "open", "rate", "count", "show",
           "send", "start", "stop", "add", "remove", "update", "lookup", "report"]


def invented(rng, split):
    """A tool of no domain (training only): its noun is a random word that only its name or description
    shares with the request, so the one way to the right tool is to match the request's words against
    the tools' words, and the one way to its arguments is to copy them."""
    assert split == "train"
    noun, other, verb = novel(rng), novel(rng), rng.choice(ACTIONS)
    name = rng.choices([f"{verb}_{noun}", f"{noun}_{verb}", noun, f"{verb}_{noun}_{other}", f"{noun}_{other}", other],
                       [3, 2, 2, 2, 2, 1])[0]
    keys = []
    while len(keys) < rng.choice([1, 1, 2, 2, 3]):
        key = rng.choice([rng.choice(DRILL_WORDS), novel(rng, 1), f"{novel(rng, 1)}_{rng.choice(DRILL_WORDS)}"])
        if key not in keys:
            keys.append(key)
    desc = rng.choice([f"{verb.title()} a {noun}.", f"{verb.title()} the {noun} for a {keys[0]}.",
                       f"Returns {noun} data.", f"{noun.title()} service: {verb} by {keys[0]}.",
                       f"Use this to {verb} {noun} items.", f"The {noun} tool."])
    values = [rng.choice([lambda: " ".join(novel(rng) for _ in range(rng.randint(1, 3))),
                          lambda: novel(rng).title(), lambda: str(rng.randint(1, 9999)), lambda: date(rng),
                          lambda: clock(rng), lambda: pick(rng, CITIES, "train")])() for _ in keys]
    user = rng.choice([f"{verb.title()} {noun} for {values[0]}.", f"Please {verb} the {noun} {values[0]}.",
                       f"I need the {noun} of {values[0]}.", f"Can you {verb} {noun}: {values[0]}?",
                       f"{noun.title()} {values[0]}, please.", f"Use {noun} with {values[0]}."])
    for key, value in zip(keys[1:], values[1:]):
        user = user.rstrip("?.") + rng.choice([f", {key.replace('_', ' ')} {value}.", f" with {key} {value}.",
                                               f" and {key.replace('_', ' ')} {value}?"])
    result = {rng.choice(["result", "status", "value", "count", novel(rng)]): rng.choice(
        [novel(rng), str(rng.randint(1, 999)), rng.choice(CONDITIONS)])}
    shown = ", ".join(f"{k} {v}" for k, v in result.items())
    answer = rng.choice([f"The {noun} for {values[0]}: {shown}.", f"Done ({shown}).",
                         f"{name} says {shown} for {values[0]}."])
    return Case(schema(name, desc, [(k, {"type": "string"}) for k in keys], keys), user, dict(zip(keys, values)),
                result, answer, f"the {noun} for {values[0]}")


# --------------------------------------------------------------------------------------------
# Chat without tools
# --------------------------------------------------------------------------------------------

CAPITALS = {
    "France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid", "Japan": "Tokyo", "Egypt": "Cairo",
    "Peru": "Lima", "Norway": "Oslo", "Austria": "Vienna", "Portugal": "Lisbon", "Greece": "Athens",
    "Ireland": "Dublin", "Poland": "Warsaw", "Kenya": "Nairobi", "Thailand": "Bangkok", "Cuba": "Havana",
    "Canada": "Ottawa", "Sweden": "Stockholm", "Finland": "Helsinki", "Denmark": "Copenhagen",
    "Hungary": "Budapest", "Chile": "Santiago", "Colombia": "Bogota", "India": "New Delhi",
    "China": "Beijing", "Russia": "Moscow", "Australia": "Canberra", "Mexico": "Mexico City",
    "Brazil": "Brasilia", "Argentina": "Buenos Aires", "Iceland": "Reykjavik", "Belgium": "Brussels",
}
FACTS = [
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("How many days are in a week?", "A week has seven days."),
    ("What color is the sky on a clear day?", "The sky is blue on a clear day."),
    ("What is water made of?", "Water is made of hydrogen and oxygen."),
    ("What is the largest planet?", "Jupiter is the largest planet in the solar system."),
    ("How many continents are there?", "There are seven continents."),
    ("What do bees make?", "Bees make honey."),
    ("At what temperature does water freeze?", "Water freezes at 0 degrees Celsius."),
    ("At what temperature does water boil?", "Water boils at 100 degrees Celsius at sea level."),
    ("How many hours are in a day?", "A day has 24 hours."),
    ("What is the closest star to Earth?", "The Sun is the closest star to Earth."),
    ("How many minutes are in an hour?", "An hour has 60 minutes."),
]
IDENTITY_Q = (["Who are you?", "What are you?", "What can you do?", "Tell me about yourself."],
              ["Introduce yourself.", "What kind of assistant are you?"])
IDENTITY_A = ("I am a small demo model with the GLM-4.5 architecture, trained on a laptop-sized budget. "
              "I can chat a little, think step by step, and call the tools you give me.")
GREETINGS = (["Hi", "Hello!", "Hey there", "Good morning", "Hi, how are you?", "Hello, anyone there?"],
             ["Good evening!", "Howdy", "Yo, hello"])
GREETING_A = ["Hello! How can I help you today?", "Hi! What can I do for you?", "Hello! I am here to help."]
THANKS = (["Thanks!", "Thank you.", "Great, thanks."], ["Cheers, that helps."])
THANKS_A = ["You're welcome!", "Happy to help!"]
UNITS = [("kilometers", "meters", 1000), ("kilograms", "grams", 1000), ("meters", "centimeters", 100),
         ("liters", "milliliters", 1000), ("hours", "minutes", 60), ("minutes", "seconds", 60)]

# Public-domain prose: Aesop's fables (retold), for a little fluency.
FABLES = [
    ("The Fox and the Grapes", "A hungry fox saw some fine bunches of grapes hanging from a vine high on a wall. "
     "He jumped and jumped, but he could not reach them. At last he turned away and said, \"I am sure they are "
     "sour.\" It is easy to despise what you cannot get."),
    ("The Tortoise and the Hare", "A hare laughed at a tortoise for being slow, so the tortoise challenged him to a "
     "race. The hare ran far ahead and then lay down for a nap. The tortoise kept walking, step by step, and when the "
     "hare woke up the tortoise had already crossed the finish line. Slow and steady wins the race."),
    ("The Boy Who Cried Wolf", "A shepherd boy was bored watching the sheep, so he shouted \"Wolf!\" and the villagers "
     "came running. He laughed at them, and later he did it again. Then a real wolf came. The boy cried \"Wolf!\" but "
     "nobody came, and the wolf scattered the flock. Nobody believes a liar, even when he tells the truth."),
    ("The Ant and the Grasshopper", "All summer the ant carried grain to her nest while the grasshopper sang in the "
     "sun. When winter came, the grasshopper had nothing to eat and begged the ant for food. \"You sang all summer,\" "
     "said the ant, \"so now you may dance all winter.\" It is wise to prepare for the days of need."),
    ("The Lion and the Mouse", "A lion caught a little mouse and was about to eat it. The mouse begged for its life and "
     "promised to repay him one day, and the lion laughed and let it go. Later the lion was trapped in a hunter's net. "
     "The mouse gnawed the ropes until the lion was free. Little friends may prove great friends."),
    ("The Crow and the Pitcher", "A thirsty crow found a pitcher with a little water at the bottom, but her beak could "
     "not reach it. She dropped pebbles into the pitcher one by one, and the water rose until she could drink. Little "
     "by little does the trick."),
    ("The North Wind and the Sun", "The North Wind and the Sun argued about who was stronger. They agreed that whoever "
     "could make a traveler take off his cloak would win. The Wind blew hard, but the man only held his cloak tighter. "
     "Then the Sun shone warmly, and the man soon took his cloak off. Kindness works better than force."),
    ("The Dog and His Reflection", "A dog carrying a bone crossed a bridge and saw his reflection in the water. He "
     "thought it was another dog with a bigger bone and snapped at it. His own bone fell into the river and was lost. "
     "Be careful not to lose what you have by grasping at shadows."),
]
STORY_Q = (["Tell me a story.", "Tell me a fable.", "Can you tell me a short story?", "Tell me the story of {t}."],
           ["I'd like to hear a fable.", "Share a story with me."])


def chat_case(rng, split):
    """(user, answer, thought) for a tool-free question."""
    kind = rng.choices(["greet", "identity", "capital", "fact", "add", "convert", "story", "thanks"],
                       [2, 1, 4, 2, 4, 3, 2, 1])[0]
    if kind == "greet":
        return pick(rng, GREETINGS, split), rng.choice(GREETING_A), "The user greets me. I should greet them back."
    if kind == "thanks":
        return pick(rng, THANKS, split), rng.choice(THANKS_A), "The user says thanks."
    if kind == "identity":
        return pick(rng, IDENTITY_Q, split), IDENTITY_A, "The user asks who I am."
    if kind == "capital":
        country = rng.choice(sorted(CAPITALS))
        q = variant(rng, split, ["What is the capital of {c}?", "capital of {c}?", "Which city is the capital of {c}?"],
                    ["Name the capital city of {c}.", "Do you know the capital of {c}?"]).format(c=country)
        return q, f"The capital of {country} is {CAPITALS[country]}.", f"The capital of {country} is {CAPITALS[country]}."
    if kind == "fact":
        q, a = rng.choice(FACTS)
        return q, a, "I know this fact."
    if kind == "add":
        a, b = rng.randint(1, 50), rng.randint(1, 50)
        q = variant(rng, split, ["What is {a} + {b}?", "What is {a} plus {b}?", "Add {a} and {b}."],
                    ["Sum of {a} and {b}?", "{a} + {b} = ?"]).format(a=a, b=b)
        return q, f"{a} + {b} = {a + b}.", f"I add {a} and {b}: {a} + {b} = {a + b}."
    if kind == "convert":
        src, dst, f = rng.choice(UNITS)
        n = rng.randint(1, 12)
        q = variant(rng, split, ["Convert {n} {s} to {d}.", "How many {d} are in {n} {s}?"],
                    ["{n} {s} in {d}?", "Express {n} {s} as {d}."]).format(n=n, s=src, d=dst)
        return q, f"{n} {src} is {n * f} {dst}.", f"One of the {src} is {f} {dst}, so {n} {src} is {n * f} {dst}."
    title, text = rng.choice(FABLES)
    q = variant(rng, split, STORY_Q[0], STORY_Q[1]).format(t=title)
    return q, f"{title}. {text}", "The user wants a short story. I will tell a fable."


# --------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------

SYSTEMS = ["You are a helpful assistant.", "You are a friendly assistant. Keep answers short.",
           "You are a helpful assistant that can use tools."]


def render_call(name, args):
    out = f"<tool_call>{name}\n"
    for k, v in args.items():
        out += f"<arg_key>{k}</arg_key>\n<arg_value>{v if isinstance(v, str) else json.dumps(v)}</arg_value>\n"
    return out + "</tool_call>"


def completion(thinking, thought, body, stop):
    if thinking:
        return f"\n<think>{thought}</think>\n{body}{stop}"
    return f"\n{body}{stop}"


OPENERS = ["Please ", "Hey, ", "Hi! ", "Quick one: ", "Could you help me? ", "Hello. ", "I have a request: "]
CLOSERS = [" Thanks!", " Thank you.", " Please.", " Cheers", " Thanks a lot."]


def make_case(domain, rng, split):
    case = domain(rng, split)
    case.domain = domain
    return case


def wrap(rng, split, request):
    """In training a request is sometimes wrapped in a greeting or thanks, so that the words that matter
    are found among others."""
    if split != "train" or rng.random() >= 0.3:
        return request
    if rng.random() < 0.6:
        request = rng.choice(OPENERS) + request[0].lower() + request[1:]
    if request[-1] in ".?!" and rng.random() < 0.5:
        request += rng.choice(CLOSERS)
    return request


def same_tool(first, second):
    """Re-key `second` (same domain) onto `first`'s schema: properties are in the same order per domain."""
    keys = list(first.tool["function"]["parameters"]["properties"])
    theirs = list(second.tool["function"]["parameters"]["properties"])
    second.args = {keys[theirs.index(k)]: v for k, v in second.args.items()}
    second.tool = first.tool
    return second


def tool_cases(rng, split):
    """One or two cases (two: several calls in one turn, to the same tool or to two tools)."""
    invent = split == "train" and rng.random() < INVENTED_RATE
    first = make_case(invented if invent else rng.choice(DOMAINS), rng, split)
    if rng.random() >= 0.15:
        return [first]
    domain = first.domain if rng.random() < 0.5 and not invent else rng.choice(DOMAINS)
    second = make_case(domain, rng, split)
    if domain is first.domain:
        second = same_tool(first, second)
        if second.args == first.args:
            return [first]
    return [first, second]


def distractors(rng, split, exclude_domains, count):
    """Tools from other domains than the ones the user asks about, so the choice is never ambiguous."""
    used, out = set(exclude_domains), []
    for _ in range(count * 4):
        if len(out) == count:
            break
        domain = rng.choice(DOMAINS)
        if domain not in used:
            used.add(domain)
            out.append(make_case(domain, rng, split if rng.random() < 0.5 else "train").tool)
    if split == "train":
        out = [invented(rng, split).tool if rng.random() < INVENTED_RATE else tool for tool in out]
    return out


def join_users(cases):
    if len(cases) == 1:
        return cases[0].user
    a, b = cases[0].user.rstrip("?."), cases[1].user
    return f"{a}, and also: {b[0].lower()}{b[1:]}"


def history(rng, split):
    """An earlier exchange, sometimes, so that the model sees multi-turn prompts."""
    if rng.random() < 0.25:
        q, a, thought = chat_case(rng, split)
        return [{"role": "user", "content": q}, {"role": "assistant", "content": a, "reasoning_content": thought}]
    return []


def make_example(rng, split, kind=None):
    kind = kind or rng.choices(["call", "result", "chat", "chat_with_tools"], [48, 28, 15, 9])[0]
    thinking = rng.random() < 0.5
    messages = []
    if rng.random() < 0.3:
        messages.append({"role": "system", "content": rng.choice(SYSTEMS)})
    messages += history(rng, split)
    if kind in ("chat", "chat_with_tools"):
        q, a, thought = chat_case(rng, split)
        tools = None
        if kind == "chat_with_tools":
            tools = distractors(rng, split, [], rng.randint(1, 3))
        messages.append({"role": "user", "content": q})
        return dict(kind=kind, split=split, messages=messages, tools=tools, enable_thinking=thinking,
                    completion=completion(thinking, thought, a, "<|user|>"), answer=a)
    cases = tool_cases(rng, split)
    tools = [c.tool for c in cases]
    tools = list({t["function"]["name"]: t for t in tools}.values())
    tools += distractors(rng, split, [c.domain for c in cases], rng.randint(0, 3))
    rng.shuffle(tools)
    messages.append({"role": "user", "content": wrap(rng, split, join_users(cases))})
    calls = [{"name": c.name, "arguments": c.args} for c in cases]
    if kind == "call":
        thought = "The user wants " + " and ".join(c.about for c in cases) + ". I will call " + \
                  " and ".join(dict.fromkeys(c.name for c in cases)) + "."
        body = "\n".join(render_call(c.name, c.args) for c in cases)
        return dict(kind=kind, split=split, messages=messages, tools=tools, enable_thinking=thinking,
                    completion=completion(thinking, thought, body, "<|observation|>"), calls=calls)
    messages.append({"role": "assistant", "content": "", "tool_calls": [
        {"id": f"call_{i}", "type": "function", "function": {"name": c.name, "arguments": c.args}}
        for i, c in enumerate(cases)]})
    for i, c in enumerate(cases):
        messages.append({"role": "tool", "tool_call_id": f"call_{i}", "content": json.dumps(c.result)})
    answer = " ".join(c.answer for c in cases)
    thought = "The tool returned " + "; ".join(json.dumps(c.result) for c in cases) + "."
    return dict(kind=kind, split=split, messages=messages, tools=tools, enable_thinking=thinking,
                completion=completion(thinking, thought, answer, "<|user|>"), answer=answer,
                results=[c.result for c in cases])


def make_examples(split, count, seed, kind=None):
    rng = random.Random(seed)
    return [make_example(rng, split, kind) for _ in range(count)]


def result_values(results):
    """Scalar values of tool results, as text, that an answer must restate."""
    out = []
    for r in results:
        for v in r.values():
            if isinstance(v, list):
                out += [str(x) for x in v]
            elif not isinstance(v, dict):
                out.append(str(v))
    return out


# --------------------------------------------------------------------------------------------
# Copy drills (pretraining, not chat)
# --------------------------------------------------------------------------------------------
# A tool call copies a name from the schema and values from the user's words. A first run learned
# to copy only after ~1,100 of 2,600 steps (its loss fell from 2.4 to 1.7 in 200 steps: induction
# heads forming). These short drills reward nothing but copying, so that happens early: a list
# repeated, and name → value pairs recalled in another order (the first piece of each name is a
# choice, the rest is copied, like a tool name after `<tool_call>`).

COMMON_WORDS = """account add address air album amount answer area artist ask author balance bank bill bird
blue board body book box budget bus buy call camera card cart cat center change chat check city class clock
close code color count country course cover create customer data day delete detail device door download
driver edit end energy entry file fill filter find first flow folder form friend fuel game garden gift goal
green group guest health help history home hotel hour house image index item job key kind label language
last level light limit line link list load local lock login mail map mark market member menu message meter
mode money month movie name network night note number offer open order owner page paper park party pass
path pay phone photo plan player point post power print profile project queue rate reader record region
remove rent reply request room route rule save scale schedule score screen seat send server service session
set shop size sky sleep sort sound source space speed sport stage start state station status step store
street style sum table tag task team test text ticket title total tour town trade train trip type update
user value video view visit voice wallet watch water week window word work year zip""".split()


def held_out_words():
    """Every word of a held-out tool or parameter name, so that drills never spell one."""
    rng, words = random.Random(0), set()
    for _ in range(3000):
        tool = rng.choice(DOMAINS)(rng, "heldout").tool["function"]
        for name in [tool["name"], *tool["parameters"]["properties"]]:
            words.update(name.split("_"))
    return words


DRILL_WORDS = [w for w in COMMON_WORDS if w not in held_out_words()]


def held_out_text_words():
    """Every word of the held-out pools, tools, phrasings and answers."""
    rng, texts = random.Random(0), []
    for _ in range(3000):
        case = rng.choice(DOMAINS)(rng, "heldout")
        texts += [json.dumps(case.tool), case.user, case.answer, json.dumps(case.result)]
        texts += [chat_case(rng, "heldout")[0]]
    for pool in [CITIES, TICKERS, PEOPLE, DOMAINS_EMAIL, TOPICS, LANGUAGES, PHRASES, CURRENCIES, EVENTS, CUISINES,
                 SONGS, ALARM_LABELS, GREETINGS, IDENTITY_Q, THANKS, STORY_Q]:
        texts += pool[1]
    return set(re.findall(r"[a-z]+", " ".join(texts).lower()))


def vocabulary_words():
    """Lower-case words of 3 to 10 letters in GLM-4.5's own vocabulary (../shared/tokenizer), less those
    of any held-out text: random real-looking names and values (about 25,000 of them)."""
    path = Path(__file__).resolve().parents[2].parent / "shared" / "tokenizer" / "glm45" / "tokenizer.json"
    vocab = json.loads(path.read_text())["model"]["vocab"]
    words = {t[1:] for t in vocab if t.startswith("\u0120") and re.fullmatch(r"[a-z]{3,10}", t[1:])}
    return sorted(words - held_out_text_words())


WORDS = vocabulary_words()


def drill_name(rng):
    parts = [rng.choice(DRILL_WORDS) if rng.random() < 0.4 else novel(rng, rng.randint(1, 3))
             for _ in range(rng.choice([1, 2, 2, 3]))]
    return "_".join(parts) if rng.random() < 0.7 else " ".join(parts).title()


def drill_value(rng):
    return rng.choice([lambda: drill_name(rng), lambda: str(rng.randint(0, 99999)), lambda: date(rng),
                       lambda: pick(rng, CITIES, "train"), lambda: made_up(rng).title()])()


def copy_drill(rng):
    """(prompt, completion) text: a list to repeat, or name → value pairs to recall."""
    if rng.random() < 0.4:
        sep = rng.choice([", ", " ", "\n", "; "])
        items = sep.join(drill_name(rng) for _ in range(rng.randint(3, 12)))
        return f"{items}\n===\n", f"{items}\n"
    pairs, count = {}, rng.randint(3, 8)
    while len(pairs) < count:
        pairs[drill_name(rng)] = drill_value(rng)
    form = rng.choice(['"{k}": "{v}"', "{k} = {v}", "<{k}>{v}</{k}>"])
    prompt = "\n".join(form.format(k=k, v=v) for k, v in pairs.items())
    asked = rng.sample(list(pairs), rng.randint(1, len(pairs)))
    return f"{prompt}\n===\n", "".join(f"{k}: {pairs[k]}\n" for k in asked)
