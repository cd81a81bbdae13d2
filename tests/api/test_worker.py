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


def test_remote_failures_hide_the_server_and_its_words():
    from schemas.errors import PolicyOutputError, RemotePolicyError

    for exc, public in [
        (RemotePolicyError("ws://gpu.far-policy.example:8000", "connection refused"),
         "RemotePolicyError: remote policy at <remote>: connection refused"),
        (RemotePolicyError("wss://10.0.0.7:443/far-policy", "timed out after 10 s waiting for actions"),
         "RemotePolicyError: remote policy at <remote>: timed out after 10 s waiting for actions"),
        (RemotePolicyError("ws://h:1", "reported an error instead of actions",
                           detail='Traceback ...\n  File "/srv/far_policy/model.py"\nRuntimeError: far-policy OOM'),
         "RemotePolicyError: remote policy at <remote>: reported an error instead of actions"),
        (PolicyOutputError("remote policy at ws://h:1: returned actions of shape (3,) (expected (n, 8))"),
         "PolicyOutputError: remote policy at <remote>: returned actions of shape (3,) (expected (n, 8))"),
    ]:
        reason = f"{type(exc).__name__}: {exc}"
        assert public_error(reason, ["far-policy"]) == public
