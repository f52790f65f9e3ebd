from domain.lead_types import key_for


def test_the_key_is_a_slug_of_the_label() -> None:
    assert key_for("Re-engagement") == "re_engagement"
    assert key_for("  New Business!! ") == "new_business"
    assert key_for("Ärsyttävä älämölö") == "arsyttava_alamolo"
    assert key_for("!!!") == "type"


def test_a_taken_key_gets_a_number() -> None:
    assert key_for("Upsell", {"upsell"}) == "upsell_2"
    assert key_for("Upsell", {"upsell", "upsell_2"}) == "upsell_3"


def test_keys_fit_the_column() -> None:
    assert len(key_for("x" * 300, {"x" * 46})) <= 50
