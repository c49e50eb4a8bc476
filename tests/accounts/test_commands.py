from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import ApiKey, LedgerEntry, User, Wallet
from accounts.selectors import balance_of
from accounts.services import apikey_authenticate

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_reseller_add_with_tier_and_deposit():
    out = run("reseller_add", "siti", "--password", "Kuat-sekali-99", "--tier", "vip", "--deposit", "250.000")
    user = User.objects.get(username="siti")
    assert user.tier.name == "VIP" and not user.is_staff
    assert balance_of(user) == Decimal("250000.00")
    assert out.strip() == f"created reseller siti (id {user.pk}, tier VIP, balance Rp 250.000)"
    assert user.check_password("Kuat-sekali-99")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "Kuat-sekali-99", "--tier", "Gold"], "no tier 'Gold'"),
        (["--password", "Kuat-sekali-99", "--deposit", "lots"], "not an amount"),
        (["--password", "Kuat-sekali-99", "--deposit", "-5"], "more than zero"),
        (["--password", "123"], "password refused"),
    ],
)
def test_reseller_add_refuses_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        run("reseller_add", "joko", *args)
    assert not User.objects.filter(username="joko").exists()


def test_reseller_add_refuses_existing(reseller):
    with pytest.raises(CommandError, match="already exists"):
        run("reseller_add", reseller.username, "--password", "Kuat-sekali-99")


def test_reseller_apikey_rotates_and_stores_only_a_hash(reseller):
    first = run("reseller_apikey", reseller.username).strip().splitlines()[-1]
    second = run("reseller_apikey", reseller.username).strip().splitlines()[-1]
    assert first != second and len(second) == 48
    stored = ApiKey.objects.get(user=reseller)
    assert second not in (stored.key_hash, stored.prefix + "x") and stored.key_hash != second
    assert apikey_authenticate(second) == reseller
    assert apikey_authenticate(first) is None  # rotated away
    assert apikey_authenticate(second[:-1] + ("0" if second[-1] != "0" else "1")) is None


def test_reseller_apikey_unknown_user():
    with pytest.raises(CommandError, match="no user"):
        run("reseller_apikey", "ghost")


def test_balance_adjust_both_ways(reseller):
    out = run("balance_adjust", reseller.username, "-40000", "--reason", "koreksi")
    assert "balance Rp 60.000" in out
    out = run("balance_adjust", reseller.username, "15000", "--reason", "bonus")
    assert "balance Rp 75.000" in out
    assert LedgerEntry.objects.filter(wallet__user=reseller, kind="adjustment").count() == 2


def test_balance_adjust_refuses_going_below_zero(reseller):
    with pytest.raises(CommandError, match=r"Insufficient balance|Saldo tidak cukup"):
        run("balance_adjust", reseller.username, "-100000.01", "--reason", "too much")
    assert balance_of(reseller) == Decimal("100000.00")


def test_ledger_check_ok_then_exit_1_on_violation(reseller, capsys):
    assert "ledger_check: ok" in run("ledger_check")
    Wallet.objects.filter(user=reseller).update(balance=Decimal("1"))
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("ledger_check", stdout=StringIO(), stderr=err)
    assert exit_info.value.code == 1
    assert "sum of entries" in err.getvalue()
