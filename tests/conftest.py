import pytest

from inventory.models import Bot, Credential, Team


@pytest.fixture
def team(db):
    return Team.objects.create(name="payments", slug="payments", email="payments@example.com")


@pytest.fixture
def make_bot(team):
    """A bot whose owner is an active BotAudit user (as in a real fleet), unless `owner` is empty."""
    from django.contrib.auth import get_user_model

    def make(name, *, environment="production", owner="alice@example.com", bot_team=None, **kw):
        if owner:
            get_user_model().objects.get_or_create(username=owner, defaults={"email": owner})
        return Bot.objects.create(
            name=name, slug=name, team=bot_team or team, environment=environment, owner_email=owner, **kw
        )

    return make


@pytest.fixture
def make_credential():
    def make(bot, name, *, store=Credential.Store.AWS_SECRETSMANAGER, ref="", rotation_days=90, **kw):
        return Credential.objects.create(
            bot=bot, name=name, store=store, ref=ref or f"ref/{bot.name}/{name}", rotation_days=rotation_days, **kw
        )

    return make


@pytest.fixture
def celery_worker(settings):
    """A real Celery worker (threads) in this process, on the Redis broker from REDIS_URL, consuming
    every queue (a worker an earlier test started with `queues=[...]` narrowed the app's selection
    for every later worker in the process: start_worker selects on the app itself), from empty
    queues (a message an earlier test left, sent with no worker running, would take the threads first)."""
    from celery.contrib.testing.worker import start_worker

    from botaudit.celery import app

    assert settings.CELERY_BROKER_URL.startswith("redis://"), "this test needs the real Redis broker"
    app.conf.task_always_eager = False
    app.amqp.queues.select(list(app.amqp.queues))
    app.control.purge()
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    """Every test starts from a new data generation: nothing cached by an earlier test (whose rows
    were rolled back) can be served to it."""
    from dashboard.cache import generation_advance

    generation_advance()


@pytest.fixture
def broker_refusing(settings, monkeypatch):
    """The Redis broker refuses connections (as kombu reports it); its URL carries a canary password,
    which is returned: no output may contain it."""
    from kombu.exceptions import OperationalError

    import scanners.tasks as tasks

    canary = "canary-broker-password"
    settings.CELERY_BROKER_URL = f"redis://:{canary}@127.0.0.1:1/6"

    def refused(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(tasks.audit_fleet, "apply_async", refused)
    return canary
