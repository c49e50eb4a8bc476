import logging

from panel.logging import MaskSecretsFilter, mask_secrets


def test_masks_credentials_in_urls_forms_json_and_headers():
    text = (
        "GET /json.php?api_key=abc123secret&action=order key=K2&sign=5f4dcc3b "
        '{"apikey": "rajasecret", "number": "62811"} Authorization: Bearer tok-999 password=hunter2'
    )
    masked = mask_secrets(text)
    for secret in ("abc123secret", "K2&", "5f4dcc3b", "rajasecret", "tok-999", "hunter2"):
        assert secret not in masked
    assert "action=order" in masked and '"number": "62811"' in masked


def test_masks_gateway_logins_and_callback_tokens():
    masked = mask_secrets(
        'GET /send.php?username=gw-login&password=x&hp=62811 "POST /callbacks/12/Tok_en-9/ HTTP/1.1" 200 '
        "Bad Request: /callbacks/3/abcDEF123/?session_id=7"
    )
    for secret in ("gw-login", "Tok_en-9", "abcDEF123"):
        assert secret not in masked
    assert "/callbacks/12/***/" in masked and "hp=62811" in masked and "session_id=7" in masked


def test_filter_rewrites_records_with_args():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "calling %s", ("?api_key=s3cr3t",), None)
    MaskSecretsFilter().filter(record)
    assert "s3cr3t" not in record.getMessage()


def test_runserver_access_log_is_masked(caplog):
    import logging as std_logging

    from django.conf import settings

    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == ["console"]
    handler = std_logging.getLogger("django.server").handlers[0]
    record = std_logging.LogRecord(
        "django.server",
        std_logging.INFO,
        __file__,
        1,
        '"%s" %s',
        ("GET /api/json.php?api_key=topsecret1 HTTP/1.1", 200),
        None,
    )
    for f in handler.filters:
        f.filter(record)
    assert "topsecret1" not in record.getMessage()
