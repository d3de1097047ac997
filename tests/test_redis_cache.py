"""botaudit.redis_cache: one redis client per pool (Django keeps a cache object per thread), with the
real Redis behind it."""

import threading

from django.core.cache import cache, caches


def test_the_client_is_built_once_and_serves_every_thread():
    assert type(caches["default"]).__module__ == "botaudit.redis_cache"
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client
    errors = []

    def work(n):
        try:
            mine = cache._cache.get_client()
            assert mine is not client  # this thread's own cache object
            for i in range(50):
                cache.set(f"redis-cache-test:{n}:{i}", {"n": n, "i": i}, timeout=30)
                assert cache.get(f"redis-cache-test:{n}:{i}") == {"n": n, "i": i}
            assert cache._cache.get_client() is mine
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cache.get_many([f"redis-cache-test:{n}:49" for n in range(8)]) == {
        f"redis-cache-test:{n}:49": {"n": n, "i": 49} for n in range(8)}
