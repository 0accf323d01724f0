"""A Splink 5 baseline for the matcher: the same CSV in, clusters in match_file's format out.

    .venv/bin/python bench/splink_baseline.py INPUT.csv --domain customer --out OUT.csv

Needs the optional `bench` extra (`pip install -e ".[bench]"`, i.e. splink>=5,<6 with DuckDB).
match_quality.py runs it as a subprocess beside `manage.py match_file`, so both are timed the
same way (interpreter start, imports, reading, matching, writing).

The configuration is meant to be what a careful Splink user would write, not a strawman:

* light standardisation in DuckDB SQL: lower case, accents and punctuation stripped, legal
  forms dropped from company names, a few street suffixes abbreviated, digits-only DUNS and
  phone (extension dropped, a leading US "1" removed), website without scheme / www / path,
  GTIN zero-padded to 14 digits, postal code without leading zeros, country and region names
  mapped to their ISO codes (pycountry, a dependency of the hub), location kinds mapped to a
  few canonical labels;
* comparisons on the same columns as the hub's rules, with exact / fuzzy levels and term
  frequency adjustments on names; city, region and postal code as one "locality" comparison
  (--locality combined, the default: the Splink docs warn against comparing columns that
  predict one another as if independent) or as three (--locality separate);
* prediction blocking keys like the hub's (matching/rules/<domain>.json), and like the hub
  skipping blocks of more than --max-block (100) records;
* training as in the Splink tutorials: the prior from deterministic rules,
  u by random sampling, m by expectation maximisation over two or three blocking rules;
* clusters: connected components of the pairs at match probability >= --threshold (0.9).
"""

from __future__ import annotations

import argparse
import csv
import logging
import re
import sys
import time
import unicodedata

try:
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
except ImportError as error:  # the optional `bench` extra
    raise SystemExit(
        f'{error}: install the bench extra: .venv/bin/pip install -e ".[bench]"'
    ) from error

SQL_MACROS = r"""
create or replace macro clean(x) as
    nullif(trim(regexp_replace(lower(strip_accents(coalesce(x, ''))), '[^a-z0-9]+', ' ', 'g')), '');
create or replace macro squash(x) as
    nullif(trim(regexp_replace(coalesce(x, ''), '\s+', ' ', 'g')), '');
create or replace macro company(x) as squash(regexp_replace(
    coalesce(clean(replace(coalesce(x, ''), '&', ' and ')), ''),
    '^the\b|\b(and|inc|incorporated|corp|corporation|co|company|llc|llp|ltd|limited|plc|gmbh)\b',
    '', 'g'));
create or replace macro street(x) as squash(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    coalesce(clean(x), ''),
    '\bstreet\b', 'st', 'g'), '\bavenue\b', 'ave', 'g'), '\broad\b', 'rd', 'g'),
    '\bboulevard\b', 'blvd', 'g'), '\bdrive\b', 'dr', 'g'), '\blane\b', 'ln', 'g'),
    '\bplace\b', 'pl', 'g'), '\bcourt\b', 'ct', 'g'));
create or replace macro digits(x) as nullif(regexp_replace(coalesce(x, ''), '[^0-9]', '', 'g'), '');
create or replace macro drop_us_one(d) as
    case when length(d) = 11 and d like '1%' then substr(d, 2) else d end;
create or replace macro phone_digits(x) as drop_us_one(
    digits(regexp_replace(lower(coalesce(x, '')), '\s*(x|ext\.?|extension)\s*[0-9]+\s*$', '')));
create or replace macro website(x) as nullif(regexp_replace(regexp_replace(
    lower(trim(coalesce(x, ''))), '^[a-z]+://', ''), '^www\.|[/?#].*$', '', 'g'), '');
create or replace macro postal(x) as
    nullif(ltrim(regexp_replace(upper(coalesce(x, '')), '[^0-9A-Z]', '', 'g'), '0'), '');
create or replace macro first_word(x) as nullif(split_part(coalesce(x, ''), ' ', 1), '');
create or replace macro house_number(x) as nullif(regexp_extract(coalesce(x, ''), '^[0-9]+'), '');
"""

# Standardised columns per domain: (SQL over the raw table `raw`, which has every CSV column).
DOMAINS = {
    "customer": """
        select row_number() over () as unique_id, source_system, source_id,
            company(name) as name,
            digits(duns) as duns,
            phone_digits(phone) as phone,
            website(website) as website,
            street(address_line1) as address_line1,
            clean(city) as city,
            coalesce(rg.code, upper(replace(clean(region), ' ', ''))) as region,
            postal(postal_code) as postal_code,
            coalesce(ct.code, upper(clean(country))) as country,
            clean(replace(industry, '&', ' and ')) as industry
        from raw
        left join country_codes ct on ct.key = clean(raw.country)
        left join region_codes rg on rg.key = clean(raw.region)
    """,
    "item": """
        select row_number() over () as unique_id, source_system, source_id,
            nullif(regexp_replace(upper(coalesce(sku, '')), '[^0-9A-Z]', '', 'g'), '') as sku,
            case when length(digits(gtin)) in (8, 12, 13, 14)
                then lpad(digits(gtin), 14, '0') end as gtin,
            clean(name) as name,
            clean(replace(category, '&', ' and ')) as category
        from raw
    """,
    "location": """
        select row_number() over () as unique_id, source_system, source_id,
            company(name) as name,
            case
                when k in ('warehouse', 'wh', 'dc', 'distribution center', 'distribution centre')
                    then 'warehouse'
                when k like 'bill%' or k = 'invoice' then 'billing'
                when k like 'ship%' or k = 'delivery' then 'shipping'
                when k in ('home', 'private', 'residential') then 'home'
                when k in ('work', 'office', 'business') then 'work'
                when k like 'mail%' or k = 'postal' then 'mailing'
                else k
            end as kind,
            street(address_line1) as address_line1,
            clean(address_line2) as address_line2,
            clean(city) as city,
            coalesce(rg.code, upper(replace(clean(region), ' ', ''))) as region,
            postal(postal_code) as postal_code,
            coalesce(ct.code, upper(clean(country))) as country,
            phone_digits(phone) as phone
        from (select *, clean(kind) as k from raw) raw
        left join country_codes ct on ct.key = clean(raw.country)
        left join region_codes rg on rg.key = clean(raw.region)
    """,
}
MAX_BLOCK = 100
"""Largest block the prediction blocking keeps (the hub's max_block_size)."""
STREET_SUFFIXES = ("st", "ave", "rd", "blvd", "ln", "dr", "pl", "ct", "cir", "way", "wy",
                   "pkwy", "hwy", "ter", "sq", "trl", "n", "s", "e", "w", "ste", "apt",
                   "unit", "fl")  # fmt: skip
SUFFIX_LIST = "[" + ", ".join(f"'{word}'" for word in STREET_SUFFIXES) + "]"
STREET_KEY = (
    "nullif(list_reduce(list_filter(string_split(address_line1, ' '), lambda w: "
    f"regexp_full_match(w, '[a-z]+') and not list_contains({SUFFIX_LIST}, w)), "
    "lambda a, b: case when length(b) > length(a) then b else a end, ''), '')"
)
HOUSE_NUMBER_DROPPED = "regexp_replace(address_line1, '^[0-9a-z]*[0-9][0-9a-z]* ', '')"
# Derived blocking keys, added to every domain's table where the source column exists.
DERIVED = {
    "name": [
        ("name_prefix", "left(replace(name, ' ', ''), 3)"),
        ("name_first", "first_word(name)"),
    ],
    "address_line1": [
        ("house_number", "house_number(address_line1)"),
        ("street_first", f"first_word({HOUSE_NUMBER_DROPPED})"),
        # The street's own name: its longest all-letter word that is not a suffix.
        ("street_key", STREET_KEY),
    ],
    "city": [("city_prefix", "left(replace(city, ' ', ''), 3)")],
    "sku": [
        ("sku_head", "case when length(sku) >= 4 then left(sku, length(sku) // 2 + 1) end"),
        (
            "sku_tail",
            "case when length(sku) >= 4 then right(sku, length(sku) - length(sku) // 2) end",
        ),
    ],
}


def jw(column: str, thresholds: list[float], tf: bool = False):
    comparison = cl.JaroWinklerAtThresholds(column, thresholds)
    return comparison.configure(term_frequency_adjustments=True) if tf else comparison


def locality():
    """City, region and postal code as one comparison: they are one piece of evidence (the
    Splink docs warn against comparing columns predictable from one another separately)."""
    city = "jaro_winkler_similarity(city_l, city_r) >= 0.88"
    levels = [
        {
            "sql_condition": "(postal_code_l is null or postal_code_r is null) "
            "and (city_l is null or city_r is null)",
            "label_for_charts": "postal code and city missing",
            "is_null_level": True,
        },
        {"sql_condition": f"postal_code_l = postal_code_r and {city}", "label_for_charts": "both"},
        {"sql_condition": "postal_code_l = postal_code_r", "label_for_charts": "postal code"},
        {"sql_condition": f"{city} and region_l = region_r", "label_for_charts": "city, region"},
        {"sql_condition": city, "label_for_charts": "city"},
        {"sql_condition": "region_l = region_r", "label_for_charts": "region"},
        {"sql_condition": "ELSE", "label_for_charts": "different"},
    ]
    return {"output_column_name": "locality", "comparison_levels": levels}


def address(locality_mode: str) -> list:
    if locality_mode == "combined":
        return [locality()]
    return [jw("city", [0.95, 0.88]), cl.ExactMatch("region"), cl.ExactMatch("postal_code")]


def model(domain: str, locality_mode: str = "combined"):
    """(comparisons, prediction blocking keys, deterministic rules, EM blocking rules).

    ``locality_mode``: "combined" compares city, region and postal code as one piece of
    evidence (see locality()); "separate" as three independent comparisons.
    The prediction blocking keys are the hub's (matching/rules/<domain>.json): tuples of
    columns; prepare() turns each into one key column, empty where its block is too large."""
    if domain == "customer":
        comparisons = [
            jw("name", [0.95, 0.88, 0.8], tf=True),
            cl.ExactMatch("duns"),
            cl.LevenshteinAtThresholds("phone", [1, 2]),
            cl.ExactMatch("website"),
            jw("address_line1", [0.95, 0.88]),
            *address(locality_mode),
            cl.ExactMatch("country"),
            cl.ExactMatch("industry"),
        ]
        blocking = [
            ("duns",),
            ("phone",),
            ("website",),
            ("name", "country"),
            ("name_first", "city"),
            ("name_prefix", "postal_code"),
            ("house_number", "postal_code"),
            ("house_number", "street_first"),
            ("street_first", "postal_code"),
            ("city", "postal_code"),
            ("street_key", "country"),
            ("street_key", "postal_code"),
            ("name_prefix", "country"),
            ("city_prefix", "country"),
            ("house_number", "country"),
            ("postal_code", "country"),
        ]
        deterministic = [block_on("duns"), block_on("website", "name"), block_on("phone", "name")]
        training = [block_on("name", "country"), block_on("house_number", "postal_code")]
    elif domain == "item":
        comparisons = [
            cl.ExactMatch("gtin"),
            cl.LevenshteinAtThresholds("sku", [1, 2]),
            jw("name", [0.95, 0.88, 0.8], tf=True),
            cl.ExactMatch("category"),
        ]
        blocking = [
            ("gtin",),
            ("sku",),
            ("name",),
            ("sku_head",),
            ("sku_tail",),
            ("name_prefix", "sku_head"),
            ("name_prefix", "sku_tail"),
        ]
        deterministic = [block_on("gtin"), block_on("sku", "name")]
        training = [block_on("gtin"), block_on("sku")]
    elif domain == "location":
        comparisons = [
            jw("name", [0.95, 0.88], tf=True),
            cl.ExactMatch("kind"),
            jw("address_line1", [0.95, 0.88]),
            jw("address_line2", [0.9]),
            *address(locality_mode),
            cl.ExactMatch("country"),
            cl.LevenshteinAtThresholds("phone", [1, 2]),
        ]
        blocking = [
            ("phone",),
            ("name", "country"),
            ("house_number", "postal_code"),
            ("house_number", "street_first"),
            ("house_number", "city"),
            ("street_first", "postal_code"),
            ("street_first", "city"),
            ("name_prefix", "postal_code"),
            ("street_key", "country"),
            ("street_key", "postal_code"),
            ("name_prefix", "country"),
            ("city_prefix", "country"),
            ("house_number", "country"),
            ("postal_code", "country"),
        ]
        deterministic = [
            block_on("address_line1", "postal_code", "kind"),
            block_on("name", "postal_code"),
            block_on("phone"),
        ]
        training = [block_on("house_number", "postal_code"), block_on("street_first", "city")]
    else:
        raise SystemExit(f"no Splink model for domain {domain!r}")
    return comparisons, blocking, deterministic, training


def _lookup_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Folded country and region names → ISO codes (also the codes themselves)."""
    import pycountry

    def fold(text: str) -> str:  # the same as the SQL macro clean()
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
        return re.sub(r"[^a-z0-9]+", " ", text).strip()

    countries: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                countries.setdefault(fold(value), country.alpha_2)
    regions: dict[str, str] = {}
    for sub in pycountry.subdivisions:
        regions.setdefault(fold(sub.name), sub.code.split("-", 1)[1])
    con.execute("create table country_codes (key varchar, code varchar)")
    con.executemany("insert into country_codes values (?, ?)", list(countries.items()))
    con.execute("create table region_codes (key varchar, code varchar)")
    con.executemany("insert into region_codes values (?, ?)", list(regions.items()))


def prepare(
    con: duckdb.DuckDBPyConnection, path: str, domain: str, max_block: int = MAX_BLOCK
) -> list[str]:
    """Load and standardise the CSV into table `records`; returns the model's columns."""
    con.execute(SQL_MACROS)
    con.execute(
        "create table raw as select * from read_csv(?, header = true, all_varchar = true, "
        "quote = '\"', escape = '\"')",
        [path],
    )
    present = {row[0] for row in con.execute("describe raw").fetchall()}
    select = DOMAINS[domain]
    # Columns the rules use but the file lacks are added empty (as match_file does).
    for column in ("name", "duns", "phone", "website", "address_line1", "address_line2", "city",
                   "region", "postal_code", "country", "industry", "sku", "gtin", "category",
                   "kind"):  # fmt: skip
        if column not in present:
            con.execute(f"alter table raw add column {column} varchar")
    _lookup_tables(con)
    con.execute(f"create table base as {select}")
    columns = [row[0] for row in con.execute("describe base").fetchall()]
    derived = [f"{expr} as {name}" for col, items in DERIVED.items() if col in columns
               for name, expr in items]  # fmt: skip
    con.execute(f"create table keyed as select *{', ' if derived else ''}"
                f"{', '.join(derived)} from base")  # fmt: skip
    # Blocks larger than max_block are skipped, as the hub's blocking does (a common ZIP code
    # or name prefix would otherwise cost quadratic time and say little).
    keys = []
    for index, columns_ in enumerate(model(domain)[1]):
        value = " || '|' || ".join(columns_)
        keys.append(
            f"case when count(*) over (partition by {value}) <= {max_block} "
            f"then {value} end as block_{index}"
        )
    con.execute(f"create table records as select *, {', '.join(keys)} from keyed")
    return columns


def run(
    path: str,
    domain: str,
    out: str,
    threshold: float = 0.9,
    seed: int = 1,
    max_block: int = MAX_BLOCK,
    locality_mode: str = "combined",
) -> dict:
    started = time.perf_counter()
    con = duckdb.connect()
    prepare(con, path, domain, max_block)
    comparisons, blocking, deterministic, training = model(domain, locality_mode)
    db_api = DuckDBAPI(connection=con)
    records = db_api.register("records")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            block_on(f"block_{index}") for index in range(len(blocking))
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(records, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed)
    for rule in training:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    pairs = con.execute(f"select count(*) from {predictions.physical_name}").fetchone()[0]
    rows = con.execute(
        f"select r.source_system, r.source_id, c.cluster_id from records r "
        f"join {clusters.physical_name} c using (unique_id) order by r.unique_id"
    ).fetchall()
    cluster_key = {}
    for system, source_id, cluster_id in rows:
        cluster_key.setdefault(cluster_id, f"{system}:{source_id}")
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "source_id", "cluster_id"])
        for system, source_id, cluster_id in rows:
            writer.writerow([system, source_id, cluster_key[cluster_id]])
    return {
        "records": len(rows),
        "clusters": len(cluster_key),
        "pairs": pairs,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("input")
    parser.add_argument("--domain", required=True, choices=sorted(DOMAINS))
    parser.add_argument("--out", required=True)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-block",
        type=int,
        default=MAX_BLOCK,
        help="Skip prediction blocks larger than this (as the hub does).",
    )
    parser.add_argument(
        "--locality",
        choices=["combined", "separate"],
        default="combined",
        help="City, region and postal code as one comparison (default) or three.",
    )
    args = parser.parse_args()
    result = run(
        args.input,
        args.domain,
        args.out,
        args.threshold,
        args.seed,
        args.max_block,
        args.locality,
    )
    print(
        f"splink: {result['records']:,} records → {result['clusters']:,} clusters; "
        f"{result['pairs']:,} pairs at p >= {args.threshold}; {result['seconds']:.1f}s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
