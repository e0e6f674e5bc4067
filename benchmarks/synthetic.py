"""Synthetic news-feed archives in the feed's file format, for speed benchmarks.

    from synthetic import write_archive
    write_archive("/tmp/archive", 10_000, seed=0)

Every word is generated here from small word lists and templates; nothing is copied from any
source. A fixed "world" (a few hundred fictional companies, products, places, people and
outlets, chosen by ``world_seed``) is shared by every archive, so archives written with
different seeds are about the same companies. An archive is a sequence of stories: each
story is one event (a launch, a recall, a funding round...) covered by 1-5 outlets over 0-4
days; its articles share names and numbers, and each article's ``related:`` list names the
other articles of its story, as the real feed's curated lists do. About 30 articles a day,
titles of 8-14 words, excerpts of 30-60 words. The same (n, seed, first_day) gives the same
files, byte for byte. 100,000 files take a few seconds.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 1
WORLD_SEED = 20260301
PER_DAY = 30
LAST_DAY = date(2026, 3, 1)
"""An archive written without ``first_day`` ends on this day."""


def _list(text: str, sep: str | None = None) -> tuple[str, ...]:
    """A word list written as one string (easier to read and extend than a tuple literal)."""
    return tuple(text.split(sep))


ONSETS = _list("b br c cl d dr f g gr h k l m n p pr qu r s st t tr v w z th sh "
               "sk sl sp fl pl bl gl cr")
VOWELS = _list("a e i o u a e i o io ou y")
CODAS = (*_list("n r l x th s m ck rd ll nt sk st v rn"), "", "", "")
MODEL_WORDS = _list("One Pro Max Air Edge Core Lite Prime")
MONTHS = _list("January February March April May June July August September October November "
               "December")
OUTLET_FORMS = _list("The {x} Ledger|{x} Tribune|Daily {x}|{x} Courier|{x} Wire|The {x} Post|"
                     "{x} Dispatch|Signal & {x}|{x} Report|The {x} Review|{x} Times|"
                     "{x} Journal|{x} Herald|{x} Gazette|{x} Observer|{x} Monitor", "|")
PLACE_FORMS = _list("Port {x}|{x} Falls|{x}ton|New {x}|{x} Ridge|{x} Harbor|East {x}|{x}ville|"
                    "Lake {x}|{x} Springs|North {x}|{x} Bay", "|")
AGENCY_FORMS = _list("the {p} transport board|{p} regulators|the state health agency|"
                     "the {p} city council|federal safety officials|"
                     "the national trade commission|the {p} attorney general|"
                     "the energy regulator|the data protection office|a {p} court", "|")
SECTIONS = _list("news business tech local markets science policy world")


@dataclass(frozen=True)
class Theme:
    topic: str
    suffixes: tuple[str, ...]
    things: tuple[str, ...]
    units: tuple[str, ...]
    issues: tuple[str, ...]
    words: tuple[str, ...]


def _theme(topic: str, suffixes: str, things: str, units: str, issues: str,
           words: str) -> Theme:
    return Theme(topic, _list(suffixes, "|"), _list(things, "|"), _list(units, "|"),
                 _list(issues, "|"), _list(words))


THEMES = (
    _theme("Semiconductors", "Semiconductor|Foundry|Silicon|Micro",
           "inference chip|processor|memory module|chip packaging line",
           "servers|data centers|wafers|design wins",
           "overheating reports|a yield shortfall|export limits|supply shortages",
           "wafer yield nanometer fab packaging bandwidth accelerator lithography"),
    _theme("Robotics", "Robotics|Automation|Machines|Dynamics",
           "warehouse robot|picking arm|delivery drone|inspection crawler",
           "warehouses|robots|depots|customers",
           "a collision at a depot|injuries on the floor|battery fires|software faults",
           "gripper fleet warehouse pallet autonomy sensors payload navigation"),
    _theme("Health", "Health|Medical|Care|Clinics",
           "triage tool|screening app|diagnostic test|patient portal",
           "hospitals|clinics|patients|pharmacies",
           "missed diagnoses|privacy complaints|staffing gaps|billing errors",
           "clinicians nurses triage patients screening wards outcomes insurers"),
    _theme("Autonomous Vehicles", "Mobility|Motors|Autonomy|Transit",
           "robotaxi|driverless truck|driver-assist system|electric shuttle",
           "vehicles|cities|routes|riders",
           "a crash with a cyclist|sudden braking|sensor failures|a blocked ambulance",
           "lidar permits fleet riders highway depot braking cameras"),
    _theme("Energy", "Energy|Grid|Power|Renewables",
           "battery plant|wind farm|grid storage system|solar array",
           "homes|megawatts|turbines|substations",
           "blackouts|turbine fires|permit disputes|price spikes",
           "turbines storage megawatt utility forecasts outages transmission tariffs"),
    _theme("Fintech", "Pay|Capital|Finance|Ledger",
           "payments app|lending platform|savings account|trading tool",
           "accounts|merchants|borrowers|users",
           "frozen accounts|hidden fees|fraud losses|an outage at checkout",
           "deposits lenders merchants fees fraud checkout interest regulators"),
    _theme("Retail", "Foods|Stores|Market|Goods",
           "grocery app|checkout kiosk|loyalty program|delivery service",
           "stores|shoppers|orders|suppliers",
           "price errors|empty shelves|a data leak|late deliveries",
           "shoppers shelves prices suppliers checkout delivery discounts inventory"),
    _theme("Telecom", "Networks|Telecom|Connect|Wireless",
           "fiber network|5G service|satellite link|home router",
           "towers|subscribers|households|towns",
           "dropped calls|a nationwide outage|slow speeds|billing mistakes",
           "towers spectrum fiber coverage subscribers bandwidth rural latency"),
    _theme("Biotech", "Bio|Pharma|Therapeutics|Genomics",
           "gene therapy|vaccine candidate|cancer drug|blood test",
           "patients|trial sites|doses|labs",
           "side effects|a manufacturing lapse|trial delays|dosing errors",
           "trial dose patients placebo regulators efficacy enzyme genome"),
    _theme("Space", "Aerospace|Orbital|Launch|Space",
           "reusable rocket|imaging satellite|lunar lander|launch pad",
           "satellites|launches|customers|missions",
           "a failed launch|debris concerns|engine anomalies|schedule slips",
           "orbit payload booster satellites launch thrust telemetry mission"),
    _theme("Agriculture", "Farms|Agri|Harvest|Growers",
           "harvest robot|crop sensor|vertical farm|irrigation system",
           "farms|acres|greenhouses|growers",
           "crop losses|water limits|pest outbreaks|equipment recalls",
           "growers harvest irrigation acres greenhouse yields soil drought"),
    _theme("Cybersecurity", "Security|Shield|Cyber|Guard",
           "password manager|threat scanner|cloud firewall|identity service",
           "customers|devices|companies|accounts",
           "a data breach|a ransomware attack|leaked passwords|a software flaw",
           "breach attackers patch encryption passwords ransomware firewall vulnerability"),
)

TITLES = {
    "launch": ("{co} unveils {prod}, a {thing} it says is {pct}% faster",
               "{co} launches {prod} {thing} aimed at {unit} in {place}",
               "First look at {prod}, the new {thing} from {co}",
               "{co} bets on {prod} to win back {unit}"),
    "funding": ("{co} raises {amt} to build more {thing}s",
                "Investors put {amt} into {co} as demand for {thing}s grows",
                "{co} lands {amt} funding round led by {co2}"),
    "recall": ("{co} recalls {count} {thing}s after {issue}",
               "{issue_cap} forces {co} to pull {count} {thing}s",
               "Why {co} is recalling {count} of its {prod} {thing}s"),
    "layoffs": ("{co} to cut {count} jobs as {thing} sales slow",
                "{co} plans {count} layoffs and closes {place} office",
                "Job cuts at {co} hit {count} workers across {place}"),
    "lawsuit": ("{place} sues {co} over {issue} tied to {prod}",
                "{co} faces lawsuit in {place} after {issue}",
                "Lawsuit claims {co} ignored warnings about {issue}"),
    "approval": ("Regulators clear {co}'s {prod} for use in {unit}",
                 "{co} wins approval for {prod} {thing} in {place}",
                 "{prod} approval opens {count} {unit} to {co}"),
    "delay": ("{co} pushes back {prod} launch by {months} months",
              "{co} delays {prod} {thing} until {month} after {issue}",
              "What the {prod} delay means for {co} and its {unit}"),
    "outage": ("{co} says outage hit {count} {unit} using {prod}",
               "{prod} outage leaves {count} {unit} without service",
               "{co} blames {issue} for {prod} outage in {place}"),
    "acquisition": ("{co} agrees to buy {co2} for {amt}",
                    "{co2} to be acquired by {co} in {amt} deal",
                    "Inside {co}'s {amt} bet on {co2} and its {thing}s"),
    "earnings": ("{co} revenue climbs {pct}% on demand for {prod}",
                 "{co} shares jump {pct}% after strong {prod} sales",
                 "{co} misses forecasts as {thing} orders fall {pct}%"),
    "expansion": ("{co} to open {thing} site in {place}, adding {count} jobs",
                  "{co} picks {place} for new {thing} plant",
                  "{place} wins {co} {thing} project worth {amt}"),
    "strike": ("Workers at {co}'s {place} site vote to strike over {issue}",
               "Strike halts {prod} work at {co} in {place}",
               "{co} and union reach deal to end {place} strike"),
    "partnership": ("{co} and {co2} team up on {thing}s for {unit}",
                    "{co2} signs deal to use {co}'s {prod} in {place}",
                    "{co} partners with {co2} to bring {prod} to {count} {unit}"),
    "probe": ("{agency_cap} opens probe into {co}'s {prod}",
              "{co} under investigation over {issue} in {place}",
              "Investigators question {co} about {prod} {thing} and {issue}"),
}

LEADS = {
    "launch": ("{co} on {weekday} introduced {prod}, a {thing} it says runs {pct}% faster "
               "than the model it replaces.",
               "{prod}, the newest {thing} from {co}, goes on sale to {unit} in {place} "
               "next month."),
    "funding": ("{co} said on {weekday} it had raised {amt} in a round led by {co2}, money it "
                "plans to spend on more {thing}s.",
               "The {amt} round values {co} at roughly ten times last year's figure."),
    "recall": ("{co} is recalling {count} {thing}s sold under the {prod} name after {issue}.",
               "A recall of {count} {prod} {thing}s followed {issue}, {co} said."),
    "layoffs": ("{co} will cut {count} jobs, about {pct}% of its staff, as sales of its "
                "{thing}s slow.",
                "The {count} job cuts at {co} fall hardest on its {place} office."),
    "lawsuit": ("Officials in {place} filed suit against {co} on {weekday}, citing {issue} "
                "linked to its {prod} {thing}.",
                "A lawsuit filed in {place} accuses {co} of ignoring {issue}."),
    "approval": ("{agency_cap} approved {co}'s {prod} on {weekday}, clearing the {thing} for "
                 "use across {count} {unit}.",
                 "The approval lets {co} offer {prod} in {place} and {place2}."),
    "delay": ("{co} has pushed back the launch of {prod} by {months} months, to {month}, "
              "citing {issue}.",
              "The delay to {prod} leaves {co}'s {unit} waiting until {month}."),
    "outage": ("An outage on {weekday} left {count} {unit} unable to use {co}'s {prod} for "
               "{hours} hours.",
               "{co} said {issue} caused the {hours}-hour {prod} outage."),
    "acquisition": ("{co} agreed on {weekday} to buy {co2} for {amt} in cash and stock.",
                    "The {amt} deal gives {co} control of {co2}'s {thing} business."),
    "earnings": ("{co} said quarterly revenue rose {pct}% to {amt}, helped by orders for "
                 "{prod}.",
                 "Quarterly results from {co} showed {prod} sales up {pct}% on the year."),
    "expansion": ("{co} will build a {amt} {thing} site in {place} that it expects to employ "
                  "{count} people.",
                  "{place} beat {place2} for the {co} project after offering tax credits."),
    "strike": ("Workers at {co}'s {place} site voted on {weekday} to strike over {issue}.",
               "The strike at {co} in {place} has idled work on {prod} for {days} days."),
    "partnership": ("{co} and {co2} said on {weekday} they would jointly offer {prod} to "
                    "{count} {unit}.",
                    "Under the deal, {co2} will use {co}'s {prod} {thing} in {place}."),
    "probe": ("{agency_cap} has opened an investigation into {co}'s {prod} after reports of "
              "{issue}.",
              "Investigators are examining whether {co} knew about {issue} before selling "
              "{prod}."),
}

DETAILS = (
    "{person}, {co}'s chief executive, said the decision followed {months} months of review.",
    "Shares of {co} {moved} {pct2}% in {session} trading.",
    "The company said {prod} would reach {count2} {unit} by {month}.",
    "{co} employs about {count2} people and reported revenue of {amt2} last year.",
    "Officials in {place} said they would review the plan before {month}.",
    "Analysts expect the market for {thing}s to grow {pct2}% a year through {year}.",
    "Critics said the timeline left little room for independent testing.",
    "{co} declined to say how much the program would cost.",
    "The move also affects operations in {place2}.",
    "{person} said the company had heard from {unit} and would respond quickly.",
    "Rival {co2} has been pursuing a similar plan since {year0}.",
    "A spokesperson for {co} said more details would follow in {month}.",
    "The figures were confirmed by {agency}.",
    "It is the {ordinal} such announcement from {co} this year.",
    "Local groups in {place} have asked for public hearings.",
    "The {prod} {thing} was first shown to {unit} in {year0}.",
    "Some {unit} in {place2} said they had not been told in advance.",
    "{co} said its {w1} and {w2} work would continue unchanged.",
    "Industry groups said the news could shift {w1} plans across the sector.",
    "The company expects the change to add {amt2} to annual costs.",
)

MODIFIERS = ("in {place}", "as investors weigh the risks", "after a rocky quarter",
             "amid a wider industry slowdown", "ahead of a key vote in {place}",
             "despite pushback from {stakeholders}", "for the first time",
             "this year", "people familiar with the plan say", "analysts say",
             "as {co2} steps up pressure", "in a blow to {stakeholders}",
             "after {months} months of talks", "with {count2} {unit} at stake")
STAKEHOLDERS = ("unions", "local officials", "investors", "rivals", "consumer groups",
                "lawmakers", "customers")
WEEKDAYS = _list("Monday Tuesday Wednesday Thursday Friday")
ORDINALS = _list("second third fourth fifth")
ZONES = ("Z", "Z", "Z", "Z", "-05:00", "-07:00", "+01:00", "+02:00")


def _word(rng: random.Random, syllables: int) -> str:
    parts = [rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables)]
    return ("".join(parts) + rng.choice(CODAS)).capitalize()


def _unique(rng: random.Random, count: int, make: Any) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault(make(rng), None)
    return list(seen)


@dataclass(frozen=True)
class World:
    companies: tuple[tuple[str, int], ...]
    """(name, theme position)."""
    products: tuple[str, ...]
    places: tuple[str, ...]
    people: tuple[str, ...]
    outlets: tuple[tuple[str, str], ...]
    """(name, domain)."""


def make_world(seed: int = WORLD_SEED) -> World:
    """The fictional companies, products, places, people and outlets every archive shares."""
    rng = random.Random(seed)
    companies = []
    for name in _unique(rng, 360, lambda r: _word(r, r.randint(1, 2))):
        theme = rng.randrange(len(THEMES))
        companies.append((f"{name} {rng.choice(THEMES[theme].suffixes)}", theme))
    products = _unique(rng, 400, lambda r: f"{_word(r, 2)}-{r.randint(2, 12)}"
                       if r.random() < 0.6 else f"{_word(r, 2)} {r.choice(MODEL_WORDS)}")
    places = _unique(rng, 220, lambda r: r.choice(PLACE_FORMS).format(x=_word(r, 1)))
    people = _unique(rng, 300, lambda r: f"{_word(r, 1)} {_word(r, 2)}")
    outlet_names = _unique(rng, 40, lambda r: r.choice(OUTLET_FORMS).format(x=_word(r, 1)))
    outlets = [(name, "".join(c for c in name.lower().removeprefix("the ") if c.isalnum())
                + ".example") for name in outlet_names]
    return World(tuple(companies), tuple(products), tuple(places), tuple(people),
                 tuple(outlets))


def _money(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f"${rng.choice((12, 25, 40, 65, 90, 120, 180, 240, 310, 450, 600, 850))} million"
    return f"${rng.randint(1, 9)}.{rng.randint(1, 9)} billion"


def story_facts(rng: random.Random, world: World, first_day: date) -> dict[str, Any]:
    """The names and numbers every article of one story shares."""
    co, theme_at = rng.choice(world.companies)
    theme = THEMES[theme_at]
    co2 = rng.choice(world.companies)[0]
    place, place2 = rng.sample(world.places, 2)
    issue = rng.choice(theme.issues)
    agency = rng.choice(AGENCY_FORMS).format(p=place)
    w1, w2 = rng.sample(theme.words, 2)
    return {
        "event": rng.choice(tuple(TITLES)), "theme": theme, "co": co, "co2": co2,
        "prod": rng.choice(world.products), "thing": rng.choice(theme.things),
        "unit": rng.choice(theme.units), "issue": issue, "issue_cap": issue[0].upper() + issue[1:],
        "place": place, "place2": place2, "person": rng.choice(world.people),
        "agency": agency, "agency_cap": agency[0].upper() + agency[1:],
        "pct": rng.randint(3, 60), "pct2": rng.randint(2, 25),
        "amt": _money(rng), "amt2": _money(rng),
        "count": rng.choice((40, 75, 120, 140, 300, 450, 800, 1200, 2500, 12000, 40000)),
        "count2": rng.choice((60, 200, 900, 1500, 3000, 8000, 20000)),
        "months": rng.randint(2, 18), "hours": rng.randint(2, 30), "days": rng.randint(2, 40),
        "month": rng.choice(MONTHS), "year": first_day.year + rng.randint(2, 6),
        "year0": first_day.year - rng.randint(1, 5),
        "weekday": WEEKDAYS[first_day.weekday() % 5], "ordinal": rng.choice(ORDINALS),
        "moved": rng.choice(("rose", "fell", "climbed", "slid")),
        "session": rng.choice(("early", "afternoon", "late")),
        "stakeholders": rng.choice(STAKEHOLDERS), "w1": w1, "w2": w2,
    }


def _title(rng: random.Random, facts: dict[str, Any], template: str) -> str:
    title = template.format(**facts)
    if len(title.split()) > 14:  # long names: the event's shortest title instead
        title = min((t.format(**facts) for t in TITLES[facts["event"]]), key=len)
    target = rng.randint(8, 14)
    words = len(title.split())
    for modifier in rng.sample(MODIFIERS, len(MODIFIERS)):
        if words >= target:
            break
        text = modifier.format(**facts)
        if words + len(text.split()) <= 14:
            title, words = f"{title} {text}", words + len(text.split())
    while words < 8:
        title, words = f"{title} {rng.choice(('report says', 'sources say', 'officials say'))}", \
            words + 2
    return title[0].upper() + title[1:]


def _excerpt(rng: random.Random, facts: dict[str, Any]) -> str:
    sentences = [rng.choice(LEADS[facts["event"]]).format(**facts)]
    words = len(sentences[0].split())
    target = rng.randint(30, 60)
    for detail in rng.sample(DETAILS, len(DETAILS)):
        if words >= target:
            break
        text = detail.format(**facts)
        if words + len(text.split()) <= 60:
            sentences.append(text)
            words += len(text.split())
    excerpt = " ".join(sentences)
    return excerpt[0].upper() + excerpt[1:]


def _slug(title: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "-".join(words[:10])


@dataclass
class Item:
    """One generated article, before it is written."""

    serial: int
    day: date
    fields: dict[str, Any]
    story: int


def _item(rng: random.Random, facts: dict[str, Any], template: str, outlet: tuple[str, str],
          serial: int, day: date, story: int, tag: str) -> Item:
    title = _title(rng, facts, template)
    name, domain = outlet
    zone = rng.choice(ZONES)
    stamp = f"{day.isoformat()}T{rng.randint(5, 22):02d}:{rng.choice((0, 15, 30, 45)):02d}:00"
    url = (f"https://{domain}/{rng.choice(SECTIONS)}/{day:%Y/%m/%d}/{_slug(title)}"
           f"-{tag}{serial:x}")
    fields = {
        "title": title, "excerpt": _excerpt(rng, facts), "publishedDateTime": stamp + zone,
        "webUrl": url, "provider": {"name": name, "domain": domain},
        "quality": rng.randint(20, 80),
        "topics": [facts["theme"].topic, *(["AI"] if rng.random() < 0.4 else [])],
        "image": f"https://img.{domain}/{day:%Y/%m}/{_slug(title)[:40]}.jpg",
    }
    return Item(serial, day, fields, story)


def generate(n: int, seed: int = 0, first_day: date | None = None,
             world: World | None = None) -> list[Item]:
    """``n`` articles in stories, about ``PER_DAY`` a day from ``first_day``."""
    world = world or make_world()
    rng = random.Random(seed)
    first_day = first_day or LAST_DAY - timedelta(days=max(1, -(-n // PER_DAY)) - 1)
    tag = f"s{seed:x}n"
    items: list[Item] = []
    story = 0
    while len(items) < n:
        start = first_day + timedelta(days=len(items) // PER_DAY)
        facts = story_facts(rng, world, start)
        size = min(n - len(items), rng.choices((1, 2, 3, 4, 5), (35, 25, 20, 12, 8))[0])
        span = rng.randint(0, 4)
        templates = rng.sample(TITLES[facts["event"]], len(TITLES[facts["event"]]))
        for position, outlet in enumerate(rng.sample(world.outlets, size)):
            day = start + timedelta(days=rng.randint(0, span))
            template = templates[position % len(templates)]
            items.append(_item(rng, facts, template, outlet, len(items), day, story, tag))
        story += 1
    return items


def _quoted(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar


def _entry_lines(fields: dict[str, Any]) -> list[str]:
    provider = fields["provider"]
    return [f"  - title: {_quoted(fields['title'])}",
            f"    excerpt: {_quoted(fields['excerpt'])}",
            f"    publishedDateTime: {fields['publishedDateTime']}",
            f"    webUrl: {_quoted(fields['webUrl'])}",
            "    type: article",
            "    provider:",
            f"      name: {_quoted(provider['name'])}",
            f"      domain: {provider['domain']}",
            f"    quality: {fields['quality']}"]


def render(item: Item, related: list[Item]) -> str:
    """The feed file of one article: YAML front matter between ``---`` lines."""
    f = item.fields
    lines = ["---", "category: news", f"title: {_quoted(f['title'])}",
             f"excerpt: {_quoted(f['excerpt'])}", f"publishedDateTime: {f['publishedDateTime']}",
             f"originalUrl: {_quoted(f['webUrl'])}", f"webUrl: {_quoted(f['webUrl'])}",
             "type: article", f"quality: {f['quality']}", "published: true", "",
             "provider:", f"  name: {_quoted(f['provider']['name'])}",
             f"  domain: {f['provider']['domain']}", "", "topics:",
             *(f"  - {topic}" for topic in f["topics"]), "", "images:",
             f"  - url: {_quoted(f['image'])}", "    width: 1200", "    height: 675",
             "    isCached: true"]
    if related:
        lines += ["", "related:"]
        for other in related:
            lines += _entry_lines(other.fields)
    lines.append("---")
    return "\n".join(lines) + "\n"


def _related(items: list[Item], rng: random.Random) -> dict[int, list[Item]]:
    """For each article, the other articles of its story that its curated list keeps."""
    stories: dict[int, list[Item]] = {}
    for item in items:
        stories.setdefault(item.story, []).append(item)
    related: dict[int, list[Item]] = {}
    for members in stories.values():
        for item in members:
            others = [o for o in members if o is not item and rng.random() < 0.9]
            related[item.serial] = sorted(others, key=lambda o: o.fields["publishedDateTime"])
    return related


def write_archive(folder: str | os.PathLike[str], n: int, seed: int = 0,
                  first_day: date | None = None) -> list[Path]:
    """Write ``n`` feed files under ``folder`` (one subfolder per month); returns their paths.

    Deterministic for (n, seed, first_day). Without ``first_day`` the archive ends on
    ``LAST_DAY``; articles for queries can be dated after it with ``first_day``.
    """
    folder = Path(folder)
    items = generate(n, seed, first_day)
    related = _related(items, random.Random(seed + 1))
    paths = []
    made: set[Path] = set()
    for item in items:
        sub = folder / f"{item.day:%Y-%m}"
        if sub not in made:
            sub.mkdir(parents=True, exist_ok=True)
            made.add(sub)
        path = sub / f"{item.day.isoformat()}-{_slug(item.fields['title'])[:60]}-{item.serial}.md"
        path.write_text(render(item, related[item.serial]), encoding="utf-8")
        paths.append(path)
    return paths
