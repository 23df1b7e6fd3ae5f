"""The declared schema of every exported table: one type per column, written in code.

Types are never inferred from the data: an empty table has the same schema as a full one, and a
change of a column's SQL type (`numeric(7,4)` one day, `numeric(6,4)` the next) does not reach
the files. A column gold adds, renames or drops fails the export until it is declared here
(`check_columns`), so the Parquet contract changes only on purpose.

Kinds, and what they become: `string` (ids, names, reasons), `int64` (counts, nullable),
`float64` (rates, shares, scores), `bool`, `timestamp` (UTC, microseconds), `date`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("string", "int64", "float64", "bool", "timestamp", "date")

# How each kind is read from PostgreSQL: the cast makes the driver's value match the kind
# whatever the column's SQL type (numeric of any precision, integer, bigint, text, ...).
SQL_CASTS = {
    "string": "text",
    "int64": "bigint",
    "float64": "double precision",
    "bool": "boolean",
    "timestamp": "timestamptz",
    "date": "date",
}


def arrow_type(kind: str):
    """The Arrow type of a kind (pyarrow imported here only: declaring needs no pyarrow)."""
    import pyarrow as pa

    return {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "date": pa.date32(),
    }[kind]


@dataclass(frozen=True)
class ExportTable:
    """One exported relation: its columns in order, and how its files are partitioned.

    `date_column` is the column whose UTC date names the date partition `date_key`
    (`capture_date=2026-11-02`); the column itself stays in the files. `platform` is a
    partition too when `by_platform`: as in every Hive layout, it lives in the folder name
    (`platform=instagram`), not in the files.
    """

    relation: str
    columns: tuple[tuple[str, str], ...]
    date_column: str | None = None
    date_key: str = "capture_date"
    by_platform: bool = True
    description: str = ""
    names: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names = tuple(name for name, _ in self.columns)
        object.__setattr__(self, "names", names)
        if len(set(names)) != len(names):
            raise ValueError(f"{self.relation}: a column is declared twice")
        for name, kind in self.columns:
            if kind not in KINDS:
                raise ValueError(f"{self.relation}.{name}: unknown kind {kind!r}")
        if self.by_platform and "platform" not in names:
            raise ValueError(f"{self.relation}: partitioned by platform without a platform column")
        if self.date_column is not None:
            if dict(self.columns).get(self.date_column) not in ("timestamp", "date"):
                raise ValueError(f"{self.relation}: {self.date_column} is not a time column")
            if self.date_key in names:
                raise ValueError(f"{self.relation}: partition key {self.date_key} is a column")

    @property
    def schema_name(self) -> str:
        return self.relation.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.relation.split(".", 1)[1]

    @property
    def partition_keys(self) -> tuple[tuple[str, str], ...]:
        """(name, kind) of the folder levels, outermost first."""
        keys: list[tuple[str, str]] = []
        if self.by_platform:
            keys.append(("platform", "string"))
        if self.date_column is not None:
            keys.append((self.date_key, "date"))
        return tuple(keys)

    @property
    def file_columns(self) -> tuple[tuple[str, str], ...]:
        """The columns inside the Parquet files: all but the ones the folders carry."""
        in_folders = {name for name, _ in self.partition_keys}
        return tuple((n, k) for n, k in self.columns if n not in in_folders)

    def file_schema(self):
        import pyarrow as pa

        return pa.schema([pa.field(n, arrow_type(k)) for n, k in self.file_columns])

    def dataset_schema(self):
        """Files' columns and partition keys: what a reader of the whole table gets."""
        import pyarrow as pa

        fields = [pa.field(n, arrow_type(k)) for n, k in self.file_columns]
        fields += [pa.field(n, arrow_type(k)) for n, k in self.partition_keys]
        return pa.schema(fields)

    def partitioning(self):
        """The pyarrow Hive partitioning with the declared key types (None: no folders)."""
        import pyarrow as pa
        import pyarrow.dataset as ds

        if not self.partition_keys:
            return None
        return ds.partitioning(
            pa.schema([pa.field(n, arrow_type(k)) for n, k in self.partition_keys]), flavor="hive"
        )


class ExportSchemaError(RuntimeError):
    """The database's table no longer matches its declaration (or is missing)."""


def check_columns(table: ExportTable, actual: list[str]) -> None:
    """Fail clearly when the relation's columns differ from the declared ones."""
    if not actual:
        raise ExportSchemaError(
            f"{table.relation} does not exist (or has no columns): build gold before exporting"
        )
    missing = [n for n in table.names if n not in actual]
    unknown = [n for n in actual if n not in table.names]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"declared but missing in the database: {', '.join(missing)}")
        if unknown:
            parts.append(f"in the database but not declared: {', '.join(unknown)}")
        raise ExportSchemaError(
            f"{table.relation} does not match its export schema ({'; '.join(parts)}); "
            "declare every column with its type in exports/schema.py"
        )


S, N, F, B, T, D = "string", "int64", "float64", "bool", "timestamp", "date"


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    """'name:kind name:kind ...' → ((name, kind), ...): one table's columns on a few lines."""
    pairs = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        pairs.append((name, kind))
    return tuple(pairs)


GOLD_TABLES: tuple[ExportTable, ...] = (
    ExportTable(
        "gold.dim_influencers",
        _cols(
            f"platform:{S} account_id:{S} username:{S} followers:{N} followers_captured_at:{T}"
            f" following:{N} following_captured_at:{T} posts_count:{N} posts_count_captured_at:{T}"
            f" median_engagement_rate:{F} mean_engagement_rate:{F} posts_in_engagement_window:{N}"
            f" posts_collected:{N} posts_deleted:{N} median_engagement_rate_reach:{F}"
            f" median_engagement_rate_reach_null_reason:{S} median_engagement_rate_views:{F}"
            f" median_engagement_rate_views_null_reason:{S} sponsored_posts:{N}"
            f" sponsored_share:{F} sponsored_engagement_ratio:{F}"
            f" sponsored_engagement_ratio_null_reason:{S} followers_growth_7d:{N}"
            f" followers_growth_7d_pct:{F} followers_growth_7d_null_reason:{S}"
            f" followers_growth_30d:{N} followers_growth_30d_pct:{F}"
            f" followers_growth_30d_null_reason:{S} followers_growth_90d:{N}"
            f" followers_growth_90d_pct:{F} followers_growth_90d_null_reason:{S}"
            f" growth_as_of:{D} audience_coverage:{F} audience_coverage_null_reason:{S}"
            f" access:{S} metrics_unavailable:{S} captured_at:{T}"
        ),
        date_column="captured_at",
        description="One row per influencer: latest counts, engagement, growth, sponsorship.",
    ),
    ExportTable(
        "gold.fct_post_engagement",
        _cols(
            f"platform:{S} account_id:{S} post_id:{S} posted_at:{T} media_type:{S} caption:{S}"
            f" likes:{N} comments:{N} shares:{N} views:{N} reach:{N} saved:{N}"
            f" total_interactions:{N} interactions:{N} followers_at_capture:{N}"
            f" account_captured_at:{T} engagement_rate_followers:{F} engagement_rate_reach:{F}"
            f" engagement_rate_views:{F} likes_hidden:{B} shares_unknown:{B} is_sponsored:{B}"
            f" sponsored_marker:{S} is_deleted:{B} deleted_at:{T} first_seen_at:{T}"
            f" captured_at:{T} caption_sentiment:{S} caption_sentiment_score:{F}"
            f" access:{S} metrics_unavailable:{S} metrics_unavailable_reason:{S}"
        ),
        date_column="captured_at",
        description="One row per post: latest counts and engagement rates.",
    ),
    ExportTable(
        "gold.audience_segments",
        _cols(
            f"platform:{S} account_id:{S} dimension:{S} segment:{S} share:{F}"
            f" followers_in_segment:{N} followers_returned:{N} followers_at_capture:{N}"
            f" coverage:{F} captured_at:{T}"
        ),
        date_column="captured_at",
        description="Share of an influencer's audience per age, gender, country, city.",
    ),
    ExportTable(
        "gold.fct_influencer_daily",
        _cols(
            f"platform:{S} account_id:{S} day:{D} followers:{N} following:{N}"
            f" posts_published:{N} followers_growth_7d:{N} followers_growth_7d_pct:{F}"
            f" followers_growth_7d_reference_at:{T} followers_growth_7d_null_reason:{S}"
            f" followers_growth_30d:{N} followers_growth_30d_pct:{F}"
            f" followers_growth_30d_reference_at:{T} followers_growth_30d_null_reason:{S}"
            f" followers_growth_90d:{N} followers_growth_90d_pct:{F}"
            f" followers_growth_90d_reference_at:{T} followers_growth_90d_null_reason:{S}"
            f" median_engagement_rate_30d:{F} rated_posts_30d:{N}"
            f" median_engagement_rate_30d_null_reason:{S} captured_at:{T}"
        ),
        date_column="day",
        description="One row per influencer and day: counts, growth, rolling engagement.",
    ),
    ExportTable(
        "gold.fct_influencer_stories_daily",
        _cols(
            f"platform:{S} account_id:{S} day:{D} stories_posted:{N} image_stories:{N}"
            f" video_stories:{N} stories_with_insights:{N} reach:{N} views:{N} replies:{N}"
            f" shares:{N} navigation:{N} mean_reach_per_story:{F} insights_null_reason:{S}"
            f" captured_at:{T}"
        ),
        date_column="day",
        date_key="posted_date",
        description="One row per influencer and day of posting: stories and their insights.",
    ),
    ExportTable(
        "gold.post_interests",
        _cols(
            f"platform:{S} account_id:{S} post_id:{S} interest:{S} matched_terms:{S}"
            f" terms_matched:{N} posted_at:{T} is_deleted:{B} method:{S} score:{F}"
            f" interest_rank:{N} model_version:{S}"
        ),
        date_column="posted_at",
        date_key="posted_date",
        description="Interests a post's caption matches (taxonomy terms and hashtags).",
    ),
    ExportTable(
        "gold.influencer_interests",
        _cols(
            f"platform:{S} account_id:{S} interest:{S} posts_with_interest:{N}"
            f" posts_with_any_interest:{N} share:{F} interest_rank:{N} method:{S}"
            f" posts_by_keyword:{N} posts_by_embedding:{N}"
        ),
        description="Share of an influencer's posts per interest.",
    ),
    ExportTable(
        "gold.influencer_caption_sentiment",
        _cols(
            f"platform:{S} account_id:{S} posts_scored:{N} posts_positive:{N}"
            f" posts_neutral:{N} posts_negative:{N} positive_share:{F} neutral_share:{F}"
            f" negative_share:{F}"
        ),
        description="Share of an influencer's captions per sentiment (enrichment model).",
    ),
    ExportTable(
        "gold.brand_influencer_fit",
        _cols(
            f"workspace_id:{N} workspace:{S} brand_name:{S} platform:{S} account_id:{S}"
            f" username:{S} followers:{N} fit_score:{F} age_share_in_target:{F}"
            f" gender_share_in_target:{F} country_share_in_target:{F} city_share_in_target:{F}"
            f" interest_overlap:{F}"
            f" size_fit:{F} fit_components_used:{N} fit_components_stated:{N}"
            f" fit_confidence:{F} unavailable_components:{S}"
        ),
        description="How well an influencer's audience fits each brand's target, 0-100"
        " (a brand is its workspace and name).",
    ),
    ExportTable(
        "gold.influencer_quality",
        _cols(
            f"platform:{S} account_id:{S} username:{S} followers:{N} tier:{S} tier_accounts:{N}"
            f" follower_changes:{N} rated_posts:{N} follower_spike:{F}"
            f" follower_spike_threshold:{F} follower_spike_day:{D} follower_spike_gain_pct:{F}"
            f" follower_spike_flag:{B} median_engagement_rate:{F}"
            f" tier_median_engagement_rate:{F} engagement_vs_tier:{F}"
            f" engagement_vs_tier_threshold:{N} comment_like_ratio:{F}"
            f" tier_median_comment_like_ratio:{F} comment_like_ratio_vs_tier:{F}"
            f" comment_like_ratio_threshold:{N} views_per_follower:{F}"
            f" views_per_follower_threshold:{F} viral_share:{F} viral_share_threshold:{F}"
            f" engagement_vs_tier_flag:{B} comment_like_ratio_flag:{B}"
            f" views_per_follower_flag:{B} viral_share_flag:{B} insufficient_data:{B}"
            f" quality_score:{F} quality_weights:{S} insufficient_data_reason:{S}"
            f" follower_spike_null_reason:{S} engagement_vs_tier_null_reason:{S}"
            f" comment_like_ratio_null_reason:{S} views_per_follower_null_reason:{S}"
            f" viral_share_null_reason:{S}"
        ),
        description="Anomaly signals and a 0-100 quality score with its parts.",
    ),
    ExportTable(
        "gold.influencer_quality_measures",
        _cols(
            f"platform:{S} account_id:{S} follower_changes:{N} robust_z:{F}"
            f" largest_gain_day:{D} largest_gain_pct:{F} rated_posts:{N}"
            f" comment_like_ratio:{F} median_views:{F} viral_share:{F}"
        ),
        description="What the quality signals judge, from each account's own history.",
    ),
    ExportTable(
        "gold.post_sponsored_markers",
        _cols(f"platform:{S} post_id:{S} sponsored_marker:{S} is_sponsored:{B} account_id:{S}"),
        description="The disclosure marker found in each post's caption, if any.",
    ),
    ExportTable(
        "gold.dim_brands",
        _cols(
            f"workspace_id:{N} workspace:{S} brand_name:{S} brand_source:{S}"
            f" followers_min:{N} followers_max:{N}"
            f" target_age:{S} target_gender:{S} target_country:{S} target_city:{S}"
            f" target_interest:{S}"
        ),
        by_platform=False,
        description="Brands (each in a workspace) and their stated targets.",
    ),
    ExportTable(
        "gold.dim_brand_targets",
        _cols(f"workspace_id:{N} brand_name:{S} dimension:{S} value:{S}"),
        by_platform=False,
        description="One row per brand, target dimension and value.",
    ),
    ExportTable(
        "gold.interest_taxonomy",
        _cols(f"interest:{S} term:{S} kind:{S} language:{S}"),
        by_platform=False,
        description="Seed: the terms and hashtags that map captions to interests.",
    ),
    ExportTable(
        "gold.sponsored_markers",
        _cols(f"marker:{S} kind:{S} language:{S} priority:{N}"),
        by_platform=False,
        description="Seed: the disclosure markers looked for in captions.",
    ),
)

# Gold relations deliberately not exported, with the reason (a test holds every gold relation
# to be either exported or listed here).
NOT_EXPORTED = {
    "gold.example_brands": "seed of dim_brands, which is exported",
    "gold.example_brand_targets": "seed of dim_brand_targets, which is exported",
    "gold.post_interests__instagram": "a platform's rows of post_interests, which is exported",
    "gold.post_interests__tiktok": "a platform's rows of post_interests, which is exported",
}

SILVER_TABLES: tuple[ExportTable, ...] = (
    ExportTable(
        "silver.int_posts",
        _cols(
            f"platform:{S} account_id:{S} post_id:{S} posted_at:{T} media_type:{S} caption:{S}"
            f" hashtags:{S} likes:{N} likes_hidden:{B} comments:{N} shares:{N} views:{N}"
            f" reach:{N} saved:{N} total_interactions:{N} first_seen_at:{T} last_seen_at:{T}"
            f" captures:{N} is_deleted:{B} deleted_at:{T} captured_at:{T}"
        ),
        date_column="captured_at",
        description="One row per post: its latest version, deletion flagged.",
    ),
    ExportTable(
        "silver.int_post_snapshots",
        _cols(
            f"platform:{S} account_id:{S} post_id:{S} posted_at:{T} media_type:{S} caption:{S}"
            f" hashtags:{S} likes:{N} likes_hidden:{B} comments:{N} shares:{N} views:{N}"
            f" reach:{N} saved:{N} total_interactions:{N} insights_captured_at:{T}"
            f" listing_source:{S} round_id:{S} record_id:{N} captured_at:{T}"
        ),
        date_column="captured_at",
        description="One row per post capture: its counts as seen then.",
    ),
    ExportTable(
        "silver.int_account_snapshots",
        _cols(
            f"platform:{S} account_id:{S} platform_user_id:{S} username:{S} followers:{N}"
            f" following:{N} posts_count:{N} likes_count:{N} snapshot_source:{S}"
            f" record_id:{N} captured_at:{T}"
        ),
        date_column="captured_at",
        description="One row per account capture: its counts as seen then.",
    ),
)

TABLES: tuple[ExportTable, ...] = GOLD_TABLES + SILVER_TABLES


def table(name: str) -> ExportTable:
    """A declared table by its export name (`fct_post_engagement`) or relation."""
    for candidate in TABLES:
        if name in (candidate.name, candidate.relation):
            return candidate
    raise KeyError(f"no exported table named {name!r}")
