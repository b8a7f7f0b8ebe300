import polars as pl

from models.stats.dyads import dyad_composition
from tests.stats.simulate import participants_frame


def test_dyad_composition_never_guesses() -> None:
    people = participants_frame(
        [
            ("e1", "P", "mentee", "woman", "black"),
            ("e2", "P", "mentee", "woman", "white"),
            ("e3", "P", "mentee", "undisclosed", "white"),
            ("e4", "P", "mentee", "self_described", "self_described"),
            ("e5", "P", "mentee", None, "multiracial"),
            ("r1", "P", "mentor", "woman", "black"),
            ("r2", "P", "mentor", "man", "white"),
            ("r3", "P", "mentor", "self_described", "multiracial"),
        ]
    )
    matches = pl.DataFrame(
        {
            "match_id": ["m1", "m2", "m3", "m4", "m5", "m6", "m7"],
            "program_id": ["P"] * 7,
            "mentor_id": ["r1", "r2", "r2", "r3", "r3", "r1", "r9"],
            "mentee_id": ["e1", "e1", "e3", "e4", "e5", "e2", "e2"],
        }
    )
    out = {row["match_id"]: row for row in dyad_composition(matches, people).iter_rows(named=True)}

    assert (out["m1"]["dyad_gender"], out["m1"]["dyad_race"]) == ("same", "same")
    assert (out["m2"]["dyad_gender"], out["m2"]["dyad_race"]) == ("cross", "cross")
    assert out["m2"]["dyad_gender_pair"] == "woman-man"
    assert out["m2"]["mentee_gender_race"] == "woman|black"
    # undisclosed on one side: gender unknown, race still comparable
    assert (out["m3"]["dyad_gender"], out["m3"]["dyad_race"]) == ("unknown", "same")
    # both self-described: two free-text answers are not "the same group"
    assert (out["m4"]["dyad_gender"], out["m4"]["dyad_race"]) == ("unknown", "unknown")
    # missing gender reads as undisclosed; multiracial on both sides is a known, same group
    assert out["m5"]["mentee_gender"] == "undisclosed"
    assert (out["m5"]["dyad_gender"], out["m5"]["dyad_race"]) == ("unknown", "same")
    assert (out["m6"]["dyad_gender"], out["m6"]["dyad_race"]) == ("same", "cross")
    assert out["m6"]["dyad_race_pair"] == "white-black"
    # a mentor missing from participants is undisclosed, so the dyad is unknown
    assert out["m7"]["mentor_gender"] == "undisclosed"
    assert (out["m7"]["dyad_gender"], out["m7"]["dyad_race"]) == ("unknown", "unknown")
