import pytest

from orders.sms import count_segments, normalize_number, parse_recipients


@pytest.mark.parametrize(
    ("message", "encoding", "count"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters count twice: 160 septets
        ("€" * 81, "GSM-7", 2),
        ("Halo 😀", "UCS-2", 1),
        ("ä" * 160, "GSM-7", 1),  # ä is in the GSM basic set
        ("ą" * 70, "UCS-2", 1),
        ("ą" * 71, "UCS-2", 2),
        ("ą" * 134, "UCS-2", 2),
        ("ą" * 135, "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),  # each emoji is two UTF-16 units
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_segments(message, encoding, count):
    segments = count_segments(message)
    assert (segments.encoding, segments.count) == (encoding, count)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("081234567890", "6281234567890"),
        ("+62 812-3456-7890", "6281234567890"),
        ("6281234567890", "6281234567890"),
        ("81234567890", "6281234567890"),
        ("(0812) 3456.7890", "6281234567890"),
        ("0212345678", None),  # landline
        ("08123", None),
        ("6281234567890123456", None),
        ("abc", None),
        ("", None),
    ],
)
def test_normalize_number(raw, normalized):
    assert normalize_number(raw) == normalized


def test_parse_recipients_dedupes_and_reports_invalid():
    parsed = parse_recipients("081234567890\n+6281234567890, 0813-1111-2222; 12345\tfoo")
    assert parsed.valid == ("6281234567890", "6281311112222")
    assert parsed.invalid == ("12345", "foo")
    assert parsed.duplicates == 1
