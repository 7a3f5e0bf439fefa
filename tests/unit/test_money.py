from decimal import Decimal

import pytest

from chalicelib.domain.model import campaign_from_doc, campaign_to_doc
from chalicelib.domain.money import donation_fen, fen_to_yuan_str, percent_str, yuan_to_fen
from tests.factories import charity_sale


def test_yuan_and_fen_round_trip_exactly():
    assert yuan_to_fen(Decimal("39.90")) == 3990
    assert fen_to_yuan_str(3990) == "39.90"
    assert fen_to_yuan_str(-250) == "-2.50"
    with pytest.raises(ValueError):
        yuan_to_fen(Decimal("39.999"))


def test_donation_rounds_half_up_to_the_fen():
    assert donation_fen(1250, Decimal("1")) == 13  # 12.50 at 1 % -> 0.125 -> 0.13
    assert donation_fen(110_000_000, Decimal("5.45")) == 5_995_000  # 1.1 M yuan -> 59,950.00
    assert percent_str(Decimal("5.50")) == "5.5%"


def test_document_round_trip_keeps_every_value():
    c = charity_sale()
    assert campaign_from_doc(campaign_to_doc(c)) == c
