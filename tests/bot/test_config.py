import re
from pathlib import Path

import pytest

from bot.runtime.config import ALERT_EVENTS, ConfigError, Settings, load_settings

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def test_the_example_file_equals_the_built_in_defaults():
    assert load_settings(EXAMPLE, env={}) == Settings()


def test_the_default_database_is_a_sqlite_file_in_the_user_data_directory(tmp_path, monkeypatch):
    url = load_settings(None, env={}).database.resolved_url()
    assert url.startswith("sqlite:///") and url.endswith("sunset-clause/sunset.sqlite3")


def test_lookup_order_option_then_env_then_local_file(tmp_path, monkeypatch):
    option, env_file, local = tmp_path / "a.toml", tmp_path / "b.toml", tmp_path / "config.toml"
    option.write_text("[sunset]\nwindow_years = 11\n")
    env_file.write_text("[sunset]\nwindow_years = 12\n")
    local.write_text("[sunset]\nwindow_years = 13\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert load_settings(option, env={"SUNSET_CONFIG": str(env_file)}).sunset.window_years == 11
    assert load_settings(None, env={"SUNSET_CONFIG": str(env_file)}).sunset.window_years == 12
    assert load_settings(None, env={}).sunset.window_years == 13
    local.unlink()
    assert load_settings(None, env={}).sunset.window_years == 10
    user = tmp_path / "xdg" / "sunset-clause" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text("[sunset]\nwindow_years = 14\n")
    assert load_settings(None, env={}).sunset.window_years == 14  # the user's own config file comes last


def test_database_url_from_the_environment_wins(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[database]\nurl = "sqlite:///a.db"\n')
    settings = load_settings(path, env={"SUNSET_DATABASE_URL": "sqlite:///b.db"})
    assert settings.database.url == "sqlite:///b.db"


def test_secrets_come_only_from_the_environment(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('discord_token = "abc"\n')
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        load_settings(path, env={})
    settings = load_settings(None, env={"DISCORD_TOKEN": "s3cret-token"})
    assert settings.discord_token is not None
    assert "s3cret-token" not in repr(settings) and "s3cret-token" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[sunset]\nwindow_years = 9\n",
            "sunset.window_years: Value error, must be a whole number of years from 10 to 15",
        ),
        ('[sunset]\nprofile = "loose"\n', "sunset.profile: must be one of 'weights' or 'strict'"),
        ("[sunset]\nlead_days = []\n", "sunset.lead_days"),
        ("[databse]\n", "databse: unknown key"),
        ('[[sources]]\nname = "x"\nkind = "ftp"\n', "sources.0.kind: must be one of"),
        ("[sunset\n", "is not valid TOML"),
        (
            '[trackers]\nallow_private_addresses = "yes"\n',
            "trackers.allow_private_addresses: Input should be a valid boolean",
        ),
        (
            '[[sources]]\nname = "news"\nkind = "rss"\nurll = "https://x.example/feed"\n',
            "sources.0: Value error, source 'news': unknown key 'urll' for rss (keys: interval_minutes, kind, lab, name,"
            " url)",
        ),
        (
            '[[sources]]\nname = "hub"\nkind = "huggingface"\nendpoint = "https://x.example"\n',
            "kind huggingface needs author",
        ),
        ('[[sources]]\nname = "gh"\nkind = "github"\n', "source 'gh': kind github needs repo or url"),
        (
            '[[sources]]\nname = "hub"\nkind = "huggingface"\nauthor = "x"\npage_size = "50"\n',
            "source 'hub': page_size: Input should be a valid integer (got '50')",
        ),
        (
            '[[sources]]\nname = "hub"\nkind = "huggingface"\nauthor = "x"\npage_size = 0\n',
            "source 'hub': page_size: Input should be greater than or equal to 1 (got 0)",
        ),
        (
            '[[sources]]\nname = "gh"\nkind = "github"\nrepo = "not a repo"\n',
            "source 'gh': repo: must be OWNER/NAME (got 'not a repo')",
        ),
        (
            '[[sources]]\nname = "news"\nkind = "rss"\nurl = "feed.xml"\n',
            "source 'news': url: must be an http(s) URL (got 'feed.xml')",
        ),
        (
            '[trackers]\nreplace_default_sources = "yes"\n',
            "trackers.replace_default_sources: Input should be a valid boolean",
        ),
        (
            '[[notifications]]\nname = "x"\nurl = "json://h/t0psecret"\nevents = ["sunset_gone"]\n',
            "notifications.0.events: Value error, unknown event 'sunset_gone'",
        ),
        ('[[notifications]]\nname = "x"\nurl = "json://h/t0psecret"\nscope = "lab"\n', "needs value = the lab's slug"),
        ('[[notifications]]\nname = "a b"\nurl = "json://h/t0psecret"\n', "notifications.0.name: String should match"),
        (
            '[[notifications]]\nname = "x"\nurl = "json://h/t0psecret"\n\n[[notifications]]\nname = "x"\nurl = "json://h/t0psecret"\n',
            "notification names must be unique: x",
        ),
        ("[trackers]\nclaim_seconds = 5\n", "trackers.claim_seconds: Input should be greater than or equal to 30"),
        (
            '[[sources]]\nname = "c"\nkind = "catalog"\npath = 5\n',
            "a catalog source's path is a folder name in quotes (got 5)",
        ),
        (
            '[[sources]]\nname = "c"\nkind = "catalog"\npath = "/nowhere/at/all"\n',
            "the catalog folder '/nowhere/at/all' does not exist",
        ),
    ],
)
def test_invalid_values_give_one_line_naming_the_key(tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert "t0psecret" not in message  # a notification URL is never repeated


def test_a_notification_url_takes_secrets_from_the_environment_and_never_shows_them(tmp_path):
    path = tmp_path / "n.toml"
    path.write_text('[[notifications]]\nname = "hook"\nurl = "json://hooks.example/${HOOK_TOKEN}"\nevents = "all"\n')
    settings = load_settings(path, env={"HOOK_TOKEN": "t0psecret-from-env"})
    (target,) = settings.notifications
    assert target.url.get_secret_value() == "json://hooks.example/t0psecret-from-env"
    assert target.events == ALERT_EVENTS
    assert "t0psecret" not in repr(settings) and "t0psecret" not in str(settings.model_dump())
    with pytest.raises(ConfigError, match=r"notifications.0.url: \$\{HOOK_TOKEN\} is not set in the environment"):
        load_settings(path, env={})


def test_a_malformed_notification_url_is_reported_without_repeating_it(tmp_path):
    path = tmp_path / "n.toml"
    path.write_text('[[notifications]]\nname = "hook"\nurl = "t0psecret-without-a-scheme"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert "notifications.0.url: Value error, must be an Apprise URL" in str(caught.value)
    assert "t0psecret" not in str(caught.value)


def test_sources_in_the_file_are_added_to_the_defaults_and_one_named_like_a_default_replaces_it(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[[sources]]\nname = "my-feed"\nkind = "rss"\nurl = "https://me.example/feed"\n\n'
        '[[sources]]\nname = "epoch"\nkind = "epoch"\ninterval_minutes = 1440\n'
    )
    defaults = {source.name for source in Settings().sources}
    sources = {source.name: source for source in load_settings(path, env={}).sources}
    assert set(sources) == defaults | {"my-feed"} and "catalog" in sources
    assert sources["epoch"].interval_minutes == 1440


def test_replace_default_sources_keeps_only_the_files_sources(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        "[trackers]\nreplace_default_sources = true\n\n"
        '[[sources]]\nname = "my-feed"\nkind = "rss"\nurl = "https://me.example/feed"\n'
    )
    assert [source.name for source in load_settings(path, env={}).sources] == ["my-feed"]


def test_the_unused_alert_role_id_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[discord]\nalert_role_id = 123\n")
    with pytest.raises(ConfigError, match=r"discord.alert_role_id .* is no longer a setting .*; delete the line"):
        load_settings(path, env={})


@pytest.mark.parametrize(("value", "expected"), [("4", 4), ('"auto"', "auto")])
def test_discord_shards_is_a_count_or_auto(tmp_path, value, expected):
    path = tmp_path / "c.toml"
    path.write_text(f"[discord]\nshards = {value}\n")
    assert load_settings(path, env={}).discord.shards == expected
    assert load_settings(None, env={}).discord.shards is None  # unset: Discord's recommendation decides


@pytest.mark.parametrize("value", ["0", '"many"'])
def test_a_shard_count_below_one_or_a_word_other_than_auto_is_one_line(tmp_path, value):
    path = tmp_path / "c.toml"
    path.write_text(f"[discord]\nshards = {value}\n")
    with pytest.raises(ConfigError, match=r"discord\.shards"):
        load_settings(path, env={})


def test_the_example_documents_every_source_kind_and_each_of_its_keys():
    from trackers.sources import kinds

    described: dict[str, str] = {}  # kind → its lines in the example's comment ("#   rss  `url`: …" and continuations)
    current = None
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"#   (\w+) ", line):
            current = match.group(1)
        elif not line.startswith("#    "):
            current = None
        if current is not None:
            described[current] = described.get(current, "") + line
    for name, kind in kinds().items():
        assert name in described, f"config.example.toml does not describe the {name} kind"
        assert all(f"`{key}`" in described[name] for key in kind.options.model_fields), described[name]


def test_the_claim_time_reaches_the_trackers(tmp_path):
    from bot.runtime.tracking import tracker_config

    path = tmp_path / "claims.toml"
    path.write_text("[trackers]\nclaim_seconds = 90\n")
    assert tracker_config(load_settings(path, env={})).claim_seconds == 90
    assert tracker_config(load_settings(None, env={})).claim_seconds == 300
