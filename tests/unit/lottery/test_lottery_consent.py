"""L5: only the JSON boolean true counts as consent; "true", "1", 1, "yes", "on" are refused."""
import pytest
from marshmallow import ValidationError

from services.lottery.schemas import LotteryRespondentSchema


@pytest.mark.parametrize("consent", ["true", "1", 1, "yes", "on", "True", 1.0])
def test_non_boolean_consent_is_refused(consent):
    with pytest.raises(ValidationError) as caught:
        LotteryRespondentSchema().load({"code": "abc", "consent": consent})
    assert "consent" in caught.value.messages


@pytest.mark.parametrize("consent", [True, False])
def test_json_booleans_load(consent):
    assert LotteryRespondentSchema().load({"code": "abc", "consent": consent})["consent"] is consent
