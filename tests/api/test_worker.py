from api.worker import public_error, redact


def test_redact_is_case_insensitive_and_longest_first():
    names = ["scripted", "scripted-expert"]
    assert redact("Scripted-Expert failed; SCRIPTED too", names) == "<policy> failed; <policy> too"


def test_own_errors_keep_their_message_foreign_ones_only_their_type():
    own = "PolicyOutputError: action chunk has shape (1, 3); expected (n, 7) for ee_delta"
    assert public_error(own, ["zero"]) == own
    foreign = "TypeError: ScriptedExpert.__init__() got an unexpected keyword argument 'x'"
    assert public_error(foreign, ["scriptedexpert"]) == "TypeError: the policy raised an error"
    assert public_error("UnknownPolicyError: unknown policy 'zero'", ["zero"]) == \
        "UnknownPolicyError: unknown policy '<policy>'"
