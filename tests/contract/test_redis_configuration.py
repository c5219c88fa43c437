"""CINEMA_REDIS_URL names one Redis server or a Redis Cluster; what cannot work is refused at
start with one line naming the variable."""

from __future__ import annotations

import pytest

from adapters.redis.cluster import parse_cluster_url
from entrypoints.cli import main
from entrypoints.config import ConfigError, Settings


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "rediss://cache.example:6380/1",
        "redis+cluster://10.0.0.5:7000",
        "redis+cluster://10.0.0.5:7000,10.0.0.6:7000/0",
        "rediss+cluster://user:secret@cache.example:7000?ssl_cert_reqs=none",
    ],
)
def test_single_servers_and_clusters_are_accepted(url):
    """Both kinds of URL are taken as given; nothing connects while reading settings."""
    assert Settings.from_env({"CINEMA_REDIS_URL": url}).redis_url == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:6379", "redis+cluster://"),
        ("redis+cluster://", "host:port"),
        ("redis+cluster://10.0.0.5", "host:port"),
        ("redis+cluster://10.0.0.5:7000,10.0.0.6", "host:port"),
        ("redis+cluster://10.0.0.5:99999", "host:port"),
        ("redis+cluster://10.0.0.5:7000/3", "database 0"),
    ],
)
def test_unusable_urls_are_refused_naming_the_variable(url, says):
    """A URL that cannot name a server or a cluster's nodes is a configuration error."""
    with pytest.raises(ConfigError, match="CINEMA_REDIS_URL") as refused:
        Settings.from_env({"CINEMA_REDIS_URL": url})
    assert says in str(refused.value)


def test_cluster_url_keeps_credentials_and_options_for_every_node():
    """The first node carries the credentials and options redis-py applies to all nodes."""
    first, nodes = parse_cluster_url("rediss+cluster://u:p@a.example:7000,b.example:7001?x=1")
    assert first == "rediss://u:p@a.example:7000?x=1"
    assert nodes == [("a.example", 7000), ("b.example", 7001)]


@pytest.mark.parametrize("namespace", ["cinema{x}", "a{", "b}"])
def test_namespace_with_braces_is_refused(namespace):
    """A brace in CINEMA_NAMESPACE would move the Redis Cluster hash tag of every seat key."""
    with pytest.raises(ConfigError, match="CINEMA_NAMESPACE"):
        Settings.from_env({"CINEMA_NAMESPACE": namespace})


def test_cli_refuses_a_bad_cluster_url_with_exit_2(monkeypatch, capsys):
    """`cinema serve` with a cluster URL that names no port says so in one line, exit 2."""
    for name in ("CINEMA_DATABASE_URL", "CINEMA_AMQP_URL", "CINEMA_AUTH_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CINEMA_REDIS_URL", "redis+cluster://10.0.0.5")
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert "CINEMA_REDIS_URL" in error
    assert len(error.strip().splitlines()) == 1
